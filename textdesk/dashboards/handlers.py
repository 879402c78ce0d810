"""The kinds of change this domain writes to Text Request through the outbox."""

from textdesk.dashboards.services import RENAME_DASHBOARD
from textdesk.outbox import registry


def _rename_dashboard(change, client):
    client.update_dashboard_name(change.dashboard.dashboard_id, change.payload["name"])


def register() -> None:
    registry.register(
        RENAME_DASHBOARD, registry.Handler(label="Rename line", apply=_rename_dashboard)
    )
