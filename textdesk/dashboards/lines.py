"""Deleting a line (the other line writes are in services.py)."""

from __future__ import annotations

from textdesk.dashboards.models import Change, Dashboard
from textdesk.dashboards.outbox import queue_change


def delete_line(*, dashboard: Dashboard, user) -> Change:
    """Ask Text Request to delete the line (DeleteDashboard): its number is released. The line
    leaves textdesk once Text Request confirms; until then it shows as being deleted."""
    return queue_change(
        dashboard=dashboard,
        kind=Change.Kind.DELETE_DASHBOARD,
        subject="delete",
        payload={"name": dashboard.name, "phone": dashboard.phone},
        user=user,
    )
