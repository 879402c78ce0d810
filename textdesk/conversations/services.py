"""Conversations and texts: what agents do in the inbox, and what Text Request tells us.

Agents' actions are local first: a text is an outbound ``Message`` row (the outbox, status
``pending``) and every other write a ``Change`` row; interactive Celery tasks then write them to
Text Request exactly once in effect (RELIABILITY.md, "Outbound texts"). Views check
permissions (through ``accounts.access``); these functions do not.

Texts move ``pending → sending → sent | failed | unknown``:

- ``deliver_text`` claims a pending row with a conditional update, re-checks the contact's
  opt-out under a row lock, commits, then calls Text Request once;
- nothing was sent (connection refused, 429, our limiter busy) → ``pending`` again with a
  ``not_before``; refused (4xx) → ``failed`` with Text Request's reason;
- a read timeout, a reset or a 5xx → ``unknown``: never resent blindly. ``settle_text`` looks for
  the text among the contact's recent messages (and a status callback or the ``msg_sent``
  webhook naming it settles it too); only after a grace window with no match is it sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from textdesk.contacts.models import ConsentEvent, Contact, Tag
from textdesk.contacts.phones import InvalidPhoneNumber
from textdesk.contacts.services import (
    FLAG_PATTERNS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    consent_word,
    contact_for,
    record_consent,
)
from textdesk.conversations.models import Conversation, Message
from textdesk.dashboards.models import Change, Dashboard
from textdesk.dashboards.outbox import backoff, claim, queue_change, sweep_rows
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr

logger = logging.getLogger(__name__)

__all__ = [
    "CannotText",
    "InvalidPhoneNumber",
    "assign",
    "deliver_text",
    "dismiss_change",
    "load_history",
    "mark_read",
    "pending_changes",
    "record_message",
    "record_webhook_message",
    "retry_text",
    "send_text",
    "set_archived",
    "set_resolved",
    "set_tags",
    "settle_text",
    "start_conversation",
    "sweep_texts",
]

MAX_BODY_LENGTH = 1600
# Texts that never reached Text Request are given up (visibly) after this many attempts.
MAX_SEND_ATTEMPTS = 10
# How far before our attempt a matching message may be stamped (clock skew between services).
MATCH_SKEW = timedelta(minutes=2)
# How soon an unknown text is first checked.
FIRST_CHECK = timedelta(seconds=2)
# Delivery statuses only move forward: an early "delivered" is not undone by a late "sending".
_DELIVERY_RANK = {"": 0, "sending": 1, "send": 1, "delivered": 2, "error": 2}


class CannotText(Exception):
    """The text cannot be sent; ``reason`` is a sentence to show the agent."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# --- Agents' actions -----------------------------------------------------------------------


def send_text(*, conversation: Conversation, user, body: str, client_key) -> Message:
    """Queue a reply: creates the outbound ``Message`` (status ``pending``) and enqueues its
    send when the transaction commits.

    ``client_key`` (a UUID from the compose form) dedupes: a double submit returns the row
    the first one created. Raises ``CannotText`` for an empty or too long body, a contact who
    opted out or is blocked, or a line that was removed."""
    existing = Message.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    body = (body or "").strip()
    if not body:
        raise CannotText("Write a message first.")
    if len(body) > MAX_BODY_LENGTH:
        raise CannotText(
            f"A text can be at most {MAX_BODY_LENGTH} characters; this one has {len(body)}."
        )
    contact = Contact.objects.get(pk=conversation.contact_id)
    if contact.cannot_text_reason:
        raise CannotText(contact.cannot_text_reason)
    if Dashboard.objects.filter(pk=conversation.dashboard_id, removed_at__isnull=False).exists():
        raise CannotText("This line was removed from Text Request.")
    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.SENT,
                body=body,
                sender_name=_sender_name(user),
                sent_by=user if getattr(user, "pk", None) else None,
                sent_at=now,
                status=Message.Status.PENDING,
                client_key=client_key,
            )
            _touch_conversation(conversation.pk, message, is_new=True)
            _enqueue_send(message.pk)
    except IntegrityError:
        # The same client_key committed in parallel: that row is the answer.
        return Message.objects.get(client_key=client_key)
    return message


