"""The one place the outbox names the clients' error classes.

Both clients raise errors with the same taxonomy (``transient``, ``maybe_processed``,
``status``, ``message``, a 429's ``retry_after``, our limiter's ``retry_in``); only their base
classes differ. When the two clients share one error hierarchy this shrinks to that base class.
"""

from __future__ import annotations

from textdesk.asms.errors import AsmsError
from textdesk.textrequest.errors import TextRequestError

# What a call to either service raises when it fails (anything else is a bug of ours).
CLIENT_ERRORS: tuple[type[Exception], ...] = (TextRequestError, AsmsError)
ClientError = TextRequestError | AsmsError


def retry_hint(exc: ClientError) -> float:
    """The least wait the error asks for (a 429's Retry-After, the limiter's next slot)."""
    return getattr(exc, "retry_after", 0) or getattr(exc, "retry_in", 0) or 0


def reason(exc: ClientError, service: str) -> str:
    """The service's own words, or that it could not be reached."""
    return exc.message if exc.status else f"{service} could not be reached ({exc.message})"
