"""Reading the reports: the figures of a period for some lines (and maybe one agent).

Everything comes from the daily rollups (`LineDay`, `AgentDay`: counts, and histograms of the
durations for medians and p90s) plus the small tables read live (opt-outs, payments, the
current backlog), in a fixed number of queries whatever the period or the number of lines.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from textdesk.accounts.models import User
from textdesk.contacts.models import ConsentEvent
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Dashboard, SlaPolicy
from textdesk.payments.models import Payment
from textdesk.reports import histograms
from textdesk.reports.models import AgentDay, LineDay, Reply, Resolution, RollupState
from textdesk.reports.rollups import local_day

PAID = "Paid"
PEOPLE = (
    "sent",
    "sent_by_people",
    "replies",
    "reply_seconds",
    "resolutions",
    "resolution_seconds",
)


@dataclass
class Figures:
    """The measures of one slice (the whole scope, a line, an agent or a day)."""

    received: int | None = 0
    sent: int = 0
    sent_by_people: int = 0
    new_conversations: int | None = 0
    replies: int = 0
    reply_median: float | None = None
    reply_p90: float | None = None
    resolutions: int = 0
    resolution_median: float | None = None
    resolution_p90: float | None = None
    opt_outs: int | None = 0
    payments_requested: int = 0
    amount_requested: Decimal = Decimal("0")
    payments_collected: int = 0
    amount_collected: Decimal = Decimal("0")
    backlog: int | None = None
    waiting: int | None = None
    oldest_waiting_since: datetime | None = None

    # Sums of the durations, for a day's mean (medians are not kept per day: see build).
    reply_seconds: int = 0
    resolution_seconds: int = 0
    # SLA: {target: [within, counted]} of the waits and episodes that ended in the period on
    # lines with that target (measured against the targets set now), and the misses.
    sla: dict = field(default_factory=dict)
    breaches: int = 0

    def sla_percent(self, target: str) -> float | None:
        within, counted = self.sla.get(target, (0, 0))
        return 100 * within / counted if counted else None

    @property
    def first_within(self) -> float | None:
        return self.sla_percent("first")

    @property
    def next_within(self) -> float | None:
        return self.sla_percent("next")

    @property
    def resolution_within(self) -> float | None:
        return self.sla_percent("resolution")

    def take(self, row: dict) -> None:
        """Add a LineDay or AgentDay row's texts sent and durations."""
        self.sent += row["sent"]
        self.sent_by_people += row["sent_by_people"]
        self.reply_seconds += row["reply_seconds"]
        self.resolution_seconds += row["resolution_seconds"]
        self.replies += row["replies"]
        self.resolutions += row["resolutions"]

    @property
    def reply_mean(self) -> float | None:
        return self.reply_seconds / self.replies if self.replies else None

    def set_spans(self, kind: str, buckets: list[tuple[int, int]]) -> None:
        """Count, median and p90 of replies or resolutions from (bucket, count) in order."""
        count_name, prefix = (
            ("replies", "reply") if kind == "reply" else ("resolutions", "resolution")
        )
        median, p90 = histograms.percentiles(buckets, (50, 90))
        setattr(self, count_name, sum(c for _, c in buckets))
        setattr(self, f"{prefix}_median", median)
        setattr(self, f"{prefix}_p90", p90)

    @property
    def oldest_wait_seconds(self) -> int | None:
        if self.oldest_waiting_since is None:
            return None
        return max(0, int((timezone.now() - self.oldest_waiting_since).total_seconds()))


@dataclass
class Report:
    start: date
    end: date
    agent: User | None
    total: Figures
    days: list[tuple[date, Figures]]
    lines: list[tuple[object, Figures]]
    agents: list[tuple[User, Figures]]
    as_of: datetime | None


