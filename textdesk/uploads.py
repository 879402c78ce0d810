"""Upload limits enforced while the body arrives, not after it has all been received.

Django reads a multipart body to its end before a view can look at the files, so a 30 MB
"photo" would be received and spooled to disk only to be refused. ``LimitHandler`` (first in
``FILE_UPLOAD_HANDLERS``) stops reading the moment a file passes its limit, or at the first
file when the request's ``Content-Length`` is already over the total: the fields before the
file (the CSRF token, what was typed) are kept, the rest of the body is never read
(``StopUpload(connection_reset=True)``), and ``request.upload_refused`` holds the reason for
the view to show.

A view states its limits with ``@upload_limits(...)`` (the outermost decorator, so the URL
resolver's view carries them); a view without them takes ``DEFAULT_LIMIT`` per file and in
all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

MB = 1024 * 1024
DEFAULT_LIMIT = 10 * MB
# Room for the form's other fields and the multipart boundaries around the files.
FIELDS_ROOM = 256 * 1024


def _megabytes(size: int) -> str:
    return f"{size / MB:.0f} MB" if size % MB == 0 else f"{size / MB:.1f} MB"


def _too_big(name: str, limit: int) -> str:
    return f"“{name}” is larger than {_megabytes(limit)}, the most it can be; it was not received."


@dataclass(frozen=True)
class Limits:
    per_file: Callable[[str], int]  # a file's name -> its most bytes
    total: int  # every file together
    too_big: Callable[[str, int], str] = _too_big  # (name, limit) -> the sentence to show


DEFAULT = Limits(per_file=lambda name: DEFAULT_LIMIT, total=DEFAULT_LIMIT)


def upload_limits(
    *,
    total: int,
    per_file: Callable[[str], int] | int,
    too_big: Callable[[str, int], str] = _too_big,
) -> Callable:
    """Mark a view with the upload limits ``LimitHandler`` enforces for it (``too_big``: the
    reason shown for a file over its limit)."""
    if isinstance(per_file, int):
        size = per_file

        def per_file(name: str) -> int:
            return size

    limits = Limits(per_file=per_file, total=total, too_big=too_big)

    def mark(view):
        view.upload_limits = limits
        return view

    return mark


class LimitHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes the view's limits (see the module)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        match = getattr(self.request, "resolver_match", None)
        self.limits = getattr(getattr(match, "func", None), "upload_limits", DEFAULT)
        self.request_length = content_length
        self.over_total = content_length > self.limits.total + FIELDS_ROOM
        self.received = 0
        return None  # the parser goes on; this handler only watches

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        if self.over_total:
            self._refuse(
                f"The upload is {self.request_length / MB:.1f} MB, more than the "
                f"{_megabytes(self.limits.total)} allowed; nothing was received. Choose "
                "smaller files."
            )
        self.file_limit = self.limits.per_file(file_name or "")
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data, start):
        self.file_bytes += len(raw_data)
        self.received += len(raw_data)
        if self.file_bytes > self.file_limit:
            self._refuse(self.limits.too_big(self.file_name, self.file_limit))
        if self.received > self.limits.total:
            self._refuse(
                f"The files are more than the {_megabytes(self.limits.total)} allowed; they "
                "were not received. Choose smaller files."
            )
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers store the file

    def _refuse(self, reason: str):
        if self.request is not None:
            self.request.upload_refused = reason
        raise StopUpload(connection_reset=True)
