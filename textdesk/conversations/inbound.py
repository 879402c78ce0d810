"""What Text Request tells us about texts: messages read by sync or pushed by webhooks, and
delivery statuses. Idempotent on Text Request's ids and safe in any order; an outbound text of
ours is matched to its outbox row instead of being stored twice. Sends nothing itself. A
customer's text that is news hands the conversation to automatic assignment (``routing.py``)
and may queue the line's away reply on the outbox (``away.answer``, once however many times
the text is seen).

A text already stored never has its body written again from here: a redacted text
(``Message.redacted_at``) stays blank whatever a sync or a redelivered webhook carries. Only
an Admin's unredact (``handlers._unredact``) restores it.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from textdesk.contacts.models import ConsentEvent, Contact
from textdesk.contacts.services import (
    FLAG_PATTERNS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    consent_word,
    contact_for,
    record_consent,
)
from textdesk.conversations import away, routing, sla
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.outbound import attach, matches
from textdesk.dashboards.models import Dashboard
from textdesk.textrequest import types as tr

logger = logging.getLogger(__name__)

# Delivery statuses only move forward: an early "delivered" is not undone by a late "sending".
_DELIVERY_RANK = {"": 0, "sending": 1, "send": 1, "delivered": 2, "error": 2}


def record_message(conversation: Conversation, item: tr.Message, *, is_new: bool) -> Message:
    """Store one message read from Text Request (sync) or pushed by it (webhook); idempotent on
    ``message_id`` and safe in any order. An outbound text of ours is matched to its outbox
    row instead of being stored twice. ``is_new`` says the message is news (a webhook or an
    incremental read), not history: news marks the conversation unread and reopens it."""
    existing = Message.objects.filter(message_id=item.message_id).first()
    if existing is not None:
        _update_delivery(existing, item.delivery_status, item.delivery_error)
        if existing.status in (Message.Status.SENDING, Message.Status.UNKNOWN):
            attach(existing, item)
        if is_new:
            away.answer(existing)  # a second sighting: answered once (away.py)
        return existing
    if item.is_sent:
        for row in _outbox_candidates(conversation):
            if matches(row, item) and attach(row, item):
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
    Conversation.objects.touch(conversation.pk, message, is_new=is_new)
    sla.recount([conversation.pk])
    if is_new and direction == Message.Direction.RECEIVED:
        routing.arrived(conversation)
    if is_new:
        away.answer(message)
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
                attach(row, item)
            continue
        if item.is_sent and candidates:
            match = next((r for r in candidates if matches(r, item) and attach(r, item)), None)
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
    Conversation.objects.touch(conversation.pk, newest, is_new=is_new)
    sla.recount([conversation.pk])
    received = [m for m in rows if m.direction == Message.Direction.RECEIVED]
    if is_new and received:
        routing.arrived(conversation)
        # The newest received text found by this read: one away reply per period anyway.
        latest = max(received, key=lambda m: m.sent_at)
        row = Message.objects.filter(message_id=latest.message_id).first()
        if row is not None:
            away.answer(row)
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


def record_webhook_message(dashboard: Dashboard, event: tr.WebhookEvent) -> Message:
    """Process a ``msg_received``/``msg_sent`` event (the task behind the webhook receiver).

    Idempotent on ``messageUniqueIdentifier``; honours STOP/START at once; a ``msg_sent`` for
    our own reply is matched to its outbox row. Never sends anything."""
    contact, created = contact_for(
        dashboard,
        event.consumer_phone_number,
        display_name=(event.consumer_friendly_name or "")[:200],
    )
    conversation = Conversation.objects.for_contact(contact)
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
        attach(message, item)
        message.refresh_from_db()
    elif message.message_id != callback.message_id:
        logger.warning("status callback for row %s names another message; ignored", message_pk)
        return message
    _update_delivery(message, callback.delivery_status, callback.delivery_error)
    return message


def record_location(connection, message_pk: int, share: tr.LocationShare) -> Message | None:
    """Keep the location the customer shared in answer to our text ``message_pk`` (a later
    share replaces it). None if that text is not one of this connection's."""
    message = Message.objects.filter(
        pk=message_pk,
        conversation__dashboard__connection=connection,
        direction=Message.Direction.SENT,
    ).first()
    if message is None:
        return None
    location = {
        "latitude": round(share.latitude, 6),
        "longitude": round(share.longitude, 6),
        "accuracy": share.accuracy,
        "shared_at": timezone.now().isoformat(),
    }
    Message.objects.filter(pk=message.pk).update(location=location)
    message.location = location
    return message
