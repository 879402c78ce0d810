"""Automatic assignment: conversations reach an available agent of their line on their own.

Each line has a rule (``Dashboard.assignment_rule``: off, round-robin or least-busy) and a
capacity (the most unresolved conversations an agent holds; a person's own
``User.assignment_capacity`` wins). When a customer's text arrives (webhook or sync) on an
unassigned open conversation of a line that assigns automatically, the conversation is queued
(``Conversation.queued_at``) and assigned at once if an available agent of the line has room;
otherwise it waits in Unassigned and the **drain** gives it out, oldest first, as soon as an
agent goes Available or drops under capacity (and beat retries every 15 s, which also catches a
crash midway).

Safety:

- One assignment is one transaction: the conditional update that takes the conversation (only
  while nobody has it), its ``Assignment`` row and its audit entry. A crash before commit leaves
  it queued; a second attempt finds it taken. Never twice, never lost.
- Concurrent arrivals never over-fill an agent. On PostgreSQL the candidates' user rows are
  locked (``SELECT … FOR UPDATE`` in id order, after the conversation's row, in every path, so
  no two attempts wait on each other in a cycle) before their load is counted; the update that
  takes the conversation also re-counts the agent's load in the same statement, which is what
  holds on SQLite (one writer at a time, no row locks).
- A manual assignment always wins: it clears the queue mark, and an automatic attempt takes
  only a conversation nobody holds. Nothing here ever takes a conversation off anyone.

Assignment is textdesk's own (Text Request has none), so none of this calls Text Request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from textdesk.accounts.availability import set_availability
from textdesk.accounts.models import User
from textdesk.audit import services as audit
from textdesk.conversations import presence
from textdesk.conversations.models import Assignment, Conversation
from textdesk.dashboards.models import Dashboard

logger = logging.getLogger(__name__)

AUTOMATIC = (Dashboard.Assignment.ROUND_ROBIN, Dashboard.Assignment.LEAST_BUSY)
# What one drain gives out at most before handing over to the next (beat continues).
DRAIN_LIMIT = 1000

OPEN = Q(is_archived=False, is_resolved=False)


def open_held(user_ids) -> dict[int, int]:
    """``{user id: unresolved conversations they hold}`` (their load), every line together."""
    rows = (
        Conversation.objects.filter(OPEN, assigned_to_id__in=list(user_ids))
        .order_by()
        .values("assigned_to_id")
        .annotate(n=Count("id"))
    )
    return {row["assigned_to_id"]: row["n"] for row in rows}


def capacity_of(agent: User, line: Dashboard) -> int:
    return agent.assignment_capacity or line.assignment_capacity


# --- Arrivals ------------------------------------------------------------------------------


def arrived(conversation: Conversation) -> None:
    """A customer's text (news, not history) was stored in ``conversation``. If nobody holds
    it and its line assigns automatically, it joins the queue (or keeps its place when it was
    already waiting) and is assigned once the transaction commits.

    ``conversation`` carries the state from before the text: a resolved or archived one that
    the text reopened joins the queue afresh."""
    if conversation.assigned_to_id is not None:
        return  # a reopened conversation stays with whoever holds it
    queue = Conversation.objects.filter(
        OPEN,
        pk=conversation.pk,
        assigned_to__isnull=True,
        dashboard__assignment_rule__in=AUTOMATIC,
    )
    if not (conversation.is_resolved or conversation.is_archived):
        queue = queue.filter(queued_at__isnull=True)
    if queue.update(queued_at=timezone.now()) or conversation.queued_at is not None:
        pk = conversation.pk
        transaction.on_commit(lambda: assign_waiting(pk))


# --- One assignment -------------------------------------------------------------------------

ASSIGNED, NO_ROOM, GONE = "assigned", "no_room", "gone"


@dataclass
class Outcome:
    status: str
    assignment: Assignment | None = None


def assign_waiting(conversation_pk: int) -> Outcome:
    """Give one waiting conversation to an available agent of its line with room, by the
    line's rule. ``GONE``: it is no longer waiting (assigned, resolved, or another attempt
    holds it right now); ``NO_ROOM``: nobody available has room, it keeps waiting."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dashboard", "contact")
            .filter(
                OPEN,
                pk=conversation_pk,
                queued_at__isnull=False,
                assigned_to__isnull=True,
                dashboard__assignment_rule__in=AUTOMATIC,
            )
            .first()
        )
        if conversation is None:
            return Outcome(GONE)
        line = conversation.dashboard
        agents = list(
            line.agents.filter(is_active=True, is_available=True)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        load = open_held(a.pk for a in agents)
        room = [a for a in agents if load.get(a.pk, 0) < capacity_of(a, line)]
        for agent in _by_rule(line, room, load):
            if _take(conversation, agent, capacity_of(agent, line)):
                return Outcome(ASSIGNED, _record(conversation, agent, room, load))
            if Conversation.objects.filter(pk=conversation.pk, assigned_to__isnull=False).exists():
                return Outcome(GONE)  # someone took it by hand between the read and the update
        return Outcome(NO_ROOM)


def _by_rule(line: Dashboard, room: list[User], load: dict[int, int]) -> list[User]:
    """The agents with room, best first. Round-robin: the one given a conversation
    automatically longest ago (never: first), on any line; least busy: the fewest held, then
    the same. ``User.last_assigned_at`` is read from the rows just locked: no extra query."""

    def turn(agent: User) -> float:
        return agent.last_assigned_at.timestamp() if agent.last_assigned_at else 0.0

    if line.assignment_rule == Dashboard.Assignment.LEAST_BUSY:
        return sorted(room, key=lambda a: (load.get(a.pk, 0), turn(a), a.pk))
    return sorted(room, key=lambda a: (turn(a), a.pk))


def _take(conversation: Conversation, agent: User, capacity: int) -> bool:
    """The conditional update: the conversation goes to ``agent`` only while nobody holds it
    and the agent holds fewer than ``capacity`` (counted in the same statement)."""
    held = (
        Conversation.objects.filter(OPEN, assigned_to_id=agent.pk)
        .order_by()
        .values("assigned_to_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return bool(
        Conversation.objects.filter(pk=conversation.pk, assigned_to__isnull=True)
        .alias(held=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)))
        .filter(held__lt=capacity)
        .update(assigned_to=agent, queued_at=None)
    )