def retry_text(*, message: Message, user) -> Message:
    """Send a failed text again, exactly once (a second click finds it already queued).

    Raises ``CannotText`` if the text did not fail or the contact may not be texted now."""
    contact = message.conversation.contact
    if contact.cannot_text_reason:
        raise CannotText(contact.cannot_text_reason)
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk, status=Message.Status.FAILED, direction=Message.Direction.SENT
        ).update(
            status=Message.Status.PENDING,
            failure_reason="",
            not_before=None,
            attempts=0,
            sent_at=timezone.now(),
            sent_by=user if getattr(user, "pk", None) else message.sent_by_id,
        )
        if changed != 1:
            raise CannotText("Only a text that failed can be sent again.")
        _enqueue_send(message.pk)
    message.refresh_from_db()
    return message


def start_conversation(
    *, dashboard: Dashboard, phone_number: str, user, body: str, client_key
) -> Conversation:
    """Text a number on a line, creating the contact and conversation locally if needed.

    Any common US spelling works. Raises ``InvalidPhoneNumber`` or ``CannotText``."""
    with transaction.atomic():
        contact, _ = contact_for(dashboard, phone_number)
        if contact.removed_at is not None:
            Contact.objects.filter(pk=contact.pk).update(removed_at=None)
        conversation = conversation_for_contact(contact)
        send_text(conversation=conversation, user=user, body=body, client_key=client_key)
    return conversation


def set_archived(*, conversation: Conversation, user, archived: bool) -> Change:
    """Archive or unarchive: shown at once, written to Text Request by the outbox."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(is_archived=archived)
        Contact.objects.filter(pk=conversation.contact_id).update(is_archived=archived)
        conversation.is_archived = archived
        return queue_change(
            dashboard=conversation.dashboard,
            kind=Change.Kind.ARCHIVE if archived else Change.Kind.UNARCHIVE,
            subject="archived",
            payload={},
            user=user,
            conversation=conversation,
            contact=conversation.contact,
        )


def set_resolved(*, conversation: Conversation, user, resolved: bool) -> Change:
    """Resolve or reopen (Text Request: the contact's ``is_resolved``)."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(is_resolved=resolved)
        Contact.objects.filter(pk=conversation.contact_id).update(is_resolved=resolved)
        conversation.is_resolved = resolved
        return queue_change(
            dashboard=conversation.dashboard,
            kind=Change.Kind.RESOLVE if resolved else Change.Kind.REOPEN,
            subject="resolved",
            payload={"is_resolved": resolved},
            user=user,
            conversation=conversation,
            contact=conversation.contact,
        )


def set_tags(*, conversation: Conversation, user, tags: list[Tag]) -> Change:
    """Give the conversation's contact exactly these tags (tags of other lines are ignored)."""
    tags = [t for t in tags if t.dashboard_id == conversation.dashboard_id]
    with transaction.atomic():
        conversation.contact.tags.set(tags)
        return queue_change(
            dashboard=conversation.dashboard,
            kind=Change.Kind.SET_TAGS,
            subject="tags",
            payload={"contact_tags": sorted(t.tag_id for t in tags)},
            user=user,
            conversation=conversation,
            contact=conversation.contact,
        )


def assign(*, conversation: Conversation, user, assignee) -> None:
    """Assign the conversation to a colleague (or nobody). Local to textdesk."""
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=assignee)
    conversation.assigned_to = assignee


def mark_read(*, conversation: Conversation, user) -> None:
    """The agent has seen the conversation. Local to textdesk (Text Request has no read state)."""
    if conversation.is_unread:
        Conversation.objects.filter(pk=conversation.pk).update(is_unread=False)
        conversation.is_unread = False


def load_history(*, conversation: Conversation) -> bool:
    """Fill a conversation's message history now, at interactive priority, if it was never read.

    Answers whether a fill was enqueued (the thread refreshes when it lands)."""
    if conversation.history_synced_at is not None:
        return False
    from textdesk.conversations.tasks import fill_history

    transaction.on_commit(
        lambda: fill_history.apply_async(
            (conversation.pk,), {"priority": "interactive"}, queue="interactive"
        )
    )
    return True


