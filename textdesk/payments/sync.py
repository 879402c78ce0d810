"""Reading a line's payments from Text Request.

The first sync reads every page (newest first). Afterwards an incremental cycle (30 s) of a
line with a payment requested or reminded in the last 15 minutes (when customers pay) and no
healthy events refreshes the open payments as cheaply as the API allows (other lines' come
with the five-minute read, so an idle cycle costs about one call per line): GetPayments has
no "changed since" or status filter, but sorts by status, so
``sort_type=status&sort_direction=desc`` answers the open ones (``Sent``) first; reading
until the first closed one costs one call per 100 open payments, and none on a line with
nothing open. A payment open here that is missing from that block was paid or canceled: it
is read alone (one call per payment that changed). Every five minutes a read newest first
until a known payment catches payments made and closed elsewhere between two cycles. Only
rows that changed are written; payments cannot be deleted upstream.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import started_at
from textdesk.payments.models import Payment
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr

# Statuses Text Request may give a payment nobody has paid or canceled yet.
OPEN_UPSTREAM = {"", "Sent", "PastDue", "Unknown"}
CLOSED = (*Payment.PAID_STATUSES, *Payment.CANCELED_STATUSES)
NEW_EVERY = timedelta(minutes=5)
# Most customers pay within minutes of the text or its reminder: for this long after one, the
# line's open payments are read every cycle when no events say what changed.
RECENT = timedelta(minutes=15)
# Payments that left the open block read one by one per cycle (the rest wait a cycle).
MAX_SINGLE_READS = 10
# Opening a payment whose state is older than this reads it again.
STALE_AFTER = timedelta(seconds=60)
COMPARED = ("textrequest_payment_status", "is_past_due", "reminder_was_sent", "transaction_status")


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
            # Its changes go with it (the outbox points at payments by name, with no key to
            # cascade along).
            owner.changes.delete()
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
        if fields["textrequest_payment_status"] in CLOSED and payment.closed_at is None:
            fields["closed_at"] = timezone.now()
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


def sync_payments(
    run, state, *, full: bool, open_each_cycle: bool = True, manual: bool = False
) -> None:
    """New payments, and the state of the open ones (see the module docstring).
    ``open_each_cycle=False``: the line's ``payment_status_updated`` events are healthy, so the
    open ones are read only with the five-minute read of new ones. ``manual`` ("Sync now"):
    the open ones are read whatever the rules."""
    dashboard = run.dashboard
    now = timezone.now()
    if not (full or state.last_full_at is None or state.cursor.get("walk") == "full"):
        new_at = state.cursor.get("new_at")
        due = new_at is None or now - datetime.fromisoformat(new_at) >= NEW_EVERY
        # TEXTDESK_PAYMENT_FRESHNESS off: the open payments too only every five minutes.
        if (
            due
            or manual
            or (
                settings.TEXTDESK_PAYMENT_FRESHNESS
                and open_each_cycle
                and awaits_payment_soon(dashboard, now)
            )
        ):
            refresh_open(run, dashboard)
        if due:
            for page in run.pages(run.client.get_payments, dashboard.dashboard_id):
                if _apply_changed(dashboard, page.items):
                    break  # reached a payment already known
            state.cursor = {"new_at": now.isoformat()}
        return
    cursor = state.cursor if state.cursor.get("walk") == "full" else {"walk": "full", "page": 0}
    for page in run.pages(
        run.client.get_payments, dashboard.dashboard_id, start_page=cursor["page"]
    ):
        _apply_changed(dashboard, page.items)
        cursor["page"] = page.page + 1
        run.progress(state, page, cursor)
    state.last_full_at = timezone.now()
    state.cursor = {"new_at": now.isoformat()}


def awaits_payment_soon(dashboard: Dashboard, now: datetime) -> bool:
    """Whether an open payment of the line was requested or reminded within ``RECENT``: the
    moments customers pay. Only then does a cycle without events read the open payments; a
    quiet line's are read with the five-minute read (an idle cycle stays near one call)."""
    since = now - RECENT
    return (
        Payment.objects.filter(dashboard=dashboard)
        .filter(Payment.OPEN)
        .filter(Q(requested_at__gte=since) | Q(reminder_sent_at__gte=since))
        .exists()
    )


def refresh_open(run, dashboard: Dashboard) -> None:
    """Bring every payment open here up to date (one call per 100 open payments upstream)."""
    open_here = set(
        Payment.objects.filter(dashboard=dashboard, payment_id__isnull=False)
        .filter(Payment.OPEN)
        .values_list("payment_id", flat=True)
    )
    if not open_here:
        return
    seen: set[int] = set()
    for page in run.pages(
        run.client.get_payments, dashboard.dashboard_id, sort_type="status", sort_direction="desc"
    ):
        _apply_changed(dashboard, page.items)
        seen.update(item.payment_id for item in page.items)
        if any((item.textrequest_payment_status or "") not in OPEN_UPSTREAM for item in page.items):
            break  # past the open block
    for payment_id in sorted(open_here - seen, reverse=True)[:MAX_SINGLE_READS]:
        item = run.call(run.client.get_payment, dashboard.dashboard_id, payment_id)
        if item is not None:
            apply_payment(dashboard, item)


def refresh_payment(payment: Payment, *, now=None) -> bool:
    """Read one open payment again (one interactive call) when its state is older than a
    minute; answers whether it was read. Closed payments never change upstream."""
    now = now or timezone.now()
    if payment.payment_id is None or not payment.is_open:
        return False
    if payment.synced_at is not None and now - payment.synced_at < STALE_AFTER:
        return False
    dashboard = payment.dashboard
    client = dashboard.connection.client("interactive")
    try:
        item = client.get_payment(dashboard.dashboard_id, payment.payment_id)
    except errors.TextRequestError:
        return False  # shown as it was; the next cycle reads it
    finally:
        client.close()
    if item is None:
        return False
    apply_payment(dashboard, item)
    return True


def _apply_changed(dashboard: Dashboard, items: list[tr.Payment]) -> bool:
    """Store the payments that are new or changed; stamp the rest as read. Answers whether
    any of them was already known."""
    known = {
        row["payment_id"]: row
        for row in Payment.objects.filter(
            dashboard=dashboard, payment_id__in=[item.payment_id for item in items]
        ).values("payment_id", "amount_requested", *COMPARED)
    }
    unchanged = []
    for item in items:
        row = known.get(item.payment_id)
        fields = payment_fields(item)
        if (
            row is not None
            and all(row[k] == fields[k] for k in COMPARED)
            and (item.amount_requested is None or row["amount_requested"] == item.amount_requested)
        ):
            unchanged.append(item.payment_id)
        else:
            apply_payment(dashboard, item)
    if unchanged:
        Payment.objects.filter(dashboard=dashboard, payment_id__in=unchanged).update(
            synced_at=timezone.now()
        )
    return bool(known)
