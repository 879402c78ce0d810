"""The sync engine: keeps each line's data in step with Text Request, cheaply.

One run of ``run_sync`` for a line, under a per-line lease (one sync per line at a time across
every worker), does what is due, in this order:

1. tags, custom fields, groups: whole lists, every 15 minutes (and on the first sync);
2. the conversation list, newest first, until it reaches what is known (the first sync reads
   every page, so the inbox is complete within about a minute);
3. contacts: every page on the first sync and on a slow full pass (every 6 hours, which also
   reflects deletions); otherwise only when step 2 found activity, those with
   ``last_message_timestamp_after_utc`` since the last read;
4. payments, every cycle: the open ones refreshed (cheaply, see payments/sync.py), new
   ones every 5 minutes; contacts created in Text Request without a text, every 5 minutes;
   while the line's event subscriptions are healthy (``Dashboard.hooks_healthy``) the
   per-cycle open-payments read and the new-contacts read are left to the events
   (``payment_status_updated``, ``contact_created``), and polling takes them back on its own
   when the events stop being healthy ("Sync now" always reads both);
5. message histories: conversations with new activity, then every history never read,
   newest conversation first, until the run's time budget is spent.

On a line's first sync a task stops after step 2 and re-enqueues itself, so every line's
inbox is complete before any line's backlog is worked (the ``sync`` command does the same in
two passes over the lines).

When nothing changed, a cycle costs one call per line (the first page of the conversation
list). Every call goes through the shared limiter at ``sync`` priority; when the limiter is
busy a task re-schedules itself (``LimiterBusy``) and resumes from the stored cursors; the
``sync`` command and eager mode wait instead. Upserts are keyed by Text Request's ids, so a
rerun or a crash midway never duplicates or loses rows.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from textdesk.contacts import sync as contacts_sync
from textdesk.conversations import sync as conversations_sync
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Connection, Dashboard, SyncState
from textdesk.dashboards.sync import Run
from textdesk.payments import sync as payments_sync
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# A task's share of work before it hands over to a fresh task (well inside the soft limit).
TASK_BUDGET = 45.0
EVERY = {
    SyncState.Resource.TAGS: timedelta(minutes=15),
    SyncState.Resource.FIELDS: timedelta(minutes=15),
    SyncState.Resource.GROUPS: timedelta(minutes=15),
    SyncState.Resource.PAYMENTS: timedelta(0),  # every cycle; payments/sync.py reads little
}
CONTACTS_FULL_EVERY = timedelta(hours=6)
NEW_CONTACTS_EVERY = timedelta(minutes=5)
# Activity polling finds that is older than this and that no event brought means the line's
# events are not arriving (a fresher one may simply be on its way).
EVENT_LATENESS = timedelta(minutes=2)
DASHBOARDS_EVERY = timedelta(minutes=15)


class StepFailed(Exception):
    """A step stopped on an error from Text Request (recorded on its SyncState)."""


@contextmanager
def dashboard_lock(dashboard: Dashboard, lease: timedelta = LEASE) -> Iterator[bool]:
    """A lease on the line's row: yields whether this caller holds it (then releases it)."""
    token = secrets.token_hex(8)
    now = timezone.now()
    held = (
        Dashboard.objects.filter(pk=dashboard.pk)
        .filter(Q(sync_locked_until__isnull=True) | Q(sync_locked_until__lt=now))
        .update(sync_lock_token=token, sync_locked_until=now + lease)
        == 1
    )
    try:
        yield held
    finally:
        if held:
            Dashboard.objects.filter(pk=dashboard.pk, sync_lock_token=token).update(
                sync_lock_token="", sync_locked_until=None
            )


def states_for(dashboard: Dashboard) -> dict[str, SyncState]:
    states = {s.resource: s for s in SyncState.objects.filter(dashboard=dashboard)}
    for resource in SyncState.Resource.values:
        if resource not in states:
            states[resource], _ = SyncState.objects.get_or_create(
                dashboard=dashboard, resource=resource
            )
    return states


def _due(state: SyncState, full: bool, now) -> bool:
    if full or state.last_success_at is None or state.cursor.get("walk") == "full":
        return True
    return now - state.last_success_at >= EVERY.get(state.resource, timedelta(0))


