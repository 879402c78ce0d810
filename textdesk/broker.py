"""The embedded broker of `make run`: kombu's filesystem transport with atomic writes.

kombu creates a message's file, then locks and writes it; a worker listing the folder in
between moves the empty file away, reads no bytes and dies ("Unrecoverable error:
JSONDecodeError"), taking `make run` down with it. Here a message is written under a name no
reader looks at (not ending in ``.msg``) and renamed into place, which is atomic on one file
system, so a reader sees a whole message or none.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
