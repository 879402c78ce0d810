"""Figures for finance: totals, aging, collection and the two charts, for any filtered set.

The totals come from rows of (line, requester, state, past due, whole days to pay, count,
amount): on PostgreSQL, for a filter by state, line and requester only, straight from
``payments_rollup`` (kept by a trigger, a few hundred rows whatever the number of payments);
otherwise one GROUP BY over the filtered payments. Aging and the collected months read only
open, respectively recently paid, payments through partial indexes. Definitions, so the
numbers can be checked by hand:

- *open*: not paid or canceled in Text Request and not failed; *past due*: open and flagged
  past due by Text Request (7 days after the request);
- *requested* (the collection rate's denominator): every request that did not fail;
- *collected* in a month: paid payments that textdesk saw paid in that month (local time);
- *days to pay*: whole days from the request to when textdesk saw it paid (sync keeps that
  within one 30-second cycle); payments already paid when first read have no such date and are
  left out; the median of an even count is the mean of the middle two;
- *aging* of open requests, by whole days since the request: 0–7, 8–30, 31–60, over 60.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from textdesk.accounts.models import User
from textdesk.dashboards.models import Dashboard
from textdesk.payments.models import Payment, PaymentRollup

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
ROLLUP_STATES = {
    "open": {"state": "open"},
    "past_due": {"state": "open", "is_past_due": True},
    "paid": {"state": "paid"},
    "canceled": {"state": "canceled"},
    "failed": {"state": "failed"},
}


class WholeDays(Func):
    """Whole days from the first timestamp to the second (never below 0)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        start, end = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"GREATEST(0, FLOOR(EXTRACT(EPOCH FROM ({end[0]} - {start[0]})) / 86400))::integer"
        return sql, (*end[1], *start[1])

    def as_sqlite(self, compiler, connection, **extra):
        start, end = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"MAX(0, CAST(julianday({end[0]}) - julianday({start[0]}) AS INTEGER))"
        return sql, (*end[1], *start[1])


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int
    amount: Decimal


def _sum(condition: Q) -> Sum:
    return Sum(AMOUNT, filter=condition, default=ZERO, output_field=DecimalField())


def aging_conditions(now: datetime) -> list[tuple[str, Q]]:
    """Open requests by whole days since the request (a request with no date yet is new);
    to be applied to payments already filtered to the open ones."""
    conditions = []
    for label, youngest, oldest in AGING:
        # Age in whole days >= n  ⇔  requested at or before now - n days.
        if youngest == 0:
            condition = Q(requested_at__isnull=True) | Q(
                requested_at__gt=now - timedelta(days=oldest + 1)
            )
        else:
            condition = Q(requested_at__lte=now - timedelta(days=youngest))
            if oldest is not None:
                condition &= Q(requested_at__gt=now - timedelta(days=oldest + 1))
        conditions.append((label, condition))
    return conditions


def month_starts(now: datetime) -> tuple[datetime, datetime]:
    """The first instant of this month and of last month, in local time."""
    local = timezone.localtime(now)
    this = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - timedelta(days=1)).replace(day=1)
    return this, last


def rollup_filter(filters: dict, line_ids: list[int]) -> dict | None:
    """The rollup lookup equal to ``filters`` on these lines, or None when the filter needs
    the payments themselves (a search, an amount or a date range) or there is no rollup."""
    if connection.vendor != "postgresql":
        return None
    if any(filters.get(k) not in (None, "") for k in (
        "q", "amount_min", "amount_max", "requested_from", "requested_to"
    )):  # fmt: skip
        return None
    lookup: dict = {"dashboard_id__in": line_ids}
    if line := filters.get("line"):
        lookup["dashboard_id"] = line
    if requester := filters.get("requester"):
        lookup["requester_id"] = 0 if requester == "textrequest" else int(requester)
    if state := filters.get("state"):
        lookup.update(ROLLUP_STATES[state])
    return lookup


def _raw_rows(payments: QuerySet[Payment]) -> list[tuple]:
    state = Case(
        When(status=Payment.Status.FAILED, then=Value("failed")),
        When(Payment.PAID, then=Value("paid")),
        When(Payment.CANCELED, then=Value("canceled")),
        When(textrequest_payment_status__in=Payment.OPEN_STATUSES, then=Value("open")),
        default=Value("other"),
    )
    days = Case(
        When(
            Payment.PAID & REQUESTED & Q(closed_at__isnull=False, requested_at__isnull=False),
            then=WholeDays(F("requested_at"), F("closed_at")),
        ),
        default=Value(-1),
        output_field=IntegerField(),
    )
    return list(
        payments.annotate(rollup_state=state, rollup_days=days)
        .values("dashboard_id", "created_by_id", "rollup_state", "is_past_due", "rollup_days")
        .annotate(n=Count("id"), total=Sum(AMOUNT))
        .values_list(
            "dashboard_id",
            "created_by_id",
            "rollup_state",
            "is_past_due",
            "rollup_days",
            "n",
            "total",
        )  # fmt: skip
        .order_by()
    )


