"""Receivers for what Text Request POSTs to us: the seven events, delivery statuses, shared
locations.

Two secrets: the URL carries the connection's unguessable token (compared in constant time; any
other token is a bare 404), and the body is signed with the account's API key
(``signatures.py``: 401 and nothing stored when it does not verify). A receiver reads the raw
body once, checks size and content type, verifies, stores the raw event under its unique key
(insert-or-nothing: a redelivery answers 200 and does nothing), answers at once and leaves the
work to a task. Events other than texts are hints: they queue a targeted read, never data.
Every refusal after the token is counted (``Refusal``, without the body) for the connection's
webhook health. Full URLs are never logged.
"""

import hmac
import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from textdesk.conversations.inbound import record_location
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.phones import InvalidPhoneNumber, normalize_phone
from textdesk.textrequest import types as tr
from textdesk.webhooks import signatures
from textdesk.webhooks.models import WebhookEvent
from textdesk.webhooks.services import hint, refuse, saw_line, store_event

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Callbacks a text asked for (not subscribed events): see signatures.verify.
CALLBACKS = ("status", "location")
# The columns they are stored in (Message.message_id, Message.delivery_status).
MAX_ID = 64
MAX_STATUS = 20


def connection_for_token(token: str) -> Connection:
    """The active connection whose webhook token this is, compared in constant time."""
    token_bytes = token.encode()
    found = None
    for connection in Connection.objects.filter(is_active=True).only("id", "webhook_token"):
        if hmac.compare_digest(connection.webhook_token.encode(), token_bytes):
            found = connection
    if found is None:
        raise Http404
    return found


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def _read_json(request, connection: Connection, event: str = "") -> dict | HttpResponse:
    """The verified JSON object of the callback, or the answer refusing it (counted)."""

    def refused(reason: str, status: int) -> HttpResponse:
        refuse(connection, reason, event)
        return _text(reason, status)

    content_type = request.content_type or ""
    if content_type.lower() != "application/json":
        return refused("expected application/json", 415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return refused("body too large", 413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return refused("body too large", 413)
    verdict = signatures.verify(
        connection, request.META, body, path=request.path, callback=event in CALLBACKS
    )
    if verdict.replay:
        refuse(connection, verdict.reason, event)
        return JsonResponse({"ok": True, "duplicate": True})
    if not verdict.ok:
        logger.info("webhook for connection %s refused: %s", connection.pk, verdict.reason)
        return refused(verdict.reason, 401)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return refused("invalid JSON", 400)
    except RecursionError:  # 64 KB of "[" nests far deeper than the parser's stack
        return refused("JSON nested too deeply", 400)
    if not isinstance(payload, dict):
        return refused("expected a JSON object", 400)
    return payload


def _fits(name: str, value, limit: int) -> None:
    if value is not None and len(str(value)) > limit:
        raise ValueError(f"'{name}' is longer than {limit} characters")


def _storable(event: tr.WebhookEvent) -> None:
    """What can never be processed is refused now (400 with the reason), not retried forever."""
    try:
        normalize_phone(event.consumer_phone_number)
    except InvalidPhoneNumber:
        raise ValueError("'consumerPhoneNumber' is not a US phone number") from None
    _fits("messageUniqueIdentifier", event.message_unique_identifier, MAX_ID)
    _fits("status", event.status, MAX_STATUS)


@csrf_exempt
@login_not_required
@require_POST
def receive_message(request, token: str):
    """``msg_received`` / ``msg_sent`` at the connection-wide URL of earlier subscriptions."""
    connection = connection_for_token(token)
    payload = _read_json(request, connection)
    if isinstance(payload, HttpResponse):
        return payload
    return _store_message(connection, payload)


def _store_message(connection: Connection, payload: dict, *, line_id: int | None = None):
    """Store a text event keyed by ``messageUniqueIdentifier`` (400 when it cannot be)."""
    try:
        event = tr.WebhookEvent.from_payload(payload)
        _storable(event)
        if line_id is not None and str(event.dashboard_id) != str(line_id):
            raise ValueError("the payload names another line than the URL")
    except ValueError as exc:
        logger.info("webhook for connection %s rejected: %s", connection.pk, exc)
        refuse(connection, str(exc)[:120], "message")
        return _text(str(exc), 400)
    stored = store_event(
        connection, WebhookEvent.Kind.MESSAGE, event.message_unique_identifier, payload
    )
    return JsonResponse({"ok": True, "duplicate": not stored})


@csrf_exempt
@login_not_required
@require_POST
def receive_event(request, token: str, dashboard_id: int, event: str):
    """Any of the seven events, at the URL naming the line and the event (so a call is useful
    whatever its payload). Texts are stored like the connection-wide receiver's; every other
    event is a hint: it queues a targeted read of that line (coalesced), never trusted as data
    and never a reason to text anyone."""
    connection = connection_for_token(token)
    payload = _read_json(request, connection, event[:40])
    if isinstance(payload, HttpResponse):
        return payload
    if event not in tr.HOOK_EVENTS:
        refuse(connection, "unknown event", event[:40])
        return _text("unknown event", 400)
    line = Dashboard.objects.active().filter(connection=connection, dashboard_id=dashboard_id)
    line = line.first()
    if line is None:
        # A line removed since, or never ours: nothing to do, and no reason to retry.
        refuse(connection, "event for a line this connection does not have", event)
        return JsonResponse({"ok": True, "ignored": "unknown line"})
    saw_line(line)
    if event in tr.MESSAGE_EVENTS:
        return _store_message(connection, payload, line_id=dashboard_id)
    queued = hint(line, event, payload)
    return JsonResponse({"ok": True, "queued": queued})


@csrf_exempt
@login_not_required
@require_POST
def receive_status(request, token: str, message_pk: int):
    """A status callback of the text ``message_pk`` (our row): keyed by row, id and status."""
    connection = connection_for_token(token)
    payload = _read_json(request, connection, "status")
    if isinstance(payload, HttpResponse):
        return payload
    try:
        callback = tr.StatusCallback.from_payload(payload)
        _fits("message_id", callback.message_id, MAX_ID)
        _fits("delivery_status", callback.delivery_status, MAX_STATUS)
    except ValueError as exc:
        refuse(connection, str(exc)[:120], "callback")
        return _text(str(exc), 400)
    key = f"{message_pk}:{callback.message_id}:{callback.delivery_status}"
    stored = store_event(connection, WebhookEvent.Kind.STATUS, key, payload)
    return JsonResponse({"ok": True, "duplicate": not stored})


@csrf_exempt
@login_not_required
@require_POST
def receive_location(request, token: str, message_pk: int):
    """The customer shared their location from the link of our text ``message_pk``: kept on
    that text at once (setting it twice is harmless). Junk is a 400 and stores nothing."""
    connection = connection_for_token(token)
    payload = _read_json(request, connection, "location")
    if isinstance(payload, HttpResponse):
        return payload
    try:
        share = tr.LocationShare.from_payload(payload)
    except ValueError as exc:
        refuse(connection, str(exc)[:120], "callback")
        return _text(str(exc), 400)
    if record_location(connection, message_pk, share) is None:
        raise Http404
    return JsonResponse({"ok": True})
