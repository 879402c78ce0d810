"""Each rule: off, round-robin, least busy; capacity; who counts as available; audit."""

import pytest

from tests.conftest import make_conversation, make_user
from tests.routing_helpers import arrive, available_agent, set_rule, text_in
from textdesk.audit.models import Entry
from textdesk.conversations import services
from textdesk.conversations.models import Assignment, Conversation
from textdesk.dashboards.models import Dashboard

RR = Dashboard.Assignment.ROUND_ROBIN
LB = Dashboard.Assignment.LEAST_BUSY

pytestmark = pytest.mark.django_db


@pytest.fixture
def arrivals(django_capture_on_commit_callbacks):
    """Run what an arrival leaves for after the commit (the assignment itself)."""

    def _arrive(line, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            conversation = arrive(line, **kwargs)
        conversation.refresh_from_db()
        return conversation

    return _arrive


def test_off_leaves_new_conversations_unassigned_and_unqueued(line, arrivals):
    available_agent("ann", line)
    conversation = arrivals(line)
    assert conversation.assigned_to is None
    assert conversation.queued_at is None
    assert not Assignment.objects.exists()


def test_round_robin_takes_turns_among_available_agents(line, arrivals):
    set_rule(line, RR)
    ann, bob, cat = (available_agent(n, line) for n in ("ann", "bob", "cat"))
    got = [arrivals(line).assigned_to for _ in range(7)]
    assert got == [ann, bob, cat, ann, bob, cat, ann]


def test_round_robin_skips_away_inactive_and_other_lines_agents(line, other_line, arrivals):
    set_rule(line, RR)
    ann = available_agent("ann", line)
    make_user("bob", "Agent", lines=[line])  # Away (the default)
    available_agent("cat", line, is_active=False)
    available_agent("dan", other_line)
    assert {arrivals(line).assigned_to for _ in range(3)} == {ann}


def test_least_busy_gives_to_who_holds_fewest_unresolved(line, arrivals):
    set_rule(line, LB)
    ann, bob = available_agent("ann", line), available_agent("bob", line)
    for _ in range(3):
        make_conversation(line, assigned_to=ann)
    make_conversation(line, assigned_to=bob)
    make_conversation(line, assigned_to=bob, is_resolved=True)  # resolved: not held
    make_conversation(line, assigned_to=bob, is_archived=True)  # archived: not held
    got = [arrivals(line).assigned_to for _ in range(4)]
    # bob 1 → 2 → 3 (ties go to who was given one longest ago) → ann and bob alternate.
    assert got == [bob, bob, ann, bob]


def test_capacity_is_never_exceeded_and_the_rest_wait(line, arrivals):
    set_rule(line, RR, capacity=2)
    ann, bob = available_agent("ann", line), available_agent("bob", line)
    conversations = [arrivals(line) for _ in range(6)]
    assert [c.assigned_to for c in conversations[:4]] == [ann, bob, ann, bob]
    assert all(c.assigned_to is None and c.queued_at for c in conversations[4:])
    assert Conversation.objects.filter(assigned_to=ann).count() == 2


def test_a_persons_own_capacity_wins_over_the_lines(line, arrivals):
    set_rule(line, RR, capacity=1)
    ann = available_agent("ann", line, assignment_capacity=3)
    bob = available_agent("bob", line)
    got = [arrivals(line).assigned_to for _ in range(5)]
    assert got == [ann, bob, ann, ann, None]


def test_load_counts_every_line_a_person_holds(line, other_line, arrivals):
    set_rule(line, RR, capacity=2)
    ann = available_agent("ann", line)
    ann.dashboards.add(other_line)
    make_conversation(other_line, assigned_to=ann)
    assert arrivals(line).assigned_to == ann
    assert arrivals(line).assigned_to is None  # holds 2: one per line


def test_a_line_with_no_agents_keeps_them_waiting(line, arrivals):
    set_rule(line, RR)
    conversation = arrivals(line)
    assert conversation.assigned_to is None and conversation.queued_at is not None


def test_every_automatic_assignment_is_in_the_audit_log_with_its_reason(line, arrivals):
    set_rule(line, LB, capacity=4)
    ann = available_agent("ann", line)
    conversation = arrivals(line)
    entry = Entry.objects.get(kind="assignment_auto")
    assert entry.actor is None and entry.actor_name == "textdesk"
    assert entry.conversation_id == conversation.pk and entry.dashboard_id == line.pk
    assert entry.summary == (
        "Assigned automatically to Ann: least busy, holding 0 of 4; "
        "0 other available agents with room"
    )
    assignment = Assignment.objects.get()
    assert (assignment.assignee, assignment.assigned_by, assignment.rule) == (ann, None, LB)
    assert assignment.queued_at is not None and assignment.assigned_at >= assignment.queued_at


def test_a_reopened_conversation_is_assigned_again(
    line, arrivals, django_capture_on_commit_callbacks
):
    set_rule(line, RR)
    ann = available_agent("ann", line)
    conversation = make_conversation(line, is_resolved=True)
    with django_capture_on_commit_callbacks(execute=True):
        text_in(conversation, "It broke again")
    conversation.refresh_from_db()
    assert not conversation.is_resolved and conversation.assigned_to == ann


def test_a_reopened_conversation_keeps_whoever_holds_it(line, django_capture_on_commit_callbacks):
    set_rule(line, RR)
    available_agent("ann", line)
    bob = make_user("bob", "Agent", lines=[line])  # Away now, but it is still his
    conversation = make_conversation(line, is_resolved=True, assigned_to=bob)
    with django_capture_on_commit_callbacks(execute=True):
        text_in(conversation, "Me again")
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob and conversation.queued_at is None
    assert not Assignment.objects.exists()


def test_history_read_by_a_first_sync_is_not_assigned(line, django_capture_on_commit_callbacks):
    from textdesk.conversations.inbound import record_message
    from textdesk.textrequest import types as tr

    set_rule(line, RR)
    available_agent("ann", line)
    conversation = make_conversation(line)
    item = tr.Message("m-old", "old text", tr.DIRECTION_RECEIVED, None, None, None, None, [])
    with django_capture_on_commit_callbacks(execute=True):
        record_message(conversation, item, is_new=False)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None and conversation.queued_at is None


def test_a_manual_assignment_wins_and_leaves_the_queue(line, admin_user, arrivals):
    set_rule(line, RR)
    conversation = arrivals(line)  # nobody available: waits
    bob = make_user("bob", "Agent", lines=[line])
    services.assign(conversation=conversation, user=admin_user, assignee=bob)
    available_agent("ann", line)
    from textdesk.conversations import routing

    assert routing.drain() == 0
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob and conversation.queued_at is None
    manual = Assignment.objects.get()
    assert (manual.rule, manual.assigned_by) == (Assignment.Rule.MANUAL, admin_user)


def test_an_automatic_attempt_never_takes_a_conversation_someone_holds(line, admin_user):
    from textdesk.conversations import routing

    set_rule(line, RR)
    available_agent("ann", line)
    bob = make_user("bob", "Agent", lines=[line])
    conversation = make_conversation(line, assigned_to=bob)
    # Even with a stale queue mark (a crash between two writes of an older version).
    Conversation.objects.filter(pk=conversation.pk).update(queued_at=conversation.last_message_at)
    assert routing.assign_waiting(conversation.pk).status == routing.GONE
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob


def test_a_text_through_the_webhook_is_assigned(line, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from textdesk.conversations.inbound import record_webhook_message
    from textdesk.textrequest import types as tr

    set_rule(line, RR)
    ann = available_agent("ann", line)
    event = tr.WebhookEvent(
        message_unique_identifier="hook-1",
        account_id=None,
        dashboard_id=line.dashboard_id,
        dashboard_name=line.name,
        dashboard_phone_number=line.phone,
        conversation_id=None,
        date=timezone.now(),
        consumer_phone_number="8655550123",
        message_direction=tr.DIRECTION_RECEIVED,
        message="Do you deliver?",
        num_segments=1,
        status="delivered",
        claimed_by=None,
        consumer_friendly_name="Casey",
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = record_webhook_message(line, event)
    assert Conversation.objects.get(pk=message.conversation_id).assigned_to == ann


def test_news_read_by_an_incremental_sync_is_assigned(line, django_capture_on_commit_callbacks):
    from textdesk.conversations.inbound import record_messages
    from textdesk.textrequest import types as tr

    set_rule(line, LB)
    ann = available_agent("ann", line)
    conversation = make_conversation(line, last_message_at=None)
    items = [
        tr.Message(f"s-{n}", "hello", tr.DIRECTION_RECEIVED, None, None, None, None, [])
        for n in range(2)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        record_messages(conversation, items, is_new=True)
    conversation.refresh_from_db()
    assert conversation.assigned_to == ann
    assert Assignment.objects.count() == 1
