"""Exceptions raised by the Text Request client.

Each failure says what a caller (above all the outbox) may safely do next:

- ``transient``: a later attempt may succeed (network trouble, 5xx, 429, our own limiter).
- ``maybe_processed``: the service may already have acted on the request (a 5xx, a read timeout,
  a connection reset after the request went out). Such a write must be checked, never resent
  blindly.
- ``safe_to_retry``: ``transient and not maybe_processed``.

Messages never contain the API key; they name the operation, not the full URL.
"""

from __future__ import annotations


class TextRequestError(Exception):
    """A call to Text Request failed. ``status`` is the HTTP status (None when no answer came)
    and ``message`` the API's ``{"message": ...}`` text or our own description."""

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


class BadRequest(TextRequestError):
    """400 or 422: the request was refused as invalid. Permanent; record and show the message."""


class Unauthorized(TextRequestError):
    """401 or 403: the API key is missing, wrong or lacks access. Permanent until fixed."""


class NotFound(TextRequestError):
    """404: the entity does not exist (for a delete, it may already be gone)."""


class RateLimited(TextRequestError):
    """429: the service refused the call, so it is safe to retry after ``retry_after`` seconds.

    ``retry_after`` comes from the ``Retry-After`` header (seconds or an HTTP date); when the
    header is missing or unreadable it is the client's fallback cooldown."""

    transient = True

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        retry_after: float,
        operation: str | None = None,
    ):
        super().__init__(status, message, operation=operation)
        self.retry_after = retry_after


class ServerError(TextRequestError):
    """5xx: transient, but the request may have been processed before the failure."""

    transient = True
    maybe_processed = True


class NotSent(TextRequestError):
    """Connection refused, connect timeout, DNS or TLS failure: nothing reached the service,
    so a retry is safe."""

    transient = True


class OutcomeUnknown(TextRequestError):
    """A read timeout, a reset after the request went out, or an unreadable success answer:
    the service may or may not have acted. Never resend blindly; check first."""

    transient = True
    maybe_processed = True


class LimiterBusy(TextRequestError):
    """Our own rate limiter would not grant a call within the allowed wait; no call was made.
    A task should re-schedule itself ``retry_in`` seconds later instead of sleeping."""

    transient = True

    def __init__(self, retry_in: float, *, operation: str | None = None, message: str = ""):
        self.retry_in = retry_in
        super().__init__(
            None,
            message or f"rate limiter busy; a slot frees in {retry_in:.2f}s",
            operation=operation,
        )
