"""Connections, lines and webhook events.

- ``connect``: add (or find) a Text Request account, read its lines, subscribe the webhooks.
- ``rotate_keys``: re-encrypt every stored API key with the newest ``FIELD_ENCRYPTION_KEY``.
- ``store_event`` / ``process_event``: the webhook receiver stores each raw event once
  (insert-or-nothing on its unique key) and a task processes it.
- ``rename_dashboard``: rename a line (local first, through the outbox).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.dashboards.crypto import rotate
from textdesk.dashboards.models import Change, Connection, Dashboard, WebhookEvent
from textdesk.dashboards.outbox import queue_change
from textdesk.textrequest import types as tr

logger = logging.getLogger(__name__)


def connect(*, name: str, api_url: str, api_key: str, if_missing: bool = False) -> Connection:
    """Create a connection (or, with ``if_missing``, reuse the one with this name and URL),
    read its lines and register its webhooks. Raises the client's errors (a wrong key is
    ``Unauthorized``)."""
    from textdesk.dashboards.sync import register_hooks, sync_dashboards

    connection = None
    if if_missing:
        connection = Connection.objects.filter(name=name, api_url=api_url).first()
    if connection is None:
        connection = Connection(name=name, api_url=api_url)
        connection.set_api_key(api_key)
        connection.save()
    sync_dashboards(connection)
    register_hooks(connection)
    return connection


def rotate_keys() -> int:
    """Re-encrypt every connection's API key with the newest key; answers how many."""
    count = 0
    with transaction.atomic():
        for connection in Connection.objects.select_for_update():
            connection.api_key_encrypted = rotate(connection.api_key_encrypted)
            connection.save(update_fields=["api_key_encrypted"])
            count += 1
    return count


def rename_dashboard(*, dashboard: Dashboard, user, name: str) -> Change:
    """Rename a line: shown at once, written to Text Request by the outbox."""
    name = name.strip()
    if not name:
        raise ValueError("A line needs a name.")
    with transaction.atomic():
        Dashboard.objects.filter(pk=dashboard.pk).update(name=name[:200])
        dashboard.name = name[:200]
        return queue_change(
            dashboard=dashboard,
            kind=Change.Kind.RENAME_DASHBOARD,
            subject="name",
            payload={"name": name[:200]},
            user=user,
        )


def store_event(connection: Connection, kind: str, key: str, payload: dict) -> bool:
    """Store a raw webhook event once; answers False for a duplicate. The processing task is
    enqueued on commit."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                connection=connection, kind=kind, key=key[:200], payload=payload
            )
            from textdesk.dashboards.tasks import process_event as task

            transaction.on_commit(lambda: task.delay(event.pk))
    except IntegrityError:
        return False
    return True


def process_event(event_pk: int) -> None:
    """Apply one stored webhook event (the ``process_event`` task); idempotent."""
    from textdesk.conversations.services import record_status, record_webhook_message
    from textdesk.dashboards.sync import sync_dashboards

    event = (
        WebhookEvent.objects.select_related("connection")
        .filter(pk=event_pk, processed_at__isnull=True)
        .first()
    )
    if event is None:
        return
    connection = event.connection
    error = ""
    if event.kind == WebhookEvent.Kind.MESSAGE:
        parsed = tr.WebhookEvent.from_payload(event.payload)
        dashboard = (
            Dashboard.objects.active()
            .filter(connection=connection, dashboard_id=parsed.dashboard_id)
            .first()
        )
        if dashboard is None:
            # A line added since the last sync: read the list once.
            sync_dashboards(connection)
            dashboard = (
                Dashboard.objects.active()
                .filter(connection=connection, dashboard_id=parsed.dashboard_id)
                .first()
            )
        if dashboard is None:
            error = f"unknown line {parsed.dashboard_id}"
        else:
            record_webhook_message(dashboard, parsed)
    else:
        parsed = tr.StatusCallback.from_payload(event.payload)
        message_pk = int(event.key.split(":", 1)[0])  # the key starts with our row's id
        if record_status(connection, message_pk, parsed) is None:
            error = "no such message"
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error=error)


def sweep_events() -> int:
    """Process events whose task was lost; answers how many were re-enqueued."""
    from textdesk.dashboards.tasks import process_event as task

    stale = timezone.now() - timedelta(seconds=30)
    pks = list(
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lt=stale)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in pks:
        task.delay(pk)
    # Keep a week of processed events for inspection.
    WebhookEvent.objects.filter(processed_at__lt=timezone.now() - timedelta(days=7)).delete()
    return len(pks)


class LineRefused(Exception):
    """Text Request refused the new line; ``reason`` is its sentence."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def free_numbers(*, connection: Connection, area_code: str) -> list[str]:
    """Numbers Text Request can provision in an area code (an interactive call)."""
    from textdesk.textrequest import errors

    try:
        return connection.client(quick=True).get_provisioning_numbers(area_code)
    except (errors.OutcomeUnknown, errors.NotSent, errors.LimiterBusy) as exc:
        raise LineRefused("Text Request did not answer in time; try again in a minute.") from exc
    except errors.TextRequestError as exc:
        raise LineRefused(exc.message) from exc


def create_line(*, connection: Connection, name: str, phone: str) -> Dashboard:
    """Create a line with a provisioned number, then read the lines back.

    Rare and admin-only, so it runs in the request rather than the outbox; if the answer is
    lost, reading the lines back shows whether the line exists, so a retry never makes two."""
    from textdesk.dashboards.sync import sync_dashboards
    from textdesk.textrequest import errors

    existing = Dashboard.objects.active().filter(connection=connection, phone=phone).first()
    if existing:
        return existing
    try:
        created = connection.client().create_dashboard(name=name.strip(), phone=phone)
    except (errors.OutcomeUnknown, errors.ServerError):
        created = None
    except errors.TextRequestError as exc:
        raise LineRefused(exc.message) from exc
    sync_dashboards(connection)
    line = Dashboard.objects.active().filter(connection=connection, phone=phone).first()
    if line is None and created is not None:
        line = Dashboard.objects.filter(connection=connection, dashboard_id=created.id).first()
    if line is None:
        raise LineRefused("Text Request did not confirm the new line; try again in a minute.")
    return line