def period_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def build(*, lines: list, agent: User | None, start: date, end: date, agents_shown=None) -> Report:
    """The figures of [start, end] (days in TIME_ZONE) on `lines`.

    With `agent`, what people do (texts sent, replies, resolves, payments requested, the
    backlog assigned) is that agent's only; what the line receives (texts, new conversations,
    opt-outs) stays the line's. `agents_shown`: who gets a row in the per-agent table (None:
    everyone with figures in the period)."""
    line_ids = [line.pk for line in lines]
    total = Figures()
    per_day = {day: Figures() for day in period_days(start, end)}
    per_line = {line.pk: Figures() for line in lines}
    per_agent: dict[int, Figures] = defaultdict(Figures)
    in_period = Q(dashboard_id__in=line_ids, day__gte=start, day__lte=end)
    as_of = RollupState.objects.filter(pk=1).values_list("updated_at", flat=True).first()

    # What the lines receive: always the lines' own figures. What people do: the lines' when
    # nobody is chosen, else the chosen agent's (AgentDay).
    for row in LineDay.objects.filter(in_period).values(
        "dashboard_id", "day", "received", "new_conversations", *PEOPLE
    ):
        for slot in (total, per_day[row["day"]], per_line[row["dashboard_id"]]):
            slot.received += row["received"]
            slot.new_conversations += row["new_conversations"]
            if agent is None:
                slot.take(row)
    agent_rows = AgentDay.objects.filter(in_period)
    if agent is not None:
        agent_rows = agent_rows.filter(agent=agent)
    for row in agent_rows.values("dashboard_id", "day", "agent_id", *PEOPLE):
        per_agent[row["agent_id"]].take(row)
        if agent is not None:
            for slot in (total, per_day[row["day"]], per_line[row["dashboard_id"]]):
                slot.take(row)

    # Medians and p90s: the days' histograms summed by the database, per line and per agent.
    # Not per day: a day's chart shows the mean (sum / count from the rollup), which costs
    # nothing, where a median per day would sum thousands more histogram buckets per view.
    by_line, by_agent = _spans(line_ids, start, end, agent, as_of)
    for (kind, line_id), buckets in by_line.items():
        per_line[line_id].set_spans(kind, buckets)
    for (kind, agent_id), buckets in by_agent.items():
        per_agent[agent_id].set_spans(kind, buckets)
    for kind in ("reply", "resolution"):
        merged: dict[int, int] = defaultdict(int)
        for (found, _), buckets in by_line.items():
            if found == kind:
                for key, count in buckets:
                    merged[key] += count
        total.set_spans(kind, sorted(merged.items()))

    # Service-level targets: the ended waits and episodes against the lines' targets.
    for target, line_id, day, agent_id, counted, within in sla_counts(line_ids, start, end, agent):
        slots = [total, per_day[day], per_line[line_id]]
        if agent_id is not None:
            slots.append(per_agent[agent_id])
        for slot in slots:
            pair = slot.sla.setdefault(target, [0, 0])
            pair[0] += within
            pair[1] += counted
            slot.breaches += counted - within

    # Opt-outs (a handful a day): read live.
    opt_outs = ConsentEvent.objects.filter(
        kind=ConsentEvent.Kind.OPT_OUT,
        contact__dashboard_id__in=line_ids,
        occurred_at__gte=_day_start(start),
        occurred_at__lt=_day_start(end + timedelta(days=1)),
    ).values_list("contact__dashboard_id", "occurred_at")
    for line_id, occurred_at in opt_outs:
        for slot in (total, per_day[local_day(occurred_at)], per_line[line_id]):
            slot.opt_outs += 1

    # Payments requested in the period, and which of them were paid (Text Request gives no
    # date of payment, so a payment counts on the day it was requested).
    payments = (
        Payment.objects.filter(dashboard_id__in=line_ids)
        .exclude(status=Payment.Status.FAILED)
        .annotate(on=Coalesce("requested_at", "created_at"))
        .filter(on__gte=_day_start(start), on__lt=_day_start(end + timedelta(days=1)))
    )
    if agent is not None:
        payments = payments.filter(created_by=agent)
    for line_id, by, on, amount, state in payments.values_list(
        "dashboard_id", "created_by_id", "on", "amount_requested", "textrequest_payment_status"
    ):
        slots = [total, per_day[local_day(on)], per_line[line_id]]
        if by is not None:
            slots.append(per_agent[by])
        for slot in slots:
            slot.payments_requested += 1
            slot.amount_requested += amount
            if state == PAID:
                slot.payments_collected += 1
                slot.amount_collected += amount

    # The backlog now: unresolved conversations, and those waiting for a reply.
    backlog = Conversation.objects.filter(
        dashboard_id__in=line_ids, is_resolved=False, is_archived=False
    )
    if agent is not None:
        backlog = backlog.filter(assigned_to=agent)
    for slot in [total, *per_line.values()]:
        slot.backlog, slot.waiting = 0, 0
    for row in backlog.values("dashboard_id", "assigned_to_id").annotate(
        n=Count("id"),
        waiting=Count("id", filter=Q(waiting_since__isnull=False)),
        oldest=Min("waiting_since"),
    ):
        slots = [total, per_line[row["dashboard_id"]]]
        if row["assigned_to_id"] is not None:
            slots.append(per_agent[row["assigned_to_id"]])
        for slot in slots:
            slot.backlog = (slot.backlog or 0) + row["n"]
            slot.waiting = (slot.waiting or 0) + row["waiting"]
            if row["oldest"] and (
                slot.oldest_waiting_since is None or row["oldest"] < slot.oldest_waiting_since
            ):
                slot.oldest_waiting_since = row["oldest"]

    # Received texts, new conversations and opt-outs belong to lines, not to people.
    for figures in per_agent.values():
        figures.received = figures.new_conversations = figures.opt_outs = None
        figures.backlog, figures.waiting = figures.backlog or 0, figures.waiting or 0
    if agents_shown is None:
        ids = set(per_agent)
        if agent is not None:
            ids.add(agent.pk)
        agents_shown = User.objects.filter(pk__in=ids) if ids else []
    agents = sorted(agents_shown, key=lambda u: (u.display_name.lower(), u.pk))
    return Report(
        start=start,
        end=end,
        agent=agent,
        total=total,
        days=list(per_day.items()),
        lines=[(line, per_line[line.pk]) for line in lines],
        agents=[(person, per_agent.get(person.pk) or _empty_agent()) for person in agents],
        as_of=as_of,
    )


