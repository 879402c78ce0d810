"""The open thread: the newest window of texts, with the contact's payment requests among
them, by day, each text dressed for display once (see `templatetags.inbox.dress_messages`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from textdesk.conversations.forms import cursor_for
from textdesk.conversations.models import Conversation, Message, Note
from textdesk.conversations.templatetags.inbox import day_label, dress_messages
from textdesk.payments.models import Payment

THREAD_SIZE = 60
PAYMENTS_SHOWN = 20
NOTES_SHOWN = 50


@dataclass
class Entry:
    """One item of the thread: a message or a payment request, at its moment."""

    at: datetime
    message: Message | None = None
    payment: Payment | None = None
    note: Note | None = None
    day: str = ""  # the day's heading, on the first entry of each day


@dataclass
class Thread:
    conversation: Conversation
    messages: list[Message]
    payments: list[Payment]
    entries: list[Entry] = field(default_factory=list)
    earlier: str | None = None  # cursor of older messages, when there are more
    notes: list[Note] = field(default_factory=list)


def _payment_at(payment: Payment) -> datetime:
    return payment.requested_at or payment.created_at


# What the thread shows of a text (not the outbox's bookkeeping).
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "direction",
    "body",
    "sender_name",
    "sent_at",
    "status",
    "delivery_status",
    "delivery_error",
    "failure_reason",
    "mms_media",
    "location",
    "message_id",
    "redacted_at",
    "redacted_by",
)


def load_thread(user, line, conversation: Conversation, before=None) -> Thread:
    older = (
        conversation.messages.select_related("redacted_by")
        .only(*MESSAGE_COLUMNS)
        .order_by("-sent_at", "-id")
    )
    if before:
        moment, pk = before
        older = older.filter(sent_at__lte=moment).filter(Q(sent_at__lt=moment) | Q(id__lt=pk))
    window = list(older[: THREAD_SIZE + 1])
    earlier = None
    if len(window) > THREAD_SIZE:
        window = window[:THREAD_SIZE]
        earlier = cursor_for(window[-1].sent_at, window[-1].pk)
    window.reverse()
    payments = list(
        Payment.objects.for_user(user)
        .filter(dashboard=line, customer_phone=conversation.contact.phone_number)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
    )
    payments.reverse()
    oldest = window[0].sent_at if (window and earlier) else None
    notes = []
    if not before:
        notes = list(
            conversation.notes.select_related("author").order_by("-created_at", "-id")[:NOTES_SHOWN]
        )
        notes.reverse()
    entries = [Entry(m.sent_at, message=m) for m in window]
    if not before:
        entries += [
            Entry(_payment_at(p), payment=p)
            for p in payments
            if oldest is None or _payment_at(p) >= oldest
        ]
        entries += [
            Entry(n.created_at, note=n) for n in notes if oldest is None or n.created_at >= oldest
        ]
    entries.sort(key=lambda e: e.at)
    previous = None
    for entry in entries:
        local = timezone.localtime(entry.at)
        if entry.message is not None:
            entry.message.local_at = local
        day = local.date()
        if day != previous:
            entry.day, previous = day_label(entry.at), day
    dress_messages(window, line, conversation)
    return Thread(conversation, window, payments, entries, earlier, notes)
