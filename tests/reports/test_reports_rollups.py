"""Reports: each measure on hand-computed fixtures; incremental rollups equal a rebuild and the
raw rows."""

import io
import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import TruncDate

from tests.conftest import make_conversation, make_user
from textdesk.contacts.models import ConsentEvent
from textdesk.conversations.models import Message
from textdesk.dashboards.models import BusinessHours
from textdesk.outbox.models import Change
from textdesk.payments.models import Payment
from textdesk.reports import histograms, metrics, rollups
from textdesk.reports.models import (
    AgentDay,
    ConversationDay,
    LineDay,
    Reply,
    Resolution,
    RollupState,
)

NY = ZoneInfo("America/New_York")
LATER = datetime(2030, 1, 1, tzinfo=NY)  # "now" far after the fixtures: every row is settled


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, New York time (the test settings' TIME_ZONE)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def text(conversation, when, direction="R", *, by=None, name="", status=None):
    if status is None:
        status = "received" if direction == "R" else "sent"
    if by is not None and not name:
        name = by.display_name
    return Message.objects.create(
        conversation=conversation,
        direction=direction,
        body="…",
        sent_at=when,
        sent_by=by,
        sender_name=name,
        status=status,
    )


def resolve(conversation, when, by, status=Change.Status.DONE, kind="resolve"):
    change = Change.objects.create(
        dashboard_id=conversation.dashboard_id,
        target=conversation.contact,
        kind=kind,
        subject="resolved",
        status=status,
        created_by=by,
    )
    Change.objects.filter(pk=change.pk).update(created_at=when)
    return change


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Summed histograms are cached per rollup stamp; tests reuse stamps, so start clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def sam(line):
    return make_user("sam", "Agent", lines=[line])


@pytest.fixture
def story(line, sam):
    """Two days of one conversation; every figure below is worked out by hand."""
    c = make_conversation(line)
    text(c, at(2, 9, 0))  # waiting from 9:00, episode opened
    text(c, at(2, 9, 2))  # still waiting since 9:00
    text(c, at(2, 9, 3), "S")  # Text Request's own payment link: no sender, not a reply
    text(c, at(2, 9, 10), "S", by=sam)  # reply: 10 minutes
    text(c, at(2, 9, 20), "S", by=sam)  # nothing was waiting: not a reply
    resolve(c, at(2, 9, 30), sam)  # resolution: 30 minutes
    text(c, at(3, 10, 0))  # a new text reopens: new wait, new episode
    text(c, at(3, 10, 4), "S", name="Jo Rivera")  # a person in Text Request's app: 4 minutes
    text(c, at(3, 10, 5), "S", by=sam, status="failed")  # failed: not sent, not a reply
    resolve(c, at(3, 10, 30), sam, status=Change.Status.SUPERSEDED)  # replaced: void
    resolve(c, at(3, 11, 0), sam)  # resolution: 60 minutes
    return c


def totals(model, **filters):
    return {
        row.day.day: {name: getattr(row, name) for name in model.COUNTERS}
        for row in model.objects.filter(**filters)
    }


def test_each_measure_of_a_hand_worked_conversation(db, line, sam, story):
    rollups.refresh(now=LATER)
    assert totals(LineDay, dashboard=line) == {
        2: {
            "received": 2,
            "sent": 3,
            "sent_by_people": 2,
            "new_conversations": 1,
            "replies": 1,
            "reply_seconds": 600,
            "resolutions": 1,
            "resolution_seconds": 1800,
        },
        3: {
            "received": 1,
            "sent": 1,
            "sent_by_people": 1,
            "new_conversations": 0,
            "replies": 1,
            "reply_seconds": 240,
            "resolutions": 1,
            "resolution_seconds": 3600,
        },
    }
    # Sam's own figures: the reply from Text Request's app is not Sam's.
    assert totals(AgentDay, agent=sam) == {
        2: {
            "received": 0,
            "sent": 2,
            "sent_by_people": 2,
            "new_conversations": 0,
            "replies": 1,
            "reply_seconds": 600,
            "resolutions": 1,
            "resolution_seconds": 1800,
        },
        3: {
            "received": 0,
            "sent": 0,
            "sent_by_people": 0,
            "new_conversations": 0,
            "replies": 0,
            "reply_seconds": 0,
            "resolutions": 1,
            "resolution_seconds": 3600,
        },
    }
    reply = Reply.objects.get(day=at(2, 0).date())
    assert (reply.waited_from, reply.replied_at, reply.agent) == (at(2, 9), at(2, 9, 10), sam)


def test_automated_send_alone_never_answers_a_wait(db, line):
    c = make_conversation(line)
    text(c, at(2, 9))
    text(c, at(2, 9, 1), "S")  # payment link
    text(c, at(2, 9, 2), "S", status="sent")  # reminder
    rollups.refresh(now=LATER)
    assert Reply.objects.count() == 0
    assert LineDay.objects.get().sent_by_people == 0
    assert LineDay.objects.get().sent == 2


def test_resolved_without_reply_has_no_response_time(db, line, sam):
    c = make_conversation(line)
    text(c, at(2, 9))
    resolve(c, at(2, 9, 5), sam)
    text(c, at(2, 9, 6), "S", by=sam)  # after the resolve: nothing was waiting
    rollups.refresh(now=LATER)
    assert Reply.objects.count() == 0
    assert list(Resolution.objects.values_list("seconds", flat=True)) == [300]


def test_business_hours_edges(db, line, sam):
    BusinessHours.objects.create(
        dashboard=line,
        is_always_open=False,
        time_zone="America/New_York",
        # Mon-Fri 9:00-17:00; Saturday and Sunday closed.
        weekly=[["09:00", "17:00"]] * 5 + [None, None],
    )
    friday = make_conversation(line, first_name="Fri")
    text(friday, at(6, 16, 50))  # Friday 16:50: 10 open minutes left
    text(friday, at(9, 9, 5), "S", by=sam)  # Monday 9:05: 5 more
    night = make_conversation(line, first_name="Night")
    text(night, at(2, 20, 0))  # Monday 20:00, closed
    text(night, at(3, 8, 30), "S", by=sam)  # before opening: 0
    weekend = make_conversation(line, first_name="Weekend")
    text(weekend, at(7, 11, 0))  # Saturday
    resolve(weekend, at(9, 9, 30), sam)  # Monday 9:30: 30 open minutes
    rollups.refresh(now=LATER)
    replies = dict(Reply.objects.values_list("conversation__contact__first_name", "seconds"))
    assert replies == {"Fri": 900, "Night": 0}
    assert Resolution.objects.get().seconds == 1800

    # Back to 24/7: the same spans are recounted in full.
    BusinessHours.objects.filter(dashboard=line).update(is_always_open=True)
    rollups.apply_hours(line.pk)
    replies = dict(Reply.objects.values_list("conversation__contact__first_name", "seconds"))
    assert replies == {"Fri": (2 * 24 * 60 + 60 * 16 + 15) * 60, "Night": 12.5 * 3600}
    assert LineDay.objects.get(day=at(3, 0).date()).reply_seconds == 12.5 * 3600


def test_report_medians_p90_opt_outs_payments_and_backlog(db, line, other_line, sam):
    # median 30; p90 = 50 + 0.6 * 550 = 380 (600 s sits in a 5% bucket: within 2.5%)
    waits = [10, 20, 30, 50, 600]
    for i, wait in enumerate(waits):
        c = make_conversation(line, first_name=f"C{i}")
        text(c, at(4, 9))
        text(c, at(4, 9) + timedelta(seconds=wait), "S", by=sam)
    waiting = make_conversation(line, assigned_to=sam, waiting_since=at(4, 8))
    text(waiting, at(4, 8))
    make_conversation(line, is_resolved=True)
    elsewhere = make_conversation(other_line)
    text(elsewhere, at(4, 9))
    ConsentEvent.objects.create(
        contact=waiting.contact, kind="opt_out", source="webhook", occurred_at=at(4, 12)
    )
    ConsentEvent.objects.create(
        contact=waiting.contact, kind="opt_in", source="webhook", occurred_at=at(4, 13)
    )
    for amount, state, by in [("10.00", "Paid", sam), ("5.50", "Sent", sam), ("7.00", "", None)]:
        Payment.objects.create(
            dashboard=line,
            customer_phone="6155550100",
            amount_requested=Decimal(amount),
            requested_at=at(4, 10),
            textrequest_payment_status=state,
            status="sent",
            created_by=by,
        )
    rollups.refresh(now=LATER)
    report = metrics.build(lines=[line], agent=None, start=at(1, 0).date(), end=at(30, 0).date())
    f = report.total
    assert (f.received, f.new_conversations, f.replies) == (6, 6, 5)
    assert f.reply_median == 30
    assert f.reply_p90 == pytest.approx(380, rel=0.025)
    assert f.opt_outs == 1
    assert (f.payments_requested, f.amount_requested) == (3, Decimal("22.50"))
    assert (f.payments_collected, f.amount_collected) == (1, Decimal("10.00"))
    assert (f.backlog, f.waiting) == (6, 1)  # five answered but unresolved, one waiting
    assert f.oldest_waiting_since == at(4, 8)
    assert [len(report.days), report.days[3][1].replies] == [30, 5]
    [(person, mine)] = report.agents
    assert person == sam
    assert (mine.replies, mine.payments_requested, mine.backlog, mine.received) == (5, 2, 1, None)

    # Sam's view: people's figures are Sam's, the line's stay the line's.
    mine = metrics.build(lines=[line], agent=sam, start=at(4, 0).date(), end=at(4, 0).date())
    assert (mine.total.received, mine.total.payments_requested, mine.total.backlog) == (6, 2, 1)


def test_refresh_only_looks_at_new_rows_and_comes_back_for_unsettled_ones(db, line, sam):
    c = make_conversation(line)
    text(c, at(2, 9))
    queued = text(c, at(2, 9, 5), "S", by=sam, status="pending")
    done = rollups.refresh(now=LATER)
    assert done["conversations"] == 1
    assert LineDay.objects.get().sent == 0  # queued: not sent yet
    assert RollupState.objects.get().in_flight == [c.pk]

    Message.objects.filter(pk=queued.pk).update(status="sent")
    assert rollups.refresh(now=LATER)["conversations"] == 1  # looked at again
    assert (LineDay.objects.get().sent, Reply.objects.get().seconds) == (1, 300)
    assert rollups.refresh(now=LATER)["conversations"] == 0  # nothing new, nothing in flight


def test_the_watermark_stays_behind_rows_too_young_to_be_committed_by_all(db, line):
    c = make_conversation(line)
    message = text(c, at(2, 9))
    rollups.refresh(now=message.created_at + timedelta(seconds=10))
    assert RollupState.objects.get().last_message_id < message.pk
    rollups.refresh(now=message.created_at + timedelta(minutes=10))
    assert RollupState.objects.get().last_message_id == message.pk


def _snapshot():
    return {
        model.__name__: sorted(
            (tuple(v for k, v in row.items() if k != "id") for row in model.objects.values()),
            key=repr,
        )
        for model in (ConversationDay, Reply, Resolution, LineDay, AgentDay)
    }


def test_incremental_rollups_equal_a_rebuild_and_the_raw_rows(db, line, other_line, sam):
    rng = random.Random(11)
    olive = make_user("olive", "Agent", lines=[other_line])
    conversations = [make_conversation(rng.choice([line, other_line])) for _ in range(12)]

    def burst(start_day: int):
        for c in conversations:
            moment = at(start_day, 8) + timedelta(minutes=rng.randrange(0, 3000))
            for _ in range(rng.randrange(1, 6)):
                moment += timedelta(minutes=rng.randrange(1, 400))
                kind = rng.random()
                if kind < 0.45:
                    text(c, moment)
                elif kind < 0.8:
                    text(c, moment, "S", by=rng.choice([sam, olive]))
                elif kind < 0.88:
                    text(c, moment, "S")
                elif kind < 0.93:
                    text(c, moment, "S", name="Jo Rivera")
                else:
                    resolve(c, moment, rng.choice([sam, olive]))

    burst(2)
    rollups.refresh(now=LATER)
    burst(5)  # later texts and also history arriving for earlier days
    burst(1)
    rollups.refresh(now=LATER)
    incremental = _snapshot()
    call_command("rebuild_reports", stdout=io.StringIO())
    assert _snapshot() == incremental
    assert incremental["Reply"]  # the data exercised replies and resolves
    assert incremental["Resolution"]

    # Texts per line and day, straight from the messages.
    raw = {
        (row["conversation__dashboard"], row["day"], row["direction"]): row["n"]
        for row in Message.objects.filter(status__in=["received", "sent"])
        .annotate(day=TruncDate("sent_at", tzinfo=NY))
        .values("conversation__dashboard", "day", "direction")
        .annotate(n=Count("id"))
    }
    rolled = {}
    for row in LineDay.objects.all():
        if row.received:
            rolled[(row.dashboard_id, row.day, "R")] = row.received
        if row.sent:
            rolled[(row.dashboard_id, row.day, "S")] = row.sent
    assert rolled == raw


def exact_percentile(values: list[int], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_medians_from_daily_histograms_match_the_raw_replies(db, line, other_line, sam):
    """Exact below a minute; within 2.5% above (5% buckets read at their middle)."""
    rng = random.Random(5)
    olive = make_user("olive", "Agent", lines=[other_line])
    for i in range(60):
        c = make_conversation(rng.choice([line, other_line]), first_name=f"R{i}")
        start = at(rng.randrange(1, 10), 9) + timedelta(minutes=rng.randrange(600))
        text(c, start)
        who = rng.choice([sam, olive, None])
        wait = rng.choice([rng.randrange(1, 59), rng.randrange(60, 200_000)])
        text(c, start + timedelta(seconds=wait), "S", by=who, name="" if who else "Jo Rivera")
    rollups.refresh(now=LATER)
    report = metrics.build(
        lines=[line, other_line], agent=None, start=at(1, 0).date(), end=at(30, 0).date()
    )
    checks = [(report.total, Reply.objects.all())]
    checks += [(f, Reply.objects.filter(dashboard=ln)) for ln, f in report.lines]
    checks += [(f, Reply.objects.filter(agent=person)) for person, f in report.agents]
    # Days show a mean, from the rollup's sums.
    for day, f in report.days:
        seconds = list(Reply.objects.filter(day=day).values_list("seconds", flat=True))
        assert f.replies == len(seconds)
        assert f.reply_mean == (sum(seconds) / len(seconds) if seconds else None)
    assert {person for person, _ in report.agents} == {sam, olive}
    for figures, rows in checks:
        seconds = list(rows.values_list("seconds", flat=True))
        assert figures.replies == len(seconds)
        for pct, got in ((50, figures.reply_median), (90, figures.reply_p90)):
            assert got == pytest.approx(exact_percentile(seconds, pct), rel=0.0251)
    short = [s for s in Reply.objects.values_list("seconds", flat=True) if s < 60]
    assert histograms.percentile(histograms.of(short), 50) == exact_percentile(short, 50)


def test_beat_task_counts_a_text_received_just_now(db, line):
    from textdesk.celery import app
    from textdesk.reports.tasks import refresh_reports

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "textdesk.reports.tasks.refresh_reports" in schedule
    c = make_conversation(line)
    from django.utils import timezone

    text(c, timezone.now())
    refresh_reports.delay()
    assert LineDay.objects.get().received == 1
    # Too young to pass the watermark: the next run looks at it again, and counts it once.
    assert RollupState.objects.get().last_message_id == 0
    refresh_reports.delay()
    assert LineDay.objects.get().received == 1
