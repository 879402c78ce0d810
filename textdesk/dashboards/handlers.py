"""Outbox handler of a line's deletion (registered in ``DashboardsConfig.ready()``)."""

from __future__ import annotations

from contextlib import suppress

from textdesk.dashboards.models import Dashboard
from textdesk.textrequest import errors


def delete_dashboard(change, client) -> None:
    """DeleteDashboard; a line already gone counts as done. The line leaves textdesk only once
    Text Request confirms (its data stays, marked removed, as when a sync finds it gone)."""
    with suppress(errors.NotFound):
        client.delete_dashboard(change.dashboard.dashboard_id)
    Dashboard.objects.get(pk=change.dashboard_id).mark_removed()


HANDLERS = {"delete_dashboard": delete_dashboard}
