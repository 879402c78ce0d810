"""Away replies: the line's text, sent by textdesk itself to a customer who texts while the
line is closed (its business hours and holidays, ``dashboards/hours.py``).

``answer`` is called where received texts are recorded (``inbound.py``: the webhook and every
sync read), for a text seen once or many times. It answers at most once per received text
and once per conversation per closed period (both unique constraints of ``AwayReply``), at
most once per contact in ``TEXTDESK_AWAY_REPLY_CONTACT_HOURS``, never to an opted-out, blocked
or deleted contact, never to a keyword (STOP, START, HELP…) or a text asking to stop, and
never to an automated text (the loop guard: words auto-responders use, or a text arriving
within ``TEXTDESK_AWAY_REPLY_LOOP_SECONDS`` of one of ours). The reply is an outbound
``Message`` marked ``is_automatic`` at sync priority, created with its ``AwayReply`` in one
transaction under the contact's row lock; the outbox sends it once and re-checks opt-out,
block and quiet hours at send.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.contacts.models import Contact
from textdesk.contacts.services import (
    FLAG_PATTERNS,
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    consent_word,
)
from textdesk.conversations.models import AwayReply, Conversation, Message
from textdesk.dashboards.hours import hours_of
from textdesk.dashboards.models import BusinessHours

SEND_TASK = "textdesk.conversations.tasks.send_message"
# A text found later than this (a sync catching up after an outage) is not answered.
MAX_AGE = timedelta(hours=1)
# The period key of a line that never opens again (every day closed).
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
# Keys of away replies: derived from the received text, so a replay derives the same one.
_KEYS = uuid.UUID("6f1d8a0e-8f5b-4c1e-9a57-3b2f3c6a0d11")

KEYWORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS
# What auto-responders and out-of-office replies say about themselves.
AUTOMATED = re.compile(
    r"\b(auto[\s-]?(matic|mated)?[\s-]?(reply|replies|response|responder|message)|"
    r"autoreply|this is an automated|out of (the )?office|do not reply|"
    r"(i'?m|i am) (currently )?driving|driving with do not disturb|"
    r"away from (my|the) phone|will (get back|respond|reply) to you (as soon|shortly|when))",
    re.IGNORECASE,
)


def why_not(message: Message, *, now: datetime) -> str:
    """Why a received text gets no away reply on grounds of the text itself, or ''."""
    if now - message.sent_at > MAX_AGE:
        return "too old"
    body = message.body or ""
    if consent_word(body) in KEYWORDS:
        return "keyword"
    if FLAG_PATTERNS.search(body):
        return "asks to stop"
    if AUTOMATED.search(body):
        return "automated"
    window = timedelta(seconds=settings.TEXTDESK_AWAY_REPLY_LOOP_SECONDS)
    if Message.objects.filter(
        conversation_id=message.conversation_id,
        direction=Message.Direction.SENT,
        sent_at__gte=message.sent_at - window,
        sent_at__lte=message.sent_at,
    ).exists():
        return "automated"  # answered within seconds of ours: an auto-responder
    return ""


def answer(message: Message, *, now: datetime | None = None) -> AwayReply | None:
    """Queue the line's away reply to the received text ``message`` if every rule allows;
    None otherwise. Safe to call any number of times for the same text."""
    if message.direction != Message.Direction.RECEIVED or message.pk is None:
        return None
    now = now or timezone.now()
    conversation = (
        Conversation.objects.select_related("dashboard").filter(pk=message.conversation_id).first()
    )
    if conversation is None:
        return None
    line = conversation.dashboard
    text = line.away_reply_text.strip()
    if not line.away_reply_enabled or not text or line.removed_at is not None:
        return None
    hours = hours_of(BusinessHours.objects.filter(dashboard_id=line.pk).first())
    if hours.always_open:
        return None
    opens = hours.next_open(message.sent_at)
    if opens == message.sent_at:
        return None  # the line was open when it came in
    if hours.next_open(now) != opens:
        return None  # the line has opened since: people answer now
    if AwayReply.objects.filter(trigger_id=message.pk).exists() or why_not(message, now=now):
        return None
    return _queue(conversation, message, text, closed_until=opens or NEVER, now=now)


def _queue(conversation, message, text, *, closed_until, now) -> AwayReply | None:
    cooldown = timedelta(hours=settings.TEXTDESK_AWAY_REPLY_CONTACT_HOURS)
    with transaction.atomic():
        # Lock order everywhere: contact, then its rows (deliver_text and record_consent).
        contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
        if contact.cannot_text_reason or contact.removed_at is not None:
            return None
        if AwayReply.objects.filter(contact=contact, created_at__gt=now - cooldown).exists():
            return None
        try:
            with transaction.atomic():
                reply = Message.objects.create(
                    conversation=conversation,
                    direction=Message.Direction.SENT,
                    body=text,
                    sender_name="",
                    sent_at=now,
                    status=Message.Status.PENDING,
                    client_key=uuid.uuid5(_KEYS, str(message.pk)),
                    priority="sync",
                    is_automatic=True,
                )
                away = AwayReply.objects.create(
                    conversation=conversation,
                    contact=contact,
                    trigger=message,
                    message=reply,
                    closed_until=closed_until,
                    created_at=now,
                )
        except IntegrityError:
            return None  # already answered (this text, or this closed period)
        Conversation.objects.touch(conversation.pk, reply, is_new=False)
        enqueue(SEND_TASK, reply.pk, queue="sync")
    return away
