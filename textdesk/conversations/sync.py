"""Reading a line's conversation list and message histories from Text Request.

The conversation list is newest first: the first sync reads every page (resumable through the
stored cursor); afterwards a run reads until it meets the newest last message it had already
seen, usually on the first page. Histories are read newest first too: a history never read is
read whole; a conversation with new activity is read until the newest message read before.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.conversations.inbound import record_message, record_messages
from textdesk.conversations.models import Conversation, Message
from textdesk.dashboards.models import Dashboard, SyncState
from textdesk.dashboards.sync import Run
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr

# Conversations whose history is read per batch of the backlog query.
BACKLOG_BATCH = 50


def _stamp(entry: tr.Conversation) -> datetime | None:
    return entry.last_message.message_timestamp_utc if entry.last_message else None


def sync_conversation_list(run, state: SyncState) -> list[int]:
    """Read the conversation list (see the module docstring); answers the ids of our
    conversations with new activity."""
    dashboard = run.dashboard
    first = state.last_full_at is None
    cursor = dict(state.cursor)
    newest = _parse(cursor.get("newest"))
    start = cursor.get("page", 0) if first else 0
    walk_newest = _parse(cursor.get("walk_newest"))
    changed: list[int] = []
    for page in run.pages(
        run.client.get_conversations, dashboard.dashboard_id, include_archived=True,
        start_page=start,
    ):  # fmt: skip
        entries = [e for e in page.items if e.last_message is not None]
        if page.page == start and entries and (walk_newest is None or start == 0):
            walk_newest = _stamp(entries[0])
        stop = False
        if not first and newest is not None:
            known = set(
                Message.objects.filter(
                    message_id__in=[e.last_message.message_id for e in entries]
                ).values_list("message_id", flat=True)
            )
            fresh = []
            for entry in entries:
                stamp = _stamp(entry)
                if stamp is not None and (
                    stamp < newest or (stamp == newest and entry.last_message.message_id in known)
                ):
                    stop = True
                    break
                fresh.append(entry)
            entries = fresh
        with transaction.atomic():  # one commit per page
            changed.extend(apply_entries(dashboard, entries, is_new=not first))
        if first:
            cursor.update(page=page.page + 1, walk_newest=_iso(walk_newest))
            run.progress(state, page, cursor)
        if stop:
            break
    candidates = [d for d in (newest, walk_newest) if d is not None]
    state.cursor = {"newest": _iso(max(candidates))} if candidates else {}
    if first:
        state.last_full_at = timezone.now()
    return changed


def apply_entries(
    dashboard: Dashboard, entries: list[tr.Conversation], *, is_new: bool
) -> list[int]:
    """Upsert the contacts, conversations and last messages of a page of the list."""
    if not entries:
        return []
    phones = [e.phone_number for e in entries]
    contacts = {
        c.phone_number: c
        for c in Contact.objects.filter(dashboard=dashboard, phone_number__in=phones)
    }
    missing = [p for p in dict.fromkeys(phones) if p not in contacts]
    if missing:
        Contact.objects.bulk_create(
            [Contact(dashboard=dashboard, phone_number=p) for p in missing], ignore_conflicts=True
        )
        contacts = {
            c.phone_number: c
            for c in Contact.objects.filter(dashboard=dashboard, phone_number__in=phones)
        }
    conversations = {
        c.contact_id: c for c in Conversation.objects.filter(contact__in=contacts.values())
    }
    absent = [c for c in contacts.values() if c.pk not in conversations]
    if absent:
        Conversation.objects.bulk_create(
            [Conversation(dashboard=dashboard, contact=c) for c in absent], ignore_conflicts=True
        )
        conversations = {
            c.contact_id: c for c in Conversation.objects.filter(contact__in=contacts.values())
        }
    changed = []
    for entry in entries:
        conversation = conversations[contacts[entry.phone_number].pk]
        record_message(conversation, entry.last_message, is_new=is_new)
        changed.append(conversation.pk)
    return changed


def mark_stale(state: SyncState, conversation_pks: list[int]) -> None:
    """Remember conversations whose history must be read up to date (survives a crash)."""
    stale = list(dict.fromkeys([*state.cursor.get("stale", []), *conversation_pks]))
    state.cursor = {**state.cursor, "stale": stale}
    state.save(update_fields=["cursor"])


def fill_histories(run, state: SyncState) -> bool:
    """Read stale histories, then never-read ones newest conversation first, within the run's
    budget. Answers whether a backlog remains."""
    dashboard = run.dashboard
    stale = list(state.cursor.get("stale", []))
    while stale:
        if run.out_of_time():
            return True
        conversation = (
            Conversation.objects.filter(pk=stale[0], dashboard=dashboard)
            .select_related("contact")
            .first()
        )
        if conversation is not None:
            fill_history(run, conversation)
        stale.pop(0)
        state.cursor = {**state.cursor, "stale": stale}
        state.save(update_fields=["cursor"])
    backlog = Conversation.objects.filter(dashboard=dashboard, history_synced_at__isnull=True)
    while True:
        batch = list(backlog.select_related("contact").order_by(
            "-last_message_at", "-id")[:BACKLOG_BATCH])  # fmt: skip
        if not batch:
            break
        for conversation in batch:
            if run.out_of_time():
                _history_progress(state, dashboard)
                return True
            fill_history(run, conversation)
        _history_progress(state, dashboard)
    _history_progress(state, dashboard)
    return False


def _history_progress(state: SyncState, dashboard: Dashboard) -> None:
    conversations = Conversation.objects.filter(dashboard=dashboard)
    state.progress_total = conversations.count()
    state.progress_done = conversations.filter(history_synced_at__isnull=False).count()
    state.save(update_fields=["progress_total", "progress_done"])


def fill_history(run, conversation: Conversation) -> None:
    """Read one conversation's messages newest first: all of them if never read, otherwise
    down to the newest message read last time."""
    dashboard = run.dashboard
    full = conversation.history_synced_at is None
    stop_at = None if full else conversation.history_cursor_at
    newest = None
    for page in run.pages(
        run.client.get_messages, dashboard.dashboard_id, conversation.contact.phone_number
    ):
        items = page.items
        if newest is None and items:
            newest = items[0].message_timestamp_utc
        reached = False
        if stop_at is not None:
            keep = [m for m in items if m.message_timestamp_utc is None
                    or m.message_timestamp_utc >= stop_at]  # fmt: skip
            reached = len(keep) < len(items)
            items = keep
        with transaction.atomic():  # one commit per page
            record_messages(conversation, items, is_new=not full)
        if reached:
            break
    updates = {}
    if newest is not None and (
        conversation.history_cursor_at is None or newest > conversation.history_cursor_at
    ):
        updates["history_cursor_at"] = newest
    if full:
        updates["history_synced_at"] = timezone.now()
    if updates:
        Conversation.objects.filter(pk=conversation.pk).update(**updates)


def fill_history_now(conversation_pk: int, *, priority: str = "interactive") -> float | None:
    """Read a conversation's history at once (an agent opened it). Answers seconds to wait
    and try again if the limiter was busy, else None."""
    conversation = (
        Conversation.objects.select_related("contact", "dashboard__connection")
        .filter(pk=conversation_pk)
        .filter(Q(dashboard__removed_at__isnull=True))
        .first()
    )
    if conversation is None:
        return None
    run = Run(conversation.dashboard, priority=priority)
    try:
        fill_history(run, conversation)
    except errors.LimiterBusy as exc:
        return max(exc.retry_in, 0.5)
    except errors.TextRequestError:
        return None  # the background sync fills it later
    finally:
        run.close()
    return None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
