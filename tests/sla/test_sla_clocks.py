"""SLA clocks on conversations: started by a customer's text, restarted by the next one after
a reply, stopped by a resolve; recounted when the policy changes."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations import services, sla
from textdesk.conversations.inbound import record_message
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import BusinessHours, SlaPolicy
from textdesk.textrequest import types as tr

_ids = count(1)


def text(conversation, at, *, received=True, by="Sam"):
    """A text recorded the way a webhook or a sync records it."""
    item = tr.Message(
        message_id=f"m{next(_ids)}-{conversation.pk}",
        body="Hello",
        message_direction=tr.DIRECTION_RECEIVED if received else tr.DIRECTION_SENT,
        response_by_username=None if received else by,
        message_timestamp_utc=at,
        delivery_status=None,
        delivery_error=None,
        mms_media=[],
    )
    return record_message(conversation, item, is_new=True)


def fresh(conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


@pytest.fixture
def policy(line):
    return SlaPolicy.objects.create(
        dashboard=line, first_response_minutes=15, next_response_minutes=30, resolution_minutes=240
    )


T0 = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


def test_first_customer_text_starts_the_first_response_clock(line, policy):
    conversation = make_conversation(line)
    text(conversation, T0)
    row = fresh(conversation)
    assert row.sla_reply_target == "first"
    assert row.sla_reply_from == T0
    assert row.sla_reply_due_at == T0 + timedelta(minutes=15)
    assert row.sla_resolve_due_at == T0 + timedelta(hours=4)
    assert (row.sla_due_at, row.sla_target) == (T0 + timedelta(minutes=15), "first")


def test_a_reply_stops_the_reply_clock_and_the_next_text_starts_next_response(line, policy):
    conversation = make_conversation(line)
    text(conversation, T0)
    text(conversation, T0 + timedelta(minutes=5), received=False)
    row = fresh(conversation)
    assert row.sla_reply_due_at is None and row.sla_reply_target == ""
    assert (row.sla_due_at, row.sla_target) == (T0 + timedelta(hours=4), "resolution")
    later = T0 + timedelta(minutes=20)
    text(conversation, later)
    text(conversation, later + timedelta(minutes=1))  # a second text: the same wait
    row = fresh(conversation)
    assert row.sla_reply_target == "next"
    assert row.sla_reply_from == later
    assert row.sla_reply_due_at == later + timedelta(minutes=30)
    assert row.sla_resolve_due_at == T0 + timedelta(hours=4)  # the episode's clock goes on


def test_textdesks_own_sends_do_not_stop_the_clock(line, policy):
    """A payment link or reminder (no person named) is not a reply: as in Reports."""
    conversation = make_conversation(line)
    text(conversation, T0)
    text(conversation, T0 + timedelta(minutes=1), received=False, by=None)
    assert fresh(conversation).sla_reply_target == "first"


def test_resolve_stops_every_clock_and_a_new_text_opens_a_new_episode(line, policy, agent):
    conversation = make_conversation(line)
    text(conversation, T0)
    text(conversation, T0 + timedelta(minutes=5), received=False)
    services.set_resolved(conversation=fresh(conversation), user=agent, resolved=True)
    row = fresh(conversation)
    assert row.sla_due_at is None and row.sla_resolve_due_at is None
    back = timezone.now() + timedelta(seconds=1)
    text(conversation, back)
    row = fresh(conversation)
    assert row.is_resolved is False
    assert row.sla_reply_target == "first"  # a reopened conversation: a first response again
    assert row.sla_opened_at == back


def test_reopen_restarts_the_clocks_of_an_unanswered_wait(line, policy, agent):
    conversation = make_conversation(line)
    text(conversation, T0)
    services.set_resolved(conversation=fresh(conversation), user=agent, resolved=True)
    assert fresh(conversation).sla_due_at is None
    services.set_resolved(conversation=fresh(conversation), user=agent, resolved=False)
    # The reopen replaced the resolve before it was sent: as in Reports, that resolve never
    # counted, so the unanswered wait's clock runs on from where it began.
    row = fresh(conversation)
    assert (row.sla_due_at, row.sla_target) == (T0 + timedelta(minutes=15), "first")


def test_no_policy_no_clock(line):
    conversation = make_conversation(line)
    text(conversation, T0)
    assert fresh(conversation).sla_due_at is None


def test_clocks_count_business_hours(line, policy):
    BusinessHours.objects.create(
        dashboard=line,
        is_always_open=False,
        time_zone="America/New_York",
        weekly=[["08:00", "18:00"]] * 5 + [None, None],
    )
    conversation = make_conversation(line)
    friday_evening = datetime(2026, 3, 6, 22, 55, tzinfo=UTC)  # 17:55 in New York
    text(conversation, friday_evening)
    # 5 minutes on Friday, 10 on Monday from 8:00 (EDT from Sunday: 12:00 UTC).
    assert fresh(conversation).sla_reply_due_at == datetime(2026, 3, 9, 12, 10, tzinfo=UTC)


def test_a_policy_edit_applies_to_open_conversations_on_recount(line, policy, agent):
    waiting = make_conversation(line, first_name="Waiting")
    text(waiting, T0)
    closed = make_conversation(line, first_name="Closed")
    text(closed, T0)
    services.set_resolved(conversation=fresh(closed), user=agent, resolved=True)
    policy.first_response_minutes = 60
    policy.save()
    # Nothing moves until the recount.
    assert fresh(waiting).sla_reply_due_at == T0 + timedelta(minutes=15)
    assert sla.recount_stale() == [line.pk]
    assert fresh(waiting).sla_reply_due_at == T0 + timedelta(minutes=60)
    assert fresh(closed).sla_due_at is None
    assert sla.recount_stale() == []  # done: the next beat does nothing
    policy.first_response_minutes = policy.next_response_minutes = None
    policy.resolution_minutes = None
    policy.save()
    sla.recount_line(line.pk)
    assert fresh(waiting).sla_due_at is None and fresh(waiting).sla_reply_due_at is None


def test_saving_hours_recounts_on_the_next_beat(line, policy):
    conversation = make_conversation(line)
    text(conversation, T0)
    sla.recount_stale()
    BusinessHours.objects.create(
        dashboard=line,
        is_always_open=False,
        time_zone="America/New_York",
        weekly=[["11:00", "18:00"]] * 5 + [None, None],
    )
    assert sla.recount_stale() == [line.pk]
    # 10:00 New York: the clock starts at 11:00.
    assert fresh(conversation).sla_reply_due_at == T0 + timedelta(hours=1, minutes=15)


def test_an_agents_reply_stops_the_clock_once_text_request_confirms_it(line, policy, agent):
    import uuid

    from textdesk.conversations.outbound import attach

    conversation = make_conversation(line)
    text(conversation, T0)
    reply = services.send_text(
        conversation=fresh(conversation), user=agent, body="On our way", client_key=uuid.uuid4()
    )
    # Queued, not sent yet: as in Reports, the wait goes on.
    assert fresh(conversation).sla_reply_target == "first"
    confirmed = tr.Message(
        message_id="tr-reply-1",
        body="On our way",
        message_direction=tr.DIRECTION_SENT,
        response_by_username=None,
        message_timestamp_utc=T0 + timedelta(minutes=3),
        delivery_status=None,
        delivery_error=None,
        mms_media=[],
    )
    assert attach(reply, confirmed)
    row = fresh(conversation)
    assert row.sla_reply_due_at is None
    assert row.sla_target == "resolution"
