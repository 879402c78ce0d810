"""Celery tasks of the sync orchestrator: thin and idempotent."""

import logging

from celery import shared_task

from textdesk.dashboards.models import Connection, Dashboard
from textdesk.dashboards.sync import register_hooks, sync_dashboards
from textdesk.sync import engine
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)


@shared_task
def sync_due() -> None:
    """Beat: refresh each connection's lines when due, and start each line's cycle (a line
    already syncing is skipped by its lease)."""
    for connection in Connection.objects.filter(is_active=True):
        if engine.connection_due(connection):
            sync_connection.delay(connection.pk)
    for pk in (
        Dashboard.objects.active().filter(connection__is_active=True).values_list("pk", flat=True)
    ):
        sync_dashboard.delay(pk)


@shared_task
def sync_connection(connection_pk: int) -> None:
    """Read a connection's lines and keep its webhook subscriptions current."""
    connection = Connection.objects.filter(pk=connection_pk, is_active=True).first()
    if connection is None:
        return
    try:
        sync_dashboards(connection, wait=False)
        register_hooks(connection)
    except errors.TextRequestError as exc:
        logger.warning("sync of connection %s failed: %s", connection, exc)


@shared_task(bind=True)
def sync_dashboard(self, dashboard_pk: int, full: bool = False, manual: bool = False) -> None:
    """One sync run of a line (see ``textdesk/sync/engine.py``). Re-schedules itself when the
    limiter is busy or a history backlog remains, instead of holding the worker."""
    dashboard = (
        Dashboard.objects.active()
        .select_related("connection")
        .filter(pk=dashboard_pk, connection__is_active=True)
        .first()
    )
    if dashboard is None:
        return
    eager = bool(self.request.is_eager)
    try:
        more = engine.run_sync(
            dashboard,
            full=full,
            wait=eager,
            budget=None if eager else engine.TASK_BUDGET,
            manual=manual,
        )
    except errors.LimiterBusy as exc:
        self.apply_async((dashboard_pk,), countdown=min(max(exc.retry_in, 0.5), 30.0))
        return
    if more and not eager:
        self.apply_async((dashboard_pk,), countdown=0.5)


def start_first_sync(sender, connection, **kwargs) -> None:
    """A connection was added in the UI: sync each of its lines now, not at the next beat."""
    for pk in connection.dashboards.active().values_list("pk", flat=True):
        sync_dashboard.delay(pk)