# Each day's {bucket: count} summed across rows by the database (JSON functions of PostgreSQL
# and SQLite): a page reads a few thousand small rows instead of decoding every day's histogram.
_EACH = {
    "postgresql": "jsonb_each_text({column}) AS h",
    "sqlite": "json_each({column}) AS h",
}
_HISTOGRAMS_SQL = """
SELECT '{kind}', {group}, CAST(h.key AS INTEGER) AS bucket, SUM(CAST(h.value AS INTEGER))
FROM {table}, {each}
WHERE dashboard_id IN ({lines}) AND day >= %s AND day <= %s {agent}
GROUP BY {group}, bucket
"""


# The summed histograms change only when a refresh or a rebuild writes the rollups (it stamps
# RollupState.updated_at, at least once a minute): until then every view of the same period,
# lines and agent reads them from the cache instead of summing them again. One key per scope
# holding the stamp it was summed at: a key per stamp piled up a scope's copies every minute,
# and the file cache of a machine without Redis culls a random third of its files past 300,
# the ones just warmed included.
SPANS_CACHE_SECONDS = 600


def _spans(line_ids: list[int], start: date, end: date, agent, as_of) -> tuple[dict, dict]:
    stamp = as_of.timestamp() if as_of else 0
    who = agent.pk if agent is not None else 0
    lines = ",".join(str(pk) for pk in sorted(line_ids))
    scope = f"{start}:{end}:{who}:{lines}"
    key = "reports:spans:" + hashlib.blake2s(scope.encode(), digest_size=16).hexdigest()
    cached = cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = (
        _merged_histograms("dashboard_id", line_ids, start, end, agent),
        _merged_histograms("agent_id", line_ids, start, end, agent),
    )
    cache.set(key, (stamp, found), SPANS_CACHE_SECONDS)
    return found


