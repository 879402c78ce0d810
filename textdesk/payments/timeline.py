"""A payment's history, oldest first: who requested it and from where, the text with the pay
link, the reminder, and how it ended (paid in the portal, marked paid, canceled), with who did
what and when. Built from the payment row and its ``Change`` rows (one query for those)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textdesk.outbox.models import Change
from textdesk.payments.models import Payment
from textdesk.payments.services import CANCEL_PAYMENT, MARK_PAID, REMIND_PAYMENT

ACTIONS = {
    REMIND_PAYMENT: ("Reminder queued", "Reminder sent", "Reminder failed"),
    CANCEL_PAYMENT: ("Cancellation queued", "Canceled", "Cancellation failed"),
    MARK_PAID: ("Mark paid queued", "Marked paid", "Mark paid failed"),
}


@dataclass(frozen=True)
class Event:
    at: datetime | None
    title: str
    by: str = ""
    detail: str = ""
    tone: str = ""  # "ok", "danger" or "" (a badge colour; the title says it in words)


def events(payment: Payment) -> list[Event]:
    changes = list(
        payment.changes.filter(kind__in=list(ACTIONS))
        .exclude(status=Change.Status.SUPERSEDED)
        .select_related("created_by")
        .order_by("created_at", "id")
    )
    requester = payment.created_by.display_name if payment.created_by_id else ""
    found = [
        Event(
            at=payment.requested_at or payment.created_at,
            title="Requested" if requester else "Requested in Text Request",
            by=requester,
            detail=payment.message,
        )
    ]
    if payment.status == Payment.Status.FAILED:
        found.append(Event(payment.created_at, "Request failed", detail=payment.failure_reason,
                           tone="danger"))  # fmt: skip
    reminded = closed = False
    for change in changes:
        queued, done, failed = ACTIONS[change.kind]
        by = change.created_by.display_name if change.created_by_id else ""
        if change.status == Change.Status.DONE:
            tone = "ok" if change.kind == MARK_PAID else ""
            found.append(Event(change.done_at, done, by=by, tone=tone))
        elif change.status == Change.Status.FAILED:
            found.append(Event(change.done_at or change.created_at, failed, by=by,
                               detail=change.failure_reason, tone="danger"))  # fmt: skip
        else:
            found.append(
                Event(change.created_at, queued, by=by, detail="On its way to Text Request")
            )
        if change.kind == REMIND_PAYMENT and change.status != Change.Status.FAILED:
            reminded = True
        if change.kind != REMIND_PAYMENT and change.status == Change.Status.DONE:
            closed = True
    if payment.reminder_was_sent and not reminded:
        found.append(Event(payment.reminder_sent_at, "Reminder sent", detail="From Text Request"))
    if not closed and payment.is_paid:
        how = "Paid in the payment portal" if payment.transaction_status == "Approved" else "Paid"
        found.append(Event(payment.closed_at, how, detail=_transaction(payment), tone="ok"))
    elif not closed and payment.is_canceled:
        found.append(Event(payment.closed_at, "Canceled", detail="In Text Request"))
    elif payment.is_open and payment.transaction_status == "Declined":
        found.append(Event(None, "Card declined", detail="The customer may try again.",
                           tone="danger"))  # fmt: skip
    # Oldest first; events with no known time (seen closed on the first read) last.
    return sorted(found, key=lambda e: (e.at is None, e.at or datetime.max.replace(tzinfo=None)))


def _transaction(payment: Payment) -> str:
    status = payment.transaction_status
    return f"Transaction {status.lower()}" if status and status != "Unknown" else ""