def _rollup_rows(lookup: dict) -> list[tuple]:
    return list(
        PaymentRollup.objects.filter(**lookup)
        .filter(count__gt=0)
        .values_list(
            "dashboard_id",
            "requester_id",
            "state",
            "is_past_due",
            "days_to_pay",
            "count",
            "amount",
        )  # fmt: skip
    )


def summarize(
    payments: QuerySet[Payment],
    *,
    now: datetime | None = None,
    rollup: dict | None = None,
    line_names: dict[int, str] | None = None,
    people: dict[int, str] | None = None,
) -> dict:
    """Totals, collection and aging of ``payments`` (``rollup``: the same set as a rollup
    lookup, from ``rollup_filter``). Three queries, plus two for names not given."""
    now = now or timezone.now()
    rows = _rollup_rows(rollup) if rollup is not None else _raw_rows(payments)
    totals: dict = defaultdict(lambda: ZERO)
    counts: dict = defaultdict(int)
    days: dict[int, int] = defaultdict(int)
    by_line: dict = {}
    by_person: dict = {}
    for dashboard_id, requester_id, state, past_due, to_pay, n, amount in rows:
        requester_id = requester_id or 0
        amount = amount or ZERO
        keys = [state] + (["past_due"] if state == "open" and past_due else [])
        keys += ["requested"] if state != "failed" else []
        for key in keys:
            counts[key] += n
            totals[key] += amount
        if state == "paid" and to_pay is not None and to_pay >= 0:
            days[to_pay] += n
        for groups, key in ((by_line, dashboard_id), (by_person, requester_id)):
            group = groups.setdefault(key, _group())
            if state != "failed":
                group["count"] += n
                group["requested_amount"] += amount
            if state == "paid":
                group["paid_amount"] += amount
            if state == "open":
                group["open_amount"] += amount
    result = {}
    for key in ("open", "past_due", "paid", "canceled", "requested"):
        result[f"{key}_count"] = counts[key]
        result[f"{key}_amount"] = totals[key]
    result["rate_by_count"] = _ratio(counts["paid"], counts["requested"])
    result["rate_by_amount"] = _ratio(totals["paid"], totals["requested"])
    result["timed_count"] = sum(days.values())
    result["median_days_to_pay"] = _median(days)
    this_month, last_month = month_starts(now)
    result.update(
        payments.filter(Payment.PAID, closed_at__gte=last_month).aggregate(
            collected_this_month=_sum(Q(closed_at__gte=this_month)),
            collected_last_month=_sum(Q(closed_at__lt=this_month)),
        )
    )
    result["aging"] = aging(payments, now=now)
    if line_names is None:
        line_names = dict(Dashboard.objects.filter(pk__in=list(by_line)).values_list("pk", "name"))
    if people is None:
        people = {u.pk: u.display_name for u in User.objects.filter(pk__in=list(by_person))}
    result["by_line"] = sorted(
        ({"dashboard_id": k, "dashboard__name": line_names.get(k, f"Line {k}"), **v}
         for k, v in by_line.items()),
        key=lambda row: (-row["requested_amount"], row["dashboard__name"]),
    )  # fmt: skip
    result["by_requester"] = sorted(
        ({"created_by_id": k or None,
          "name": "In Text Request" if not k else people.get(k, f"User {k}"), **v}
         for k, v in by_person.items()),
        key=lambda row: (-row["requested_amount"], row["name"]),
    )  # fmt: skip
    return result


def _group() -> dict:
    return {"count": 0, "requested_amount": ZERO, "paid_amount": ZERO, "open_amount": ZERO}


def _median(days: dict[int, int]) -> float | None:
    """The median of whole days, each value weighted by how many payments took it."""
    total = sum(days.values())
    if not total:
        return None
    ordered = sorted(days.items())

    def nth(index: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        return ordered[-1][0]

    middle = total // 2
    if total % 2:
        return float(nth(middle))
    return (nth(middle - 1) + nth(middle)) / 2


def aging(payments: QuerySet[Payment], *, now: datetime | None = None) -> list[Bucket]:
    """Open requests by age (one query)."""
    now = now or timezone.now()
    conditions = aging_conditions(now)
    row = payments.filter(Payment.OPEN).aggregate(
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


def _ratio(part, whole) -> float | None:
    return None if not whole else float(part) / float(whole)
