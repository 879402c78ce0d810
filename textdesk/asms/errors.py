"""Exceptions raised by the ASMS client: ASMS's family of the taxonomy in ``textdesk.transport``,
which the Text Request client shares.

Each failure says what a caller (above all the case outbox) may safely do next:

- **not sent** (``NotSent``): nothing reached ASMS; a retry is safe (``safe_to_retry``).
- **refused** (``BadRequest``, ``Unauthorized``, ``NotFound``, ``TooLarge``, ``Refused``): ASMS
  looked and said no. Permanent; record and show ASMS's message. Except ``RateLimited`` (429)
  and ``Unavailable`` (503): ASMS said it did not handle the request, so a retry is safe.
- **outcome unknown** (``OutcomeUnknown``, ``ServerError``): ASMS may already have acted
  (a read timeout, a reset after the request went out, a 500, 502 or 504). A write must be checked
  (``maybe_processed``), never resent blindly.

Messages never contain the technician token; they name the operation, not the full URL.
"""

from __future__ import annotations

from textdesk import transport


class AsmsError(transport.ServiceError):
    """A call to ASMS failed. ``status`` is the HTTP status (None when no answer came) and
    ``message`` ASMS's ``{"message": ...}`` text or our own description."""


class Refused(AsmsError, transport.Refused):
    """ASMS answered with a 4xx not named below and did not act. Permanent."""


class BadRequest(AsmsError, transport.BadRequest):
    """400 or 422: ASMS refused the request as invalid (its validation rules are the UI's)."""


class TooLarge(BadRequest, transport.TooLarge):
    """413: the attachment is over the instance's size limit (set by the instance's admin)."""


class Unauthorized(AsmsError, transport.Unauthorized):
    """401 or 403: the technician token is missing, wrong or lacks permission."""


class NotFound(AsmsError, transport.NotFound):
    """404: no such case (or no such route on this instance)."""


class RateLimited(AsmsError, transport.RateLimited):
    """429: ASMS refused to look at the call; safe to retry after ``retry_after`` seconds."""


class Unavailable(AsmsError, transport.Unavailable):
    """503: the instance is down or in maintenance and did not handle the request, so, like a
    429, a retry is safe."""


class ServerError(AsmsError, transport.ServerError):
    """500, 502, 504 and other 5xx: transient, but ASMS may have processed the request before
    failing (a gateway's 502/504 says nothing about the application behind it)."""


class NotSent(AsmsError, transport.NotSent):
    """Connection refused, connect timeout, DNS or TLS failure: nothing reached ASMS."""


class OutcomeUnknown(AsmsError, transport.OutcomeUnknown):
    """A read timeout, a reset after the request went out, or an unreadable success answer:
    ASMS may or may not have acted. Check (search the marker) before sending again."""
