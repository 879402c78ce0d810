"""Reading a line's payments from Text Request.

The first sync reads every page (newest first). Afterwards a run reads newest first until it
has passed a payment it already knew and every payment still open here (so new payments
appear and open ones are refreshed); payments cannot be deleted upstream.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import started_at
from textdesk.payments.models import Payment
from textdesk.textrequest import types as tr


def payment_fields(item: tr.Payment) -> dict:
    """Our columns from Text Request's payment."""
    fields = {
        "recipient": (item.recipient or "")[:200],
        "requested_at": item.request_date,
        "is_past_due": item.is_past_due,
        "reminder_was_sent": item.reminder_was_sent,
        "transaction_status": (item.transaction_status or "")[:40],
        "textrequest_payment_status": (item.textrequest_payment_status or "")[:40],
    }
    if item.amount_requested is not None:
        fields["amount_requested"] = item.amount_requested
    return fields


def attach_payment(payment: Payment, item: tr.Payment) -> bool:
    """Record that our request is Text Request's payment ``item``; a copy that a sync stored
    before the match is merged away. False if another request of ours owns it."""
    with transaction.atomic():
        owner = (
            Payment.objects.filter(dashboard_id=payment.dashboard_id, payment_id=item.payment_id)
            .exclude(pk=payment.pk)
            .first()
        )
        if owner is not None:
            if owner.client_key is not None:
                return False
            owner.delete()
        Payment.objects.filter(pk=payment.pk).update(
            payment_id=item.payment_id,
            status=Payment.Status.SENT,
            failure_reason="",
            not_before=None,
            synced_at=timezone.now(),
            **payment_fields(item),
        )
    return True


def matches(payment: Payment, item: tr.Payment) -> bool:
    """Is ``item`` (read from Text Request) the request our row made?"""
    if item.amount_requested is None or item.amount_requested != payment.amount_requested:
        return False
    if (item.reference_number or "") != payment.reference_number:
        return False
    if (item.description or "") != payment.description:
        return False
    return item.request_date is None or item.request_date >= started_at(payment)


def apply_payment(dashboard: Dashboard, item: tr.Payment) -> Payment:
    """Store one payment as Text Request has it (matched to our own request if it is one)."""
    fields = payment_fields(item)
    payment = Payment.objects.filter(dashboard=dashboard, payment_id=item.payment_id).first()
    if payment is not None:
        if (
            payment.reminder_was_sent
            and not item.reminder_was_sent
            and payment.changes.filter(
                kind="remind_payment", status__in=["pending", "sending", "unknown"]
            ).exists()
        ):
            fields["reminder_was_sent"] = True  # our reminder is on its way
        Payment.objects.filter(pk=payment.pk).update(synced_at=timezone.now(), **fields)
        return payment
    phone = item.customer_phone or ""
    for ours in Payment.objects.filter(
        dashboard=dashboard,
        customer_phone=phone,
        payment_id__isnull=True,
        status__in=[Payment.Status.SENDING, Payment.Status.UNKNOWN],
    ):
        if matches(ours, item) and attach_payment(ours, item):
            return ours
    contact = Contact.objects.filter(dashboard=dashboard, phone_number=phone).first()
    try:
        with transaction.atomic():
            return Payment.objects.create(
                dashboard=dashboard,
                payment_id=item.payment_id,
                contact=contact,
                customer_phone=phone[:10],
                description=(item.description or "")[:500],
                reference_number=(item.reference_number or "")[:100],
                status=Payment.Status.SENT,
                synced_at=timezone.now(),
                **fields,
            )
    except IntegrityError:
        return Payment.objects.get(dashboard=dashboard, payment_id=item.payment_id)


def sync_payments(run, state, *, full: bool) -> None:
    """New payments, and the state of the open ones (see the module docstring)."""
    dashboard = run.dashboard
    walk_all = full or state.last_full_at is None
    if walk_all:
        cursor = state.cursor if state.cursor.get("walk") == "full" else {"walk": "full", "page": 0}
    else:
        cursor = {"page": 0}
    open_ids = set(
        Payment.objects.filter(dashboard=dashboard, payment_id__isnull=False)
        .filter(textrequest_payment_status__in=["", "Sent"])
        .values_list("payment_id", flat=True)
    )
    reached_known = False
    for page in run.pages(
        run.client.get_payments, dashboard.dashboard_id, start_page=cursor["page"]
    ):
        ids = [item.payment_id for item in page.items]
        already = set(
            Payment.objects.filter(dashboard=dashboard, payment_id__in=ids).values_list(
                "payment_id", flat=True
            )
        )
        for item in page.items:
            apply_payment(dashboard, item)
        open_ids -= set(ids)
        reached_known = reached_known or bool(already)
        cursor["page"] = page.page + 1
        if walk_all:
            run.progress(state, page, cursor)
        elif reached_known and not open_ids:
            break
    if walk_all:
        state.last_full_at = timezone.now()
    state.cursor = {}
