"""The kinds of change this domain writes to Text Request through the outbox."""

from django.utils import timezone

from textdesk.dashboards.lines import DELETE_DASHBOARD
from textdesk.dashboards.models import Dashboard
from textdesk.dashboards.services import RENAME_DASHBOARD
from textdesk.outbox import registry
from textdesk.textrequest import errors


def _rename_dashboard(change, client):
    client.update_dashboard_name(change.dashboard.dashboard_id, change.payload["name"])


def _delete_dashboard(change, client):
    client.delete_dashboard(change.dashboard.dashboard_id)


def _line_gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def _line_deleted(change) -> None:
    """The line leaves textdesk once Text Request confirms (its data stays, marked removed, as
    when a sync finds a line gone)."""
    Dashboard.objects.filter(pk=change.dashboard_id).update(removed_at=timezone.now())


def register() -> None:
    registry.register(
        RENAME_DASHBOARD, registry.Handler(label="Rename line", apply=_rename_dashboard)
    )
    registry.register(
        DELETE_DASHBOARD,
        registry.Handler(
            label="Delete line",
            apply=_delete_dashboard,
            already_done=_line_gone,
            on_done=_line_deleted,
        ),
    )