def pending_changes(conversation: Conversation) -> QuerySet[Change]:
    """The conversation's writes not yet confirmed by Text Request, and those that failed
    (until dismissed or replaced), oldest first."""
    return Change.objects.filter(
        conversation=conversation,
        status__in=[*Change.ACTIVE, Change.Status.FAILED],
        dismissed_at__isnull=True,
    ).order_by("created_at", "id")


def dismiss_change(*, change: Change, user) -> None:
    """Hide a failed change from the conversation (it stays in the record)."""
    Change.objects.filter(pk=change.pk, status=Change.Status.FAILED).update(
        dismissed_at=timezone.now()
    )


def conversation_for_contact(contact: Contact) -> Conversation:
    """The contact's conversation, created if missing (race-safe: one per contact)."""
    conversation = Conversation.objects.filter(contact=contact).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(dashboard_id=contact.dashboard_id, contact=contact)
    except IntegrityError:
        return Conversation.objects.get(contact=contact)


def _sender_name(user) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    return (getattr(user, "display_name", "") or str(user))[:100]


def _enqueue_send(message_pk: int, countdown: float | None = None) -> None:
    from textdesk.conversations.tasks import send_message

    transaction.on_commit(lambda: send_message.apply_async((message_pk,), countdown=countdown))


def _enqueue_settle(message_pk: int, countdown: float | None = None) -> None:
    from textdesk.conversations.tasks import settle_message

    transaction.on_commit(lambda: settle_message.apply_async((message_pk,), countdown=countdown))


# --- The outbox: sending texts ---------------------------------------------------------------


def status_callback_url(message: Message) -> str:
    """Where Text Request reports this text's delivery; the URL names our row."""
    connection = message.conversation.dashboard.connection
    path = reverse("hooks:status", args=[connection.webhook_token, message.pk])
    return f"{settings.TEXTDESK_PUBLIC_URL}{path}"


def deliver_text(message_pk: int) -> None:
    """Send one queued text (the body of the ``send_message`` task); safe to run twice."""
    message = (
        Message.objects.select_related("conversation")
        .filter(pk=message_pk)
        .only("id", "status", "conversation__contact_id")
        .first()
    )
    if message is None or message.status != Message.Status.PENDING:
        return
    with transaction.atomic():
        # Lock order everywhere: contact, then its messages (record_consent does the same).
        contact = Contact.objects.select_for_update().get(pk=message.conversation.contact_id)
        message = Message.objects.select_for_update().get(pk=message_pk)
        if message.status != Message.Status.PENDING:
            return
        if message.not_before and message.not_before > timezone.now():
            return  # a retry is scheduled; its task (or the sweeper) comes back then
        reason = contact.cannot_text_reason
        if (
            not reason
            and Dashboard.objects.filter(pk=contact.dashboard_id, removed_at__isnull=False).exists()
        ):
            reason = "This line was removed from Text Request."
        if reason:
            message.mark_failed(f"Not sent: {reason}")
            return
        if not claim(Message, message_pk, status_from="pending", status_to="sending"):
            return
    # Committed: any retry from here on knows an attempt may have gone out.
    message = Message.objects.select_related(
        "conversation__contact", "conversation__dashboard__connection"
    ).get(pk=message_pk)
    dashboard = message.conversation.dashboard
    client = dashboard.connection.client("interactive")
    try:
        result = client.send_message(
            dashboard.dashboard_id,
            message.conversation.contact.phone_number,
            body=message.body,
            sender_name=message.sender_name or None,
            status_callback=status_callback_url(message),
            mms_media=message.mms_media or None,
        )
    except errors.TextRequestError as exc:
        _send_failed(message, exc)
    else:
        _attach(message, result)
    finally:
        client.close()


def _send_failed(message: Message, exc: errors.TextRequestError) -> None:
    still_sending = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING)
    if exc.maybe_processed:
        # It may have gone out: check before ever sending again.
        logger.info("text %s: outcome unknown (%s); settling", message.pk, exc)
        if still_sending.update(
            status=Message.Status.UNKNOWN,
            failure_reason=exc.message[:500],
            not_before=timezone.now() + FIRST_CHECK,
        ):
            _enqueue_settle(message.pk, FIRST_CHECK.total_seconds())
        return
    if exc.transient and message.attempts < MAX_SEND_ATTEMPTS:
        wait = backoff(
            message.attempts, getattr(exc, "retry_after", 0) or getattr(exc, "retry_in", 0)
        )
        if still_sending.update(
            status=Message.Status.PENDING,
            failure_reason="",
            not_before=timezone.now() + wait,
        ):
            _enqueue_send(message.pk, wait.total_seconds())
        return
    reason = exc.message if exc.status else f"Text Request could not be reached ({exc.message})"
    still_sending.update(
        status=Message.Status.FAILED, failure_reason=f"Not sent: {reason}"[:500], not_before=None
    )