def _record(conversation, agent, room, load) -> Assignment:
    line = conversation.dashboard
    held = load.get(agent.pk, 0)
    capacity = capacity_of(agent, line)
    others = len(room) - 1
    if line.assignment_rule == Dashboard.Assignment.LEAST_BUSY:
        why = f"least busy, holding {held} of {capacity}"
    else:
        why = f"round-robin, their turn (holding {held} of {capacity})"
    why += f"; {others} other available agent{'s' if others != 1 else ''} with room"
    now = timezone.now()
    User.objects.filter(pk=agent.pk).update(last_assigned_at=now)  # its row is locked: ours
    assignment = Assignment.objects.create(
        conversation=conversation,
        dashboard=line,
        assignee=agent,
        rule=line.assignment_rule,
        reason=why[:300],
        queued_at=conversation.queued_at,
        assigned_at=now,
    )
    audit.record(
        actor=None,
        actor_name="textdesk",
        kind="assignment_auto",
        summary=f"Assigned automatically to {agent.display_name}: {why}",
        dashboard=line,
        contact=conversation.contact,
        conversation=conversation,
    )
    conversation.assigned_to, conversation.queued_at = agent, None
    return assignment


# --- The drain ------------------------------------------------------------------------------


def drain(line_ids=None, *, limit: int = DRAIN_LIMIT) -> int:
    """Assign waiting conversations, oldest first, while their lines' agents have room (all
    lines, or those of ``line_ids``); answers how many were assigned."""
    full_lines: set[int] = set()
    skipped: set[int] = set()
    assigned = 0
    while assigned < limit:
        waiting = Conversation.objects.filter(
            OPEN,
            queued_at__isnull=False,
            assigned_to__isnull=True,
            dashboard__assignment_rule__in=AUTOMATIC,
        )
        if line_ids is not None:
            waiting = waiting.filter(dashboard_id__in=list(line_ids))
        waiting = waiting.exclude(dashboard_id__in=full_lines).exclude(pk__in=skipped)
        oldest = waiting.order_by("queued_at", "id").values_list("pk", "dashboard_id").first()
        if oldest is None:
            break
        pk, line_id = oldest
        outcome = assign_waiting(pk)
        if outcome.status == ASSIGNED:
            assigned += 1
        elif outcome.status == NO_ROOM:
            full_lines.add(line_id)
        else:
            skipped.add(pk)
    return assigned


def lines_of(user_id: int) -> list[int]:
    return list(
        Dashboard.objects.filter(agents__pk=user_id, assignment_rule__in=AUTOMATIC).values_list(
            "pk", flat=True
        )
    )


