"""Keeping the reports' rollups: facts per conversation, then sums per line and day.

`conversation_facts` is the one definition of every measure (see the "How we count" note on
the page, which says the same in words). `refresh` applies it incrementally to conversations
touched since the watermark; `rebuild` applies it to everything. Both write the same rows, so a
rebuilt rollup equals an incrementally kept one, and both equal the raw rows (tested).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.utils import OperationalError
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.services import REOPEN, RESOLVE
from textdesk.conversations.waits import RESOLVE as RESOLVE_EVENT
from textdesk.conversations.waits import (
    RESOLVE_VOID,
    Waits,
    is_person_reply,
    named_by_a_person,
    timeline,
)
from textdesk.dashboards.hours import ALWAYS, Hours, hours_of
from textdesk.dashboards.models import BusinessHours
from textdesk.outbox.models import Change
from textdesk.reports import histograms
from textdesk.reports.models import (
    AgentDay,
    ConversationDay,
    LineDay,
    Reply,
    Resolution,
    RollupState,
)

SENT = Message.Status.SENT
RECEIVED = Message.Direction.RECEIVED
IN_FLIGHT = tuple(Message.ACTIVE)
# Rows created this recently may belong to transactions still open (ids are handed out before
# commit), so the watermark stays behind them and the next run looks at them again.
SETTLE = timedelta(minutes=5)
BATCH = 20_000
MESSAGE_FIELDS = ("conversation_id", "sent_at", "id", "direction", "status", "sent_by_id")
DAY_COUNTERS = ("received", "sent", "sent_by_people", "new_conversations")
RECEIVED_AT, SENT_AT, PEOPLE_AT, NEW_AT = range(4)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone(settings.TIME_ZONE)


def local_day(moment: datetime, tz: ZoneInfo | None = None) -> date:
    return moment.astimezone(tz or zone()).date()


@dataclass
class Facts:
    """What one conversation contributes to the reports. Plain tuples, not model instances:
    a rebuild makes millions of them.

    `days`: {(day, agent id or None): [received, sent, sent by people, new conversations]};
    `replies` and `resolutions`: (conversation, line, agent, start, end, day, business seconds);
    a reply also says whether it was its episode's first response.
    """

    days: dict[tuple[date, int | None], list[int]] = field(default_factory=dict)
    replies: list[tuple] = field(default_factory=list)
    resolutions: list[tuple] = field(default_factory=list)

    def count(self, day: date, agent_id: int | None, index: int) -> None:
        bucket = self.days.get((day, agent_id))
        if bucket is None:
            bucket = self.days[(day, agent_id)] = [0, 0, 0, 0]
        bucket[index] += 1


def conversation_facts(
    conversation_id: int,
    dashboard_id: int,
    messages: Iterable[tuple],
    resolves: Iterable[tuple[datetime, int | None]],
    hours: Hours = ALWAYS,
) -> Facts:
    """The facts of one conversation. What a wait, a reply and a resolution are is
    `conversations.waits` (the SLA clocks walk the same `Waits`).

    `messages`: (sent_at, id, direction, status, sent_by_id, sender_name) in time order.
    `resolves`: (resolved_at, resolved_by_id) of the resolves that stand, in time order.
    """
    tz = zone()
    facts = Facts()
    clock = Waits()
    seen_first = False
    for at, kind, row in timeline(messages, resolves):
        day = at.astimezone(tz).date()
        if kind == RESOLVE_EVENT:
            # Resolved without a reply: the wait ends unanswered (no response time).
            opened_at = clock.resolved(at)
            if opened_at is not None:
                seconds = hours.seconds_between(opened_at, at)
                facts.resolutions.append(
                    (conversation_id, dashboard_id, row[1], opened_at, at, day, seconds)
                )
            continue
        _, _, direction, status, sent_by_id, sender_name = row
        if direction == RECEIVED:
            facts.count(day, None, RECEIVED_AT)
            clock.received(at)
        elif status == SENT:
            facts.count(day, sent_by_id, SENT_AT)
            if is_person_reply(direction, sent_by_id, sender_name):
                facts.count(day, sent_by_id, PEOPLE_AT)
                is_first = clock.replies == 0
                waiting_from = clock.replied(at)
                if waiting_from is not None:
                    seconds = hours.seconds_between(waiting_from, at)
                    facts.replies.append(
                        (
                            conversation_id,
                            dashboard_id,
                            sent_by_id,
                            waiting_from,
                            at,
                            day,
                            seconds,
                            is_first,
                        )
                    )
        else:
            continue  # queued, sending, unconfirmed or failed: not (yet) a text sent
        if not seen_first:
            facts.count(day, None, NEW_AT)
            seen_first = True
    return facts


# --- Reading the raw rows --------------------------------------------------------------------


def _hours_by_line() -> dict[int, Hours]:
    return {row.dashboard_id: hours_of(row) for row in BusinessHours.objects.all()}


def _conversation_changes(conversation_ids: list[int] | None = None, **filters):
    """Changes of conversations (resolve, reopen), each annotated with its ``conversation_id``:
    the outbox points at the conversation's contact (one conversation per contact)."""
    rows = (
        Change.objects.of_model(Contact)
        .filter(**filters)
        .annotate(
            conversation_id=Subquery(
                Conversation.objects.filter(contact_id=OuterRef("target_id")).values("pk")[:1]
            )
        )
        .filter(conversation_id__isnull=False)
    )
    if conversation_ids is not None:
        rows = rows.filter(
            target_id__in=Conversation.objects.filter(pk__in=conversation_ids).values("contact_id")
        )
    return rows


