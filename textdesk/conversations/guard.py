"""The stale-state guard: what the agent saw when the thread was drawn (`snapshot`, carried by
every guarded form, see `forms.parse_seen`) and what changed since (`what_changed`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.threads import PAYMENTS_SHOWN, Thread
from textdesk.payments.models import Payment


def payment_state(payment: Payment) -> str:
    raw = "|".join(
        [
            payment.status,
            payment.textrequest_payment_status,
            payment.transaction_status,
            str(payment.reminder_was_sent),
            str(payment.is_past_due),
        ]
    )
    return hashlib.blake2s(raw.encode(), digest_size=4).hexdigest()


def payments_part(payments) -> str:
    return ",".join(f"{p.pk}:{payment_state(p)}" for p in payments)


def snapshot(thread: Thread) -> str:
    """What the agent sees now, carried by every guarded form (see `forms.parse_seen`)."""
    newest_id = max((m.pk for m in thread.messages), default=0)
    newest_at = max((m.sent_at for m in thread.messages), default=None)
    stamp = int(newest_at.timestamp() * 1_000_000) if newest_at else 0
    resolved = "1" if thread.conversation.is_resolved else "0"
    return f"m={newest_id};t={stamp};r={resolved};p={payments_part(thread.payments)}"


@dataclass
class Changes:
    messages: list[Message]
    resolved: bool | None  # the new state, when someone else changed it
    payments: list[Payment]

    def __bool__(self) -> bool:
        return bool(self.messages or self.resolved is not None or self.payments)


def what_changed(user, line, conversation: Conversation, seen: dict) -> Changes:
    """Texts, replies, resolving and payment changes since the agent's page was drawn.

    The agent's own sends do not count, nor texts Text Request sent by itself (payment links
    and reminders follow the agent's own payment actions), nor history loaded later.
    """
    newer = conversation.messages.filter(id__gt=seen["message_id"]).exclude(sent_by=user)
    # Texts Text Request sends by itself (a payment link, a reminder) carry no sender.
    newer = newer.exclude(direction=Message.Direction.SENT, sent_by__isnull=True, sender_name="")
    if seen["stamp"]:
        since = datetime.fromtimestamp(seen["stamp"] / 1_000_000, tz=UTC)
        newer = newer.filter(sent_at__gte=since)
    new_messages = list(newer.order_by("sent_at", "id")[:20])
    resolved = conversation.is_resolved if conversation.is_resolved != seen["resolved"] else None
    payments = (
        Payment.objects.for_user(user)
        .filter(dashboard=line, customer_phone=conversation.contact.phone_number)
        .order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
    )
    changed = [p for p in payments if seen["payments"].get(p.pk) != payment_state(p)]
    return Changes(new_messages, resolved, changed)


def seen_parts(thread: Thread) -> dict:
    """Parts of the guard's snapshot that the agent's own action just changed."""
    return {
        "r": "1" if thread.conversation.is_resolved else "0",
        "p": payments_part(thread.payments),
    }
