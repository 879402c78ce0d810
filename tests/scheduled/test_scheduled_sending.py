"""Scheduled texts leave once, when due by the database's clock, through the outbox at sync
priority, and are skipped with the reason when they may no longer go (Text Request stand-in)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.contacts.models import ConsentEvent, Contact
from textdesk.contacts.services import record_consent
from textdesk.conversations import outbound, scheduled, services
from textdesk.conversations.models import Conversation, Message, ScheduledText
from textdesk.outbox import delivery
from textdesk.textrequest.limiter import get_limiter

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 0.5
    connection_ = connect(sandbox_account)
    return sandbox_account, lines_of(connection_)[0]


def delivered(account, body):
    counters = account.control.counters(account.api_key)
    return sum(d["count"] for d in counters["sent"] if d["body"] == body)


def new_conversation(line, phone="6155550123"):
    contact = Contact.objects.create(dashboard=line, phone_number=phone, first_name="Casey")
    return Conversation.objects.create(dashboard=line, contact=contact)


def due_text(conversation, user, body, *, ago=timedelta(minutes=1)):
    """A text whose time has come (made directly: the service refuses a time in the past)."""
    return ScheduledText.objects.create(
        dashboard_id=conversation.dashboard_id,
        conversation=conversation,
        contact_name="Casey",
        body=body,
        due_at=timezone.now() - ago,
        time_zone="America/New_York",
        client_key=uuid.uuid4(),
        created_by=user,
    )


def test_a_due_text_is_sent_once_at_sync_priority(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    item = due_text(conversation, staff, "Your table is ready")
    assert scheduled.release_due() == {"released": 1, "skipped": 0, "lost": 0}
    assert scheduled.release_due() == {"released": 0, "skipped": 0, "lost": 0}
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.RELEASED
    message = item.message
    assert message.status == Message.Status.SENT and message.message_id
    assert message.priority == "sync"
    assert message.sent_by == staff
    assert delivered(account, "Your table is ready") == 1
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "Your table is ready"


def test_a_text_not_yet_due_waits(setup, staff):
    account, line = setup
    item = due_text(new_conversation(line), staff, "Later", ago=-timedelta(minutes=5))
    assert scheduled.release(item.pk) is None
    assert scheduled.release_due()["released"] == 0
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.SCHEDULED
    assert delivered(account, "Later") == 0


def test_due_is_decided_by_the_database_clock_not_the_machines(setup, staff, monkeypatch):
    account, line = setup
    item = due_text(new_conversation(line), staff, "Not early", ago=-timedelta(hours=1))
    # The machine's clock jumps two hours ahead: the database's says it is not time yet.
    ahead = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: ahead)
    assert scheduled.release_due()["released"] == 0
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.SCHEDULED


def test_the_conditional_release_claims_once(setup, staff):
    """A duplicated beat on one database: the second release of the same text changes
    nothing (the conditional update matched no row)."""
    account, line = setup
    item = due_text(new_conversation(line), staff, "Once only")
    assert scheduled.release(item.pk) == "released"
    assert scheduled.release(item.pk) is None
    assert scheduled.release(item.pk, user=staff) is None  # Send now after beat: too late
    assert Message.objects.filter(body="Once only").count() == 1
    assert delivered(account, "Once only") == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel writers need PostgreSQL (SQLite: above)"
)
def test_two_beats_at_once_send_each_text_once(setup, staff):
    account, line = setup
    items = [
        due_text(new_conversation(line, phone=f"61555501{i:02d}"), staff, f"Parallel {i}")
        for i in range(6)
    ]
    start = threading.Barrier(2)
    results, errors = [], []

    def beat():
        try:
            start.wait()
            results.append(scheduled.release_due())
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r["released"] for r in results) == len(items)
    for i in range(len(items)):
        assert Message.objects.filter(body=f"Parallel {i}").count() == 1
        assert delivered(account, f"Parallel {i}") == 1


def test_a_worker_dying_mid_release_leaves_the_text_scheduled(setup, staff, monkeypatch):
    account, line = setup
    item = due_text(new_conversation(line), staff, "Survives a crash")

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(Conversation.objects, "touch", crash)
    with pytest.raises(RuntimeError):
        scheduled.release(item.pk)
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.SCHEDULED and item.message is None
    assert not Message.objects.filter(body="Survives a crash").exists()
    monkeypatch.undo()
    assert scheduled.release_due()["released"] == 1
    assert delivered(account, "Survives a crash") == 1


def test_a_worker_dying_mid_send_is_never_sent_again_by_itself(setup, staff, monkeypatch):
    account, line = setup
    item = due_text(new_conversation(line), staff, "Died while sending")
    # The send task is lost with its worker: it claims the row, then nothing more happens.
    monkeypatch.setattr(outbound, "deliver_text", lambda pk: None)
    assert scheduled.release(item.pk) == "released"
    message = ScheduledText.objects.get(pk=item.pk).message
    assert delivery.claim(Message, message.pk, status_from="pending", status_to="sending")
    Message.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - delivery.STALE_SENDING - timedelta(seconds=1)
    )
    monkeypatch.undo()
    outbound.sweep_texts()
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    # Beat runs again and again: the text is not released or sent a second time.
    scheduled.release_due()
    outbound.sweep_texts()
    assert Message.objects.filter(body="Died while sending").count() == 1
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert delivered(account, "Died while sending") == 0


def test_sync_priority_keeps_the_reserve_for_people(sandbox_account, settings, staff):
    connection_ = connect(sandbox_account, rate_limit=10, rate_window=60)
    line = lines_of(connection_)[0]
    limiter = get_limiter()
    # Everything sync work may take in the window is taken: only people's reserve is left.
    while limiter.try_acquire(connection_.bucket, 10, 60, "sync") == 0:
        pass
    item = due_text(new_conversation(line), staff, "Waits for a slot")
    assert scheduled.release_due()["released"] == 1
    message = ScheduledText.objects.get(pk=item.pk).message
    message.refresh_from_db()
    # Held back by our own limiter, nothing sent: waiting, no attempt counted, never failed.
    assert message.status == Message.Status.PENDING
    assert message.attempts == 0 and message.not_before is not None
    assert delivered(sandbox_account, "Waits for a slot") == 0
    # An agent's reply still goes out, from the reserve.
    reply = Message.objects.create(
        conversation=new_conversation(line, phone="6155550177"),
        direction=Message.Direction.SENT,
        body="Agent reply",
        sent_at=timezone.now(),
        status=Message.Status.PENDING,
    )
    outbound.deliver_text(reply.pk)
    reply.refresh_from_db()
    assert reply.status == Message.Status.SENT
    assert delivered(sandbox_account, "Agent reply") == 1


@pytest.mark.parametrize(
    "make_unsendable, reason",
    [
        (
            lambda c: record_consent(c.contact, ConsentEvent.Kind.OPT_OUT, source="test"),
            "opted out",
        ),
        (lambda c: Contact.objects.filter(pk=c.contact_id).update(is_blocked=True), "blocked"),
        (lambda c: c.delete(), "conversation was deleted"),
        (
            lambda c: (
                type(c.dashboard.connection)
                .objects.filter(pk=c.dashboard.connection_id)
                .update(is_active=False)
            ),
            "disconnected",
        ),
        (
            lambda c: (
                type(c.dashboard)
                .objects.filter(pk=c.dashboard_id)
                .update(removed_at=timezone.now())
            ),
            "line was removed",
        ),
    ],
    ids=["opted-out", "blocked", "conversation-deleted", "disconnected", "line-removed"],
)
def test_a_text_that_may_no_longer_go_is_skipped_with_why(setup, staff, make_unsendable, reason):
    account, line = setup
    conversation = new_conversation(line)
    item = due_text(conversation, staff, "Should not leave")
    make_unsendable(conversation)
    assert scheduled.release_due() == {"released": 0, "skipped": 1, "lost": 0}
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.SKIPPED
    assert reason in item.skip_reason and item.skip_reason.startswith("Not sent:")
    assert not Message.objects.filter(body="Should not leave").exists()
    assert delivered(account, "Should not leave") == 0


def test_an_opt_out_after_release_still_stops_the_send(setup, staff, monkeypatch):
    """The outbox re-checks opt-out at send time too, under the row lock."""
    account, line = setup
    conversation = new_conversation(line)
    item = due_text(conversation, staff, "Raced a STOP")
    real = outbound.deliver_text

    def stop_then_send(pk):
        Contact.objects.filter(pk=conversation.contact_id).update(opted_out_at=timezone.now())
        real(pk)

    monkeypatch.setattr(outbound, "deliver_text", stop_then_send)
    scheduled.release(item.pk)
    message = ScheduledText.objects.get(pk=item.pk).message
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and "opted out" in message.failure_reason
    assert delivered(account, "Raced a STOP") == 0


def test_a_scheduled_text_and_a_text_sent_now_from_one_form_are_two_texts(setup, staff):
    """The form's key was refused for Schedule (a past time), then used by Send: both texts
    still go, each once."""
    account, line = setup
    conversation = new_conversation(line)
    key = uuid.uuid4()
    services.send_text(conversation=conversation, user=staff, body="Now", client_key=key)
    item = due_text(conversation, staff, "Later on")
    ScheduledText.objects.filter(pk=item.pk).update(client_key=key)
    assert scheduled.release_due()["released"] == 1
    assert delivered(account, "Now") == 1 and delivered(account, "Later on") == 1
