"""Text-to-pay: requesting payments and acting on them, local first, through the outbox.

A payment request is a ``Payment`` row (status ``pending``) sent by an interactive task exactly
once in effect, like a text (``textdesk/outbox/delivery.py``): creating a payment texts the
customer, so an attempt whose outcome is unknown is looked for among the customer's payments
before it is ever made again. Reminders, cancels and mark-paid are ``Change`` rows; Text Request
allows one reminder per payment and answers a repeated action with a 400, which counts as
success when the payment shows the action happened. Views check permissions; these do not.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.contacts.services import contact_for
from textdesk.dashboards.models import Dashboard
from textdesk.outbox import delivery
from textdesk.outbox.changes import queue_change
from textdesk.outbox.models import Change
from textdesk.payments.models import Payment
from textdesk.payments.sync import attach_payment, matches
from textdesk.phones import InvalidPhoneNumber
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)

__all__ = [
    "InvalidPhoneNumber",
    "PaymentActionRefused",
    "cancel_payment",
    "deliver_payment",
    "mark_paid",
    "payment_changes",
    "request_again",
    "request_payment",
    "send_reminder",
    "settle_payment",
    "sweep_payments",
]

MAX_AMOUNT = Decimal("100000")
# The kinds of change this domain queues (their handlers: ``handlers.py``).
REMIND_PAYMENT = "remind_payment"
CANCEL_PAYMENT = "cancel_payment"
MARK_PAID = "mark_paid"


class PaymentActionRefused(Exception):
    """The action cannot be taken; ``reason`` is a sentence to show."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def request_payment(
    *,
    dashboard: Dashboard,
    phone_number: str,
    user,
    amount,
    message: str,
    description: str,
    reference_number: str,
    client_key,
) -> Payment:
    """Queue a payment request (texts the customer a payment link once it reaches Text Request).

    ``client_key`` dedupes a double submit. Raises ``InvalidPhoneNumber`` or
    ``PaymentActionRefused`` (bad amount, empty message, contact opted out or blocked)."""
    existing = Payment.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise PaymentActionRefused("Enter the amount in dollars, like 25.00.") from None
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise PaymentActionRefused(f"The amount must be between $0.01 and ${MAX_AMOUNT:,.0f}.")
    message = (message or "").strip()
    if not message:
        raise PaymentActionRefused("Write the text the customer receives with the link.")
    if dashboard.removed_at is not None:
        raise PaymentActionRefused("This line was removed from Text Request.")
    try:
        with transaction.atomic():
            contact, _ = contact_for(dashboard, phone_number)
            if contact.cannot_text_reason:
                raise PaymentActionRefused(contact.cannot_text_reason)
            payment = Payment.objects.create(
                dashboard=dashboard,
                contact=contact,
                customer_phone=contact.phone_number,
                amount_requested=amount,
                message=message[:1000],
                description=(description or "").strip()[:500],
                reference_number=(reference_number or "").strip()[:100],
                status=Payment.Status.PENDING,
                client_key=client_key,
                created_by=user if getattr(user, "pk", None) else None,
                requested_at=timezone.now(),
            )
            _enqueue_create(payment.pk)
    except IntegrityError:
        return Payment.objects.get(client_key=client_key)
    return payment


def send_reminder(*, payment: Payment, user, priority: str = "interactive") -> Change:
    """Text the customer one reminder. A second attempt raises ``PaymentActionRefused``.
    Bulk reminders (the follow-up queue) pass ``priority="sync"``."""
    _require_open(payment, "send a reminder")
    if payment.contact_id and payment.contact.cannot_text_reason:
        raise PaymentActionRefused(payment.contact.cannot_text_reason)
    if (
        payment.reminder_was_sent
        or payment.changes.filter(kind=REMIND_PAYMENT)
        .exclude(status__in=[Change.Status.FAILED, Change.Status.SUPERSEDED])
        .exists()
    ):
        raise PaymentActionRefused("A reminder was already sent; Text Request allows only one.")
    try:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(reminder_was_sent=True)
            payment.reminder_was_sent = True
            return queue_change(
                dashboard=payment.dashboard,
                kind=REMIND_PAYMENT,
                subject="remind",
                payload={},
                user=user,
                target=payment,
                priority=priority,
            )
    except IntegrityError:
        raise PaymentActionRefused(
            "A reminder was already sent; Text Request allows only one."
        ) from None


def request_again(*, payment: Payment, user) -> Payment:
    """Send a request that failed, or that Text Request has not confirmed, again: the person
    chose to (an unconfirmed one may still arrive, and the customer would get two links).
    Raises ``PaymentActionRefused`` for any other request or a contact who may not be texted."""
    if payment.contact_id and payment.contact.cannot_text_reason:
        raise PaymentActionRefused(payment.contact.cannot_text_reason)
    with transaction.atomic():
        if not delivery.reopen_for_resend(payment):
            raise PaymentActionRefused(
                "Only a request that failed or that Text Request has not confirmed can be sent "
                "again."
            )
        _enqueue_create(payment.pk)
    payment.refresh_from_db()
    return payment


