"""Text Request's signed callbacks (docs/textrequest-api.md, "Signed callbacks").

Every callback carries ``x-tr-webhook-timestamp`` (Unix seconds) and ``x-tr-webhook-signature``
= base64(HMAC-SHA256(key = the account's API key as UTF-8, message = "{timestamp}.{raw body}")).
We recompute it over the raw bytes with each key the connection may sign with now (the current
one, and the previous one for a grace period after "Test and replace the key"), compare in
constant time, and refuse a timestamp outside ``TEXTDESK_WEBHOOK_WINDOW``.

Downgrade-safe: a connection starts in "verify when signed" (an unsigned callback is accepted,
the URL token being the secret); the first valid signature switches it to "signatures
required" for good, until an admin resets it. A signature already seen inside the window is a
replay: answered 200, nothing stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from textdesk.dashboards.models import Connection

TIMESTAMP_HEADER = "HTTP_X_TR_WEBHOOK_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_TR_WEBHOOK_SIGNATURE"
# How often the "last signed / unsigned" stamps on the connection are rewritten at most.
STAMP_EVERY = timedelta(seconds=30)


@dataclass
class Verdict:
    ok: bool
    signed: bool = False
    reason: str = ""
    replay: bool = False


def sign(api_key: str, timestamp: str, body: bytes) -> str:
    """The signature Text Request sends for ``body`` at ``timestamp``."""
    digest = hmac.new(api_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def verify(
    connection: Connection,
    meta: dict,
    body: bytes,
    *,
    path: str = "",
    now: float | None = None,
    callback: bool = False,
) -> Verdict:
    """Check a callback's signature headers against ``connection``; stores nothing except
    the connection's signing state (see the module docstring). A replay is the same signature
    at the same ``path``: two events may carry the same body in the same second (e.g.
    ``contact_created`` and ``contact_updated`` of one contact). ``callback``: a status or
    location callback, which the evidence does not say is signed: verified when signed, but an
    unsigned one is accepted even where events must be signed (its URL names our row and
    carries the token), and it never switches the connection to "signatures required"."""
    timestamp = (meta.get(TIMESTAMP_HEADER) or "").strip()
    signature = (meta.get(SIGNATURE_HEADER) or "").strip()
    if not timestamp and not signature:
        if connection.requires_signatures and not callback:
            return Verdict(False, reason="unsigned, but this connection requires signatures")
        _stamp(connection, "last_unsigned_at")
        return Verdict(True)
    if not timestamp or not signature:
        return Verdict(False, reason="incomplete signature headers")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return Verdict(False, reason="timestamp is not Unix seconds")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > settings.TEXTDESK_WEBHOOK_WINDOW:
        return Verdict(False, reason="timestamp outside the window (stale or replayed late)")
    given = signature.encode()
    matched = False
    for key in connection.signing_keys():
        # Every key is compared, so the time taken does not tell which one matched.
        matched |= hmac.compare_digest(sign(key, timestamp, body).encode(), given)
    if not matched:
        return Verdict(False, reason="bad signature")
    fingerprint = hashlib.sha256(path.encode() + b"\n" + given).hexdigest()
    seen = f"webhook-signature:{connection.pk}:{fingerprint}"
    if not cache.add(seen, 1, timeout=2 * settings.TEXTDESK_WEBHOOK_WINDOW + 60):
        return Verdict(False, signed=True, reason="replayed (signature already used)", replay=True)
    if connection.signatures_required_at is None and not callback:
        # From now on unsigned callbacks are refused: never downgrade.
        Connection.objects.filter(pk=connection.pk, signatures_required_at__isnull=True).update(
            signatures_required_at=timezone.now()
        )
    _stamp(connection, "last_signed_at")
    return Verdict(True, signed=True)


def _stamp(connection: Connection, field: str) -> None:
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).filter(
        Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now - STAMP_EVERY})
    ).update(**{field: now})