def _resolves(conversation_ids: list[int] | None) -> dict[int, list[tuple]]:
    rows = _conversation_changes(conversation_ids, kind=RESOLVE).exclude(status__in=RESOLVE_VOID)
    found = defaultdict(list)
    for conversation_id, created_at, user_id in rows.order_by("created_at", "id").values_list(
        "conversation_id", "created_at", "created_by_id"
    ):
        found[conversation_id].append((created_at, user_id))
    return found


def _messages(conversation_ids: list[int] | None) -> Iterator[tuple]:
    """(conversation_id, sent_at, id, direction, status, sent_by_id, sender_name) ordered by
    conversation, then time."""
    rows = Message.objects.all()
    if conversation_ids is not None:
        rows = rows.filter(conversation_id__in=conversation_ids)
    # The body is never read; whether it names a person is all that matters about the name.
    rows = rows.annotate(named=named_by_a_person()).order_by("conversation_id", "sent_at", "id")
    return rows.values_list(*MESSAGE_FIELDS, "named").iterator(chunk_size=10_000)


def _facts_of(conversation_ids: list[int] | None, lines: dict[int, int]):
    """(conversation_id, dashboard_id, Facts) for each conversation (all of them when None)."""
    hours = _hours_by_line()
    resolves = _resolves(conversation_ids)
    current, rows = None, []

    def done(cid: int):
        line = lines[cid]
        return (
            cid,
            line,
            conversation_facts(cid, line, rows, resolves.pop(cid, []), hours.get(line, ALWAYS)),
        )

    for cid, *rest in _messages(conversation_ids):
        if cid != current:
            if current is not None:
                yield done(current)
            current, rows = cid, []
        rows.append(tuple(rest))
    if current is not None:
        yield done(current)
    # Conversations with resolves but no messages left still need their (empty) facts.
    for cid in list(resolves):
        if cid in lines:
            rows = []
            yield done(cid)


# --- Writing ---------------------------------------------------------------------------------


