"""Concurrent arrivals never over-fill an agent, never assign a conversation twice, and a
manual assignment that lands mid-way wins.

On SQLite (one writer at a time) the interleaving is played deterministically: another
assignment commits between the pick and the update. On PostgreSQL real threads race.
"""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from tests.routing_helpers import available_agent, set_rule
from textdesk.conversations import routing, services
from textdesk.conversations.models import Assignment, Conversation
from textdesk.dashboards.models import Dashboard

RR = Dashboard.Assignment.ROUND_ROBIN
LB = Dashboard.Assignment.LEAST_BUSY


def _queued(line, n: int) -> list[Conversation]:
    now = timezone.now()
    return [make_conversation(line, queued_at=now) for _ in range(n)]


@pytest.mark.django_db
def test_an_agent_filled_between_pick_and_update_is_passed_by(line, monkeypatch):
    set_rule(line, RR, capacity=1)
    ann, bob = available_agent("ann", line), available_agent("bob", line)
    first, second = _queued(line, 2)
    picked = routing._by_rule

    def pick_then_someone_else_commits(line_, room, load):
        order = picked(line_, room, load)
        if order and order[0] == ann:
            # Another worker gives ann `second` (her one place) right after our read.
            Conversation.objects.filter(pk=second.pk).update(assigned_to=ann, queued_at=None)
        return order

    monkeypatch.setattr(routing, "_by_rule", pick_then_someone_else_commits)
    assert routing.assign_waiting(first.pk).status == routing.ASSIGNED
    first.refresh_from_db()
    assert first.assigned_to == bob
    assert Conversation.objects.filter(assigned_to=ann).count() == 1


@pytest.mark.django_db
def test_when_the_only_agent_fills_up_mid_way_it_keeps_waiting(line, monkeypatch):
    set_rule(line, LB, capacity=1)
    ann = available_agent("ann", line)
    first, second = _queued(line, 2)
    picked = routing._by_rule

    def pick_then_fill(line_, room, load):
        order = picked(line_, room, load)
        Conversation.objects.filter(pk=second.pk).update(assigned_to=ann, queued_at=None)
        return order

    monkeypatch.setattr(routing, "_by_rule", pick_then_fill)
    assert routing.assign_waiting(first.pk).status == routing.NO_ROOM
    first.refresh_from_db()
    assert first.assigned_to is None and first.queued_at is not None
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_a_manual_assignment_mid_way_wins(line, admin_user, monkeypatch):
    set_rule(line, RR)
    available_agent("ann", line)
    bob = make_user("bob", "Agent", lines=[line])
    (conversation,) = _queued(line, 1)
    picked = routing._by_rule

    def pick_then_a_person_assigns(line_, room, load):
        order = picked(line_, room, load)
        services.assign(
            conversation=Conversation.objects.get(pk=conversation.pk),
            user=admin_user,
            assignee=bob,
        )
        return order

    monkeypatch.setattr(routing, "_by_rule", pick_then_a_person_assigns)
    assert routing.assign_waiting(conversation.pk).status == routing.GONE
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob
    assert list(Assignment.objects.values_list("rule", flat=True)) == ["manual"]


@pytest.mark.django_db
def test_a_crash_before_commit_leaves_it_waiting_and_a_retry_assigns_it_once(line, monkeypatch):
    set_rule(line, RR)
    ann = available_agent("ann", line)
    (conversation,) = _queued(line, 1)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(routing.audit, "record", crash)
    with pytest.raises(RuntimeError):
        routing.assign_waiting(conversation.pk)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None and conversation.queued_at is not None
    assert not Assignment.objects.exists()
    monkeypatch.undo()
    assert routing.drain() == 1
    assert routing.drain() == 0
    conversation.refresh_from_db()
    assert conversation.assigned_to == ann
    assert Assignment.objects.count() == 1


def _race(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors = []

    def run(args):
        try:
            barrier.wait(timeout=30)
            target(*args)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rule", [RR, LB])
def test_concurrent_arrivals_never_over_fill_anyone_on_postgres(rule):
    from tests.conftest import make_line

    assert connection.vendor == "postgresql"
    line = make_line()
    set_rule(line, rule, capacity=3)
    agents = [available_agent(f"agent{i}", line) for i in range(4)]
    conversations = _queued(line, 24)
    # Every conversation attempted by two workers at once, plus two drains racing them.
    attempts = [(routing.assign_waiting, c.pk) for c in conversations] * 2
    attempts += [(routing.drain, None)] * 2
    _race(lambda f, pk: f(pk) if pk is not None else f(), attempts)
    held = {a.pk: Conversation.objects.filter(assigned_to=a).count() for a in agents}
    assert held == {a.pk: 3 for a in agents}
    assert Assignment.objects.count() == 12
    assert Assignment.objects.values("conversation").distinct().count() == 12
    assert (
        Conversation.objects.filter(assigned_to__isnull=True, queued_at__isnull=False).count() == 12
    )
