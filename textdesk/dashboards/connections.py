"""Connections managed by admins in the UI: add one (after a test call), replace its key, set
its limit, check and re-register its webhooks, watch the first sync, disconnect.

The test call is one ``GetDashboards`` read through the shared limiter (a bucket per key
fingerprint, since the connection does not exist yet): a wrong key, an unreachable URL or a
timeout raise ``ConnectionRefused`` with a sentence for the admin, and nothing is saved.
"""

from __future__ import annotations

import hashlib
import logging
import math
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.dashboards import signals
from textdesk.dashboards.models import (
    Connection,
    Dashboard,
    SyncState,
    key_fingerprint,
    new_webhook_token,
)
from textdesk.dashboards.sync import _is_ours, event_url, register_hooks, sync_dashboards
from textdesk.textrequest import errors
from textdesk.textrequest.client import TextRequestClient
from textdesk.textrequest.types import HOOK_EVENTS

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.textrequest.com/api/v3"


class ConnectionRefused(Exception):
    """The test call failed; ``reason`` says why in words an admin can act on."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _test_client(api_url: str, api_key: str, *, limit: int = 100, window: int = 60):
    fingerprint = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return TextRequestClient(
        api_url,
        api_key,
        bucket=f"key:{fingerprint}",
        limit=limit,
        window=window,
        priority="interactive",
        timeout=(settings.TEXTREQUEST_CONNECT_TIMEOUT, settings.TEXTREQUEST_READ_TIMEOUT),
    )


def test_key(api_url: str, api_key: str) -> list[int]:
    """One call with this key; answers the ids of the lines it sees, or raises
    ``ConnectionRefused``."""
    try:
        client = _test_client(api_url, api_key)
    except ValueError as exc:
        raise ConnectionRefused(f"{exc}.") from exc
    try:
        page = client.get_dashboards(page=0, page_size=100)
    except errors.Unauthorized as exc:
        raise ConnectionRefused(
            f"Text Request refused this API key (HTTP {exc.status}). Check that you copied the "
            "whole key, and that it is still active in Text Request's settings."
        ) from exc
    except errors.NotFound as exc:
        raise ConnectionRefused(
            "This URL answers, but not like Text Request's API (404). It should end in /api/v3."
        ) from exc
    except (errors.NotSent, errors.OutcomeUnknown) as exc:
        if "timeout" in exc.message or "in time" in exc.message:
            raise ConnectionRefused(
                f"Text Request did not answer in time at {api_url}; nothing was saved. Try "
                "again in a minute."
            ) from exc
        raise ConnectionRefused(
            f"Could not reach {api_url} ({exc.message}). Check the address."
        ) from exc
    except errors.TextRequestError as exc:
        raise ConnectionRefused(f"The test call failed: {exc.message}.") from exc
    finally:
        client.close()
    return [item.id for item in page.items]


class AlreadyConnected(Exception):
    """This form was sent before and made ``connection`` (a double click): show that one."""

    def __init__(self, connection: Connection):
        self.connection = connection
        super().__init__(connection.name)


def _connected_already(api_url: str, api_key: str, lines: list[int]) -> str:
    """Why this account must not be connected again, or "". The same key, or another key that
    sees lines an active connection to the same API already mirrors: a second copy of an
    account would lose rows, since Text Request's message ids are unique across both."""
    active = Connection.objects.filter(is_active=True)
    same_key = active.filter(api_key_fingerprint=key_fingerprint(api_key)).first()
    if same_key is not None:
        return f"This API key is already connected as “{same_key.name}”. Nothing was saved."
    line = (
        Dashboard.objects.filter(
            connection__in=active.filter(api_url=api_url), dashboard_id__in=lines
        )
        .select_related("connection")
        .first()
    )
    if line is not None:
        return (
            f"This Text Request account is already connected as “{line.connection.name}” (this "
            f"key sees its line “{line.name}”). Replace that connection's key instead. Nothing "
            "was saved."
        )
    return ""


