"""What a failed HTTP call says about whether its request reached the server.

Shared by the Text Request and ASMS clients: a failure before the request left (refused,
unreachable, connect timeout, TLS) means nothing was sent and it is safe to retry; any other
transport failure means it may have been processed. Each client passes its own error classes.
"""

from __future__ import annotations

import requests
import urllib3.exceptions

_NOT_SENT_CAUSES = (
    urllib3.exceptions.NewConnectionError,  # refused, unreachable, DNS (NameResolutionError)
    urllib3.exceptions.ConnectTimeoutError,
)


def transport_error(exc: Exception, operation: str, *, not_sent: type, unknown: type):
    """The client error for ``exc``: ``not_sent(...)`` or ``unknown(...)``."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return not_sent(None, "connect timeout; nothing was sent", operation=operation)
    if isinstance(exc, requests.exceptions.SSLError):
        return not_sent(None, "TLS handshake failed; nothing was sent", operation=operation)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, _NOT_SENT_CAUSES):
            return not_sent(
                None,
                f"could not connect ({type(reason).__name__}); nothing was sent",
                operation=operation,
            )
        return unknown(
            None,
            "connection lost after the request went out; it may have been processed",
            operation=operation,
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return unknown(
            None, "no answer in time; the request may have been processed", operation=operation
        )
    return unknown(
        None, f"{type(exc).__name__} during the call; outcome unknown", operation=operation
    )