def _merged_histograms(group: str, line_ids, start: date, end: date, agent) -> dict:
    """{(kind, group value): [(bucket, count), ...] in bucket order} for replies and
    resolutions, grouped by `group` ("dashboard_id", "day" or "agent_id"): per agent from
    AgentDay, per line and day from LineDay (or from AgentDay when an agent is chosen)."""
    if not line_ids:
        return {}
    model = AgentDay if agent is not None or group == "agent_id" else LineDay
    parts, params = [], []
    for kind in ("reply", "resolution"):
        parts.append(
            _HISTOGRAMS_SQL.format(
                kind=kind,
                group=group,
                table=model._meta.db_table,
                each=_EACH[connection.vendor].format(column=f"{kind}_histogram"),
                lines=", ".join(["%s"] * len(line_ids)),
                agent="AND agent_id = %s" if agent is not None else "",
            )
        )
        params += [*line_ids, start, end] + ([agent.pk] if agent is not None else [])
    sql = " UNION ALL ".join(parts) + " ORDER BY 1, 2, 3"
    found: dict = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, key, bucket, count in cursor.fetchall():
            if group == "day" and isinstance(key, str):
                key = date.fromisoformat(key)
            found[(kind, key)].append((bucket, int(count)))
    return dict(found)


def _empty_agent() -> Figures:
    return Figures(received=None, new_conversations=None, opt_outs=None, backlog=0, waiting=0)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), timezone.get_current_timezone())


def sla_counts(line_ids: list[int], start: date, end: date, agent) -> list[tuple]:
    """(target, line, day, agent, counted, within) of the replies and resolutions that ended
    in [start, end] on lines with that target: two grouped queries whatever the period.

    Replies are the Reports' own (first response: the episode's first wait; next response:
    the later ones), measured in business seconds against the line's targets as set now."""
    targets = {
        policy.dashboard_id: policy.seconds()
        for policy in SlaPolicy.objects.filter(dashboard_id__in=line_ids)
    }
    found = []
    for model, kinds in (
        (Reply, (("first", Q(is_first=True)), ("next", Q(is_first=False)))),
        (Resolution, (("resolution", Q()),)),
    ):
        for target, kind in kinds:
            lines = {
                line: seconds[target] for line, seconds in targets.items() if target in seconds
            }
            if not lines:
                continue
            within = Q(pk__in=[])
            for line, limit in lines.items():
                within |= Q(dashboard_id=line, seconds__lte=limit)
            rows = model.objects.filter(
                kind, dashboard_id__in=list(lines), day__gte=start, day__lte=end
            )
            if agent is not None:
                rows = rows.filter(agent=agent)
            for row in rows.values("dashboard_id", "day", "agent_id").annotate(
                counted=Count("id"), within=Count("id", filter=within)
            ):
                found.append(
                    (
                        target,
                        row["dashboard_id"],
                        row["day"],
                        row["agent_id"],
                        row["counted"],
                        row["within"],
                    )
                )
    return found


# The periods the filter offers besides a custom one (forms.PERIODS), as days back from today.
WARM_PERIODS = (1, 7, 30)


def warm_spans() -> int:
    """Sum and cache the histograms of the views people open first, right after a refresh
    stamped new rollups: every line with everyone's figures (what Admins and Finance see) for
    each offered period, and each agent's own last 30 days. Without this the first person to
    look after each refresh (once a minute) waited for the sums. Answers the scopes warmed."""
    as_of = RollupState.objects.filter(pk=1).values_list("updated_at", flat=True).first()
    if as_of is None:
        return 0
    today = timezone.localdate()
    every_line = list(Dashboard.objects.active().values_list("pk", flat=True))
    scopes = [(every_line, None, days) for days in WARM_PERIODS]
    agents = (
        User.objects.filter(is_active=True, groups__name="Agent")
        .distinct()
        .prefetch_related(Prefetch("dashboards", queryset=Dashboard.objects.active()))
    )
    for agent in agents:
        scopes.append(([line.pk for line in agent.dashboards.all()], agent, 30))
    for line_ids, agent, days in scopes:
        _spans(line_ids, today - timedelta(days=days - 1), today, agent, as_of)
    return len(scopes)