def _attach(row: Message, item: tr.Message) -> bool:
    """Record that our outbound row is Text Request's message ``item`` (answer, webhook,
    status callback or a read of the conversation). A copy recorded before the match is
    merged away. Answers False if another outbox row already owns that message."""
    with transaction.atomic():
        owner = Message.objects.filter(message_id=item.message_id).exclude(pk=row.pk).first()
        if owner is not None:
            if owner.client_key is not None:
                return False
            owner.delete()
        updates = {
            "message_id": item.message_id,
            "status": Message.Status.SENT,
            "failure_reason": "",
            "not_before": None,
        }
        if item.delivery_status:
            updates["delivery_status"] = item.delivery_status
            updates["delivery_error"] = (item.delivery_error or "")[:500]
        if item.message_timestamp_utc:
            updates["sent_at"] = item.message_timestamp_utc
        if item.mms_media:
            updates["mms_media"] = item.mms_media
        Message.objects.filter(pk=row.pk).update(**updates)
        row.refresh_from_db()
        _touch_conversation(row.conversation_id, row, is_new=False)
    return True


def settle_text(message_pk: int, *, now=None) -> None:
    """Decide an ``unknown`` text (the body of the ``settle_message`` task): find it among the
    contact's recent messages → sent; no match after the grace window → queued again."""
    now = now or timezone.now()
    message = (
        Message.objects.select_related(
            "conversation__contact", "conversation__dashboard__connection"
        )
        .filter(pk=message_pk, status=Message.Status.UNKNOWN)
        .first()
    )
    if message is None or (message.not_before and message.not_before > now):
        return
    dashboard = message.conversation.dashboard
    client = dashboard.connection.client("interactive")
    try:
        page = client.get_messages(
            dashboard.dashboard_id, message.conversation.contact.phone_number, page_size=50
        )
    except errors.TextRequestError as exc:
        logger.info("text %s: cannot check yet (%s)", message.pk, exc)
        Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
            not_before=now + backoff(2, getattr(exc, "retry_after", 0))
        )
        return
    finally:
        client.close()
    for item in page.items:
        if _matches(message, item) and _attach(message, item):
            return
    grace = timedelta(seconds=settings.TEXTDESK_UNKNOWN_GRACE)
    if message.claimed_at and now - message.claimed_at >= grace:
        logger.warning(
            "text %s: not found at Text Request after %s; sending again", message.pk, grace
        )
        if Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
            status=Message.Status.PENDING, not_before=None
        ):
            _enqueue_send(message.pk)
        return
    Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
        not_before=now + timedelta(seconds=5)
    )


def _matches(row: Message, item: tr.Message) -> bool:
    if not item.is_sent or (item.body or "").strip() != row.body.strip():
        return False
    if (
        Message.objects.filter(message_id=item.message_id, client_key__isnull=False)
        .exclude(pk=row.pk)
        .exists()
    ):
        return False
    started = row.claimed_at or row.created_at
    stamp = item.message_timestamp_utc
    return stamp is None or stamp >= started - MATCH_SKEW


def sweep_texts(*, now=None, min_age: timedelta = timedelta(seconds=5)) -> dict:
    """Beat's safety net: re-enqueue texts left ``pending`` (a lost broker message), turn texts
    stuck in ``sending`` (their worker died) into ``unknown``, and settle ``unknown`` ones."""
    return sweep_rows(
        Message,
        send=_enqueue_send,
        settle=_enqueue_settle,
        now=now or timezone.now(),
        min_age=min_age,
        limit=500,
        stuck_reason="The worker sending this text stopped; checking whether it went out.",
    )


# --- What Text Request tells us ----------------------------------------------------------------