def cancel_payment(*, payment: Payment, user) -> Change:
    """Cancel an open payment request (Text Request texts the customer that it is canceled)."""
    return _queue_action(payment, user, CANCEL_PAYMENT, "cancel it")


def mark_paid(*, payment: Payment, user) -> Change:
    """Mark an open payment paid (settled outside the payment portal)."""
    return _queue_action(payment, user, MARK_PAID, "mark it paid")


def payment_changes(payment: Payment) -> QuerySet[Change]:
    """The payment's actions not yet confirmed, and those that failed (until dismissed)."""
    return payment.changes.open()


def _require_open(payment: Payment, action: str) -> None:
    if payment.payment_id is None:
        raise PaymentActionRefused(
            f"Cannot {action} yet: the request has not reached Text Request."
        )
    status = (payment.textrequest_payment_status or "").lower()
    if status and status != "sent":
        raise PaymentActionRefused(f"Cannot {action}: the payment is already {status}.")


def _queue_action(payment: Payment, user, kind: str, action: str) -> Change:
    _require_open(payment, action)
    closing = [CANCEL_PAYMENT, MARK_PAID]
    if payment.changes.filter(kind__in=closing, status__in=Change.ACTIVE).exists():
        raise PaymentActionRefused(f"Cannot {action}: another action on it is in progress.")
    try:
        with transaction.atomic():
            return queue_change(
                dashboard=payment.dashboard,
                kind=kind,
                subject=kind,
                payload={},
                user=user,
                target=payment,
            )
    except IntegrityError:
        raise PaymentActionRefused(f"Cannot {action}: that was already done.") from None


# --- The outbox: creating payment requests ----------------------------------------------------


_enqueue_create = delivery.enqueue_on_commit("textdesk.payments.tasks.create_payment")
_enqueue_settle = delivery.enqueue_on_commit("textdesk.payments.tasks.settle_payment")


def deliver_payment(payment_pk: int) -> None:
    """Create one queued payment request at Text Request (the ``create_payment`` task)."""
    payment = Payment.objects.filter(pk=payment_pk).only("id", "status", "contact_id").first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return
    with transaction.atomic():
        contact = (
            Contact.objects.select_for_update().filter(pk=payment.contact_id).first()
            if payment.contact_id
            else None
        )
        payment = Payment.objects.select_for_update().get(pk=payment_pk)
        if payment.status != Payment.Status.PENDING:
            return
        if payment.not_before and payment.not_before > timezone.now():
            return
        if contact is not None and contact.cannot_text_reason:
            payment.mark_failed(f"Not sent: {contact.cannot_text_reason}")
            return
        if not delivery.claim(Payment, payment_pk, status_from="pending", status_to="sending"):
            return
    payment = Payment.objects.select_related("dashboard__connection").get(pk=payment_pk)
    dashboard = payment.dashboard
    client = dashboard.connection.client("interactive")
    try:
        result = client.create_payment(
            dashboard.dashboard_id,
            customer_phone=payment.customer_phone,
            amount_requested=payment.amount_requested,
            message=payment.message,
            description=payment.description or None,
            reference_number=payment.reference_number or None,
        )
    except errors.TextRequestError as exc:
        delivery.send_failed(payment, exc, send=_enqueue_create, settle=_enqueue_settle)
    else:
        attach_payment(payment, result)
    finally:
        client.close()


def settle_payment(payment_pk: int, *, now=None) -> None:
    """Decide an ``unknown`` payment request: find it among the customer's payments."""
    now = now or timezone.now()
    payment = (
        Payment.objects.select_related("dashboard__connection")
        .filter(pk=payment_pk, status=Payment.Status.UNKNOWN)
        .first()
    )
    if payment is None or (payment.not_before and payment.not_before > now):
        return
    dashboard = payment.dashboard

    def read(client):
        return client.get_payments(
            dashboard.dashboard_id, phone_number=payment.customer_phone, page_size=25
        ).items

    delivery.settle_unknown(
        payment,
        open_client=lambda: dashboard.connection.client("interactive"),
        read=read,
        adopt=_adopt,
        now=now,
    )


def _adopt(payment: Payment, items) -> bool:
    """Attach ``payment`` to the first of ``items`` that is its request and no other row's."""
    owned = set(
        Payment.objects.filter(
            dashboard_id=payment.dashboard_id, payment_id__in=[p.payment_id for p in items]
        )
        .exclude(client_key__isnull=True)
        .values_list("payment_id", flat=True)
    )
    return any(
        item.payment_id not in owned and matches(payment, item) and attach_payment(payment, item)
        for item in items
    )


def sweep_payments(*, now=None, min_age: timedelta = timedelta(seconds=5)) -> dict:
    """Re-enqueue lost ``pending`` requests, turn stuck ``sending`` into ``unknown``, settle
    ``unknown`` ones."""
    return delivery.sweep_rows(
        Payment,
        send=_enqueue_create,
        settle=_enqueue_settle,
        now=now or timezone.now(),
        min_age=min_age,
        limit=200,
        stuck_reason="The worker sending this request stopped; checking whether it went out.",
    )
