"""In quiet hours (the contact's clock) texts textdesk sends by itself wait for the next
allowed minute, checked at send time in the outbox, and the thread says so; an agent's reply
is asked about once (Text Request stand-in as the world)."""

import json
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.contacts.models import Contact
from textdesk.conversations import outbound, scheduled
from textdesk.conversations.models import Conversation, Message, ScheduledText
from textdesk.dashboards.models import BusinessHours, Dashboard

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.quiet_hours]

DENVER = ZoneInfo("America/Denver")
PHONE = "3035550123"  # a Denver area code


@pytest.fixture
def world(sandbox_account):
    account = sandbox_account
    line = lines_of(connect(account))[0]
    contact = Contact.objects.create(dashboard=line, phone_number=PHONE, first_name="Casey")
    conversation = Conversation.objects.for_contact(contact)
    Conversation.objects.filter(pk=conversation.pk).update(history_synced_at=timezone.now())
    return account, line, conversation


def make_quiet_now(line) -> datetime:
    """Set the line's window so that it is quiet now in Denver; answers the next allowed
    minute (UTC). Works at any hour the suite runs."""
    local = timezone.now().astimezone(DENVER)
    if local.hour < 22:
        start = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
        Dashboard.objects.filter(pk=line.pk).update(quiet_start=start, quiet_end=time(0))
        allowed = datetime.combine(local.date(), start, DENVER)
    else:
        end = time(local.hour - 1)
        Dashboard.objects.filter(pk=line.pk).update(quiet_start=time(0), quiet_end=end)
        allowed = datetime.combine(local.date() + timedelta(days=1), time(0), DENVER)
    return allowed.astimezone(ZoneInfo("UTC"))


def allow_all_day(line):
    Dashboard.objects.filter(pk=line.pk).update(quiet_start=time(0), quiet_end=time(0))


def sent_count(account, body):
    counters = account.control.counters(account.api_key)
    return sum(d["count"] for d in counters["sent"] if d["body"] == body)


def due_text(conversation, user, body):
    return ScheduledText.objects.create(
        dashboard_id=conversation.dashboard_id,
        conversation=conversation,
        contact_name="Casey",
        body=body,
        due_at=timezone.now() - timedelta(minutes=1),
        time_zone="America/New_York",
        client_key=uuid.uuid4(),
        created_by=user,
    )


def test_a_scheduled_text_due_in_quiet_hours_waits_for_the_next_allowed_minute(world, staff):
    account, line, conversation = world
    allowed = make_quiet_now(line)
    item = due_text(conversation, staff, "Your estimate is ready")
    assert scheduled.release_due()["released"] == 1
    message = ScheduledText.objects.get(pk=item.pk).message
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.not_before == allowed
    wall = allowed.astimezone(DENVER)
    assert message.waiting_note == f"Waiting for {wall:%-H:%M} in Casey's time (Denver)"
    assert sent_count(account, "Your estimate is ready") == 0
    # Beat's sweeper leaves it alone until then; sending it early by hand is held again.
    assert outbound.sweep_texts(min_age=timedelta(0))["pending"] == 0
    outbound.deliver_text(message.pk)
    Message.objects.filter(pk=message.pk).update(not_before=None)
    outbound.deliver_text(message.pk)  # quiet hours are re-checked at send time
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.not_before == allowed
    assert sent_count(account, "Your estimate is ready") == 0

    # The allowed minute comes (here: the window moves to now), and it leaves exactly once.
    allow_all_day(line)
    Message.objects.filter(pk=message.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    outbound.sweep_texts(min_age=timedelta(0))
    outbound.sweep_texts(min_age=timedelta(0))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.waiting_note == ""
    assert sent_count(account, "Your estimate is ready") == 1


def test_a_text_queued_while_allowed_is_held_if_quiet_hours_begin_before_it_leaves(world, staff):
    account, line, conversation = world
    allow_all_day(line)
    message = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Reminder: visit tomorrow",
        sent_at=timezone.now(),
        status="pending",
        client_key=uuid.uuid4(),
        priority="sync",
    )
    allowed = make_quiet_now(line)  # the evening came while it waited for the limiter
    outbound.deliver_text(message.pk)
    message.refresh_from_db()
    assert message.status == "pending" and message.not_before == allowed
    assert sent_count(account, "Reminder: visit tomorrow") == 0


def test_the_thread_says_what_a_held_text_waits_for(client, world, staff):
    account, line, conversation = world
    allowed = make_quiet_now(line)
    due_text(conversation, staff, "Good morning!")
    scheduled.release_due()
    client.force_login(make_user("agent-q", "Agent", lines=[line]))
    page = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    assert f"Waiting for {allowed.astimezone(DENVER):%-H:%M} in Casey&#x27;s time (Denver)" in (
        page.content.decode()
    )


