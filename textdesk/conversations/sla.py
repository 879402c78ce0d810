"""SLA clocks: when each open conversation's reply and resolution are due, kept on the row.

A clock is the Reports' wait (waits.py) measured against the line's policy
(`dashboards.SlaPolicy`) in the line's business hours (`dashboards.hours`): due when that many
open seconds have passed since the wait (or the episode) began. The due moments are stored on
the conversation (`sla_*`), so the inbox sorts by "SLA due" and filters "Breached" on an index
and a list row only formats what it reads. `recount` is called whenever a text arrives or is
sent, on resolve, reopen and archive; `recount_line` when the policy or the hours change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.waits import (
    RESOLVE_KIND,
    RESOLVE_VOID,
    Waits,
    named_by_a_person,
    timeline,
)
from textdesk.dashboards.hours import Hours, hours_of
from textdesk.dashboards.models import BusinessHours, SlaPolicy
from textdesk.outbox.models import Change

FIRST, NEXT, RESOLUTION = (str(t) for t in SlaPolicy.Target)
FIELDS = (
    "sla_due_at",
    "sla_target",
    "sla_reply_due_at",
    "sla_reply_target",
    "sla_reply_from",
    "sla_resolve_due_at",
    "sla_opened_at",
)
NO_CLOCK = dict.fromkeys(FIELDS) | {"sla_target": "", "sla_reply_target": ""}
BATCH = 500


def policy_of(dashboard_id: int) -> tuple[dict[str, int], Hours] | None:
    """The line's targets (seconds by target) and hours, or None when no target is set."""
    policy = SlaPolicy.objects.filter(dashboard_id=dashboard_id).first()
    targets = policy.seconds() if policy else {}
    if not targets:
        return None
    return targets, hours_of(BusinessHours.objects.filter(dashboard_id=dashboard_id).first())


def clocks(events: Iterable[tuple], targets: dict[str, int], hours: Hours) -> dict:
    """The `sla_*` fields of an open conversation from its events (waits.timeline)."""
    clock = Waits()
    for event in events:
        clock.walk(*event)
    values = dict(NO_CLOCK)
    if clock.waiting_from is not None:
        target = NEXT if clock.replies else FIRST
        if target in targets:
            due = hours.moment_after(clock.waiting_from, targets[target])
            if due is not None:
                values.update(
                    sla_reply_due_at=due, sla_reply_target=target, sla_reply_from=clock.waiting_from
                )
    if clock.opened_at is not None and RESOLUTION in targets:
        due = hours.moment_after(clock.opened_at, targets[RESOLUTION])
        if due is not None:
            values.update(sla_resolve_due_at=due, sla_opened_at=clock.opened_at)
    running = [
        (due, target)
        for due, target in (
            (values["sla_reply_due_at"], values["sla_reply_target"]),
            (values["sla_resolve_due_at"], RESOLUTION),
        )
        if due is not None
    ]
    if running:
        values["sla_due_at"], values["sla_target"] = min(running)
    return values


def _events(conversations: list[tuple[int, int]]) -> dict[int, list[tuple]]:
    """Each conversation's events (waits.timeline) since its last standing resolve.
    `conversations`: (conversation id, contact id)."""
    by_contact = {contact: pk for pk, contact in conversations}
    resolves = (
        Change.objects.of_model(Contact)
        .filter(kind=RESOLVE_KIND, target_id__in=list(by_contact))
        .exclude(status__in=RESOLVE_VOID)
        .order_by("created_at", "id")
        .values_list("target_id", "created_at", "created_by_id")
    )
    last_resolve = {}
    for contact_id, created_at, user_id in resolves:
        last_resolve[by_contact[contact_id]] = (created_at, user_id)
    scope = Q(pk__in=[])
    for pk, _ in conversations:
        if pk in last_resolve:
            scope |= Q(conversation_id=pk, sent_at__gte=last_resolve[pk][0])
        else:
            scope |= Q(conversation_id=pk)
    rows = (
        Message.objects.filter(scope)
        .annotate(named=named_by_a_person())
        .order_by("conversation_id", "sent_at", "id")
        .values_list(
            "conversation_id", "sent_at", "id", "direction", "status", "sent_by_id", "named"
        )
    )
    messages = defaultdict(list)
    for cid, *rest in rows:
        messages[cid].append(tuple(rest))
    return {
        pk: list(timeline(messages[pk], [last_resolve[pk]] if pk in last_resolve else []))
        for pk, _ in conversations
    }


def recount(conversation_ids: Iterable[int], *, policies: dict | None = None) -> int:
    """Recompute the clocks of these conversations; answers how many rows changed."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return 0
    rows = list(Conversation.objects.filter(pk__in=ids).only("pk", *_READ))
    policies = {} if policies is None else policies
    for row in rows:
        if row.dashboard_id not in policies:
            policies[row.dashboard_id] = policy_of(row.dashboard_id)
    running = [
        row
        for row in rows
        if policies[row.dashboard_id] and not (row.is_resolved or row.is_archived)
    ]
    events = _events([(row.pk, row.contact_id) for row in running]) if running else {}
    changed = []
    for row in rows:
        policy = None if row.is_resolved or row.is_archived else policies[row.dashboard_id]
        values = NO_CLOCK if policy is None else clocks(events[row.pk], *policy)
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    if changed:
        Conversation.objects.bulk_update(changed, list(FIELDS))
    return len(changed)


_READ = ("dashboard_id", "contact_id", "is_resolved", "is_archived", *FIELDS)


def recount_line(dashboard_id: int, *, now: datetime | None = None) -> int:
    """Recount every open conversation of a line (its policy or hours changed) and clear the
    clocks of the rest; answers how many rows changed."""
    now = now or timezone.now()
    policies = {dashboard_id: policy_of(dashboard_id)}
    line = Conversation.objects.filter(dashboard_id=dashboard_id)
    closed = line.filter(Q(is_resolved=True) | Q(is_archived=True))
    changed = closed.filter(
        Q(sla_due_at__isnull=False)
        | Q(sla_reply_due_at__isnull=False)
        | Q(sla_resolve_due_at__isnull=False)
    ).update(**NO_CLOCK)
    open_rows = line.filter(is_resolved=False, is_archived=False)
    if policies[dashboard_id] is None:
        open_rows = open_rows.filter(
            Q(sla_due_at__isnull=False)
            | Q(sla_reply_due_at__isnull=False)
            | Q(sla_resolve_due_at__isnull=False)
        )
    ids = list(open_rows.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        changed += recount(ids[start : start + BATCH], policies=policies)
    SlaPolicy.objects.filter(dashboard_id=dashboard_id).update(recounted_at=now)
    return changed


def recount_stale(*, now: datetime | None = None) -> list[int]:
    """Recount the lines whose policy or hours changed since their last recount (beat's safety
    net for a lost task); answers their ids."""
    now = now or timezone.now()
    stale = []
    for policy in SlaPolicy.objects.select_related("dashboard__business_hours"):
        hours = getattr(policy.dashboard, "business_hours", None)
        changed_at = max(policy.updated_at, hours.updated_at if hours else policy.updated_at)
        if policy.recounted_at is None or policy.recounted_at < changed_at:
            recount_line(policy.dashboard_id, now=now)
            stale.append(policy.dashboard_id)
    return stale
