"""Receivers for what Text Request POSTs to us: texts sent and received, delivery statuses.

Text Request signs nothing, so the URL is the secret: it carries the connection's unguessable
token, compared in constant time; any other token is a bare 404. A receiver reads the body
once, checks size and content type, stores the raw event under its unique key
(insert-or-nothing: a redelivery answers 200 and does nothing), answers at once and leaves
the work to a task. Full URLs are never logged.
"""

import hmac
import json
import logging

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from textdesk.conversations.inbound import record_location
from textdesk.dashboards.models import Connection
from textdesk.phones import InvalidPhoneNumber, normalize_phone
from textdesk.textrequest import types as tr
from textdesk.webhooks.models import WebhookEvent
from textdesk.webhooks.services import store_event

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
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


def _read_json(request) -> dict | HttpResponse:
    content_type = request.content_type or ""
    if content_type.lower() != "application/json":
        return HttpResponse("expected application/json", status=415, content_type="text/plain")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return HttpResponse("body too large", status=413, content_type="text/plain")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("body too large", status=413, content_type="text/plain")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse("invalid JSON", status=400, content_type="text/plain")
    except RecursionError:  # 64 KB of "[" nests far deeper than the parser's stack
        return HttpResponse("JSON nested too deeply", status=400, content_type="text/plain")
    if not isinstance(payload, dict):
        return HttpResponse("expected a JSON object", status=400, content_type="text/plain")
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
    """``msg_received`` / ``msg_sent``: keyed by ``messageUniqueIdentifier``."""
    connection = connection_for_token(token)
    payload = _read_json(request)
    if isinstance(payload, HttpResponse):
        return payload
    try:
        event = tr.WebhookEvent.from_payload(payload)
        _storable(event)
    except ValueError as exc:
        logger.info("webhook for connection %s rejected: %s", connection.pk, exc)
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    stored = store_event(
        connection, WebhookEvent.Kind.MESSAGE, event.message_unique_identifier, payload
    )
    return JsonResponse({"ok": True, "duplicate": not stored})


@csrf_exempt
@login_not_required
@require_POST
def receive_status(request, token: str, message_pk: int):
    """A status callback of the text ``message_pk`` (our row): keyed by row, id and status."""
    connection = connection_for_token(token)
    payload = _read_json(request)
    if isinstance(payload, HttpResponse):
        return payload
    try:
        callback = tr.StatusCallback.from_payload(payload)
        _fits("message_id", callback.message_id, MAX_ID)
        _fits("delivery_status", callback.delivery_status, MAX_STATUS)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
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
    payload = _read_json(request)
    if isinstance(payload, HttpResponse):
        return payload
    try:
        share = tr.LocationShare.from_payload(payload)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    if record_location(connection, message_pk, share) is None:
        raise Http404
    return JsonResponse({"ok": True})
