"""Fresher payment states: a payment requested (or reminded) lately and paid in the portal is
paid here after one incremental cycle; a cycle where nothing changed costs one call per line
with such payments, and a quiet line's open payments are read with the five-minute read."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import calls, connect, lines_of, seeded_account
from textdesk.dashboards.models import SyncState
from textdesk.payments.models import Payment
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


def spent(account, before: dict) -> dict:
    return {op: n - before.get(op, 0) for op, n in calls(account).items() if n != before.get(op, 0)}


@pytest.fixture
def synced(sandbox_server):
    account = seeded_account(sandbox_server, contacts=60, messages=200, dashboards=1)
    connection = connect(account)
    [line] = lines_of(connection)
    run_sync(line, wait=True)
    return account, line


def open_payments(line):
    return Payment.objects.filter(Payment.OPEN, dashboard=line, payment_id__isnull=False)


def requested_lately(payment) -> None:
    Payment.objects.filter(pk=payment.pk).update(requested_at=timezone.now() - timedelta(minutes=2))


def all_quiet(line) -> None:
    """No payment of the line requested or reminded in the last 15 minutes."""
    Payment.objects.filter(dashboard=line).update(
        requested_at=timezone.now() - timedelta(days=1), reminder_sent_at=None
    )


def test_a_portal_payment_is_paid_here_after_one_cycle(synced):
    account, line = synced
    oldest_open = open_payments(line).order_by("requested_at").first()
    assert oldest_open is not None, "the demo seed has open payments"
    all_quiet(line)
    requested_lately(oldest_open)
    account.control.pay(account.api_key, line.dashboard_id, oldest_open.payment_id)

    before = calls(account)
    run_sync(line, wait=True)

    oldest_open.refresh_from_db()
    assert oldest_open.textrequest_payment_status == "Paid"
    assert oldest_open.transaction_status == "Approved"
    assert oldest_open.closed_at is not None  # when textdesk saw it paid: days to pay
    used = spent(account, before)
    # The open block (sorted by status) and, for the one that left it, at most one read.
    assert used.get("GetConversations") == 1
    assert used.get("GetPayments") == 1
    assert used.get("GetPayment", 0) <= 1


def test_nothing_changed_costs_one_payments_call_and_writes_nothing(synced):
    account, line = synced
    requested_lately(open_payments(line).first())
    stamp = timezone.now() - timedelta(hours=1)
    Payment.objects.filter(dashboard=line).update(closed_at=None)
    states = list(Payment.objects.filter(dashboard=line).values_list(
        "payment_id", "textrequest_payment_status", "is_past_due", "reminder_was_sent"
    ))  # fmt: skip
    Payment.objects.filter(dashboard=line).update(synced_at=stamp)
    before = calls(account)
    run_sync(line, wait=True)
    assert spent(account, before) == {"GetConversations": 1, "GetPayments": 1}
    assert states == list(Payment.objects.filter(dashboard=line).values_list(
        "payment_id", "textrequest_payment_status", "is_past_due", "reminder_was_sent"
    ))  # fmt: skip
    # The open ones are stamped as read (the payment page then needs no call of its own).
    assert not open_payments(line).filter(synced_at=stamp).exists()


def test_a_quiet_line_reads_its_open_payments_only_every_five_minutes(synced):
    account, line = synced
    payment = open_payments(line).order_by("requested_at").first()
    all_quiet(line)
    account.control.pay(account.api_key, line.dashboard_id, payment.payment_id)
    before = calls(account)
    run_sync(line, wait=True)
    assert spent(account, before) == {"GetConversations": 1}  # an idle cycle: one call
    payment.refresh_from_db()
    assert payment.is_open
    state = SyncState.objects.get(dashboard=line, resource="payments")
    state.cursor = {"new_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
    state.save()
    run_sync(line, wait=True)
    payment.refresh_from_db()
    assert payment.is_paid


def test_a_reminder_sent_lately_makes_the_line_read_every_cycle(synced):
    account, line = synced
    payment = open_payments(line).first()
    all_quiet(line)
    Payment.objects.filter(pk=payment.pk).update(reminder_sent_at=timezone.now())
    account.control.pay(account.api_key, line.dashboard_id, payment.payment_id)
    run_sync(line, wait=True)
    payment.refresh_from_db()
    assert payment.is_paid


def test_a_line_with_nothing_open_spends_no_payments_call(synced):
    account, line = synced
    open_payments(line).update(requested_at=timezone.now() - timedelta(minutes=2))
    for payment in open_payments(line):
        account.control.pay(account.api_key, line.dashboard_id, payment.payment_id)
    run_sync(line, wait=True)
    run_sync(line, wait=True)  # the missing ones beyond one cycle's single reads
    while open_payments(line).exists():
        run_sync(line, wait=True)
    before = calls(account)
    run_sync(line, wait=True)
    assert spent(account, before) == {"GetConversations": 1}


def test_new_payments_made_elsewhere_arrive_within_five_minutes(synced):
    account, line = synced
    created = account.post(
        f"/dashboards/{line.dashboard_id}/payments",
        json={"customer_phone": "6155550199", "amount_requested": 12.5, "message": "Pay here"},
    ).json()
    account.control.pay(account.api_key, line.dashboard_id, created["payment_id"])
    state = SyncState.objects.get(dashboard=line, resource="payments")
    state.cursor = {"new_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
    state.save()
    run_sync(line, wait=True)
    payment = Payment.objects.get(dashboard=line, payment_id=created["payment_id"])
    assert payment.is_paid


def test_opening_a_stale_open_payment_reads_it_once(client, synced):
    account, line = synced
    payment = open_payments(line).first()
    client.force_login(make_user("fran", "Finance"))
    account.control.pay(account.api_key, line.dashboard_id, payment.payment_id)
    Payment.objects.filter(pk=payment.pk).update(synced_at=timezone.now())
    before = calls(account)
    page = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert spent(account, before) == {}  # fresh enough: no call
    assert "Paid in the payment portal" not in page

    Payment.objects.filter(pk=payment.pk).update(synced_at=timezone.now() - timedelta(seconds=61))
    page = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert spent(account, before) == {"GetPayment": 1}
    assert "Paid in the payment portal" in page
    client.get(reverse("payments:detail", args=[payment.pk]))
    assert spent(account, before) == {"GetPayment": 1}  # paid: never read again


def test_freshness_off_reads_open_payments_every_five_minutes_only(synced, settings):
    account, line = synced
    settings.TEXTDESK_PAYMENT_FRESHNESS = False
    before = calls(account)
    run_sync(line, wait=True)
    assert spent(account, before) == {"GetConversations": 1}
    state = SyncState.objects.get(dashboard=line, resource="payments")
    state.cursor = {"new_at": (timezone.now() - timedelta(minutes=6)).isoformat()}
    state.save()
    before = calls(account)
    run_sync(line, wait=True)
    # The open block and the newest page (the old schedule walked down to the oldest open).
    assert spent(account, before) == {"GetConversations": 1, "GetPayments": 2}