def run_sync(
    dashboard: Dashboard,
    *,
    full: bool = False,
    wait: bool = False,
    budget: float | None = None,
    resources: list[str] | None = None,
    manual: bool = False,
) -> bool:
    """One sync run of a line (see the module docstring). Answers whether work remains (a
    history backlog); raises ``LimiterBusy`` when not waiting and the limiter is busy.
    Returns False at once if another run holds the line."""
    R = SyncState.Resource
    with dashboard_lock(dashboard) as held:
        if not held:
            logger.info("sync of %s already running; skipped", dashboard)
            return False
        run = Run(dashboard, wait=wait, budget=budget)
        states = states_for(dashboard)
        now = timezone.now()
        dashboard.refresh_from_db(fields=["hooks_verified_at", "hooks_seen_at", "hooks_missed_at"])
        events_cover = dashboard.hooks_healthy(now) and not manual
        wanted = set(resources or R.values)
        try:
            for resource, fn in (
                (R.TAGS, lambda s: contacts_sync.sync_tags(run)),
                (R.FIELDS, lambda s: contacts_sync.sync_fields(run)),
                (R.GROUPS, lambda s: contacts_sync.sync_groups(run)),
            ):
                if resource in wanted and _due(states[resource], full, now):
                    _step(run, states[resource], fn)
            changed: list[int] = []
            if R.CONVERSATIONS in wanted:
                listing = states[R.CONVERSATIONS]
                first_listing = listing.last_full_at is None
                _step(
                    run,
                    listing,
                    lambda s: changed.extend(conversations_sync.sync_conversation_list(run, s)),
                )
                if events_cover and changed and not first_listing:
                    _events_missed(dashboard, changed, now)
                if first_listing and not wait:
                    # The inbox of every line first: hand over to the other lines' runs and
                    # come back (the task re-enqueues itself) for contacts and histories.
                    return True
            contacts = states[R.CONTACTS]
            if changed:
                # Remembered in the database, so a crash before the next steps loses nothing.
                conversations_sync.mark_stale(states[R.HISTORIES], changed)
                contacts.cursor = {**contacts.cursor, "dirty": True}
                contacts.save(update_fields=["cursor"])
            if R.CONTACTS in wanted:
                contacts_full = (
                    full
                    or contacts.last_full_at is None
                    or contacts.cursor.get("walk") == "full"
                    or now - contacts.last_full_at >= CONTACTS_FULL_EVERY
                )
                if contacts_full or contacts.cursor.get("dirty"):
                    _step(run, contacts, lambda s: contacts_sync.sync_contacts(
                        run, s, full=contacts_full))  # fmt: skip
                elif not events_cover and _new_contacts_due(contacts, now, manual):
                    _step(run, contacts, lambda s: contacts_sync.sync_new_contacts(run, s))
            if R.PAYMENTS in wanted and _due(states[R.PAYMENTS], full, now):
                _step(run, states[R.PAYMENTS], lambda s: payments_sync.sync_payments(
                    run, s, full=full, open_each_cycle=not events_cover,
                    manual=manual))  # fmt: skip
            more = False
            if R.HISTORIES in wanted:
                histories = states[R.HISTORIES]

                def fill(s):
                    nonlocal more
                    more = conversations_sync.fill_histories(run, s)

                _step(run, histories, fill)
            Dashboard.objects.filter(pk=dashboard.pk).update(synced_at=timezone.now())
            return more
        except StepFailed:
            return False
        finally:
            run.close()


def _new_contacts_due(state: SyncState, now, manual: bool) -> bool:
    if manual:
        return True
    since = state.cursor.get("created_since")
    return since is None or now - datetime.fromisoformat(since) >= NEW_CONTACTS_EVERY


def _events_missed(dashboard: Dashboard, changed: list[int], now) -> None:
    """Polling found activity that no event brought (older than a late event could be): the
    line's events are not healthy until the next event or check."""
    if Conversation.objects.filter(
        pk__in=changed, last_message_at__lt=now - EVENT_LATENESS
    ).exists():
        logger.info("events of %s missed activity; polling takes over", dashboard)
        Dashboard.objects.filter(pk=dashboard.pk).update(hooks_missed_at=now)


FIRST_PASS = [
    SyncState.Resource.TAGS,
    SyncState.Resource.FIELDS,
    SyncState.Resource.GROUPS,
    SyncState.Resource.CONVERSATIONS,
]


def sync_lines(lines, *, full: bool = False) -> None:
    """Sync several lines in the foreground (waiting on the limiter): every line's lists and
    conversation list first, so every inbox is usable early, then everything else."""
    lines = list(lines)
    for line in lines:
        run_sync(line, full=full, wait=True, resources=FIRST_PASS)
    rest = [r for r in SyncState.Resource.values if r not in FIRST_PASS]
    for line in lines:
        run_sync(line, full=full, wait=True, resources=rest)


def _step(run: Run, state: SyncState, fn: Callable[[SyncState], None]) -> None:
    started = run.calls
    try:
        fn(state)
    except errors.LimiterBusy:
        state.calls = run.calls - started
        state.save()
        raise
    except errors.TextRequestError as exc:
        logger.warning("sync of %s %s failed: %s", run.dashboard, state.resource, exc)
        state.last_error = str(exc)[:500]
        state.last_error_at = timezone.now()
        state.calls = run.calls - started
        state.save()
        raise StepFailed(str(exc)) from exc
    state.last_success_at = timezone.now()
    state.last_error = ""
    state.calls = run.calls - started
    if state.cursor.get("walk") != "full" and state.progress_total:
        state.progress_done = state.progress_total
    state.save()


def connection_due(connection: Connection, now=None) -> bool:
    now = now or timezone.now()
    return connection.synced_at is None or now - connection.synced_at >= DASHBOARDS_EVERY
