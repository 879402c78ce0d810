"""The demo seed gives Finance true, non-empty figures: requests of the last days are open
when textdesk first reads them, customers pay them in the portal soon after, and textdesk
sees them close (collected this month, days to pay)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, seeded_account
from textdesk.payments import summary
from textdesk.payments.models import Payment
from textdesk.sync.engine import run_sync, sync_lines

pytestmark = pytest.mark.django_db


def test_demo_payments_close_under_textdesks_eyes(sandbox_server):
    account = seeded_account(sandbox_server, contacts=60, messages=300, dashboards=3)
    backend = sandbox_server.backend
    scheduled = {
        p.id
        for dash in backend.accounts[account.api_key].dashboards.values()
        for p in dash.payments.values()
        if p.pays_at is not None
    }
    assert scheduled
    connection = connect(account, rate_window=1)
    lines = lines_of(connection)
    sync_lines(lines)
    first_read = Payment.objects.filter(payment_id__in=scheduled)
    assert first_read.count() == len(scheduled)
    assert all(p.is_open for p in first_read)
    before = summary.summarize(Payment.objects.all())
    assert before["collected_this_month"] in (None, Decimal("0"))
    assert before["median_days_to_pay"] is None  # the older paid ones were never seen paying

    far = backend.now_ms() + 10 * 60_000
    assert backend.pay_scheduled(now_ms=far, key=account.api_key) == len(scheduled)
    for line in lines:
        run_sync(line, wait=True, resources=["payments"], manual=True)

    paid = list(Payment.objects.filter(payment_id__in=scheduled))
    assert all(p.is_paid and p.closed_at for p in paid)
    figures = summary.summarize(Payment.objects.all())
    collected = sum(p.amount_requested for p in paid)
    assert figures["collected_this_month"] == collected > 0
    assert figures["timed_count"] == len(paid)
    days = sorted((p.closed_at - p.requested_at).days for p in paid)
    assert figures["median_days_to_pay"] is not None
    assert min(days) <= figures["median_days_to_pay"] <= max(days)
    assert figures["median_days_to_pay"] >= 1  # paid days after the request, not at once
    # Internally consistent: what was collected is part of what is paid, of what was asked.
    assert figures["paid_amount"] >= figures["collected_this_month"]
    assert figures["requested_amount"] >= figures["paid_amount"] + figures["open_amount"]
    assert figures["open_count"] > 0 and figures["past_due_count"] > 0
    week = summary.weekly(Payment.objects.all(), now=timezone.now())[-1]
    assert week[2] == collected