def drain_for(user_id: int | None) -> None:
    """``user_id`` may take more now (went Available, gave one up): once the transaction
    commits, drain the lines they work."""
    if user_id is None:
        return
    transaction.on_commit(lambda: drain(lines_of(user_id)))


def drain_line(line_id: int) -> None:
    transaction.on_commit(lambda: drain([line_id]))


# --- Agents who leave -----------------------------------------------------------------------


def return_to_queue(*, user_ids, line_ids, actor=None) -> int:
    """People no longer work these lines: the unresolved conversations they hold there cannot
    be opened by them any more, so they go back to Unassigned (queued again where the line
    assigns automatically), with one audit entry per person and line saying so."""
    returned = 0
    for line in Dashboard.objects.filter(pk__in=list(line_ids)):
        for user in User.objects.filter(pk__in=list(user_ids)):
            held = Conversation.objects.filter(OPEN, dashboard=line, assigned_to=user)
            queued_at = timezone.now() if line.assignment_rule in AUTOMATIC else None
            count = held.update(assigned_to=None, queued_at=queued_at)
            if count:
                returned += count
                audit.record(
                    actor=actor,
                    actor_name="" if actor is not None else "textdesk",
                    kind="assignment",
                    summary=f"{count} unresolved conversation{'s' if count != 1 else ''} of "
                    f"{user.display_name} went back to Unassigned: they no longer work "
                    f"{line.name}",
                    dashboard=line,
                )
                drain_line(line.pk)
    return returned


# --- Idle agents ----------------------------------------------------------------------------


def send_idle_away(*, now: float | None = None) -> int:
    """Available agents with no inbox open for ``TEXTDESK_AWAY_AFTER`` seconds go Away (their
    conversations stay theirs). An agent who went Available within that time keeps it even
    before their first poll."""
    now = time.time() if now is None else now
    idle_for = settings.TEXTDESK_AWAY_AFTER
    available = list(User.objects.filter(is_available=True))
    seen = presence.inbox_seen([u.pk for u in available])
    gone = 0
    for user in available:
        changed = user.availability_changed_at.timestamp() if user.availability_changed_at else 0
        last = max(seen.get(user.pk, 0), changed)
        if now - last >= idle_for:
            minutes = max(1, round(idle_for / 60))
            gone += set_availability(
                user=user,
                is_available=False,
                reason=f"no inbox open for {minutes} minute{'s' if minutes != 1 else ''}",
            )
    return gone


def route_waiting() -> int:
    """Beat's step: idle agents go Away, then every line's queue drains."""
    send_idle_away()
    return drain()


# --- Receivers ------------------------------------------------------------------------------


def on_availability_changed(sender, *, user, is_available, **kwargs) -> None:
    if is_available:
        drain_for(user.pk)


def on_assignment_changed(sender, *, dashboard, **kwargs) -> None:
    drain_line(dashboard.pk)


def on_line_access_changed(sender, *, instance, action, reverse, pk_set, **kwargs) -> None:
    """``User.dashboards`` lost someone (Staff or Admin → Lines → Who works this line)."""
    if action not in ("post_remove", "pre_clear"):
        return
    if action == "pre_clear":
        pk_set = set(
            instance.agents.values_list("pk", flat=True)
            if reverse
            else instance.dashboards.values_list("pk", flat=True)
        )
    if not pk_set:
        return
    if reverse:  # line.agents.remove(...): instance is the line
        return_to_queue(user_ids=pk_set, line_ids=[instance.pk])
    else:  # user.dashboards.remove(...): instance is the person
        return_to_queue(user_ids=[instance.pk], line_ids=pk_set)


def connect() -> None:
    """Listen to the domains below (``AppConfig.ready``)."""
    from django.db.models.signals import m2m_changed

    from textdesk.accounts.signals import availability_changed
    from textdesk.dashboards.signals import assignment_changed

    availability_changed.connect(on_availability_changed, dispatch_uid="routing-availability")
    assignment_changed.connect(on_assignment_changed, dispatch_uid="routing-rule")
    m2m_changed.connect(
        on_line_access_changed, sender=User.dashboards.through, dispatch_uid="routing-access"
    )


__all__ = [
    "arrived",
    "assign_waiting",
    "drain",
    "drain_for",
    "open_held",
    "return_to_queue",
    "route_waiting",
    "send_idle_away",
]
