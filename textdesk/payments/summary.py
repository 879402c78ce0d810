"""Figures for finance: totals, aging, collection and the two charts, for any filtered set.

Everything is a handful of aggregate queries over the filtered payments (one scan each, no
per-row work in Python): the summary is three queries (totals with aging and the median in
one, per line, per requester), the charts three (aging, requested per week, collected per
week). Definitions, so the numbers can be checked by hand:

- *open*: not paid or canceled in Text Request and not failed; *past due*: open and flagged
  past due by Text Request (7 days after the request);
- *requested* (the collection rate's denominator): every request that did not fail;
- *collected* in a month: paid payments that textdesk saw paid in that month (local time);
- *days to pay*: from the request to when textdesk saw it paid (sync keeps that within one
  30-second cycle); payments already paid when first read have no such date and are left out;
- *aging* of open requests, by whole days since the request: 0–7, 8–30, 31–60, over 60.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from textdesk.payments.models import Payment

ZERO = Decimal("0.00")
AMOUNT = "amount_requested"
REQUESTED = ~Q(status=Payment.Status.FAILED)
# (label, youngest age in days, oldest age in days or None)
AGING = [
    ("0–7 days", 0, 7),
    ("8–30 days", 8, 30),
    ("31–60 days", 31, 60),
    ("Over 60 days", 61, None),
]
WEEKS = 12


class MedianSeconds(Aggregate):
    """PostgreSQL's exact median of an interval, in seconds."""

    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int
    amount: Decimal


def _sum(condition: Q) -> Sum:
    return Sum(AMOUNT, filter=condition, default=ZERO, output_field=DecimalField())


def aging_conditions(now: datetime) -> list[tuple[str, Q]]:
    """Open requests by whole days since the request (a request with no date yet is new)."""
    conditions = []
    for label, youngest, oldest in AGING:
        # Age in whole days >= n  ⇔  requested at or before now - n days.
        condition = Payment.OPEN & Q(requested_at__lte=now - timedelta(days=youngest))
        if youngest == 0:
            condition = Payment.OPEN & (
                Q(requested_at__isnull=True) | Q(requested_at__gt=now - timedelta(days=oldest + 1))
            )
        elif oldest is not None:
            condition &= Q(requested_at__gt=now - timedelta(days=oldest + 1))
        conditions.append((label, condition))
    return conditions


def month_starts(now: datetime) -> tuple[datetime, datetime]:
    """The first instant of this month and of last month, in local time."""
    local = timezone.localtime(now)
    this = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - timedelta(days=1)).replace(day=1)
    return this, last