def add_connection(
    *, name: str, api_url: str, api_key: str, rate_limit: int = 100, client_key=None
) -> Connection:
    """Test the key, then save the connection, read its lines, register its webhooks and start
    the first sync in the background. Raises ``ConnectionRefused`` (nothing saved), or
    ``AlreadyConnected`` when this form (``client_key``) was already sent."""
    if client_key is not None:
        earlier = Connection.objects.filter(client_key=client_key).first()
        if earlier is not None:
            raise AlreadyConnected(earlier)
    lines = test_key(api_url, api_key)
    reason = _connected_already(api_url, api_key, lines)
    if reason:
        raise ConnectionRefused(reason)
    connection = Connection(
        name=name, api_url=api_url, rate_limit=rate_limit, client_key=client_key
    )
    connection.set_api_key(api_key)
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        # The same form's first submit saved it while this one was testing the key.
        raise AlreadyConnected(Connection.objects.get(client_key=client_key)) from None
    sync_dashboards(connection)
    try:
        register_hooks(connection)
    except errors.TextRequestError as exc:
        # Not fatal: the incremental cycle reads the same texts; the page offers "register again".
        Connection.objects.filter(pk=connection.pk).update(sync_error=str(exc)[:500])
    start_sync(connection)
    return connection


def start_sync(connection: Connection) -> None:
    """Tell the sync orchestrator (above this package) to start the first sync, on commit."""
    transaction.on_commit(
        lambda: signals.connection_added.send(sender=Connection, connection=connection)
    )


def replace_key(*, connection: Connection, api_key: str) -> None:
    """Swap the key after a test call that sees at least one of the connection's lines (a key
    of another account would orphan every line). On failure the old key stays."""
    seen = test_key(connection.api_url, api_key)
    known = set(connection.dashboards.values_list("dashboard_id", flat=True))
    if known and not known & set(seen):
        raise ConnectionRefused(
            "This key works, but it belongs to another Text Request account: it sees none of "
            "this connection's lines. The old key stays."
        )
    connection.replace_api_key(api_key)
    connection.sync_error = ""
    connection.save(
        update_fields=[
            "api_key_encrypted",
            "api_key_last4",
            "api_key_fingerprint",
            "previous_api_key_encrypted",
            "api_key_replaced_at",
            "sync_error",
        ]
    )


def disconnect(*, connection: Connection, delete_mirror: bool) -> int:
    """Stop syncing, remove our webhook subscriptions, then keep the mirror read-only or delete
    it. Answers how many subscriptions were removed (Text Request being unreachable does not
    block a disconnect: the subscriptions then point at a token that answers 404)."""
    removed = 0
    Connection.objects.filter(pk=connection.pk).update(is_active=False)
    try:
        client = connection.client("interactive")
        try:
            for line in connection.dashboards.active():
                for hook in client.get_hooks(line.dashboard_id):
                    if _is_ours(hook.target_url):
                        with suppress(errors.NotFound):
                            client.delete_hook(line.dashboard_id, hook.id)
                            removed += 1
        finally:
            client.close()
    except errors.TextRequestError as exc:
        logger.warning("disconnect of %s: webhooks not removed: %s", connection, exc)
    # The old URL must stop working even where its subscription could not be removed.
    Connection.objects.filter(pk=connection.pk).update(webhook_token=new_webhook_token())
    if delete_mirror:
        connection.delete()
    return removed


# --- What the pages show --------------------------------------------------------------------

STAGES = [
    ("lines", "Lines"),
    (SyncState.Resource.CONVERSATIONS, "Conversation lists"),
    (SyncState.Resource.CONTACTS, "Contacts"),
    (SyncState.Resource.PAYMENTS, "Payments"),
    (SyncState.Resource.HISTORIES, "Message histories"),
]
# Calls per unit of progress: list stages count pages (one call each); histories count
# conversations, about one call each.
CALLS_PER_UNIT = 1


@dataclass
class Stage:
    key: str
    label: str
    done: int
    total: int | None
    finished: bool

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(100, round(100 * self.done / self.total)) if self.total else 0


@dataclass
class Progress:
    stages: list[Stage]
    calls_left: int
    seconds_left: int

    @property
    def finished(self) -> bool:
        return all(stage.finished for stage in self.stages)


def _finished(state: SyncState) -> bool:
    if state.resource == SyncState.Resource.HISTORIES:  # a backlog, never a "full" pass
        return bool(state.last_success_at) and state.progress_done >= (state.progress_total or 0)
    return state.last_full_at is not None