def test_an_away_reply_in_quiet_hours_waits_too(client, world):
    account, line, conversation = world
    Dashboard.objects.filter(pk=line.pk).update(
        away_reply_enabled=True, away_reply_text="We're closed; back at 9."
    )
    today = timezone.now().astimezone(ZoneInfo("America/New_York")).date()
    BusinessHours.objects.create(
        dashboard=line,
        is_always_open=False,
        time_zone="America/New_York",
        weekly=[["09:00", "17:00"]] * 7,
        holidays=[(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)],
    )
    allowed = make_quiet_now(line)
    sent = account.control.inbound(account.api_key, line.dashboard_id, PHONE, "Anyone there?")
    payload = {
        "messageUniqueIdentifier": sent["message_id"],
        "account": {"id": 1},
        "yourPhoneNumber": {"id": line.dashboard_id, "description": "", "phoneNumber": line.phone},
        "conversation": {
            "id": 1, "date": sent["message_timestamp_utc"], "consumerPhoneNumber": PHONE,
            "messageDirection": "R", "message": "Anyone there?", "numSegments": 1,
            "status": "delivered", "claimedBy": None, "consumerFriendlyName": "Casey",
        },
    }  # fmt: skip
    url = reverse("hooks:messages", args=[line.connection.webhook_token])
    assert client.post(url, json.dumps(payload), content_type="application/json").status_code == 200
    reply = Message.objects.get(is_automatic=True)
    assert reply.status == "pending" and reply.not_before == allowed
    assert reply.waiting_note.startswith("Waiting for ")
    assert sent_count(account, "We're closed; back at 9.") == 0


def send_url(line, conversation):
    return reverse("conversations:send", args=[line.pk, conversation.pk])


def test_an_agents_reply_in_quiet_hours_is_asked_about_once_and_keeps_the_text(client, world):
    account, line, conversation = world
    make_quiet_now(line)
    client.force_login(make_user("agent-r", "Agent", lines=[line]))
    page = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    seen = page.context["seen"]
    data = {"body": "Your van is outside", "client_key": str(uuid.uuid4()), "seen": seen}
    asked = client.post(send_url(line, conversation), data, HTTP_HX_REQUEST="true")
    assert asked.status_code == 409
    html = asked.content.decode()
    local = timezone.now().astimezone(DENVER)
    assert f"It is {local:%-H:%M} for Casey in Denver. Send anyway?" in html or (
        f"It is {(local - timedelta(minutes=1)):%-H:%M} for Casey in Denver." in html
    )
    assert "Your van is outside</textarea>" in html and 'name="quiet_ok" value="1"' in html
    assert not Message.objects.filter(body="Your van is outside").exists()
    assert sent_count(account, "Your van is outside") == 0

    confirmed = client.post(send_url(line, conversation), {**data, "quiet_ok": "1"})
    assert confirmed.status_code == 302
    message = Message.objects.get(body="Your van is outside")
    assert message.status == "sent" and message.priority == "interactive"
    assert sent_count(account, "Your van is outside") == 1


def test_no_question_inside_the_window(client, world):
    account, line, conversation = world
    allow_all_day(line)
    client.force_login(make_user("agent-s", "Agent", lines=[line]))
    page = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    html = page.content.decode()
    assert "for Casey (Denver)" in html and "data-contact-clock" in html  # beside Send later
    assert "quiet hours until" not in html
    data = {"body": "On our way", "client_key": str(uuid.uuid4()), "seen": page.context["seen"]}
    assert client.post(send_url(line, conversation), data).status_code == 302
    assert sent_count(account, "On our way") == 1


def test_a_first_text_to_a_new_number_in_quiet_hours_is_asked_about_too(client, world):
    account, line, _ = world
    make_quiet_now(line)
    client.force_login(make_user("agent-t", "Agent", lines=[line]))
    url = reverse("conversations:new", args=[line.pk])
    data = {
        "phone_number": "(720) 555-0199",
        "body": "Hi from the shop",
        "client_key": str(uuid.uuid4()),
    }
    asked = client.post(url, data)
    assert asked.status_code == 409
    html = asked.content.decode()
    assert "for (720) 555-0199 in Denver. Send anyway?" in html
    assert "Hi from the shop</textarea>" in html and 'name="quiet_ok" value="1"' in html
    assert not Contact.objects.filter(phone_number="7205550199").exists()
    assert client.post(url, {**data, "quiet_ok": "1"}).status_code == 302
    assert sent_count(account, "Hi from the shop") == 1


def test_send_now_of_a_scheduled_text_in_quiet_hours_asks_first(client, world, staff):
    account, line, conversation = world
    make_quiet_now(line)
    item = due_text(conversation, staff, "Your part is in")
    ScheduledText.objects.filter(pk=item.pk).update(due_at=timezone.now() + timedelta(days=1))
    client.force_login(make_user("agent-u", "Agent", lines=[line]))
    url = reverse("conversations:scheduled_send_now", args=[line.pk, item.pk])
    asked = client.post(url, {"back": "list"})
    assert asked.status_code == 409
    html = asked.content.decode()
    assert "for Casey in Denver. Send anyway?" in html and 'name="quiet_ok" value="1"' in html
    assert ScheduledText.objects.get(pk=item.pk).status == "scheduled"
    assert client.post(url, {"back": "list", "quiet_ok": "1"}).status_code == 302
    assert ScheduledText.objects.get(pk=item.pk).status == "released"
    assert sent_count(account, "Your part is in") == 1
