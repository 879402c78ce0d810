"""The assignment distribution: conversations given to each agent in the period (automatically
or by a person) and how long they waited in the queue for it (``conversations.Assignment``).

Read straight from the assignment rows (one indexed range read grouped by person, no rollup):
there is one row per assignment, far fewer than texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q

from textdesk.accounts.models import User
from textdesk.conversations.models import Assignment
from textdesk.reports.metrics import _day_start


@dataclass
class Given:
    """What one person was given in the period."""

    person: User
    automatic: int
    manual: int
    # Seconds from joining the queue to being assigned, over the assignments that waited.
    wait_mean: float | None
    wait_longest: float | None

    @property
    def total(self) -> int:
        return self.automatic + self.manual


def _seconds(value) -> float | None:
    return None if value is None else value.total_seconds()


def distribution(*, lines: list, agent: User | None, start: date, end: date) -> list[Given]:
    """Per person, most given first; only people given at least one in the period."""
    wait = ExpressionWrapper(F("assigned_at") - F("queued_at"), output_field=DurationField())
    rows = Assignment.objects.filter(
        dashboard_id__in=[line.pk for line in lines],
        assigned_at__gte=_day_start(start),
        assigned_at__lt=_day_start(end + timedelta(days=1)),
    )
    if agent is not None:
        rows = rows.filter(assignee=agent)
    figures = (
        rows.order_by()
        .values("assignee_id")
        .annotate(
            automatic=Count("id", filter=~Q(rule=Assignment.Rule.MANUAL)),
            manual=Count("id", filter=Q(rule=Assignment.Rule.MANUAL)),
            wait_mean=Avg(wait, filter=Q(queued_at__isnull=False)),
            wait_longest=Max(wait, filter=Q(queued_at__isnull=False)),
        )
    )
    figures = list(figures)
    people = User.objects.in_bulk([row["assignee_id"] for row in figures])
    given = [
        Given(
            person=people[row["assignee_id"]],
            automatic=row["automatic"],
            manual=row["manual"],
            wait_mean=_seconds(row["wait_mean"]),
            wait_longest=_seconds(row["wait_longest"]),
        )
        for row in figures
        if row["assignee_id"] in people
    ]
    return sorted(given, key=lambda g: (-g.total, g.person.display_name.lower(), g.person.pk))