def first_sync_progress(connection: Connection, lines=None) -> Progress:
    """Per stage, summed over the connection's lines (or ``lines`` of it: the ones a person
    works), and the time left at its limit (the share sync may use: the limit less the
    reserve kept for people)."""
    lines = list(connection.dashboards.active() if lines is None else lines)
    states: dict[str, list[SyncState]] = {}
    for state in SyncState.objects.filter(dashboard__in=lines):
        states.setdefault(state.resource, []).append(state)
    stages = [Stage("lines", "Lines", len(lines), len(lines), connection.synced_at is not None)]
    calls_left = 0
    for key, label in STAGES[1:]:
        found = states.get(key, [])
        finished = len(found) == len(lines) and all(_finished(s) for s in found)
        done = sum(s.progress_done for s in found)
        totals = [s.progress_total for s in found if s.progress_total]
        total = sum(totals) if totals else None
        stages.append(Stage(key, label, done, total, finished and bool(lines)))
        if not finished:
            # Unknown totals (not started) count one page per line until the first page tells.
            left = (total - done) if total else len(lines)
            calls_left += max(left, 1) * CALLS_PER_UNIT
    per_second = connection.rate_limit * (1 - settings.TEXTDESK_RATE_LIMIT_SYNC_RESERVE)
    per_second /= connection.rate_window
    seconds = math.ceil(calls_left / per_second) if calls_left and per_second else 0
    return Progress(stages, calls_left, seconds)


# What a list page waits for on a line's first sync, and who may ask (as on that page).
FIRST_SYNC = {
    "conversations": ("view_conversations", "conversations"),
    "payments": ("request_payments", "payment requests"),
}


def first_sync_context(user, resource: str, lines=None) -> dict | None:
    """The "Syncing your lines…" notice for a list page that would look empty: the user's
    lines (or ``lines`` of them) that never finished reading ``resource``, with the first-sync
    progress of their connection; None once every line has read it."""
    # A disconnected line will not sync again (``with_first_sync``): its list is what there is.
    syncing = Dashboard.objects.for_user(user).with_first_sync(resource).filter(is_syncing=True)
    if lines is not None:
        syncing = syncing.filter(pk__in=[line.pk for line in lines])
    syncing = list(syncing.order_by("name", "id"))
    if not syncing:
        return None
    connection = syncing[0].connection
    mine = [line for line in syncing if line.connection_id == connection.pk]
    return {
        "resource": resource,
        "noun": FIRST_SYNC[resource][1],
        "syncing_lines": syncing,
        "progress": first_sync_progress(connection, mine),
        "only": ",".join(str(line.pk) for line in (lines or [])),
    }


@dataclass
class LineHooks:
    line: Dashboard
    registered: int | None  # None: Text Request could not be asked
    expected: int
    last_event_at: object
    problem: str = ""

    @property
    def healthy(self) -> bool:
        return self.registered == self.expected

    @property
    def polling_stepped_back(self) -> bool:
        """Whether the incremental cycle leaves payments and new contacts to the events."""
        return self.line.hooks_healthy()


def webhook_health(connection: Connection) -> list[LineHooks]:
    """Per line: our subscriptions in Text Request now (one GetHooks each) against the events
    we need, and the last verified event received for it."""
    result = []
    client = connection.client("interactive")
    try:
        for line in connection.dashboards.active():
            health = LineHooks(line, None, len(HOOK_EVENTS), line.hooks_seen_at)
            try:
                hooks = client.get_hooks(line.dashboard_id)
            except errors.TextRequestError as exc:
                health.problem = exc.message
            else:
                events = {
                    h.event
                    for h in hooks
                    if h.target_url == event_url(connection, line.dashboard_id, h.event)
                }
                health.registered = len(events & set(HOOK_EVENTS))
            result.append(health)
    finally:
        client.close()
    return result


@dataclass
class Signing:
    """How the connection's callbacks were authenticated lately (no call to Text Request)."""

    required_since: object
    last_signed_at: object
    last_unsigned_at: object
    refused: int
    last_reason: str
    last_refused_at: object


def signing_health(connection: Connection, now=None) -> Signing:
    """Signed / unsigned / refused in the last 24 hours with the last reason. Refusals are
    counted by the receivers (above this package), read here through the reverse relation."""
    now = now or timezone.now()
    recent = connection.webhook_refusals.filter(refused_at__gte=now - timedelta(hours=24))
    last = recent.order_by("-refused_at", "-id").values("reason", "refused_at").first() or {}
    return Signing(
        connection.signatures_required_at,
        connection.last_signed_at,
        connection.last_unsigned_at,
        recent.count(),
        last.get("reason", ""),
        last.get("refused_at"),
    )


def reset_signatures(*, connection: Connection) -> None:
    """Back to "verify when signed": unsigned callbacks are accepted again until the next
    validly signed one (e.g. after the account was moved to a service that does not sign)."""
    Connection.objects.filter(pk=connection.pk).update(signatures_required_at=None)
