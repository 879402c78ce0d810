"""The kinds of change this domain writes to Text Request through the outbox, and its
sweeper of payment requests."""

from django.utils import timezone

from textdesk.audit import registry as audit
from textdesk.contacts import quiet
from textdesk.contacts.models import Contact
from textdesk.dashboards.models import line_of
from textdesk.outbox import registry
from textdesk.outbox.models import Change
from textdesk.payments.models import Payment
from textdesk.payments.services import (
    CANCEL_PAYMENT,
    MARK_PAID,
    REMIND_PAYMENT,
    sweep_payments,
)
from textdesk.payments.sync import apply_payment
from textdesk.textrequest import errors


def _remind(change, client) -> None:
    client.send_payment_reminder(line_of(change).dashboard_id, change.target.payment_id)


def _reminder_refused(change: Change) -> str:
    """A reminder texts the customer: at send time, under the contact's lock (the order
    ``record_consent`` takes too), it goes only to a contact who may still be texted."""
    payment = Payment.objects.filter(pk=change.target_id).only("contact_id").first()
    if payment is None or payment.contact_id is None:
        return ""
    contact = Contact.objects.select_for_update().filter(pk=payment.contact_id).first()
    return contact.cannot_text_reason if contact is not None else ""


def _reminder_hold(change: Change):
    """A reminder of the follow-up queue's batch (sync priority) never reaches the customer in
    quiet hours: the next allowed minute in their clock, or None to send now."""
    payment = Payment.objects.filter(pk=change.target_id).only("contact_id").first()
    if payment is None or payment.contact_id is None:
        return None
    contact = Contact.objects.select_related("dashboard").filter(pk=payment.contact_id).first()
    if contact is None:
        return None
    return quiet.clock_for(contact, contact.dashboard).next_allowed()


def _cancel(change, client) -> None:
    client.cancel_payment(line_of(change).dashboard_id, change.target.payment_id)


def _mark_paid(change, client) -> None:
    client.mark_payment_paid(line_of(change).dashboard_id, change.target.payment_id)


def _action_happened(change: Change, client, exc) -> bool:
    """A repeated payment action is refused (400); it succeeded if the payment shows it."""
    if not isinstance(exc, errors.BadRequest):
        return False
    current = client.get_payment(line_of(change).dashboard_id, change.target.payment_id)
    if current is None:
        return False
    apply_payment(line_of(change), current)
    status = (current.textrequest_payment_status or "").lower()
    if change.kind == REMIND_PAYMENT:
        return current.reminder_was_sent
    if change.kind == CANCEL_PAYMENT:
        return status in {"canceled", "cancelled"}
    if change.kind == MARK_PAID:
        return status == "paid"
    return False


def refresh_payment_after_action(change: Change) -> None:
    """Show a confirmed action on the payment at once (the next sync reads the rest)."""
    updates: dict = {}
    if change.kind == REMIND_PAYMENT:
        updates = {"reminder_was_sent": True, "reminder_sent_at": timezone.now()}
    elif change.kind == CANCEL_PAYMENT:
        updates = {"textrequest_payment_status": "Canceled", "closed_at": timezone.now()}
    elif change.kind == MARK_PAID:
        updates = {"textrequest_payment_status": "Paid", "closed_at": timezone.now()}
    if updates:
        Payment.objects.filter(pk=change.target_id).update(**updates)


def undo_payment_action(change: Change) -> None:
    """A reminder that failed was not sent: let the agent try again."""
    if change.kind == REMIND_PAYMENT:
        Payment.objects.filter(pk=change.target_id, reminder_sent_at__isnull=True).update(
            reminder_was_sent=False
        )


def _audit_request(payment: Payment) -> dict | None:
    """The audit entry of a payment request a person made (None for synced payments)."""
    if not payment.created_by_id or not payment.client_key:
        return None
    return {
        "at": payment.created_at,
        "actor": payment.created_by,
        "kind": "payment_request",
        "summary": f"Requested ${payment.amount_requested} from {payment.customer_phone}",
        "dashboard_id": payment.dashboard_id,
        "contact_id": payment.contact_id,
        "contact_name": payment.contact.name if payment.contact_id else "",
        "payment_id": payment.pk,
    }


def register() -> None:
    audit.track(Payment, _audit_request)
    for kind, label, apply, refuse in (
        (REMIND_PAYMENT, "Send payment reminder", _remind, _reminder_refused),
        (CANCEL_PAYMENT, "Cancel payment", _cancel, None),
        (MARK_PAID, "Mark payment paid", _mark_paid, None),
    ):
        registry.register(
            kind,
            registry.Handler(
                label=label,
                apply=apply,
                already_done=_action_happened,
                on_done=refresh_payment_after_action,
                on_failed=undo_payment_action,
                refuse_at_send=refuse,
                hold_at_send=_reminder_hold if kind == REMIND_PAYMENT else None,
            ),
        )
    registry.register_sweeper("payments", sweep_payments)