def record_message(conversation: Conversation, item: tr.Message, *, is_new: bool) -> Message:
    """Store one message read from Text Request (sync) or pushed by it (webhook); idempotent on
    ``message_id`` and safe in any order. An outbound text of ours is matched to its outbox
    row instead of being stored twice. ``is_new`` says the message is news (a webhook or an
    incremental read), not history: news marks the conversation unread and reopens it."""
    existing = Message.objects.filter(message_id=item.message_id).first()
    if existing is not None:
        _update_delivery(existing, item.delivery_status, item.delivery_error)
        if existing.status in (Message.Status.SENDING, Message.Status.UNKNOWN):
            _attach(existing, item)
        return existing
    if item.is_sent:
        for row in _outbox_candidates(conversation):
            if _matches(row, item) and _attach(row, item):
                return row
    direction = Message.Direction.RECEIVED if item.is_received else Message.Direction.SENT
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                message_id=item.message_id,
                direction=direction,
                body=item.body or "",
                sender_name=(item.response_by_username or "")[:200],
                sent_at=item.message_timestamp_utc or timezone.now(),
                status=(Message.Status.RECEIVED if item.is_received else Message.Status.SENT),
                delivery_status=item.delivery_status or "",
                delivery_error=(item.delivery_error or "")[:500],
                mms_media=item.mms_media,
            )
    except IntegrityError:
        return Message.objects.get(message_id=item.message_id)
    _touch_conversation(conversation.pk, message, is_new=is_new)
    return message


def record_messages(conversation: Conversation, items: list[tr.Message], *, is_new: bool) -> int:
    """Store a page of a conversation's history (newest first); answers how many were new.

    Unknown received messages are inserted in one statement (insert-or-nothing)."""
    ids = [item.message_id for item in items]
    known = {
        m.message_id: m
        for m in Message.objects.filter(message_id__in=ids).only(
            "id", "message_id", "status", "delivery_status", "delivery_error", "client_key"
        )
    }
    candidates = list(_outbox_candidates(conversation))
    fresh = []
    for item in items:
        row = known.get(item.message_id)
        if row is not None:
            _update_delivery(row, item.delivery_status, item.delivery_error)
            if row.status in (Message.Status.SENDING, Message.Status.UNKNOWN):
                _attach(row, item)
            continue
        if item.is_sent and candidates:
            match = next((r for r in candidates if _matches(r, item) and _attach(r, item)), None)
            if match is not None:
                candidates.remove(match)
                continue
        fresh.append(item)
    if not fresh:
        return 0
    rows = [
        Message(
            conversation=conversation,
            message_id=item.message_id,
            direction=Message.Direction.RECEIVED if item.is_received else Message.Direction.SENT,
            body=item.body or "",
            sender_name=(item.response_by_username or "")[:200],
            sent_at=item.message_timestamp_utc or timezone.now(),
            status=Message.Status.RECEIVED if item.is_received else Message.Status.SENT,
            delivery_status=item.delivery_status or "",
            delivery_error=(item.delivery_error or "")[:500],
            mms_media=item.mms_media,
        )
        for item in fresh
    ]
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    newest = max(rows, key=lambda m: m.sent_at)
    _touch_conversation(conversation.pk, newest, is_new=is_new)
    return len(rows)


def _outbox_candidates(conversation: Conversation):
    """Our outbound rows that may be a message Text Request reports: in flight, no id yet."""
    return Message.objects.filter(
        conversation=conversation,
        direction=Message.Direction.SENT,
        message_id__isnull=True,
        attempts__gt=0,
        status__in=[Message.Status.SENDING, Message.Status.UNKNOWN, Message.Status.PENDING],
    ).order_by("claimed_at", "id")


def _update_delivery(message: Message, status: str | None, error: str | None) -> None:
    status = (status or "").lower()
    if not status or status == message.delivery_status:
        return
    if _DELIVERY_RANK.get(status, 1) < _DELIVERY_RANK.get(message.delivery_status, 0):
        return
    Message.objects.filter(pk=message.pk).update(
        delivery_status=status, delivery_error=(error or "")[:500]
    )
    message.delivery_status, message.delivery_error = status, error or ""