REPLY_COLUMNS = (
    "conversation",
    "dashboard",
    "agent",
    "waited_from",
    "replied_at",
    "day",
    "seconds",
    "is_first",
)
RESOLUTION_COLUMNS = (
    "conversation",
    "dashboard",
    "agent",
    "opened_at",
    "resolved_at",
    "day",
    "seconds",
)
CONVERSATION_DAY_COLUMNS = ("conversation", "dashboard", "day", "agent", *DAY_COUNTERS)


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain rows: COPY on PostgreSQL (a rebuild writes millions), bulk_create elsewhere."""
    if not rows:
        return
    names = [model._meta.get_field(c).column for c in columns]
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(n) for n in names)
        sql = f"COPY {table} ({quoted}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    model.objects.bulk_create(
        [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=1_000
    )


def _write_facts(items, batch: int = 20_000) -> set[tuple[int, date]]:
    """Insert the facts; answer the (line, day) pairs they touch."""
    touched = set()
    days, replies, resolutions = [], [], []

    def flush():
        _insert(ConversationDay, CONVERSATION_DAY_COLUMNS, days)
        _insert(Reply, REPLY_COLUMNS, replies)
        _insert(Resolution, RESOLUTION_COLUMNS, resolutions)
        days.clear(), replies.clear(), resolutions.clear()

    for cid, line, facts in items:
        for (day, agent_id), counts in facts.days.items():
            days.append((cid, line, day, agent_id, *counts))
            touched.add((line, day))
        replies.extend(facts.replies)
        resolutions.extend(facts.resolutions)
        touched.update((line, r[5]) for r in facts.replies)
        touched.update((line, r[5]) for r in facts.resolutions)
        if len(days) + len(replies) >= batch:
            flush()
    flush()
    return touched


def _fact_pairs(conversation_ids: list[int]) -> set[tuple[int, date]]:
    pairs = set()
    for model in (ConversationDay, Reply, Resolution):
        pairs.update(
            model.objects.filter(conversation_id__in=conversation_ids)
            .values_list("dashboard_id", "day")
            .distinct()
        )
    return pairs


def _pairs_scope(pairs: set[tuple[int, date]] | None) -> Q:
    """Rows of exactly these (line, day) pairs (None: every row)."""
    if pairs is None:
        return Q()
    days_of = defaultdict(set)
    for line, day in pairs:
        days_of[line].add(day)
    scope = Q(pk__in=[])
    for line, days in days_of.items():
        scope |= Q(dashboard_id=line, day__in=days)
    return scope


def _sum_days(pairs: set[tuple[int, date]] | None) -> tuple[dict, dict]:
    """Sums of the facts per (line, day) and per (line, day, agent)."""
    scope = _pairs_scope(pairs)
    per_line: dict = defaultdict(lambda: defaultdict(int))
    per_agent: dict = defaultdict(lambda: defaultdict(int))
    counters = ("received", "sent", "sent_by_people", "new_conversations")
    for row in (
        ConversationDay.objects.filter(scope)
        .values("dashboard_id", "day", "agent_id")
        .annotate(**{name: Sum(name) for name in counters})
    ):
        key = (row["dashboard_id"], row["day"])
        for name in counters:
            per_line[key][name] += row[name]
            if row["agent_id"] is not None:
                per_agent[(*key, row["agent_id"])][name] += row[name]
    for model, count, total, histogram in (
        (Reply, "replies", "reply_seconds", "reply_histogram"),
        (Resolution, "resolutions", "resolution_seconds", "resolution_histogram"),
    ):
        rows = model.objects.filter(scope).values_list("dashboard_id", "day", "agent_id", "seconds")
        for line_id, day, agent_id, seconds in rows.iterator(chunk_size=10_000):
            key = str(histograms.bucket(seconds))
            sums = [per_line[(line_id, day)]]
            if agent_id is not None:
                sums.append(per_agent[(line_id, day, agent_id)])
            for slot in sums:
                slot[count] += 1
                slot[total] += seconds
                slot.setdefault(histogram, defaultdict(int))[key] += 1
    return per_line, per_agent


def _write_totals(pairs: set[tuple[int, date]] | None) -> None:
    """Recompute LineDay and AgentDay for these (line, day) pairs (None: all of them)."""
    if pairs is not None and not pairs:
        return
    per_line, per_agent = _sum_days(pairs)
    scope = _pairs_scope(pairs)
    LineDay.objects.filter(scope).delete()
    AgentDay.objects.filter(scope).delete()
    LineDay.objects.bulk_create(
        [LineDay(dashboard_id=line, day=day, **sums) for (line, day), sums in per_line.items()],
        batch_size=5_000,
    )
    AgentDay.objects.bulk_create(
        [
            AgentDay(dashboard_id=line, day=day, agent_id=agent, **sums)
            for (line, day, agent), sums in per_agent.items()
        ],
        batch_size=5_000,
    )


def _in_flight(conversation_ids: list[int] | None) -> list[int]:
    """Conversations with a text or a resolve not settled yet: looked at again next run."""
    texts = Message.objects.filter(status__in=IN_FLIGHT)
    changes = _conversation_changes(conversation_ids, kind=RESOLVE, status__in=Change.ACTIVE)
    if conversation_ids is not None:
        texts = texts.filter(conversation_id__in=conversation_ids)
    found = set(texts.values_list("conversation_id", flat=True))
    found.update(changes.values_list("conversation_id", flat=True))
    return sorted(found)


def recompute(conversation_ids: Iterable[int]) -> set[tuple[int, date]]:
    """Replace the facts of these conversations and the totals of the days they touch."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return set()
    lines = dict(Conversation.objects.filter(pk__in=ids).values_list("pk", "dashboard_id"))
    pairs = _fact_pairs(ids)
    for model in (ConversationDay, Reply, Resolution):
        model.objects.filter(conversation_id__in=ids).delete()
    pairs |= _write_facts(_facts_of(list(lines), lines))
    _write_totals(pairs)
    return pairs


