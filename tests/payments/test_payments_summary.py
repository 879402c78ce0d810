"""The finance summary against a hand-computed fixture: totals, aging edges, median days to
pay, collection rate, collected per month, totals per line and per requester."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_line, make_user
from textdesk.payments import summary
from textdesk.payments.models import Payment

NY = ZoneInfo("America/New_York")
# 3 pm in New York, kept in UTC so that adding days is adding 24-hour days (DST ends Nov 1).
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=NY).astimezone(UTC)
_ids = iter(range(1, 10_000))


def pay(line, amount, *, age, status="Sent", closed_after=None, by=None, past_due=False, **kw):
    requested = NOW - age
    return Payment.objects.create(
        dashboard=line,
        payment_id=next(_ids),
        customer_phone="6155550100",
        amount_requested=Decimal(amount),
        requested_at=requested,
        textrequest_payment_status=status,
        status=kw.pop("outbox", Payment.Status.SENT),
        closed_at=requested + closed_after if closed_after is not None else None,
        is_past_due=past_due,
        created_by=by,
        **kw,
    )


@pytest.fixture
def book(db):
    a = make_line(name="Front desk")
    b = make_line(a.connection, name="Billing")
    fran = make_user("fran", "Finance")
    d = timedelta(days=1)
    # Open, one per aging edge: whole days since the request.
    pay(a, "100", age=8 * d - timedelta(seconds=1), by=fran)  # 7 days 23:59:59 → 0–7
    pay(a, "200", age=8 * d, past_due=True, by=fran)  # 8 days → 8–30
    pay(a, "300", age=30 * d + timedelta(hours=23), past_due=True)  # 30 days → 8–30
    pay(a, "400", age=31 * d)  # 31 → 31–60
    pay(a, "500", age=61 * d - timedelta(minutes=1))  # 60 days 23:59 → 31–60
    pay(a, "600", age=61 * d)  # 61 → over 60
    # Paid: 2, 5 and 1 days to pay; one paid before textdesk first read it (no date).
    pay(b, "50", age=10 * d, status="Paid", closed_after=2 * d, by=fran)  # Nov 12: this month
    pay(b, "150", age=30 * d, status="Paid", closed_after=5 * d)  # Oct 26: last month
    pay(b, "25", age=5 * d, status="Paid", closed_after=1 * d)  # Nov 16: this month
    pay(b, "75", age=40 * d, status="MarkedAsPaid")
    pay(b, "80", age=3 * d, status="Cancelled", closed_after=d)
    pay(b, "999", age=2 * d, status="", outbox=Payment.Status.FAILED)  # never reached them
    return a, b, fran


def rollup_of_everything():
    from textdesk.dashboards.models import Dashboard

    return summary.rollup_filter({}, list(Dashboard.objects.values_list("pk", flat=True)))


@pytest.fixture(params=["payments", "rollup"])
def source(request, db):
    """The summary from the payments themselves, and from the trigger-kept rollup."""
    if request.param == "rollup" and not rollup_of_everything():
        pytest.skip("the rollup is PostgreSQL's")
    return request.param


def summarize(source):
    rollup = rollup_of_everything() if source == "rollup" else None
    return summary.summarize(Payment.objects.all(), now=NOW, rollup=rollup)


def test_totals_rates_and_months(book, source):
    totals = summarize(source)
    assert (totals["open_count"], totals["open_amount"]) == (6, Decimal("2100"))
    assert (totals["past_due_count"], totals["past_due_amount"]) == (2, Decimal("500"))
    assert (totals["paid_count"], totals["paid_amount"]) == (4, Decimal("300"))
    assert (totals["canceled_count"], totals["canceled_amount"]) == (1, Decimal("80"))
    assert (totals["requested_count"], totals["requested_amount"]) == (11, Decimal("2480"))
    assert totals["rate_by_count"] == pytest.approx(4 / 11)
    assert totals["rate_by_amount"] == pytest.approx(300 / 2480)
    assert totals["collected_this_month"] == Decimal("75")
    assert totals["collected_last_month"] == Decimal("150")
    assert totals["median_days_to_pay"] == 2.0  # of 1, 2 and 5 days
    assert totals["timed_count"] == 3


def test_aging_edges(book, source):
    buckets = summarize(source)["aging"]
    assert [(b.label, b.count, b.amount) for b in buckets] == [
        ("0–7 days", 1, Decimal("100")),
        ("8–30 days", 2, Decimal("500")),
        ("31–60 days", 2, Decimal("900")),
        ("Over 60 days", 1, Decimal("600")),
    ]
    assert summary.aging(Payment.objects.all(), now=NOW) == buckets


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(book, source):
    a, b, _ = book
    # 4 days and 23 hours is 4 whole days.
    almost_five = timedelta(days=5) - timedelta(hours=1)
    pay(b, "10", age=timedelta(days=20), status="Paid", closed_after=almost_five)
    totals = summarize(source)
    assert totals["median_days_to_pay"] == 3.0  # 1, 2, 4, 5


def test_per_line_and_per_requester(book, source):
    a, b, fran = book
    totals = summarize(source)
    lines = {row["dashboard__name"]: row for row in totals["by_line"]}
    assert lines["Front desk"]["count"] == 6
    assert lines["Front desk"]["requested_amount"] == Decimal("2100")
    assert lines["Front desk"]["open_amount"] == Decimal("2100")
    assert lines["Billing"]["count"] == 5  # the failed one was never requested
    assert lines["Billing"]["paid_amount"] == Decimal("300")
    people = {row["name"]: row for row in totals["by_requester"]}
    assert people["Fran"]["requested_amount"] == Decimal("350")
    assert people["In Text Request"]["requested_amount"] == Decimal("2130")


def test_weekly_requested_and_collected(book):
    weeks = summary.weekly(Payment.objects.all(), now=NOW)
    assert len(weeks) == 12
    assert weeks[-1][0].isoformat() == "2026-11-16"  # this week's Monday
    by_week = {day.isoformat(): (requested, collected) for day, requested, collected in weeks}
    # Against the same sums done by hand over the fixture, week by week (Mondays, local):
    requested = {}
    collected = {}
    for p in Payment.objects.exclude(status="failed"):
        local = p.requested_at.astimezone(NY).date()
        monday = (local - timedelta(days=local.weekday())).isoformat()
        requested[monday] = requested.get(monday, 0) + p.amount_requested
        if p.is_paid and p.closed_at:
            local = p.closed_at.astimezone(NY).date()
            monday = (local - timedelta(days=local.weekday())).isoformat()
            collected[monday] = collected.get(monday, 0) + p.amount_requested
    for day, (req, col) in by_week.items():
        assert req == requested.get(day, 0)
        assert col == collected.get(day, 0)
    assert by_week["2026-11-09"][1] == Decimal("50")  # paid Nov 12
    assert by_week["2026-11-16"][1] == Decimal("25")  # paid Nov 16


def test_summary_and_charts_queries_do_not_grow(client, book, django_assert_num_queries):
    from django.urls import reverse

    a, b, fran = book
    client.force_login(fran)
    # Session, user, two permission reads; the filter's lines and requesters; then the
    # rollup, the collected months and the aging.
    with django_assert_num_queries(9) as few:
        client.get(reverse("payments:summary"), HTTP_HX_REQUEST="true")
    for i in range(60):
        pay(a, "5", age=timedelta(days=i % 90), by=fran)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("payments:summary"), HTTP_HX_REQUEST="true")
    # The same overhead; then aging, requested per week, collected per week.
    with django_assert_num_queries(9) as charts:
        client.get(reverse("payments:charts"), HTTP_HX_REQUEST="true")
    for i in range(60):
        pay(b, "5", age=timedelta(days=i % 90), status="Paid", closed_after=timedelta(days=1))
    with django_assert_num_queries(len(charts.captured_queries)):
        client.get(reverse("payments:charts"), HTTP_HX_REQUEST="true")


@pytest.mark.postgres
def test_the_rollup_follows_every_write(book):
    """Inserts, updates by any path (queryset updates too) and deletes keep the rollup equal
    to the payments."""
    a, b, fran = book

    def both():
        lookup = rollup_of_everything()
        raw = summary.summarize(Payment.objects.all(), now=NOW)
        kept = summary.summarize(Payment.objects.all(), now=NOW, rollup=lookup)
        return raw, kept

    first = Payment.objects.filter(textrequest_payment_status="Sent").first()
    Payment.objects.filter(pk=first.pk).update(textrequest_payment_status="Paid", closed_at=NOW)
    Payment.objects.filter(textrequest_payment_status="Cancelled").update(created_by=fran)
    Payment.objects.filter(amount_requested=Decimal("600")).delete()
    Payment.objects.filter(pk=first.pk).update(synced_at=NOW)  # no counted column: no work
    raw, kept = both()
    assert raw == kept
    assert kept["paid_count"] == 5
    assert kept["open_count"] == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_truncating_the_payments_empties_the_rollup(book):
    from django.db import connection

    from textdesk.payments.models import PaymentRollup

    assert PaymentRollup.objects.filter(count__gt=0).exists()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE payments_payment CASCADE")
    assert not PaymentRollup.objects.exists()
