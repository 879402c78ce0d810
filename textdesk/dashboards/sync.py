"""The lines' own sync, and the call helper every domain's sync uses.

- ``Run``: one batch of calls for one line (the client at a priority, a time budget, waiting
  on the shared limiter or handing back ``LimiterBusy``, retries of transient errors, paging).
  The orchestrator (``textdesk.sync``) makes one per run and hands it to each domain's
  ``sync.py``; ``conversations`` makes one to fill a history an agent is waiting for.
- ``sync_dashboards``: read the account's lines (new, renamed, vanished).
- ``register_hooks``: keep each line's event subscriptions pointing at our receivers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from textdesk.dashboards.models import Connection, Dashboard, SyncState
from textdesk.textrequest import errors
from textdesk.textrequest.types import HOOK_EVENTS, MESSAGE_EVENTS

PAGE_SIZE = 100
# Waits before retrying a transient failure when the caller waits (the command, eager mode).
RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
# The longest a run waits in-process for a Retry-After: a longer one (a 429 or 503 asking for
# minutes) is raised, so the task re-schedules itself instead of holding its worker.
MAX_INLINE_WAIT = 20.0


class Run:
    """One sync run of one line: the client, the time budget, and the call helpers.

    ``wait=True`` (the ``sync`` command, eager tasks) sleeps when the limiter is busy and
    retries transient errors a few times; otherwise ``LimiterBusy`` propagates so the task can
    re-schedule itself instead of holding a worker."""

    def __init__(
        self,
        dashboard: Dashboard,
        *,
        priority: str = "sync",
        wait: bool = False,
        budget: float | None = None,
    ):
        self.dashboard = dashboard
        self.client = dashboard.connection.client(priority)
        self.wait = wait
        self.deadline = time.monotonic() + budget if budget else None
        self.calls = 0

    def close(self) -> None:
        self.client.close()

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def call(self, fn: Callable, *args, **kwargs):
        failures = 0
        while True:
            try:
                result = fn(*args, **kwargs)
            except errors.LimiterBusy as exc:
                if not self.wait:
                    raise
                time.sleep(min(exc.retry_in, 5.0))
                continue
            except errors.TextRequestError as exc:
                self.calls += 1
                delays = RETRY_DELAYS
                if not (self.wait and exc.transient) or failures >= len(delays):
                    raise
                wait = max(getattr(exc, "retry_after", 0) or 0, delays[failures])
                if wait > MAX_INLINE_WAIT:
                    raise
                time.sleep(wait)
                failures += 1
                continue
            self.calls += 1
            return result

    def pages(self, fn: Callable, *args, start_page: int = 0, **kwargs) -> Iterator:
        """Each non-empty page from ``start_page`` on; stops without an extra call at the end."""
        page = start_page
        while True:
            result = self.call(fn, *args, page=page, page_size=PAGE_SIZE, **kwargs)
            if not result.items:
                return
            yield result
            if len(result.items) < PAGE_SIZE:
                return
            if result.total_items is not None and page * PAGE_SIZE + len(result.items) >= (
                result.total_items
            ):
                return
            page += 1

    def walk(self, fn: Callable, *args, **kwargs) -> Iterator:
        for page in self.pages(fn, *args, **kwargs):
            yield from page.items

    def progress(self, state: SyncState, page, cursor: dict) -> None:
        """Save a resumable cursor and the progress bar of a walk over every page."""
        state.cursor = cursor
        state.progress_done = page.page + 1
        if page.total_items is not None:
            state.progress_total = max(1, math.ceil(page.total_items / PAGE_SIZE))
        state.save(update_fields=["cursor", "progress_done", "progress_total"])


# --- Connections: the list of lines and webhook subscriptions -------------------------------


def sync_dashboards(connection: Connection, *, wait: bool = True) -> list[Dashboard]:
    """Read the account's lines: new ones are added, renamed ones updated, vanished ones
    marked removed (their data stays). Answers the active lines."""
    client = connection.client("sync")
    seen = []
    try:
        page = 0
        while True:
            try:
                result = client.get_dashboards(page=page, page_size=PAGE_SIZE)
            except errors.LimiterBusy as exc:
                if not wait:
                    raise
                time.sleep(min(exc.retry_in, 5.0))
                continue
            for item in result.items:
                Dashboard.objects.update_or_create(
                    connection=connection,
                    dashboard_id=item.id,
                    defaults={
                        "name": (item.name or f"Line {item.id}")[:200],
                        "phone": (item.phone or "")[:20],
                        "removed_at": None,
                    },
                )
                seen.append(item.id)
            if len(result.items) < PAGE_SIZE:
                break
            page += 1
    except errors.TextRequestError as exc:
        Connection.objects.filter(pk=connection.pk).update(sync_error=str(exc)[:500])
        raise
    finally:
        client.close()
    Dashboard.objects.filter(connection=connection, removed_at__isnull=True).exclude(
        dashboard_id__in=seen
    ).update(removed_at=timezone.now())
    Connection.objects.filter(pk=connection.pk).update(synced_at=timezone.now(), sync_error="")
    return list(Dashboard.objects.active().filter(connection=connection))


def webhook_url(connection: Connection) -> str:
    """The connection-wide receiver of texts (subscriptions made before per-event URLs)."""
    path = reverse("hooks:messages", args=[connection.webhook_token])
    return f"{settings.TEXTDESK_PUBLIC_URL}{path}"


def event_url(connection: Connection, dashboard_id: int, event: str) -> str:
    """Where Text Request posts ``event`` of one line: names the line and the event (so a call
    is useful whatever its payload) and carries the unguessable token."""
    path = reverse("hooks:event", args=[connection.webhook_token, dashboard_id, event])
    return f"{settings.TEXTDESK_PUBLIC_URL}{path}"


def _is_ours(target_url: str | None) -> bool:
    """A hook pointing at any textdesk receiver of this deployment (any token)."""
    if not target_url:
        return False
    ours = urlsplit(settings.TEXTDESK_PUBLIC_URL)
    theirs = urlsplit(target_url)
    prefix = reverse("hooks:messages", args=["TOKEN"]).split("TOKEN")[0]
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) and theirs.path.startswith(
        prefix
    )


def wanted_events(offered: list[str]) -> list[str]:
    """The events we subscribe: every one the account offers that textdesk knows."""
    return [event for event in HOOK_EVENTS if event in offered]


def register_hooks(connection: Connection) -> int:
    """Subscribe every active line to every event the account offers (``GET /eventTypes``),
    each at its own URL naming the line and the event, then remove our stale subscriptions
    (other tokens, the old connection-wide URL, duplicates). New before old, so a rotated token
    loses no event. A line whose subscriptions are all in place is marked verified (its events
    may then stand in for polling, ``textdesk/sync/engine.py``). Answers how many hooks were
    created."""
    client = connection.client("interactive")
    created = 0
    try:
        try:
            offered = client.get_event_types()
        except errors.NotFound:
            offered = list(MESSAGE_EVENTS)  # an account without the operation: texts only
        events = wanted_events(offered) or list(MESSAGE_EVENTS)
        for dashboard in Dashboard.objects.active().filter(connection=connection):
            hooks = client.get_hooks(dashboard.dashboard_id)
            keep = {}
            for event in events:
                target = event_url(connection, dashboard.dashboard_id, event)
                current = [h for h in hooks if h.event == event and h.target_url == target]
                if current:
                    keep[event] = current[0].id
                else:
                    keep[event] = client.create_hook(
                        dashboard.dashboard_id, event=event, target_url=target
                    ).id
                    created += 1
            for hook in hooks:
                if _is_ours(hook.target_url) and hook.id not in keep.values():
                    with suppress(errors.NotFound):
                        client.delete_hook(dashboard.dashboard_id, hook.id)
            complete = set(events) >= set(HOOK_EVENTS) - {"location_received"}
            Dashboard.objects.filter(pk=dashboard.pk).update(
                hooks_verified_at=timezone.now() if complete else None
            )
    except errors.TextRequestError:
        # A failing check: polling takes over on every line until a check succeeds.
        Dashboard.objects.filter(connection=connection).update(hooks_verified_at=None)
        raise
    finally:
        client.close()
    Connection.objects.filter(pk=connection.pk).update(hooks_registered_at=timezone.now())
    return created