# --- The two entry points --------------------------------------------------------------------


def _new_since(rows, watermark: int, now: datetime) -> tuple[list[int], int, bool]:
    """Conversations of rows with ids past the watermark, the new watermark, and whether more
    rows are waiting. The watermark stops before rows younger than SETTLE."""
    rows = list(
        rows.filter(id__gt=watermark, conversation_id__isnull=False)
        .order_by("id")
        .values_list("id", "conversation_id", "created_at")[:BATCH]
    )
    conversations = {cid for _, cid, _ in rows}
    settled = watermark
    for row_id, _, created_at in rows:
        if created_at > now - SETTLE:
            break
        settled = row_id
    return sorted(conversations), settled, len(rows) == BATCH


def refresh(*, now: datetime | None = None) -> dict | None:
    """Bring the rollups up to date with what changed since the last run.

    Answers what it did, or None when another run (or a rebuild) holds the state."""
    now = now or timezone.now()
    with transaction.atomic():
        RollupState.objects.get_or_create(pk=1)
        try:
            state = RollupState.objects.select_for_update(nowait=True).get(pk=1)
        except OperationalError:
            return None
        texts, text_mark, more_texts = _new_since(Message.objects.all(), state.last_message_id, now)
        changes, change_mark, more_changes = _new_since(
            _conversation_changes(kind__in=[RESOLVE, REOPEN]),
            state.last_change_id,
            now,
        )
        touched = set(texts) | set(changes) | set(state.in_flight)
        pairs = recompute(touched)
        state.last_message_id = text_mark
        state.last_change_id = change_mark
        state.in_flight = _in_flight(sorted(touched))
        state.updated_at = now
        state.save()
    return {
        "conversations": len(touched),
        "days": len(pairs),
        "more": more_texts or more_changes,
    }


def rebuild(*, now: datetime | None = None) -> dict:
    """Recompute every fact and total from the raw rows (the `rebuild_reports` command)."""
    now = now or timezone.now()
    with transaction.atomic():
        RollupState.objects.get_or_create(pk=1)
        state = RollupState.objects.select_for_update().get(pk=1)
        # Marks taken first: whatever arrives during the rebuild is looked at again next run.
        text_mark = _settled_mark(Message, now)
        change_mark = _settled_mark(Change, now)
        for model in (ConversationDay, Reply, Resolution, LineDay, AgentDay):
            model.objects.all().delete()
        lines = dict(Conversation.objects.values_list("pk", "dashboard_id"))
        _write_facts(_facts_of(None, lines))
        _write_totals(None)
        if connection.vendor == "postgresql":
            # The planner's statistics of tables just refilled are stale.
            with connection.cursor() as cursor:
                for model in (ConversationDay, Reply, Resolution, LineDay, AgentDay):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        state.last_message_id = text_mark
        state.last_change_id = change_mark
        state.in_flight = _in_flight(None)
        state.updated_at = state.rebuilt_at = now
        state.save()
    return {
        "conversations": len(lines),
        "line_days": LineDay.objects.count(),
        "replies": Reply.objects.count(),
        "resolutions": Resolution.objects.count(),
    }


def _settled_mark(model, now: datetime) -> int:
    row = model.objects.filter(created_at__lte=now - SETTLE).order_by("-id").values("id").first()
    return row["id"] if row else 0


def apply_hours(dashboard_id: int) -> int:
    """Recount the business seconds of a line's replies and resolutions after its hours
    changed (the spans themselves do not change); answers how many rows were recounted."""
    hours = hours_of(BusinessHours.objects.filter(dashboard_id=dashboard_id).first())
    changed = 0
    with transaction.atomic():
        for model, start, end in (
            (Reply, "waited_from", "replied_at"),
            (Resolution, "opened_at", "resolved_at"),
        ):
            rows = list(model.objects.filter(dashboard_id=dashboard_id).only(start, end, "seconds"))
            for row in rows:
                row.seconds = hours.seconds_between(getattr(row, start), getattr(row, end))
            model.objects.bulk_update(rows, ["seconds"], batch_size=5_000)
            changed += len(rows)
        days = set(LineDay.objects.filter(dashboard_id=dashboard_id).values_list("day", flat=True))
        _write_totals({(dashboard_id, day) for day in days})
    return changed
