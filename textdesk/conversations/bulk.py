"""Bulk actions: one action over many conversations of a line (the selected rows, or every
conversation matching the list's filter).

The request only records the batch (``Bulk`` and one ``BulkItem`` per conversation, in one
transaction) and enqueues ``run_bulk``; the task queues each conversation's change through the
usual service (``set_resolved``, ``set_archived``, ``set_tags``, ``assign``) at ``sync``
priority, so the limiter paces them and keeps its reserve for agents' own actions. An item is
marked queued in the transaction that queued its change: a worker that dies mid-batch (or a
second runner) never queues a conversation twice, and beat's sweeper resumes the rest.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.conversations import services
from textdesk.conversations.models import Bulk, BulkItem, Conversation
from textdesk.outbox.models import Change

logger = logging.getLogger(__name__)

# More than this in one go is refused (narrow the filter): it keeps a batch a few minutes long.
BULK_MAX = 5000
CHUNK = 100
# The row outcomes a progress panel lists.
ROWS_SHOWN = 100
INVERSE = {
    Bulk.Action.RESOLVE: Bulk.Action.REOPEN,
    Bulk.Action.REOPEN: Bulk.Action.RESOLVE,
    Bulk.Action.ARCHIVE: Bulk.Action.UNARCHIVE,
    Bulk.Action.UNARCHIVE: Bulk.Action.ARCHIVE,
    Bulk.Action.TAG: Bulk.Action.UNTAG,
    Bulk.Action.UNTAG: Bulk.Action.TAG,
    Bulk.Action.ASSIGN: Bulk.Action.ASSIGN,
}


class BulkRefused(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def start_bulk(
    *,
    line,
    user,
    action: str,
    conversations,
    client_key,
    tag=None,
    assignee=None,
    undo_of: Bulk | None = None,
) -> Bulk:
    """Record the batch and enqueue it. ``conversations``: a queryset already scoped to what
    the user may see on ``line``. The same ``client_key`` twice (a double click) answers the
    first batch."""
    existing = Bulk.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    ids = list(conversations.order_by().values_list("pk", flat=True)[: BULK_MAX + 1])
    if not ids:
        raise BulkRefused("Select at least one conversation.")
    if len(ids) > BULK_MAX:
        raise BulkRefused(
            f"At most {BULK_MAX} conversations at once; narrow the list with a filter."
        )
    if action in (Bulk.Action.TAG, Bulk.Action.UNTAG) and tag is None:
        raise BulkRefused("Pick a tag.")
    try:
        with transaction.atomic():
            bulk = Bulk.objects.create(
                dashboard=line,
                user=user,
                action=action,
                tag=tag,
                assignee=assignee,
                undo_of=undo_of,
                client_key=client_key,
                total=len(ids),
            )
            BulkItem.objects.bulk_create(
                [BulkItem(bulk=bulk, conversation_id=pk) for pk in ids], batch_size=1000
            )
            enqueue_bulk(bulk.pk)
    except IntegrityError:
        # The same client_key committed in parallel (or this batch was already undone).
        found = Bulk.objects.filter(client_key=client_key).first()
        if found is None:
            raise BulkRefused("This batch was already undone.") from None
        return found
    return bulk


def undo_bulk(*, bulk: Bulk, user, client_key) -> Bulk:
    """The opposite action over the conversations the batch changed (Text Request allows each
    of them back: reopen, unarchive, untag; an assignment returns to who had it before)."""
    if bulk.undo_of_id is not None:
        raise BulkRefused("An undo cannot be undone; run the action again instead.")
    if hasattr(bulk, "undone_by"):
        return bulk.undone_by
    if not Bulk.objects.filter(pk=bulk.pk, queued_at__isnull=False).exists():
        # Still queueing: what it changed is not known yet, so its inverse is not either.
        raise BulkRefused(
            "This action is still being queued; undo it once every conversation is queued."
        )
    changed = bulk.items.filter(queued_at__isnull=False, outcome="").values("conversation_id")
    return start_bulk(
        line=bulk.dashboard,
        user=user,
        action=INVERSE[bulk.action],
        conversations=Conversation.objects.filter(pk__in=changed),
        client_key=client_key,
        tag=bulk.tag,
        assignee=None,
        undo_of=bulk,
    )


def enqueue_bulk(bulk_pk: int) -> None:
    enqueue("textdesk.conversations.tasks.run_bulk", bulk_pk)


def run_bulk(bulk_pk: int) -> None:
    """Queue every item not yet queued, one transaction each (the body of the task)."""
    bulk = Bulk.objects.select_related("dashboard", "user", "tag", "assignee").filter(pk=bulk_pk)
    bulk = bulk.first()
    if bulk is None or bulk.queued_at is not None:
        return
    before = {}
    if bulk.undo_of_id and bulk.action == Bulk.Action.ASSIGN:
        before = dict(
            BulkItem.objects.filter(bulk_id=bulk.undo_of_id).values_list(
                "conversation_id", "before__assigned_to"
            )
        )
    last = 0
    while True:
        chunk = list(
            BulkItem.objects.filter(bulk=bulk, queued_at__isnull=True, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not chunk:
            break
        last = chunk[-1]
        for item_pk in chunk:
            _run_item(bulk, item_pk, before)
    Bulk.objects.filter(pk=bulk.pk, queued_at__isnull=True).update(queued_at=timezone.now())


def _run_item(bulk: Bulk, item_pk: int, before: dict) -> None:
    with transaction.atomic():
        # Locked and re-checked: another runner of this batch skips what this one holds.
        item = (
            BulkItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=item_pk, queued_at__isnull=True)
            .select_related("conversation__contact", "conversation__dashboard")
            .first()
        )
        if item is None:
            return
        change, outcome, was = _apply(bulk, item.conversation, before)
        BulkItem.objects.filter(pk=item.pk).update(
            queued_at=timezone.now(), change=change, outcome=outcome, before=was
        )


def _apply(bulk: Bulk, conversation: Conversation, before: dict):
    """One conversation: (the change queued or None, why nothing was queued, what it was)."""
    user, action = bulk.user, bulk.action
    was = {
        "resolved": conversation.is_resolved,
        "archived": conversation.is_archived,
        "assigned_to": conversation.assigned_to_id,
    }
    if action in (Bulk.Action.RESOLVE, Bulk.Action.REOPEN):
        resolved = action == Bulk.Action.RESOLVE
        if conversation.is_resolved == resolved:
            return None, "Already resolved." if resolved else "Already open.", was
        change = services.set_resolved(
            conversation=conversation, user=user, resolved=resolved, priority="sync"
        )
        return change, "", was
    if action in (Bulk.Action.ARCHIVE, Bulk.Action.UNARCHIVE):
        archived = action == Bulk.Action.ARCHIVE
        if conversation.is_archived == archived:
            return None, "Already archived." if archived else "Not archived.", was
        change = services.set_archived(
            conversation=conversation, user=user, archived=archived, priority="sync"
        )
        return change, "", was
    if action in (Bulk.Action.TAG, Bulk.Action.UNTAG):
        if bulk.tag is None:
            return None, "The tag was removed.", was
        tags = list(conversation.contact.tags.all())
        has = any(t.pk == bulk.tag_id for t in tags)
        if action == Bulk.Action.TAG:
            if has:
                return None, "Already tagged.", was
            tags.append(bulk.tag)
        else:
            if not has:
                return None, "Did not have the tag.", was
            tags = [t for t in tags if t.pk != bulk.tag_id]
        change = services.set_tags(conversation=conversation, user=user, tags=tags, priority="sync")
        return change, "", was
    # Assign: local to textdesk, nothing to write to Text Request.
    assignee_id = before.get(conversation.pk) if bulk.undo_of_id else bulk.assignee_id
    if conversation.assigned_to_id == assignee_id:
        return None, "Already assigned so.", was
    # Like a person's own assignment: out of the automatic queue (routing.py).
    Conversation.objects.filter(pk=conversation.pk).update(
        assigned_to_id=assignee_id, queued_at=None
    )
    return None, "", was


def progress(bulk: Bulk) -> dict:
    """Counts for the progress panel, in one read."""
    counts = BulkItem.objects.filter(bulk=bulk).aggregate(
        queued=Count("pk", filter=Q(queued_at__isnull=False)),
        skipped=Count("pk", filter=Q(queued_at__isnull=False) & ~Q(outcome="")),
        local=Count("pk", filter=Q(queued_at__isnull=False, change__isnull=True, outcome="")),
        done=Count("pk", filter=Q(change__status=Change.Status.DONE)),
        failed=Count("pk", filter=Q(change__status=Change.Status.FAILED)),
        unknown=Count("pk", filter=Q(change__status=Change.Status.UNKNOWN)),
        superseded=Count("pk", filter=Q(change__status=Change.Status.SUPERSEDED)),
    )
    finished = (
        counts["skipped"]
        + counts["local"]
        + counts["done"]
        + counts["failed"]
        + counts["superseded"]
    )
    counts.update(
        total=bulk.total,
        written=counts["done"] + counts["local"],
        finished=finished,
        is_finished=finished >= bulk.total,
        percent=int(100 * finished / bulk.total) if bulk.total else 100,
    )
    return counts


def item_rows(bulk: Bulk):
    """The rows the panel lists: failed ones first, then the others, up to ROWS_SHOWN."""
    items = BulkItem.objects.filter(bulk=bulk).select_related("conversation__contact", "change")
    failed = Q(change__status__in=[Change.Status.FAILED, Change.Status.UNKNOWN])
    rows = list(items.filter(failed)[:ROWS_SHOWN])
    if len(rows) < ROWS_SHOWN:
        rows += list(items.exclude(failed)[: ROWS_SHOWN - len(rows)])
    for row in rows:
        row.state = _state(row)
    return rows


def _state(item: BulkItem) -> str:
    if item.queued_at is None:
        return "Waiting"
    if item.outcome:
        return f"Skipped: {item.outcome}"
    if item.change is None:
        return "Done"
    change = item.change
    if change.status == Change.Status.FAILED:
        return f"Failed: {change.failure_reason or 'Text Request refused it.'}"
    if change.status == Change.Status.SUPERSEDED:
        return "Replaced by a newer change"
    return change.get_status_display()


def sweep_bulks(*, min_age: timedelta = timedelta(seconds=30)) -> int:
    """Beat: resume batches whose runner was lost (a worker killed mid-batch)."""
    stale = Bulk.objects.filter(
        queued_at__isnull=True, created_at__lt=timezone.now() - min_age
    ).values_list("pk", flat=True)[:50]
    stale = list(stale)
    with transaction.atomic():
        for pk in stale:
            enqueue_bulk(pk)
    return len(stale)
