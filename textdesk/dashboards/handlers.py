"""The kinds of change this domain writes to Text Request through the outbox."""

from django.db.models.signals import pre_delete
from django.utils import timezone

from textdesk.audit import registry as audit
from textdesk.dashboards.lines import DELETE_DASHBOARD
from textdesk.dashboards.models import Dashboard, line_of
from textdesk.dashboards.services import RENAME_DASHBOARD
from textdesk.outbox import registry
from textdesk.outbox.models import Change
from textdesk.textrequest import errors


def _rename_dashboard(change, client):
    client.update_dashboard_name(line_of(change).dashboard_id, change.payload["name"])


def _delete_dashboard(change, client):
    client.delete_dashboard(line_of(change).dashboard_id)


def _line_gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def _line_deleted(change) -> None:
    """The line leaves textdesk once Text Request confirms (its data stays, marked removed, as
    when a sync finds a line gone)."""
    Dashboard.objects.filter(pk=change.dashboard_id).update(removed_at=timezone.now())


def _client_for(change):
    return line_of(change).connection.client(change.priority)


def _delete_changes(sender, instance: Dashboard, **kwargs) -> None:
    """A line's outbox changes go with it (also when its connection is deleted): the outbox
    keeps the line's id, with no key to cascade along."""
    Change.objects.filter(dashboard_id=instance.pk).delete()


def _line_names(ids: list[int] | None) -> dict[int, str]:
    """Lines by id for the audit log (every line, removed ones too, when ``ids`` is None)."""
    lines = Dashboard.objects.all() if ids is None else Dashboard.objects.filter(pk__in=ids)
    return dict(lines.order_by("name", "id").values_list("pk", "name"))


def register() -> None:
    audit.name_lines(_line_names)
    registry.register_client(_client_for)
    pre_delete.connect(_delete_changes, sender=Dashboard, dispatch_uid="dashboards-line-changes")
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