def _touch_conversation(conversation_pk: int, message: Message, *, is_new: bool) -> None:
    """Keep what the inbox sorts and shows in step with the newest message (conditional
    update, so a late or replayed older message never rolls it back)."""
    preview = message.body[:200] if message.body else ("[picture]" if message.mms_media else "")
    updates = {
        "last_message_at": message.sent_at,
        "last_message_preview": preview,
        "last_message_direction": message.direction,
    }
    if message.direction == Message.Direction.RECEIVED:
        if is_new:
            updates.update(is_unread=True, is_resolved=False, is_archived=False)
    else:
        updates["waiting_since"] = None
        if is_new:
            updates["is_archived"] = False
    newer = Q(last_message_at__isnull=True) | Q(last_message_at__lte=message.sent_at)
    qs = Conversation.objects.filter(newer, pk=conversation_pk)
    if message.direction == Message.Direction.RECEIVED:
        # Waiting since the first unanswered received text (a sent text clears it).
        qs.filter(waiting_since__isnull=True).update(waiting_since=message.sent_at)
    qs.update(**updates)


def record_webhook_message(dashboard: Dashboard, event: tr.WebhookEvent) -> Message:
    """Process a ``msg_received``/``msg_sent`` event (the task behind the webhook receiver).

    Idempotent on ``messageUniqueIdentifier``; honours STOP/START at once; a ``msg_sent`` for
    our own reply is matched to its outbox row. Never sends anything."""
    contact, created = contact_for(
        dashboard,
        event.consumer_phone_number,
        display_name=(event.consumer_friendly_name or "")[:200],
    )
    conversation = conversation_for_contact(contact)
    item = tr.Message(
        message_id=event.message_unique_identifier,
        body=event.message,
        message_direction=event.message_direction,
        response_by_username=None,
        message_timestamp_utc=event.date,
        delivery_status=(event.status or "").lower() or None,
        delivery_error=None,
        mms_media=[],
    )
    message = record_message(conversation, item, is_new=True)
    if event.is_received:
        Contact.objects.filter(pk=contact.pk).filter(
            Q(last_message_received_at__isnull=True) | Q(last_message_received_at__lt=event.date)
        ).update(last_message_received_at=event.date, is_resolved=False, is_archived=False)
        word = consent_word(event.message)
        if word in OPT_OUT_WORDS:
            record_consent(
                contact,
                ConsentEvent.Kind.OPT_OUT,
                source="webhook",
                body=event.message,
                occurred_at=event.date,
            )
            # Text Request archives the conversation of a contact who texts STOP.
            Conversation.objects.filter(pk=conversation.pk).update(is_archived=True)
            Contact.objects.filter(pk=contact.pk).update(is_archived=True)
        elif word in OPT_IN_WORDS:
            record_consent(
                contact,
                ConsentEvent.Kind.OPT_IN,
                source="webhook",
                body=event.message,
                occurred_at=event.date,
            )
        elif FLAG_PATTERNS.search(event.message):
            record_consent(
                contact,
                ConsentEvent.Kind.FLAGGED,
                source="webhook",
                body=event.message,
                occurred_at=event.date,
            )
    else:
        Contact.objects.filter(pk=contact.pk).filter(
            Q(last_message_sent_at__isnull=True) | Q(last_message_sent_at__lt=event.date)
        ).update(last_message_sent_at=event.date, is_archived=False)
    return message


def record_status(connection, message_pk: int, callback: tr.StatusCallback) -> Message | None:
    """Process a status callback for our row ``message_pk``: settles an ``unknown`` text (it
    went out) and moves the delivery status forward."""
    message = Message.objects.filter(
        pk=message_pk, conversation__dashboard__connection=connection
    ).first()
    if message is None:
        return None
    if message.message_id is None:
        item = tr.Message(
            message_id=callback.message_id,
            body=message.body,
            message_direction="S",
            response_by_username=None,
            message_timestamp_utc=None,
            delivery_status=callback.delivery_status,
            delivery_error=callback.delivery_error,
            mms_media=[],
        )
        _attach(message, item)
        message.refresh_from_db()
    elif message.message_id != callback.message_id:
        logger.warning("status callback for row %s names another message; ignored", message_pk)
        return message
    _update_delivery(message, callback.delivery_status, callback.delivery_error)
    return message
