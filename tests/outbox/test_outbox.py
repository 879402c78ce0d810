"""The outbox: every text reaches Text Request exactly once, or is visibly failed."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.contacts.models import ConsentEvent, Contact
from textdesk.contacts.services import record_consent
from textdesk.conversations import outbound, services
from textdesk.conversations.models import Conversation, Message
from textdesk.outbox import changes, delivery
from textdesk.outbox.models import Change

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 0.5
    settings.TEXTDESK_UNKNOWN_GRACE = 0
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    return sandbox_account, line


def delivered(account, body):
    counters = account.control.counters(account.api_key)
    return sum(d["count"] for d in counters["sent"] if d["body"] == body)


def new_conversation(line, phone="6155550123"):
    contact = Contact.objects.create(dashboard=line, phone_number=phone, first_name="Casey")
    return Conversation.objects.create(dashboard=line, contact=contact)


def test_reply_reaches_text_request_once(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    key = uuid.uuid4()
    message = services.send_text(
        conversation=conversation, user=staff, body="On our way", client_key=key
    )
    again = services.send_text(
        conversation=conversation, user=staff, body="On our way", client_key=key
    )
    assert again.pk == message.pk
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.message_id
    assert delivered(account, "On our way") == 1
    assert Message.objects.filter(conversation=conversation).count() == 1
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "On our way"
    assert conversation.waiting_since is None


def test_start_conversation_accepts_any_us_spelling(setup, staff):
    account, line = setup
    conversation = services.start_conversation(
        dashboard=line,
        phone_number="+1 (615) 555-0199",
        user=staff,
        body="Hello!",
        client_key=uuid.uuid4(),
    )
    assert conversation.contact.phone_number == "6155550199"
    assert delivered(account, "Hello!") == 1
    with pytest.raises(services.InvalidPhoneNumber):
        services.start_conversation(
            dashboard=line, phone_number="12", user=staff, body="x", client_key=uuid.uuid4()
        )


def test_cannot_text_empty_long_or_opted_out(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    with pytest.raises(services.CannotText):
        services.send_text(
            conversation=conversation, user=staff, body="  ", client_key=uuid.uuid4()
        )
    with pytest.raises(services.CannotText):
        services.send_text(
            conversation=conversation, user=staff, body="x" * 1601, client_key=uuid.uuid4()
        )
    record_consent(conversation.contact, ConsentEvent.Kind.OPT_OUT, source="test")
    with pytest.raises(services.CannotText, match="opted out"):
        services.send_text(
            conversation=conversation, user=staff, body="hi", client_key=uuid.uuid4()
        )
    assert account.control.counters(account.api_key)["sent"] == []


def test_stop_while_a_reply_is_queued_fails_the_reply(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    with transaction.atomic():
        queued = services.send_text(
            conversation=conversation,
            user=staff,
            body="Queued before STOP",
            client_key=uuid.uuid4(),
        )
        record_consent(
            conversation.contact, ConsentEvent.Kind.OPT_OUT, source="webhook", body="STOP"
        )
    other = new_conversation(line, phone="6155550124")
    with transaction.atomic():
        raced = services.send_text(
            conversation=other, user=staff, body="Raced the STOP", client_key=uuid.uuid4()
        )
        # The opt-out lands without failing the row (a sync, say): the send re-checks it.
        Contact.objects.filter(pk=other.contact_id).update(opted_out_at=timezone.now())
    queued.refresh_from_db()
    raced.refresh_from_db()
    assert queued.status == raced.status == Message.Status.FAILED
    assert "opted out" in queued.failure_reason and "opted out" in raced.failure_reason
    assert account.control.counters(account.api_key)["sent"] == []


def test_refused_text_is_failed_with_the_reason_and_can_be_retried_once(setup, staff):
    account, line = setup
    # The contact texted STOP at Text Request; we have not heard yet.
    account.control.inbound(account.api_key, line.dashboard_id, "6155550123", "STOP")
    conversation = new_conversation(line)
    message = services.send_text(
        conversation=conversation, user=staff, body="Are you there?", client_key=uuid.uuid4()
    )
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "opted out" in message.failure_reason
    account.control.inbound(account.api_key, line.dashboard_id, "6155550123", "START")
    services.retry_text(message=message, user=staff)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    with pytest.raises(services.CannotText):
        services.retry_text(message=message, user=staff)
    assert delivered(account, "Are you there?") == 1


def test_read_timeout_is_settled_by_reading_the_conversation_never_resent(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, timeout_rate=1.0, timeout_seconds=1.5)
    message = services.send_text(
        conversation=conversation, user=staff, body="Timed out reply", client_key=uuid.uuid4()
    )
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    account.control.clear_faults(account.api_key)
    # The grace window (0 here) has passed, yet the text is found, not sent again.
    outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=5))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.message_id
    assert delivered(account, "Timed out reply") == 1
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_text_answered_503_goes_back_to_pending_and_is_sent_once(setup, staff):
    """A 503 was not handled (RFC 9110 §15.6.4): the text is retried, no person needed."""
    account, line = setup
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, outage=True)
    message = services.send_text(
        conversation=conversation, user=staff, body="After the outage", client_key=uuid.uuid4()
    )
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING, message.failure_reason
    assert message.attempts == 1 and message.not_before is not None
    assert not message.is_unconfirmed
    assert delivered(account, "After the outage") == 0
    account.control.clear_faults(account.api_key)
    # Beat's sweeper, once the backoff is over, sends it; a second sweep finds nothing to do.
    for _ in range(2):
        Message.objects.filter(pk=message.pk).update(not_before=None)
        outbound.sweep_texts(min_age=timedelta(0))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.message_id
    assert delivered(account, "After the outage") == 1
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_5xx_leaves_the_text_unconfirmed_until_the_agent_sends_it_again(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, error_rate=1.0)
    message = services.send_text(
        conversation=conversation, user=staff, body="During the outage", client_key=uuid.uuid4()
    )
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN  # a 500 may have been processed
    account.control.clear_faults(account.api_key)
    # Past the grace, nothing found: never sent again by itself; the agent is told.
    for minutes in (5, 60):
        message.not_before = None
        message.save(update_fields=["not_before"])
        outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=minutes))
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.is_unconfirmed
    assert message.failure_reason == delivery.UNCONFIRMED
    assert delivered(account, "During the outage") == 0
    # The agent chooses "send again": it goes out once, and a second click is refused.
    services.retry_text(message=message, user=staff)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    with pytest.raises(services.CannotText):
        services.retry_text(message=message, user=staff)
    assert delivered(account, "During the outage") == 1


def test_text_that_text_request_processes_late_is_never_sent_twice(setup, staff, settings):
    """Text Request holds the request past our read timeout and the grace, then sends it."""
    account, line = setup
    settings.TEXTREQUEST_READ_TIMEOUT = 0.3
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, latency_ms=1500)
    message = services.send_text(
        conversation=conversation, user=staff, body="Held upstream", client_key=uuid.uuid4()
    )
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    # Checked before Text Request got round to it: nothing there yet, and nothing is resent.
    outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=2))
    account.control.clear_faults(account.api_key)
    account.control.wait_idle()
    deadline = time.monotonic() + 10
    while delivered(account, "Held upstream") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    message.not_before = None
    message.save(update_fields=["not_before"])
    outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=3))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert delivered(account, "Held upstream") == 1
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_colleagues_identical_text_does_not_settle_ours(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, error_rate=1.0)
    message = services.send_text(
        conversation=conversation, user=staff, body="See you at 3", client_key=uuid.uuid4()
    )
    account.control.clear_faults(account.api_key)
    # The same words, sent after our attempt by someone else from Text Request's own app.
    client = line.connection.client()
    client.send_message(
        line.dashboard_id, conversation.contact.phone_number, body="See you at 3",
        sender_name="Someone Else",
    )  # fmt: skip
    client.close()
    outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=5))
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.message_id is None


def test_sweeper_sends_a_pending_text_whose_task_was_lost(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    message = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Lost publish",
        sent_at=timezone.now(),
        status=Message.Status.PENDING,
        client_key=uuid.uuid4(),
    )
    stuck = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Worker died",
        sent_at=timezone.now(),
        status=Message.Status.SENDING,
        client_key=uuid.uuid4(),
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=10),
    )
    result = outbound.sweep_texts(min_age=timedelta(0))
    assert result["pending"] == 1 and result["stuck"] == 1
    message.refresh_from_db()
    stuck.refresh_from_db()
    assert message.status == Message.Status.SENT
    # Its worker died mid-send: it may have gone out, so it is looked for, never resent.
    outbound.sweep_texts(now=timezone.now() + timedelta(minutes=5), min_age=timedelta(0))
    stuck.refresh_from_db()
    assert stuck.status == Message.Status.UNKNOWN
    assert stuck.is_unconfirmed
    assert delivered(account, "Lost publish") == 1
    assert delivered(account, "Worker died") == 0


def test_archive_resolve_tags_and_contact_edits_go_through_the_outbox(setup, staff):
    account, line = setup
    from textdesk.contacts.models import Tag
    from textdesk.contacts.services import update_contact
    from textdesk.sync.engine import run_sync

    run_sync(line, wait=True)  # tags
    conversation = services.start_conversation(
        dashboard=line, phone_number="6155550150", user=staff, body="Hi", client_key=uuid.uuid4()
    )
    services.set_archived(conversation=conversation, user=staff, archived=True)
    services.set_resolved(conversation=conversation, user=staff, resolved=True)
    vip = Tag.objects.get(dashboard=line, name="VIP")
    services.set_tags(conversation=conversation, user=staff, tags=[vip])
    update_contact(
        contact=conversation.contact,
        user=staff,
        first_name="Robin",
        last_name="Ng",
        note="Gate code 12",
    )
    assert not services.pending_changes(conversation).exists()
    assert conversation.changes.filter(status="done").count() == 4
    remote = account.get(f"/dashboards/{line.dashboard_id}/contacts/6155550150").json()
    assert remote["is_archived"] is True
    assert remote["is_resolved"] is True
    assert remote["contact_tags"] == [vip.tag_id]
    assert (remote["first_name"], remote["last_name"], remote["note"]) == (
        "Robin",
        "Ng",
        "Gate code 12",
    )


def test_failed_change_is_shown_with_the_reason(setup, staff):
    account, line = setup
    conversation = new_conversation(line, phone="6155550160")  # unknown to Text Request
    change = services.set_archived(conversation=conversation, user=staff, archived=True)
    change.refresh_from_db()
    assert change.status == Change.Status.FAILED
    assert "No conversation" in change.failure_reason
    assert list(services.pending_changes(conversation)) == [change]
    changes.dismiss_change(change=change, user=staff)
    assert not services.pending_changes(conversation).exists()
