"""Webhook events: stored raw once by the receivers, processed by a task into the domain that
owns messages (``conversations``). Never sends anything.

An event that fails on our side is tried again by the sweep; after ``MAX_ATTEMPTS`` it is dead:
kept aside with its error (Admin → Sync status: retry or discard), never blocking the sweep
of events that are merely late."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.conversations.inbound import record_status, record_webhook_message
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.dashboards.sync import sync_dashboards
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr
from textdesk.webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _enqueue_process(event_pk: int) -> None:
    enqueue("textdesk.webhooks.tasks.process_event", event_pk)


def store_event(connection: Connection, kind: str, key: str, payload: dict) -> bool:
    """Store a raw webhook event once; answers False for a duplicate. The processing task is
    enqueued on commit."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                connection=connection, kind=kind, key=key[:200], payload=payload
            )
            _enqueue_process(event.pk)
    except IntegrityError:
        return False
    return True


def process_event(event_pk: int) -> None:
    """Apply one stored webhook event (the ``process_event`` task); idempotent."""
    event = (
        WebhookEvent.objects.select_related("connection")
        .filter(pk=event_pk, processed_at__isnull=True, dead_at__isnull=True)
        .first()
    )
    if event is None:
        return
    try:
        error = _apply(event)
    except errors.TextRequestError as exc:
        # Text Request is unreachable (reading a new line): not the event's fault.
        logger.info("webhook event %s waits for Text Request: %s", event.pk, exc)
        return
    except Exception as exc:
        _failed(event, exc)
        return
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error=error)


def _failed(event: WebhookEvent, exc: Exception) -> None:
    attempts = event.attempts + 1
    dead = attempts >= MAX_ATTEMPTS
    logger.exception(
        "webhook event %s failed (attempt %d%s)", event.pk, attempts, ", now dead" if dead else ""
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        attempts=attempts,
        error=f"{type(exc).__name__}: {exc}"[:500],
        dead_at=timezone.now() if dead else None,
    )


def _apply(event: WebhookEvent) -> str:
    """Hand the event to the domain; answers what could not be matched ("" when all was)."""
    connection = event.connection
    error = ""
    if event.kind == WebhookEvent.Kind.MESSAGE:
        parsed = tr.WebhookEvent.from_payload(event.payload)
        dashboard = _line(connection, parsed.dashboard_id)
        if dashboard is None:
            # A line added since the last sync: read the list once.
            sync_dashboards(connection)
            dashboard = _line(connection, parsed.dashboard_id)
        if dashboard is None:
            error = f"unknown line {parsed.dashboard_id}"
        else:
            message = record_webhook_message(dashboard, parsed)
            if message.redacted_at is not None:  # a redelivery of a text redacted since
                scrub_events(message_id=parsed.message_unique_identifier)
    else:
        parsed = tr.StatusCallback.from_payload(event.payload)
        message_pk = int(event.key.split(":", 1)[0])  # the key starts with our row's id
        if record_status(connection, message_pk, parsed) is None:
            error = "no such message"
    return error


def scrub_events(sender=None, *, message_id: str, **kwargs) -> int:
    """Blank the text in the raw events of a redacted message (they are kept up to a week,
    and dead ones are shown to Admins). Also the receiver of ``message_redacted``."""
    scrubbed = 0
    for event in WebhookEvent.objects.filter(kind=WebhookEvent.Kind.MESSAGE, key=message_id):
        conversation = event.payload.get("conversation")
        if isinstance(conversation, dict) and conversation.get("message"):
            conversation["message"] = ""
            WebhookEvent.objects.filter(pk=event.pk).update(payload=event.payload)
            scrubbed += 1
    return scrubbed


def _line(connection: Connection, dashboard_id) -> Dashboard | None:
    return (
        Dashboard.objects.active().filter(connection=connection, dashboard_id=dashboard_id).first()
    )


def sweep_events() -> int:
    """Process events whose task was lost; answers how many were re-enqueued."""
    stale = timezone.now() - timedelta(seconds=30)
    pks = list(
        WebhookEvent.objects.filter(
            processed_at__isnull=True, dead_at__isnull=True, received_at__lt=stale
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        _enqueue_process(pk)
    # Keep a week of processed events for inspection.
    WebhookEvent.objects.filter(processed_at__lt=timezone.now() - timedelta(days=7)).delete()
    return len(pks)


def retry_event(event: WebhookEvent) -> None:
    """An admin sends a dead event through again (after fixing what it needed)."""
    with transaction.atomic():
        if WebhookEvent.objects.filter(
            pk=event.pk, processed_at__isnull=True, dead_at__isnull=False
        ).update(dead_at=None, attempts=0, error=""):
            _enqueue_process(event.pk)


def discard_event(event: WebhookEvent, *, user) -> None:
    """An admin gives up on a dead event: it stays on record as handled, with who said so."""
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), dead_at=None, error=f"Discarded by {user}"[:500]
    )
