"""Deleting a line (the other line writes are in services.py)."""

from __future__ import annotations

from textdesk.dashboards.models import Dashboard
from textdesk.outbox.changes import queue_change
from textdesk.outbox.models import Change

# The kind of change this module queues (its handler: ``handlers.py``).
DELETE_DASHBOARD = "delete_dashboard"


def delete_line(*, dashboard: Dashboard, user) -> Change:
    """Ask Text Request to delete the line (DeleteDashboard): its number is released. The line
    leaves textdesk once Text Request confirms; until then it shows as being deleted."""
    return queue_change(
        dashboard=dashboard,
        kind=DELETE_DASHBOARD,
        subject="delete",
        payload={"name": dashboard.name, "phone": dashboard.phone},
        user=user,
    )
