"""The open thread: the newest window of texts, with the contact's payment requests among
them, by day, each text dressed for display once (see `templatetags.inbox.dress_messages`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from textdesk.conversations.forms import cursor_for
from textdesk.conversations.models import Attachment, Conversation, Message, Note, ScheduledText
from textdesk.conversations.templatetags.inbox import day_label, dress_messages
from textdesk.payments.models import Payment

THREAD_SIZE = 60
PAYMENTS_SHOWN = 20
NOTES_SHOWN = 50
SCHEDULED_SHOWN = 20
# A text skipped at its time stays in the thread (with why) this long.
SKIPPED_SHOWN_FOR = timedelta(days=7)


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
    newer: int | None = None  # a jump-to window: the last text shown, when newer ones exist
    # Texts still to leave (or skipped at their time, with why), after the newest texts.
    scheduled: list[ScheduledText] = field(default_factory=list)


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
    "is_automatic",
    "waiting_note",
)


CONTEXT_BEFORE = 20  # a jump-to shows this many older texts above the one it opens at


def scheduled_shown(conversation: Conversation):
    """The thread's scheduled texts: those still to leave, and those skipped lately (with why)."""
    # Their files' names (no bytes), in one more query only when there are scheduled texts.
    files = Attachment.objects.filter(message__isnull=True).defer("content").order_by("position")
    return (
        conversation.scheduled_texts.filter(
            Q(status=ScheduledText.Status.SCHEDULED)
            | Q(status=ScheduledText.Status.SKIPPED, due_at__gte=timezone.now() - SKIPPED_SHOWN_FOR)
        )
        .prefetch_related(Prefetch("attachments", queryset=files))
        .order_by("due_at", "id")[:SCHEDULED_SHOWN]
    )


def load_thread(user, line, conversation: Conversation, before=None, around=None) -> Thread:
    """The newest window of the thread; with ``before``, the window older than that cursor;
    with ``around`` (a moment and an id, from search), a window that holds that moment: a few
    older texts, then newer ones, all by keyset, with a link on to the newer texts."""
    texts = conversation.messages.select_related("redacted_by").only(*MESSAGE_COLUMNS)
    older = texts.order_by("-sent_at", "-id")
    newer_than = None
    newer: list[Message] = []
    size = THREAD_SIZE
    if before:
        moment, pk = before
        older = older.filter(sent_at__lte=moment).filter(Q(sent_at__lt=moment) | Q(id__lt=pk))
    if around:
        moment, pk = around
        older = older.filter(sent_at__lte=moment).filter(Q(sent_at__lt=moment) | Q(id__lte=pk))
        later = texts.order_by("sent_at", "id").filter(sent_at__gte=moment)
        later = later.filter(Q(sent_at__gt=moment) | Q(id__gt=pk))
        room = THREAD_SIZE - CONTEXT_BEFORE
        newer = list(later[: room + 1])
        if len(newer) > room:
            newer = newer[:room]
            newer_than = newer[-1].pk
        size = CONTEXT_BEFORE
    window = list(older[: size + 1])
    earlier = None
    if len(window) > size:
        window = window[:size]
        earlier = cursor_for(window[-1].sent_at, window[-1].pk)
    window.reverse()
    window += newer
    payments = list(
        Payment.objects.for_user(user)
        .filter(dashboard=line, customer_phone=conversation.contact.phone_number)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
    )
    payments.reverse()
    oldest = window[0].sent_at if (window and earlier) else None
    newest = window[-1].sent_at if (window and newer_than) else None
    notes = []
    if not before:
        shown = (
            conversation.notes.select_related("author")
            .prefetch_related("mentions")  # whom each note's @mentions name (marked when shown)
            .order_by("-created_at", "-id")
        )
        if newest is not None:
            shown = shown.filter(created_at__lte=newest)
        notes = list(shown[:NOTES_SHOWN])
        notes.reverse()
    entries = [Entry(m.sent_at, message=m) for m in window]
    if not before:

        def inside(at) -> bool:
            return (oldest is None or at >= oldest) and (newest is None or at <= newest)

        entries += [Entry(_payment_at(p), payment=p) for p in payments if inside(_payment_at(p))]
        entries += [Entry(n.created_at, note=n) for n in notes if inside(n.created_at)]
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
    scheduled = []
    if not before and newer_than is None:
        scheduled = list(scheduled_shown(conversation))
    return Thread(conversation, window, payments, entries, earlier, notes, newer_than, scheduled)
