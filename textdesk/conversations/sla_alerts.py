"""SLA alerts: a clock about to run out or just run out tells the people who should act.

Beat runs `raise_alerts` every minute. Each alert is one `SlaAlert` row per conversation,
target, stage and episode (unique), made with get-or-create, and only a new row notifies
anyone: running the check twice, or two beats at once, alerts once. The assignee is told; an
unassigned conversation tells every agent of its line. Clocks that ran out before the lookback
window alert nobody: a policy set on a line full of old waits shows them as Breached in the list
instead of sending hundreds of notifications at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Value
from django.utils import timezone

from textdesk.conversations.models import Conversation, Notification, SlaAlert
from textdesk.conversations.sla import RESOLUTION
from textdesk.dashboards.models import Dashboard

SOON, BREACHED = SlaAlert.Stage.SOON, SlaAlert.Stage.BREACHED
# (due field, target field or a fixed target, start field) of each clock.
CLOCKS = (
    ("sla_reply_due_at", "sla_reply_target", "sla_reply_from"),
    ("sla_resolve_due_at", None, "sla_opened_at"),
)


def raise_alerts(*, now: datetime | None = None) -> int:
    """Make the alerts that are due and notify their people; answers how many were made."""
    now = now or timezone.now()
    warn = timedelta(minutes=settings.TEXTDESK_SLA_WARN_MINUTES)
    lookback = timedelta(minutes=settings.TEXTDESK_SLA_ALERT_LOOKBACK_MINUTES)
    made = 0
    for due_field, target_field, start_field in CLOCKS:
        target = OuterRef(target_field) if target_field else Value(RESOLUTION)
        for stage, lower, upper in ((SOON, now, now + warn), (BREACHED, now - lookback, now)):
            done = SlaAlert.objects.filter(
                conversation=OuterRef("pk"),
                target=target,
                stage=stage,
                started_at=OuterRef(start_field),
            )
            rows = (
                Conversation.objects.filter(
                    **{f"{due_field}__gt": lower, f"{due_field}__lte": upper},
                    is_resolved=False,
                    is_archived=False,
                )
                .exclude(Exists(done))
                .values_list(
                    "pk",
                    "dashboard_id",
                    "assigned_to_id",
                    target_field or due_field,
                    start_field,
                    due_field,
                )
            )
            for pk, line, assignee, row_target, started_at, due_at in rows:
                made += _alert(
                    pk,
                    line,
                    assignee,
                    target=row_target if target_field else RESOLUTION,
                    stage=stage,
                    started_at=started_at,
                    due_at=due_at,
                )
    return made


def _alert(pk, line, assignee, *, target, stage, started_at, due_at) -> int:
    with transaction.atomic():
        alert, created = SlaAlert.objects.get_or_create(
            conversation_id=pk,
            target=target,
            stage=stage,
            started_at=started_at,
            defaults={"dashboard_id": line, "due_at": due_at},
        )
        if not created:
            return 0
        Notification.objects.bulk_create(
            [Notification(user_id=user, alert=alert) for user in recipients(line, assignee)],
            ignore_conflicts=True,
        )
    return 1


def recipients(line: int, assignee: int | None) -> list[int]:
    """Who is told: the assignee, or (unassigned, or the assignee left) the line's agents."""
    users = get_user_model().objects.filter(is_active=True)
    if assignee is not None and users.filter(pk=assignee).exists():
        return [assignee]
    return list(users.filter(dashboards=line).values_list("pk", flat=True))


def unread_count(user) -> int:
    """The top bar's badge: the person's unread notifications on lines they may see."""
    return notifications_for(user).filter(read_at__isnull=True).order_by().count()


def notifications_for(user):
    """A person's notifications on the lines they may still see (newest first)."""
    # By the alert's line (a conversation never changes line): one join fewer to plan.
    return Notification.objects.filter(
        user=user, alert__dashboard__in=Dashboard.objects.for_user(user)
    )