def summarize(payments: QuerySet[Payment], *, now: datetime | None = None) -> dict:
    """Totals, collection and aging of ``payments`` (three queries on PostgreSQL)."""
    now = now or timezone.now()
    this_month, last_month = month_starts(now)
    paid_timed = Payment.PAID & Q(closed_at__isnull=False, requested_at__isnull=False)
    aggregates = {
        "open_count": Count("id", filter=Payment.OPEN),
        "open_amount": _sum(Payment.OPEN),
        "past_due_count": Count("id", filter=Payment.OPEN & Q(is_past_due=True)),
        "past_due_amount": _sum(Payment.OPEN & Q(is_past_due=True)),
        "paid_count": Count("id", filter=Payment.PAID),
        "paid_amount": _sum(Payment.PAID),
        "canceled_count": Count("id", filter=Payment.CANCELED),
        "canceled_amount": _sum(Payment.CANCELED),
        "requested_count": Count("id", filter=REQUESTED),
        "requested_amount": _sum(REQUESTED),
        "collected_this_month": _sum(Payment.PAID & Q(closed_at__gte=this_month)),
        "collected_last_month": _sum(
            Payment.PAID & Q(closed_at__gte=last_month, closed_at__lt=this_month)
        ),
        "timed_count": Count("id", filter=paid_timed),
    }
    for i, (_, condition) in enumerate(aging_conditions(now)):
        aggregates[f"aging_{i}_count"] = Count("id", filter=condition)
        aggregates[f"aging_{i}_amount"] = _sum(condition)
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["median_seconds"] = MedianSeconds(
            F("closed_at") - F("requested_at"), filter=paid_timed
        )
    totals = payments.aggregate(**aggregates)
    if not postgres:  # development on SQLite: the same median, computed here
        spans = [
            (closed - requested).total_seconds()
            for requested, closed in payments.filter(paid_timed).values_list(
                "requested_at", "closed_at"
            )
        ]
        totals["median_seconds"] = statistics.median(spans) if spans else None
    median = totals.pop("median_seconds")
    totals["median_days_to_pay"] = None if median is None else round(median / 86400, 1)
    totals["rate_by_count"] = _ratio(totals["paid_count"], totals["requested_count"])
    totals["rate_by_amount"] = _ratio(totals["paid_amount"], totals["requested_amount"])
    totals["aging"] = [
        Bucket(label, totals.pop(f"aging_{i}_count"), totals.pop(f"aging_{i}_amount"))
        for i, (label, _, _) in enumerate(AGING)
    ]
    totals["by_line"] = list(
        payments.values("dashboard_id", "dashboard__name")
        .annotate(**_group_totals())
        .order_by("-requested_amount", "dashboard__name")
    )
    totals["by_requester"] = [
        {**row, "name": _person(row)}
        for row in payments.values(
            "created_by_id",
            "created_by__username",
            "created_by__first_name",
            "created_by__last_name",
        )
        .annotate(**_group_totals())
        .order_by("-requested_amount", "created_by_id")
    ]
    return totals


def aging(payments: QuerySet[Payment], *, now: datetime | None = None) -> list[Bucket]:
    """Open requests by age (one query)."""
    now = now or timezone.now()
    conditions = aging_conditions(now)
    row = payments.aggregate(
        **{f"c{i}": Count("id", filter=c) for i, (_, c) in enumerate(conditions)},
        **{f"a{i}": _sum(c) for i, (_, c) in enumerate(conditions)},
    )
    return [Bucket(label, row[f"c{i}"], row[f"a{i}"]) for i, (label, _) in enumerate(conditions)]


def weekly(payments: QuerySet[Payment], *, now: datetime | None = None, weeks: int = WEEKS):
    """Requested and collected per week (weeks start on Monday, local time), oldest first:
    ``[(week_start_date, requested, collected), ...]`` (two queries)."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now)
    this_week = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = this_week - timedelta(weeks=weeks - 1)
    requested = _per_week(payments.filter(REQUESTED, requested_at__gte=start), "requested_at", tz)
    collected = _per_week(payments.filter(Payment.PAID, closed_at__gte=start), "closed_at", tz)
    days = [(start + timedelta(weeks=i)).date() for i in range(weeks)]
    return [(day, requested.get(day, ZERO), collected.get(day, ZERO)) for day in days]


def _per_week(payments: QuerySet[Payment], column: str, tz) -> dict:
    rows = (
        payments.annotate(week=TruncWeek(column, tzinfo=tz))
        .values("week")
        .annotate(total=Sum(AMOUNT))
        .order_by()
    )
    return {timezone.localtime(row["week"], tz).date(): row["total"] for row in rows}


def _group_totals() -> dict:
    return {
        "count": Count("id", filter=REQUESTED),
        "requested_amount": _sum(REQUESTED),
        "paid_amount": _sum(Payment.PAID),
        "open_amount": _sum(Payment.OPEN),
    }


def _person(row: dict) -> str:
    if row["created_by_id"] is None:
        return "In Text Request"
    full = f"{row['created_by__first_name']} {row['created_by__last_name']}".strip()
    return full or row["created_by__username"]


def _ratio(part, whole) -> float | None:
    return None if not whole else float(part) / float(whole)
