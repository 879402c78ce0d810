"""Notifications: a person's SLA alerts (the top bar's count leads here), and for Admins the
daily count of breaches on every line."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.conversations.forms import parse_id
from textdesk.conversations.models import SlaAlert
from textdesk.conversations.sla_alerts import notifications_for
from textdesk.conversations.templatetags.inbox import SLA_NAMES

PAGE = 50
DIGEST_DAYS = 7


@require_GET
@permission_required("view_conversations")
def notification_list(request):
    """Newest first, keyset paging on id (`?before=<id>`)."""
    rows = notifications_for(request.user).select_related(
        "alert__conversation__contact", "alert__dashboard"
    )
    before = parse_id(request.GET.get("before", ""))
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-id")[: PAGE + 1])
    more = page[PAGE].pk if len(page) > PAGE else None
    page = page[:PAGE]
    for note in page:
        alert = note.alert
        name = SLA_NAMES.get(alert.target, "Reply")
        note.text = f"{name} {'overdue' if alert.stage == SlaAlert.Stage.BREACHED else 'due soon'}"
        note.is_breach = alert.stage == SlaAlert.Stage.BREACHED
    context = {
        "notifications": page,
        "next_before": page[-1].pk if more else None,
        "digest": breach_digest() if request.user.has_perm("accounts.manage_lines") else None,
    }
    return render(request, "conversations/notification_list.html", context)


@require_GET
@permission_required("view_conversations")
def badge(request):
    """The top bar's link with the person's unread count (fetched once by each page)."""
    return render(request, "conversations/_notification_badge.html")


@require_POST
@permission_required("view_conversations")
def mark_read(request):
    """Mark every unread notification of the person read (their own state: not audited)."""
    notifications_for(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("conversations:notifications")


def breach_digest(days: int = DIGEST_DAYS) -> list[dict]:
    """Breaches per day and line over the last `days` days (local days), newest first."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    since = timezone.now() - timedelta(days=days + 1)
    counts = Counter()
    lines = set()
    rows = SlaAlert.objects.filter(stage=SlaAlert.Stage.BREACHED, created_at__gte=since)
    for created_at, line in rows.values_list("created_at", "dashboard__name").iterator():
        day = created_at.astimezone(zone).date()
        if (today - day).days < days:
            counts[(day, line)] += 1
            lines.add(line)
    return [
        {
            "day": today - timedelta(days=back),
            "total": sum(n for (d, _), n in counts.items() if d == today - timedelta(days=back)),
            "lines": sorted(
                (line, n) for (d, line), n in counts.items() if d == today - timedelta(days=back)
            ),
        }
        for back in range(days)
    ]
