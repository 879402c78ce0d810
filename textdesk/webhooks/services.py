"""Webhook events: stored raw once by the receivers, processed by a task into the domain that
owns messages (``conversations``). Never sends anything.

An event that fails on our side is tried again by the sweep; after ``MAX_ATTEMPTS`` it is dead:
kept aside with its error (Admin → Sync status: retry or discard), never blocking the sweep
of events that are merely late."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.contacts import sync as contacts_sync
from textdesk.conversations import sync as conversations_sync
from textdesk.conversations.inbound import record_status, record_webhook_message
from textdesk.conversations.models import Conversation, Message
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.dashboards.sync import Run, sync_dashboards
from textdesk.payments import sync as payments_sync
from textdesk.phones import InvalidPhoneNumber, normalize_phone
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr
from textdesk.webhooks.models import Hint, Refusal, WebhookEvent

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
        if exc.transient:
            # Text Request is unreachable (reading a new line): not the event's fault.
            logger.info("webhook event %s waits for Text Request: %s", event.pk, exc)
            return
        # Refused (a revoked key, a disconnected account): no later attempt differs by
        # itself, so it counts, and after MAX_ATTEMPTS it is set aside for an admin.
        _failed(event, exc)
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
        # Events never tried again come first, newest first: events that keep failing
        # (their attempts counted) can never keep a newly lost one out of the batch.
        .order_by("attempts", "-received_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        _enqueue_process(pk)
    # Hints whose read task was lost would hold back every later hint of theirs.
    for pk in Hint.objects.filter(created_at__lt=stale).values_list("pk", flat=True)[:500]:
        _enqueue_hint(pk)
    # Keep a week of processed events for inspection, and of refusals.
    WebhookEvent.objects.filter(processed_at__lt=timezone.now() - timedelta(days=7)).delete()
    Refusal.objects.filter(refused_at__lt=timezone.now() - timedelta(days=7)).delete()
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


# --- Webhook health and event hints (issue 20) -----------------------------------------------

# One read per line and resource at most this often, however many events ask for it.
HINT_SPACING = 2.0
# Texts still in flight are looked for this far back on a msg_status_updated hint.
IN_FLIGHT_HORIZON = timedelta(days=2)
MAX_STATUS_READS = 10
IN_FLIGHT = [word for word, state in tr.DELIVERY_STATES.items() if state == "sending"] + [""]
EVENT_RESOURCES = {
    "payment_status_updated": Hint.Resource.PAYMENTS,
    "msg_status_updated": Hint.Resource.STATUSES,
    "contact_created": Hint.Resource.CONTACT,
    "contact_updated": Hint.Resource.CONTACT,
    "location_received": Hint.Resource.LOCATION,
}


def refuse(connection: Connection, reason: str, event: str = "") -> None:
    """Count a refused callback for the connection's webhook health (never its body)."""
    Refusal.objects.create(connection=connection, reason=reason[:120], event=event[:40])


def saw_line(line: Dashboard) -> None:
    """A verified event for ``line`` arrived: its subscriptions work (written at most every
    few seconds)."""
    now = timezone.now()
    recently = now - timedelta(seconds=5)
    Dashboard.objects.filter(pk=line.pk).exclude(hooks_seen_at__gt=recently).update(
        hooks_seen_at=now
    )


def hint(line: Dashboard, event: str, payload: dict) -> bool:
    """Queue the targeted read a verified event asks for; answers False when the same read is
    already pending (a burst). Nothing of the payload is kept but the id it names."""
    resource = EVENT_RESOURCES[event]
    named = tr.EventHint.from_payload(payload)
    ident = ""
    if resource == Hint.Resource.PAYMENTS and named.payment_id:
        ident = str(named.payment_id)
    elif resource in (Hint.Resource.CONTACT, Hint.Resource.LOCATION) and named.contact_phone:
        try:
            ident = normalize_phone(named.contact_phone)
        except InvalidPhoneNumber:
            ident = ""
    try:
        with transaction.atomic():
            pending = Hint.objects.create(dashboard=line, resource=resource, ident=ident)
    except IntegrityError:
        return False
    _enqueue_hint(pending.pk)
    return True


def _enqueue_hint(hint_pk: int, countdown: float | None = None) -> None:
    enqueue("textdesk.webhooks.tasks.read_hint", hint_pk, countdown=countdown, queue="interactive")


def read_hint(hint_pk: int, *, eager: bool = False) -> None:
    """The ``read_hint`` task: claim the pending hint (deleting it, so an event arriving during
    the read asks again) and make its read at interactive priority through the shared limiter.
    Reads of one line and resource are spaced by ``HINT_SPACING``."""
    pending = Hint.objects.filter(pk=hint_pk).select_related("dashboard__connection").first()
    if pending is None:
        return
    line = pending.dashboard
    spacing_key = f"hint-read:{line.pk}:{pending.resource}"
    last = cache.get(spacing_key)
    now = time.time()
    if last is not None and now - last < HINT_SPACING and not eager:
        _enqueue_hint(hint_pk, countdown=HINT_SPACING - (now - last))
        return
    if Hint.objects.filter(pk=hint_pk).delete()[0] != 1:
        return  # another worker claimed it
    if line.removed_at is not None or not line.connection.is_active:
        return
    cache.set(spacing_key, now, timeout=int(HINT_SPACING * 5))
    run = Run(line, priority="interactive", wait=eager)
    try:
        _read(run, pending.resource, pending.ident)
    except errors.LimiterBusy as exc:
        hint(line, _event_of(pending.resource), {})  # ask again, later
        logger.info("hint read of %s waits for the limiter (%.1f s)", line, exc.retry_in)
    except errors.TextRequestError as exc:
        # Polling reads the same within a cycle: nothing is lost.
        logger.info("hint read of %s %s failed: %s", line, pending.resource, exc)
    finally:
        run.close()


def _event_of(resource: str) -> str:
    return next(e for e, r in EVENT_RESOURCES.items() if r == resource)


def _read(run: Run, resource: str, ident: str) -> None:
    line = run.dashboard
    if resource == Hint.Resource.PAYMENTS:
        if ident:
            item = run.call(run.client.get_payment, line.dashboard_id, int(ident))
            if item is not None:
                payments_sync.apply_payment(line, item)
        else:
            payments_sync.refresh_open(run, line)
    elif resource == Hint.Resource.STATUSES:
        since = timezone.now() - IN_FLIGHT_HORIZON
        conversation_pks = list(
            Message.objects.filter(
                conversation__dashboard=line,
                direction=Message.Direction.SENT,
                status=Message.Status.SENT,
                message_id__isnull=False,
                delivery_status__in=IN_FLIGHT,
                sent_at__gte=since,
            )
            .order_by("-sent_at")
            .values_list("conversation_id", flat=True)
            .distinct()[:MAX_STATUS_READS]
        )
        for conversation in Conversation.objects.filter(pk__in=conversation_pks).select_related(
            "contact"
        ):
            conversations_sync.fill_history(run, conversation)
    elif resource == Hint.Resource.CONTACT:
        if ident:
            item = run.call(run.client.get_contact, line.dashboard_id, ident)
            if item is not None:
                contacts_sync.apply_contacts(line, [item])
        else:
            contacts_sync.sync_new_contacts(run)
    elif resource == Hint.Resource.LOCATION and ident:
        # The location itself comes by the text's location_callback; the hint reads the
        # conversation, where the shared location shows.
        conversation = (
            Conversation.objects.filter(dashboard=line, contact__phone_number=ident)
            .select_related("contact")
            .first()
        )
        if conversation is not None:
            conversations_sync.fill_history(run, conversation)
