"""Exceptions raised by the Text Request client: Text Request's family of the taxonomy in
``textdesk.transport`` (not sent / refused / outcome unknown), which the ASMS client shares.

Each failure says what a caller (above all the outbox) may safely do next:

- ``transient``: a later attempt may succeed (network trouble, 5xx, 429, our own limiter).
- ``maybe_processed``: Text Request may already have acted on the request (a 500, 502 or 504,
  a read timeout, a connection reset after the request went out). Such a write must be checked,
  never resent blindly. A 503 was not handled (``Unavailable``): safe to retry.
- ``safe_to_retry``: ``transient and not maybe_processed``.

Messages never contain the API key; they name the operation, not the full URL.
"""

from __future__ import annotations

from textdesk import transport


class TextRequestError(transport.ServiceError):
    """A call to Text Request failed. ``status`` is the HTTP status (None when no answer came)
    and ``message`` the API's ``{"message": ...}`` text or our own description."""


class Refused(TextRequestError, transport.Refused):
    """Text Request answered with a 4xx not named below and did not act. Permanent."""


class BadRequest(TextRequestError, transport.BadRequest):
    """400, 413 or 422: the request was refused as invalid. Permanent; record and show the
    message."""


class Unauthorized(TextRequestError, transport.Unauthorized):
    """401 or 403: the API key is missing, wrong or lacks access. Permanent until fixed."""


class NotFound(TextRequestError, transport.NotFound):
    """404: the entity does not exist (for a delete, it may already be gone)."""


class RateLimited(TextRequestError, transport.RateLimited):
    """429: Text Request refused the call, so it is safe to retry after ``retry_after`` seconds
    (the client has already set the shared limiter's cooldown)."""


class Unavailable(TextRequestError, transport.Unavailable):
    """503: Text Request did not handle the request, so it is safe to retry."""


class ServerError(TextRequestError, transport.ServerError):
    """500, 502, 504 and other 5xx: transient, but the request may have been processed before
    the failure."""


class NotSent(TextRequestError, transport.NotSent):
    """Connection refused, connect timeout, DNS or TLS failure: nothing reached Text Request,
    so a retry is safe."""


class OutcomeUnknown(TextRequestError, transport.OutcomeUnknown):
    """A read timeout, a reset after the request went out, or an unreadable success answer:
    Text Request may or may not have acted. Never resend blindly; check first."""


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
