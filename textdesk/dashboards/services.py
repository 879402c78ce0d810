"""Connections and lines.

- ``connect``: add (or find) a Text Request account, read its lines, subscribe the webhooks
  and start the first sync at once.
- ``rotate_keys``: re-encrypt every stored API key with the newest ``FIELD_ENCRYPTION_KEY``.
- ``rename_dashboard``: rename a line (local first, through the outbox).
- ``set_texting_rules``: a line's away reply and quiet hours (textdesk only, audited).
"""

from __future__ import annotations

from django.db import transaction

from textdesk.audit import services as audit
from textdesk.celery import enqueue
from textdesk.dashboards.connections import start_sync
from textdesk.dashboards.crypto import rotate
from textdesk.dashboards.models import Connection, Dashboard, SlaPolicy
from textdesk.dashboards.sync import register_hooks, sync_dashboards
from textdesk.outbox.changes import queue_change
from textdesk.textrequest import errors

# The kind of change this domain queues (its handler: ``handlers.py``).
RENAME_DASHBOARD = "rename_dashboard"


def connect(*, name: str, api_url: str, api_key: str, if_missing: bool = False) -> Connection:
    """Create a connection (or, with ``if_missing``, reuse the one with this name and URL),
    read its lines, register its webhooks and start the first sync in the background (on
    commit; a line already syncing skips it by its lease). Raises the client's errors (a
    wrong key is ``Unauthorized``)."""
    connection = None
    if if_missing:
        connection = Connection.objects.filter(name=name, api_url=api_url).first()
    if connection is None:
        connection = Connection(name=name, api_url=api_url)
        connection.set_api_key(api_key)
        connection.save()
    sync_dashboards(connection)
    register_hooks(connection)
    # Not at beat's first tick (30 s later): the inbox would say "All caught up" meanwhile.
    start_sync(connection)
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


def rename_dashboard(*, dashboard: Dashboard, user, name: str):
    """Rename a line: shown at once, written to Text Request by the outbox."""
    name = name.strip()
    if not name:
        raise ValueError("A line needs a name.")
    with transaction.atomic():
        Dashboard.objects.filter(pk=dashboard.pk).update(name=name[:200])
        dashboard.name = name[:200]
        return queue_change(
            dashboard=dashboard,
            kind=RENAME_DASHBOARD,
            subject="name",
            payload={"name": name[:200]},
            user=user,
        )


class LineRefused(Exception):
    """Text Request refused the new line; ``reason`` is its sentence."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def free_numbers(*, connection: Connection, area_code: str) -> list[str]:
    """Numbers Text Request can provision in an area code (an interactive call)."""
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


def _describe_targets(policy: SlaPolicy) -> str:
    parts = [
        f"{label} {value} min" if value else f"{label} none"
        for label, value in (
            ("first response", policy.first_response_minutes),
            ("next response", policy.next_response_minutes),
            ("resolution", policy.resolution_minutes),
        )
    ]
    return ", ".join(parts)


def save_sla_policy(*, form, user) -> SlaPolicy:
    """Save a line's SLA targets (a valid `SlaPolicyForm`) and recount its open conversations
    (a task named here, on commit; beat recounts it too if the task is lost)."""
    with transaction.atomic():
        policy = form.save(commit=False)
        policy.dashboard = form.line
        policy.updated_by = user
        policy.save()
        audit.record(
            actor=user,
            kind="sla_policy",
            dashboard=form.line,
            summary=f"SLA targets of {form.line.name}: {_describe_targets(policy)}",
        )
        enqueue("textdesk.conversations.tasks.recount_sla", form.line.pk)
    return policy


def set_texting_rules(
    *, dashboard: Dashboard, user, away_reply_enabled, away_reply_text, quiet_start, quiet_end
) -> bool:
    """Save a line's away reply and quiet hours; answers whether anything changed (each change
    is in the audit log with what it is now)."""
    fields = {
        "away_reply_enabled": away_reply_enabled,
        "away_reply_text": away_reply_text,
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
    }
    changed = [name for name, value in fields.items() if getattr(dashboard, name) != value]
    if not changed:
        return False
    with transaction.atomic():
        for name in changed:
            setattr(dashboard, name, fields[name])
        dashboard.save(update_fields=changed)
        parts = []
        if {"away_reply_enabled", "away_reply_text"} & set(changed):
            text = away_reply_text if len(away_reply_text) <= 80 else away_reply_text[:79] + "…"
            parts.append(f"away reply {'on' if away_reply_enabled else 'off'}: “{text}”")
        if {"quiet_start", "quiet_end"} & set(changed):
            parts.append(f"texts may leave {quiet_start:%H:%M}–{quiet_end:%H:%M} customer time")
        audit.record(
            actor=user,
            kind="line_texting_rules",
            dashboard=dashboard,
            summary=f"{dashboard.name}: {'; '.join(parts)}",
        )
    return True
