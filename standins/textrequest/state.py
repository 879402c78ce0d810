"""The sandbox's state in a file, so a restarted sandbox carries on where it stopped.

``sandbox serve --state PATH`` loads the file at start (when it exists), writes a snapshot
every few seconds while something changed, and a last one at shutdown. A snapshot is the
whole :class:`~standins.textrequest.backend.Backend` state (accounts, lines, contacts, messages,
payments, hooks, settings, faults, counters, id counters, the clock offset and the random
generators, the customer simulator's included), pickled under the backend's lock and written
atomically (a temporary file beside it, fsync, rename): a crash leaves the previous snapshot.

What a snapshot does not hold: work that was only scheduled (a delivery-status change, a
webhook retry, a status callback). On load, texts still ``sending`` settle when their
delivery delay ends; pending webhook retries are dropped (receivers read the same messages
through the API). Runs without ``--state`` never touch any of this.

The file is the sandbox's own and trusted like its code (pickle): keep it where only the
developer writes, as ``make run`` does under ``var/``.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import threading
from pathlib import Path

from .conversations import LANDLINE_ERROR

logger = logging.getLogger(__name__)

STATE_VERSION = 1
# attributes of Backend that make up its state (config and faults included)
STATE_ATTRS = (
    "config",
    "faults",
    "accounts",
    "dashboards",
    "phones_in_use",
    "clock_offset_ms",
    "_ids",
    "rng",
    "fault_rng",
    "simulator_rngs",
)


def snapshot(backend) -> bytes:
    """The backend's whole state as bytes (taken under its lock, so it is consistent)."""
    with backend.lock:
        state = {name: getattr(backend, name) for name in STATE_ATTRS}
        state["version"] = STATE_VERSION
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def save(backend, path: str | os.PathLike) -> int:
    """Write a snapshot to ``path`` atomically; answer the change count it holds."""
    path = Path(path)
    with backend.lock:
        changes = backend.changes
        data = snapshot(backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return changes


def load(backend, path: str | os.PathLike) -> bool:
    """Replace the backend's state by the snapshot at ``path``; False when there is none.

    Texts that were still ``sending`` settle when their delivery delay ends (at once if it
    ended while the sandbox was stopped).
    """
    path = Path(path)
    if not path.exists():
        return False
    state = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, see the docstring
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: sandbox state version {state.get('version')!r} not supported")
    with backend.lock:
        backend.dispatcher.clear()
        for name in STATE_ATTRS:
            if name in state:
                setattr(backend, name, state[name])
        for acct in backend.accounts.values():
            for dash in acct.dashboards.values():
                for contact in dash.conv_order.values():
                    for msg in reversed(contact.messages):
                        if msg.status != "sending":
                            continue
                        error = LANDLINE_ERROR if msg.phone.endswith("0000") else None
                        due_ms = msg.at + float(backend.cfg(acct, "delivery_delay")) * 1000
                        delay = max(0.0, (due_ms - backend.now_ms()) / 1000)
                        backend.dispatcher.schedule(
                            delay,
                            lambda m=msg, a=acct, e=error: backend._settle_locked(m, a, e),
                        )
        backend.changes = 0
    return True


class StateKeeper:
    """Save the backend to ``path`` every ``interval`` seconds while it changes, and at stop."""

    def __init__(self, backend, path: str | os.PathLike, interval: float = 2.0):
        self.backend = backend
        self.path = Path(path)
        self.interval = interval
        self._saved = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-state", daemon=True)

    def start(self) -> StateKeeper:
        self._thread.start()
        return self

    def save_if_changed(self) -> bool:
        if self.backend.changes == self._saved:
            return False
        self._saved = save(self.backend, self.path)
        return True

    def stop(self) -> None:
        """Stop the periodic saves and write the last snapshot."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._saved = -1
        self.save_if_changed()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.save_if_changed()
            except Exception:  # the next round tries again; the server keeps serving
                logger.exception("sandbox: saving the state to %s failed", self.path)
