"""Exceptions raised by the ASMS client: the same taxonomy as the Text Request client's.

Each failure says what a caller (above all the case outbox) may safely do next:

- **not sent** (``NotSent``, ``RateLimited``, ``Unavailable``): nothing reached ASMS, or ASMS
  said it did not handle it (429, 503); a retry is safe (``safe_to_retry``).
- **refused** (``BadRequest``, ``Unauthorized``, ``NotFound``, ``TooLarge``): ASMS looked and
  said no. Permanent; record and show ASMS's message.
- **outcome unknown** (``OutcomeUnknown``, ``ServerError``): ASMS may already have acted
  (a read timeout, a reset after the request went out, a 500, 502 or 504). A write must be checked
  (``maybe_processed``), never resent blindly.

Messages never contain the technician token; they name the operation, not the full URL.
"""

from __future__ import annotations


class AsmsError(Exception):
    """A call to ASMS failed. ``status`` is the HTTP status (None when no answer came) and
    ``message`` ASMS's ``{"message": ...}`` text or our own description."""

    transient: bool = False
    maybe_processed: bool = False

    def __init__(self, status: int | None, message: str, *, operation: str | None = None):
        self.status = status
        self.message = message
        self.operation = operation
        super().__init__(status, message)

    @property
    def safe_to_retry(self) -> bool:
        return self.transient and not self.maybe_processed

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{where}{code}{self.message}"


class BadRequest(AsmsError):
    """400 or 422: ASMS refused the request as invalid (its validation rules are the UI's)."""


class TooLarge(BadRequest):
    """413: the attachment is over the instance's size limit (set by the instance's admin)."""


class Unauthorized(AsmsError):
    """401 or 403: the technician token is missing, wrong or lacks permission."""


class NotFound(AsmsError):
    """404: no such case (or no such route on this instance)."""


class RateLimited(AsmsError):
    """429: ASMS refused to look at the call; safe to retry after ``retry_after`` seconds."""

    transient = True

    def __init__(
        self, status: int | None, message: str, *, retry_after: float, operation: str | None = None
    ):
        super().__init__(status, message, operation=operation)
        self.retry_after = retry_after


class Unavailable(AsmsError):
    """503: the instance is down or in maintenance and did not handle the request (RFC 9110
    §15.6.4: "currently unable to handle the request"), so, like a 429, a retry is safe."""

    transient = True


class ServerError(AsmsError):
    """500, 502, 504 and other 5xx: transient, but ASMS may have processed the request before
    failing (a gateway's 502/504 says nothing about the application behind it)."""

    transient = True
    maybe_processed = True


class NotSent(AsmsError):
    """Connection refused, connect timeout, DNS or TLS failure: nothing reached ASMS."""

    transient = True


class OutcomeUnknown(AsmsError):
    """A read timeout, a reset after the request went out, or an unreadable success answer:
    ASMS may or may not have acted. Check (search the marker) before sending again."""

    transient = True
    maybe_processed = True
