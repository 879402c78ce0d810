"""Celery tasks of connections, lines, webhooks and the outbox sweeper: thin and idempotent."""

import logging

from celery import shared_task

from textdesk.dashboards import outbox, services, sync
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)


@shared_task
def apply_change(change_pk: int) -> None:
    """Write one queued change to Text Request (interactive queue)."""
    outbox.apply_change(change_pk)


@shared_task
def process_event(event_pk: int) -> None:
    """Process one stored webhook event (interactive queue: a STOP must count at once)."""
    services.process_event(event_pk)


@shared_task
def sweep_events() -> None:
    services.sweep_events()


@shared_task
def sweep_outbox() -> None:
    """Beat, every 15 s: re-enqueue lost pending rows, settle unknown outcomes."""
    from textdesk.conversations.services import sweep_texts
    from textdesk.payments.services import sweep_payments

    sweep_texts()
    sweep_payments()
    outbox.sweep_changes()


@shared_task
def sync_due() -> None:
    """Beat: refresh each connection's lines when due, and start each line's cycle (a line
    already syncing is skipped by its lease)."""
    for connection in Connection.objects.filter(is_active=True):
        if sync.connection_due(connection):
            sync_connection.delay(connection.pk)
    for pk in (
        Dashboard.objects.active().filter(connection__is_active=True).values_list("pk", flat=True)
    ):
        sync_dashboard.delay(pk)


@shared_task
def sync_connection(connection_pk: int, full: bool = False) -> None:
    """Read a connection's lines and keep its webhook subscriptions current."""
    connection = Connection.objects.filter(pk=connection_pk, is_active=True).first()
    if connection is None:
        return
    try:
        sync.sync_dashboards(connection, wait=False)
        sync.register_hooks(connection)
    except errors.TextRequestError as exc:
        logger.warning("sync of connection %s failed: %s", connection, exc)


@shared_task(bind=True)
def sync_dashboard(self, dashboard_pk: int, full: bool = False) -> None:
    """One sync run of a line (see ``dashboards/sync.py``). Re-schedules itself when the
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
        more = sync.run_sync(
            dashboard, full=full, wait=eager, budget=None if eager else sync.TASK_BUDGET
        )
    except errors.LimiterBusy as exc:
        self.apply_async((dashboard_pk,), countdown=min(max(exc.retry_in, 0.5), 30.0))
        return
    if more and not eager:
        self.apply_async((dashboard_pk,), countdown=0.5)
