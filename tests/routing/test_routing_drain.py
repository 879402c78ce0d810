"""The drain: waiting conversations go out, oldest first, as soon as someone has room."""

import time

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from tests.routing_helpers import arrive, available_agent, set_rule
from textdesk.accounts.availability import set_availability
from textdesk.audit.models import Entry
from textdesk.conversations import presence, routing, services
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Dashboard

RR = Dashboard.Assignment.ROUND_ROBIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(line):
    """Three conversations waiting on a round-robin line nobody is available on, oldest first."""
    set_rule(line, RR, capacity=2)
    return [arrive(line, first_name=f"C{i}", minutes_ago=0) for i in range(3)]


def test_an_agent_going_available_receives_the_oldest_waiting_first(
    line, waiting, django_capture_on_commit_callbacks
):
    ann = make_user("ann", "Agent", lines=[line])
    assert all(c.queued_at for c in waiting)
    with django_capture_on_commit_callbacks(execute=True):
        set_availability(user=ann, is_available=True, actor=ann)
    held = list(Conversation.objects.filter(assigned_to=ann).order_by("pk"))
    assert held == waiting[:2]  # capacity 2: the two oldest
    assert Conversation.objects.get(pk=waiting[2].pk).queued_at is not None


def test_the_top_bar_toggle_drains_the_queue(
    client, line, waiting, django_capture_on_commit_callbacks
):
    ann = make_user("ann", "Agent", lines=[line])
    client.force_login(ann)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:availability"),
            {"available": "1", "next": "/inbox/"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert b'aria-pressed="true"' in response.content and b"Available" in response.content
    assert b"<html" not in response.content
    ann.refresh_from_db()
    assert ann.is_available
    assert Entry.objects.filter(kind="availability", actor=ann, summary="Ann is Available").exists()
    assert Conversation.objects.filter(assigned_to=ann).count() == 2


def test_dropping_under_capacity_gives_the_next_oldest(
    line, waiting, django_capture_on_commit_callbacks
):
    ann = available_agent("ann", line)
    with django_capture_on_commit_callbacks(execute=True):
        routing.drain()
    first = Conversation.objects.get(pk=waiting[0].pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_resolved(conversation=first, user=ann, resolved=True)
    assert Conversation.objects.get(pk=waiting[2].pk).assigned_to == ann


def test_going_away_takes_nothing_off_anyone(line, waiting, django_capture_on_commit_callbacks):
    ann = available_agent("ann", line)
    with django_capture_on_commit_callbacks(execute=True):
        routing.drain()
        set_availability(user=ann, is_available=False, actor=ann)
    assert Conversation.objects.filter(assigned_to=ann).count() == 2


def test_reassigning_by_hand_gives_the_freed_room_to_the_next_waiting(
    line, waiting, admin_user, django_capture_on_commit_callbacks
):
    ann = available_agent("ann", line)
    bob = make_user("bob", "Agent", lines=[line])
    routing.drain()
    first = Conversation.objects.get(pk=waiting[0].pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(conversation=first, user=admin_user, assignee=bob)
    assert Conversation.objects.get(pk=waiting[0].pk).assigned_to == bob
    assert Conversation.objects.get(pk=waiting[2].pk).assigned_to == ann


def test_raising_a_lines_capacity_drains_at_once(
    client, admin_user, line, waiting, django_capture_on_commit_callbacks
):
    ann = available_agent("ann", line)
    routing.drain()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboards:assignment", args=[line.pk]),
            {"assignment_rule": RR, "assignment_capacity": "3"},
        )
    assert response.status_code == 302
    assert Conversation.objects.filter(assigned_to=ann).count() == 3
    assert Entry.objects.filter(kind="assignment_rule", dashboard_id=line.pk).exists()


def test_idle_agents_go_away_but_an_open_inbox_keeps_them_available(line, settings):
    settings.TEXTDESK_AWAY_AFTER = 600
    ann, bob = available_agent("ann", line), available_agent("bob", line)
    make_conversation(line, assigned_to=ann)
    later = time.time() + 601
    presence.cache.set(presence._inbox_key(bob.pk), later - 5, timeout=60)
    assert routing.send_idle_away(now=later) == 1
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert not ann.is_available and bob.is_available
    assert Conversation.objects.filter(assigned_to=ann).count() == 1  # still hers
    entry = Entry.objects.get(kind="availability")
    assert entry.actor is None and entry.summary == "Ann is Away: no inbox open for 10 minutes"


def test_an_agent_just_gone_available_is_not_sent_away_before_their_first_poll(line, settings):
    settings.TEXTDESK_AWAY_AFTER = 600
    ann = make_user("ann", "Agent", lines=[line])
    set_availability(user=ann, is_available=True, actor=ann)
    assert routing.send_idle_away(now=time.time() + 10) == 0


def test_an_agent_removed_from_a_line_gives_their_conversations_back(
    client, admin_user, line, django_capture_on_commit_callbacks
):
    set_rule(line, RR)
    ann = available_agent("ann", line)
    bob = available_agent("bob", line)
    held = [make_conversation(line, assigned_to=ann) for _ in range(2)]
    done = make_conversation(line, assigned_to=ann, is_resolved=True)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboards:agents", args=[line.pk]), {"agents": [bob.pk]})
    assert response.status_code == 302
    assert {c.assigned_to for c in Conversation.objects.filter(pk__in=[c.pk for c in held])} == {
        bob
    }
    assert Conversation.objects.get(pk=done.pk).assigned_to == ann  # resolved: history stays
    assert Entry.objects.filter(
        kind="assignment", summary__contains="2 unresolved conversations of Ann went back"
    ).exists()


def test_removed_from_a_line_that_does_not_assign_they_wait_in_unassigned(client, admin_user, line):
    ann = make_user("ann", "Agent", lines=[line])
    conversation = make_conversation(line, assigned_to=ann)
    client.force_login(admin_user)
    client.post(reverse("accounts:staff_edit", args=[ann.pk]), _staff_form(ann, dashboards=[]))
    conversation.refresh_from_db()
    assert conversation.assigned_to is None and conversation.queued_at is None


def _staff_form(person, **changes):
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "is_active": "on",
        "role": "Agent",
        "dashboards": [d.pk for d in person.dashboards.all()],
        "assignment_capacity": "",
    }
    data.update(changes)
    return data


def test_resolved_while_waiting_it_leaves_the_queue_and_rejoins_at_the_back_when_reopened(
    line, waiting, django_capture_on_commit_callbacks
):
    from tests.routing_helpers import text_in

    first = Conversation.objects.get(pk=waiting[0].pk)
    Conversation.objects.filter(pk=first.pk).update(is_resolved=True)
    ann = make_user("ann", "Agent", lines=[line], assignment_capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        set_availability(user=ann, is_available=True, actor=ann)
    assert Conversation.objects.get(assigned_to=ann) == waiting[1]  # the resolved one is skipped
    with django_capture_on_commit_callbacks(execute=True):
        text_in(first, "Actually, one more thing")
    first.refresh_from_db()
    assert first.queued_at > Conversation.objects.get(pk=waiting[2].pk).queued_at
    Conversation.objects.filter(assigned_to=ann).update(is_resolved=True)
    assert routing.drain() == 1
    assert Conversation.objects.get(assigned_to=ann, is_resolved=False) == waiting[2]
