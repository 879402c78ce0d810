"""Webhook receivers: token in the URL, raw event stored once, processed idempotently and in
any order; STOP honoured at once; our own replies matched to their outbox rows."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.urls import reverse

from tests.textrequest_helpers import connect, lines_of, staff_fixture, wait_until  # noqa: F401
from textdesk.contacts.models import ConsentEvent, Contact
from textdesk.conversations import services
from textdesk.conversations.models import Conversation, Message
from textdesk.textrequest.types import HOOK_EVENTS
from textdesk.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def event(line, *, key=None, body="Hello?", direction="R", phone="6155550123", at=None):
    at = at or datetime.now(UTC)
    return {
        "messageUniqueIdentifier": key or str(uuid.uuid4()),
        "account": {"id": 5001},
        "yourPhoneNumber": {
            "id": line.dashboard_id,
            "description": line.name,
            "phoneNumber": line.phone,
        },
        "conversation": {
            "id": 700001,
            "date": at.isoformat().replace("+00:00", "Z"),
            "consumerPhoneNumber": phone,
            "messageDirection": direction,
            "message": body,
            "numSegments": 1,
            "status": "delivered",
            "claimedBy": None,
            "consumerFriendlyName": "Casey Jones",
        },
    }


def post(client, line, payload, token=None, **extra):
    url = reverse("hooks:messages", args=[token or line.connection.webhook_token])
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


@pytest.fixture
def line(sandbox_account):
    return lines_of(connect(sandbox_account))[0]


def test_replayed_three_times_stores_one_message(client, line):
    payload = event(line, body="Is the shop open today?")
    answers = [post(client, line, payload) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.filter(message_id=payload["messageUniqueIdentifier"]).count() == 1
    conversation = Conversation.objects.get()
    assert conversation.is_unread
    assert conversation.contact.display_name == "Casey Jones"
    assert conversation.last_message_preview == "Is the shop open today?"
    assert conversation.waiting_since is not None


def test_out_of_order_events_keep_the_newest_state(client, line):
    now = datetime.now(UTC)
    first = event(line, body="first", at=now - timedelta(minutes=2))
    second = event(line, body="second", direction="S", at=now - timedelta(minutes=1))
    third = event(line, body="third", at=now)
    for payload in (third, first, second, first, third):
        assert post(client, line, payload).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 3
    assert conversation.last_message_preview == "third"
    assert conversation.last_message_direction == "R"


def test_wrong_token_bad_type_size_and_json_are_refused(client, line):
    payload = event(line)
    assert post(client, line, payload, token="not-the-token").status_code == 404
    url = reverse("hooks:messages", args=[line.connection.webhook_token])
    assert (
        client.post(url, "x=1", content_type="application/x-www-form-urlencoded").status_code == 415
    )
    assert client.post(url, "{nope", content_type="application/json").status_code == 400
    huge = json.dumps({**payload, "padding": "x" * 70_000})
    assert client.post(url, huge, content_type="application/json").status_code == 413
    assert (
        client.post(url, json.dumps({"hello": 1}), content_type="application/json").status_code
        == 400
    )
    assert client.get(url).status_code == 405
    assert WebhookEvent.objects.count() == 0


def test_stop_blocks_the_composer_at_once(client, line, staff):
    conversation = services.start_conversation(
        dashboard=line,
        phone_number="6155550123",
        user=staff,
        body="Your car is ready",
        client_key=uuid.uuid4(),
    )
    post(client, line, event(line, body=" Stop. "))
    contact = Contact.objects.get(pk=conversation.contact_id)
    assert contact.has_opted_out
    assert contact.consent_events.get().kind == ConsentEvent.Kind.OPT_OUT
    conversation.refresh_from_db()
    assert conversation.is_archived
    with pytest.raises(services.CannotText):
        services.send_text(
            conversation=conversation, user=staff, body="Anything else?", client_key=uuid.uuid4()
        )
    post(client, line, event(line, body="START"))
    assert not Contact.objects.get(pk=contact.pk).has_opted_out
    post(client, line, event(line, body="please stop texting me"))
    assert contact.consent_events.filter(kind=ConsentEvent.Kind.FLAGGED).count() == 1
    assert not Contact.objects.get(pk=contact.pk).has_opted_out


def test_msg_sent_before_the_send_task_stored_the_id_matches_the_outbox_row(client, line, staff):
    from textdesk.outbox.delivery import claim

    contact = Contact.objects.create(dashboard=line, phone_number="6155550123")
    conversation = Conversation.objects.create(dashboard=line, contact=contact)
    row = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="See you at 3",
        sent_at=datetime.now(UTC),
        status="pending",
        client_key=uuid.uuid4(),
    )
    assert claim(Message, row.pk, status_from="pending", status_to="sending")
    payload = event(line, body="See you at 3", direction="S")
    post(client, line, payload)
    row.refresh_from_db()
    assert row.message_id == payload["messageUniqueIdentifier"]
    assert row.status == Message.Status.SENT
    assert conversation.messages.count() == 1


@pytest.mark.postgres  # the live server thread shares SQLite's in-memory connection
def test_sandbox_webhooks_and_status_callbacks_reach_the_receivers(
    live_server, settings, sandbox_account, staff
):
    from textdesk.dashboards.sync import register_hooks

    settings.TEXTDESK_PUBLIC_URL = live_server.url
    account = sandbox_account
    connection = connect(account)
    line = lines_of(connection)[0]
    assert register_hooks(connection) == 7
    assert register_hooks(connection) == 0  # already there
    hooks = account.get(f"/dashboards/{line.dashboard_id}/hooks").json()
    assert sorted(h["event"] for h in hooks) == sorted(HOOK_EVENTS)

    account.control.inbound(account.api_key, line.dashboard_id, "6155550177", "Do you open Sunday?")
    message = wait_until(
        lambda: Message.objects.filter(body="Do you open Sunday?").first(), timeout=30
    )
    assert message.direction == "R"

    reply = services.send_text(
        conversation=message.conversation, user=staff, body="Yes, 10 to 4", client_key=uuid.uuid4()
    )
    wait_until(lambda: Message.objects.get(pk=reply.pk).delivery_status == "delivered", timeout=30)
    assert message.conversation.messages.count() == 2  # msg_sent matched, not duplicated
    assert WebhookEvent.objects.filter(kind="status").exists()


def test_rotating_the_token_registers_the_new_hook_before_removing_the_old(
    settings, sandbox_account, monkeypatch
):
    from textdesk.dashboards.models import new_webhook_token
    from textdesk.dashboards.sync import register_hooks

    settings.TEXTDESK_PUBLIC_URL = "https://textdesk.example.com"
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    foreign = sandbox_account.post(
        f"/dashboards/{line.dashboard_id}/hooks",
        json={
            "event": "msg_received",
            "target_url": "https://crm.example.net/hook",
            "http_verb": "POST",
        },
    ).json()
    register_hooks(connection)
    old_hooks = {
        h["id"] for h in sandbox_account.get(f"/dashboards/{line.dashboard_id}/hooks").json()
    }
    connection.webhook_token = new_webhook_token()
    connection.save()
    calls = []  # the calls the rotation makes, in order (observed, not altered)
    real = requests.Session.request

    def observed(self, method, url, *args, **kwargs):
        calls.append((method, url.rsplit("/api/v3", 1)[-1]))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", observed)
    register_hooks(connection)
    monkeypatch.undo()
    writes = [(method, path) for method, path in calls if method in ("POST", "DELETE")]
    hooks_path = f"/dashboards/{line.dashboard_id}/hooks"
    old_ours = sorted(old_hooks - {foreign["id"]})
    # Every new subscription exists before the first old one goes: no event is missed.
    assert writes == [("POST", hooks_path)] * 7 + [
        ("DELETE", f"{hooks_path}/{hook_id}") for hook_id in old_ours
    ]
    hooks = sandbox_account.get(f"/dashboards/{line.dashboard_id}/hooks").json()
    ours = [h for h in hooks if h["id"] != foreign["id"]]
    assert len(ours) == 7
    assert all(connection.webhook_token in h["target_url"] for h in ours)
    assert any(h["id"] == foreign["id"] for h in hooks)  # someone else's hook is left alone


# Redaction of webhook tokens in logs, through the configured handlers and a real Celery
# worker: tests/project/test_logs.py.
