"""Away replies: a customer who texts while the line is closed gets the line's text once, by
itself, through the outbox; never twice, never to the wrong person or the wrong text
(Text Request stand-in as the world: texts come in through its control API and reach textdesk
through the webhook receiver and the sync)."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.contacts.models import Contact
from textdesk.conversations import away, services
from textdesk.conversations.models import AwayReply, Conversation, Message
from textdesk.dashboards.models import BusinessHours
from textdesk.reports import rollups
from textdesk.reports.models import Reply
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)

AWAY = "Thanks for your text! We're closed now and answer from 9:00."
NINE_TO_FIVE = [["09:00", "17:00"]] * 7


def closed_now(line, zone="America/New_York"):
    """Hours 9–17 every day, with yesterday, today and tomorrow holidays: closed now at any
    hour the suite runs, until 9:00 the day after tomorrow."""
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    days = [(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]
    BusinessHours.objects.update_or_create(
        dashboard=line,
        defaults={
            "is_always_open": False,
            "time_zone": zone,
            "weekly": NINE_TO_FIVE,
            "holidays": days,
        },
    )


@pytest.fixture
def world(sandbox_account):
    account = sandbox_account
    line = lines_of(connect(account))[0]
    line.away_reply_enabled, line.away_reply_text = True, AWAY
    line.save(update_fields=["away_reply_enabled", "away_reply_text"])
    closed_now(line)
    return account, line


def sent_count(account, body=AWAY):
    counters = account.control.counters(account.api_key)
    return sum(d["count"] for d in counters["sent"] if d["body"] == body)


def hook_payload(line, message_id, body, phone, at):
    return {
        "messageUniqueIdentifier": message_id,
        "account": {"id": 5001},
        "yourPhoneNumber": {
            "id": line.dashboard_id, "description": line.name, "phoneNumber": line.phone,
        },
        "conversation": {
            "id": 700001,
            "date": at,
            "consumerPhoneNumber": phone,
            "messageDirection": "R",
            "message": body,
            "numSegments": 1,
            "status": "delivered",
            "claimedBy": None,
            "consumerFriendlyName": "Casey Jones",
        },
    }  # fmt: skip


def texts_in(client, world, body, phone="6155550123"):
    """The customer texts the line (in the stand-in); its webhook reaches textdesk."""
    account, line = world
    sent = account.control.inbound(account.api_key, line.dashboard_id, phone, body)
    payload = hook_payload(line, sent["message_id"], body, phone, sent["message_timestamp_utc"])
    url = reverse("hooks:messages", args=[line.connection.webhook_token])
    answer = client.post(url, json.dumps(payload), content_type="application/json")
    assert answer.status_code == 200
    return Message.objects.get(message_id=sent["message_id"])


def test_a_text_while_closed_gets_the_away_reply_once_per_closed_period(client, world):
    account, line = world
    first = texts_in(client, world, "Is anyone there?")
    reply = Message.objects.get(is_automatic=True)
    assert reply.body == AWAY and reply.priority == "sync" and reply.status == "sent"
    assert reply.sent_by is None and reply.conversation_id == first.conversation_id
    assert AwayReply.objects.get().trigger == first
    assert sent_count(account) == 1
    texts_in(client, world, "Hello? My sink is leaking")  # the same closed period
    assert sent_count(account) == 1
    assert Message.objects.filter(is_automatic=True).count() == 1
    # The customer still waits for a person: the automatic text answers nobody.
    assert Conversation.objects.get().waiting_since is not None


def test_the_thread_marks_the_away_reply_automatic(client, world):
    from tests.conftest import make_user

    _, line = world
    texts_in(client, world, "Open tomorrow?")
    conversation = Conversation.objects.get()
    client.force_login(make_user("casey-agent", "Agent", lines=[line]))
    page = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    html = page.content.decode()
    assert "Away reply (automatic) sent" in html
    assert 'because the line was closed">automatic</span>' in html


def test_at_most_once_per_contact_in_12_hours_across_closed_periods(client, world, settings):
    account, line = world
    settings.TEXTDESK_AWAY_REPLY_LOOP_SECONDS = 0  # the loop guard is tested on its own
    texts_in(client, world, "First")
    assert sent_count(account) == 1
    # Another closed period (the line opened and closed again: here, its next opening moved).
    BusinessHours.objects.filter(dashboard=line).update(weekly=[["10:00", "17:00"]] * 7)
    texts_in(client, world, "Second")
    assert sent_count(account) == 1  # within 12 h of the first
    settings.TEXTDESK_AWAY_REPLY_CONTACT_HOURS = 0  # the setting decides
    texts_in(client, world, "Third")
    assert sent_count(account) == 2
    assert AwayReply.objects.count() == 2


def test_never_to_an_opted_out_contact_nor_in_answer_to_stop(client, world):
    account, line = world
    texts_in(client, world, "STOP")
    contact = Contact.objects.get()
    assert contact.has_opted_out
    texts_in(client, world, "hello?")
    assert sent_count(account) == 0
    assert not Message.objects.filter(is_automatic=True).exists()


@pytest.mark.parametrize("keyword", ["HELP", "help.", "Info", "START"])
def test_never_in_answer_to_a_keyword(client, world, keyword):
    account, _ = world
    texts_in(client, world, keyword)
    assert sent_count(account) == 0
    texts_in(client, world, "When do you open?")  # a plain text is answered
    assert sent_count(account) == 1


def test_never_to_a_blocked_contact(client, world):
    account, line = world
    Contact.objects.create(dashboard=line, phone_number="6155550123", is_blocked=True)
    texts_in(client, world, "Anyone?")
    assert sent_count(account) == 0
    assert not AwayReply.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "Auto-reply: I'm driving with Do Not Disturb on",
        "This is an automated message, please do not reply",
        "I am out of the office until Monday",
        "Automatic reply: away from my phone",
    ],
)
def test_loop_guard_never_answers_an_automated_text(client, world, body):
    account, _ = world
    texts_in(client, world, body)
    assert sent_count(account) == 0


def test_loop_guard_never_answers_a_text_seconds_after_one_of_ours(client, world, staff):
    account, line = world
    contact = Contact.objects.create(dashboard=line, phone_number="6155550123")
    conversation = Conversation.objects.for_contact(contact)
    services.send_text(
        conversation=conversation, user=staff, body="Your part arrived", client_key=uuid.uuid4()
    )
    # The customer's own auto-responder answers at once.
    texts_in(client, world, "Got it, thanks")
    assert sent_count(account) == 0


def test_an_open_line_sends_no_away_reply_and_holidays_close_it(client, world):
    account, line = world
    BusinessHours.objects.filter(dashboard=line).update(
        weekly=[["00:00", "00:00"]] * 7, holidays=[]
    )
    texts_in(client, world, "Open?")
    assert sent_count(account) == 0  # open around the clock by its weekly hours
    closed_now(line)  # the same hours with today a holiday: closed
    BusinessHours.objects.filter(dashboard=line).update(weekly=[["00:00", "00:00"]] * 7)
    texts_in(client, world, "Open today?")
    assert sent_count(account) == 1


def test_off_or_always_open_sends_nothing(client, world):
    account, line = world
    line.away_reply_enabled = False
    line.save(update_fields=["away_reply_enabled"])
    texts_in(client, world, "Hi")
    BusinessHours.objects.filter(dashboard=line).update(is_always_open=True)
    line.away_reply_enabled = True
    line.save(update_fields=["away_reply_enabled"])
    texts_in(client, world, "Hi again")
    assert sent_count(account) == 0


def test_seen_by_webhook_and_sync_and_twice_more_it_is_answered_once(client, world):
    account, line = world
    first = texts_in(client, world, "Seen twice?")
    run_sync(line, wait=True)  # the sync reads the same text
    url = reverse("hooks:messages", args=[line.connection.webhook_token])
    stamp = "2026-01-01T00:00:00Z"
    again = hook_payload(line, first.message_id, "Seen twice?", "6155550123", stamp)
    client.post(url, json.dumps(again), content_type="application/json")  # a redelivery
    assert away.answer(Message.objects.get(pk=first.pk)) is None  # and a direct replay
    assert sent_count(account) == 1
    assert AwayReply.objects.count() == 1
    assert Message.objects.filter(is_automatic=True).count() == 1


def test_seen_first_by_the_sync_it_is_answered_once(client, world):
    account, line = world
    run_sync(line, wait=True)  # the first read is history: nothing in it is answered
    account.control.inbound(account.api_key, line.dashboard_id, "6155550188", "Via sync only")
    run_sync(line, wait=True)
    run_sync(line, wait=True)
    assert sent_count(account) == 1
    assert AwayReply.objects.get().trigger.body == "Via sync only"


def test_a_text_found_long_after_it_came_is_not_answered(world):
    _, line = world
    contact = Contact.objects.create(dashboard=line, phone_number="6155550123")
    conversation = Conversation.objects.for_contact(contact)
    old = Message.objects.create(
        conversation=conversation,
        direction="R",
        body="From last night",
        sent_at=timezone.now() - timedelta(hours=3),
        message_id=str(uuid.uuid4()),
    )
    assert away.answer(old) is None


def test_the_away_reply_is_no_agents_first_response(client, world, staff):
    account, line = world
    first = texts_in(client, world, "Is the plumber coming?")
    conversation = first.conversation
    reply = services.send_text(
        conversation=conversation, user=staff, body="Yes, at 10", client_key=uuid.uuid4()
    )
    reply.refresh_from_db()
    assert reply.status == "sent"
    rollups.recompute([conversation.pk])
    facts = list(Reply.objects.filter(conversation_id=conversation.pk))
    assert len(facts) == 1  # the agent's, not the automatic text
    assert facts[0].agent_id == staff.pk
    assert facts[0].waited_from == first.sent_at


def test_hours_skip_holidays_when_counting_and_name_the_next_opening():
    from textdesk.dashboards.hours import hours_of

    row = BusinessHours(
        is_always_open=False,
        time_zone="America/New_York",
        weekly=NINE_TO_FIVE,
        holidays=["2026-12-25"],
    )
    hours = hours_of(row)
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 12, 24, 16, 0, tzinfo=ny)
    end = datetime(2026, 12, 26, 10, 0, tzinfo=ny)
    # 16–17 on the 24th and 9–10 on the 26th: Christmas counts nothing.
    assert hours.seconds_between(start, end) == 2 * 3600
    assert hours.next_open(datetime(2026, 12, 24, 18, 0, tzinfo=ny)) == datetime(
        2026, 12, 26, 9, 0, tzinfo=ny
    )
    assert hours.is_open(datetime(2026, 12, 26, 9, 30, tzinfo=ny))
    assert not hours.is_open(datetime(2026, 12, 25, 12, 0, tzinfo=ny).astimezone(UTC))
