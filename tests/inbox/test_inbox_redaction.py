"""Redacting a text (a customer texted a card number): blanked here at once, hidden in Text
Request through the outbox, shown as "Redacted by … at …", audited; never written back by a
sync, a duplicate webhook, an export or a case transcript; an Admin can undo it."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.audit.models import Entry
from textdesk.cases.delivery import transcript
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.sync import fill_history_now
from textdesk.outbox.models import Change
from textdesk.sync.engine import run_sync
from textdesk.textrequest.client import TextRequestClient
from textdesk.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)

CARD = "my card is 4111 1111 1111 1111 exp 12/29"
PHONE = "6155550123"


def webhook(line, message_id, body):
    return {
        "messageUniqueIdentifier": message_id,
        "account": {"id": 5001},
        "yourPhoneNumber": {
            "id": line.dashboard_id,
            "description": line.name,
            "phoneNumber": line.phone,
        },
        "conversation": {
            "id": 700001,
            "date": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "consumerPhoneNumber": PHONE,
            "messageDirection": "R",
            "message": body,
            "numSegments": 1,
            "status": "delivered",
            "claimedBy": None,
            "consumerFriendlyName": "Casey Jones",
        },
    }


def post_hook(client, line, payload):
    url = reverse("hooks:messages", args=[line.connection.webhook_token])
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def world(sandbox_account, client):
    """A line with a conversation whose customer texted a card number (by webhook)."""
    line = lines_of(connect(sandbox_account))[0]
    sent = sandbox_account.control.inbound(sandbox_account.api_key, line.dashboard_id, PHONE, CARD)
    assert post_hook(client, line, webhook(line, sent["message_id"], CARD)).status_code == 200
    message = Message.objects.get(message_id=sent["message_id"])
    return sandbox_account, line, message


def tr(account):
    return TextRequestClient(account.api_url, account.api_key, bucket=f"t-{uuid.uuid4().hex[:8]}")


def urls(line, message, name="redact"):
    return reverse(f"conversations:{name}", args=[line.pk, message.conversation_id, message.pk])


def redact(client, line, message):
    return client.post(urls(line, message))


def test_an_agent_redacts_a_text_after_a_confirmation(client, world):
    account, line, message = world
    agent = make_user("sam", "Agent", lines=[line])
    client.force_login(agent)
    thread = client.get(
        reverse("conversations:conversation", args=[line.pk, message.conversation_id])
    ).content.decode()
    assert CARD in thread and urls(line, message) in thread
    confirm = client.get(urls(line, message))
    assert confirm.status_code == 200 and CARD in confirm.content.decode()
    message.refresh_from_db()
    assert message.body == CARD  # asking changes nothing

    response = redact(client, line, message)
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.body, message.redacted_by) == ("", agent)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.last_message_preview == "Message redacted"
    change = Change.objects.get(kind="redact_message")
    assert change.status == "done"
    with tr(account) as api:
        upstream = api.get_messages(line.dashboard_id, PHONE).items
    assert [m.body for m in upstream if m.message_id == message.message_id] == [""]
    entry = Entry.objects.get(change=change)
    assert entry.actor == agent and "Redact a text" in entry.summary
    page = client.get(
        reverse("conversations:conversation", args=[line.pk, message.conversation_id])
    ).content.decode()
    assert CARD not in page
    assert "Redacted by Sam at" in page
    # the raw webhook event kept for a week no longer holds the text
    assert all(CARD not in json.dumps(e.payload) for e in WebhookEvent.objects.all())


def test_sync_and_a_duplicate_webhook_never_bring_the_text_back(client, world):
    account, line, message = world
    client.force_login(make_user("sam", "Agent", lines=[line]))
    redact(client, line, message)
    # Text Request shows it again behind textdesk's back (someone unredacted it there).
    with tr(account) as api:
        api.unredact_message(message.message_id)
        assert api.get_messages(line.dashboard_id, PHONE).items[0].body == CARD
    # a redelivery of the same event, also after the stored event was pruned
    assert post_hook(client, line, webhook(line, message.message_id, CARD)).json()["duplicate"]
    WebhookEvent.objects.all().delete()
    assert post_hook(client, line, webhook(line, message.message_id, CARD)).status_code == 200
    # a full sync and a full re-read of the conversation's history
    run_sync(line, full=True, wait=True)
    Conversation.objects.filter(pk=message.conversation_id).update(history_synced_at=None)
    fill_history_now(message.conversation_id)
    message.refresh_from_db()
    assert message.body == "" and message.redacted_at is not None
    assert Message.objects.filter(message_id=message.message_id).count() == 1
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert CARD not in conversation.last_message_preview
    assert all(CARD not in json.dumps(e.payload) for e in WebhookEvent.objects.all())


def test_exports_reports_and_case_transcripts_never_show_it(client, world):
    account, line, message = world
    admin = make_user("avery", "Admin")
    client.force_login(admin)
    redact(client, line, message)
    for url in (reverse("contacts:export"), reverse("reports:export"), reverse("payments:export")):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"4111" not in body, url
    text = transcript(Conversation.objects.get(pk=message.conversation_id))
    assert "[redacted]" in text and "4111" not in text
    assert all("4111" not in e.summary for e in Entry.objects.all())


def test_an_admin_unredacts_and_the_text_is_read_back(client, world):
    account, line, message = world
    admin = make_user("avery", "Admin")
    client.force_login(admin)
    redact(client, line, message)
    response = client.post(urls(line, message, "unredact"))
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.body, message.redacted_at, message.redacted_by) == (CARD, None, None)
    assert Change.objects.get(kind="unredact_message").status == "done"
    with tr(account) as api:
        assert api.get_messages(line.dashboard_id, PHONE).items[0].body == CARD
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.last_message_preview == CARD
    assert Entry.objects.filter(kind="unredact_message", actor=admin).exists()


def test_bad_requests_get_a_reason_never_a_500(client, world):
    account, line, message = world
    agent = make_user("sam", "Agent", lines=[line])
    other_line = lines_of(line.connection)[0]
    stranger = make_user("olive", "Agent", lines=[])
    finance = make_user("fran", "Finance")
    client.force_login(stranger)  # an agent without this line
    assert client.get(urls(line, message)).status_code == 404
    assert redact(client, line, message).status_code == 404
    client.force_login(finance)
    assert redact(client, line, message).status_code == 403
    client.force_login(agent)
    wrong = reverse(
        "conversations:redact", args=[line.pk, message.conversation_id, message.pk + 999]
    )
    assert client.post(wrong).status_code == 404
    assert client.post(urls(line, message, "unredact")).status_code == 403  # Admins only
    assert redact(client, line, message).status_code == 302
    twice = redact(client, line, message)
    assert twice.status_code == 400 and "already redacted" in twice.content.decode()
    assert Change.objects.filter(kind="redact_message").count() == 1
    client.force_login(make_user("avery", "Admin"))
    assert client.post(urls(line, message, "unredact")).status_code == 302
    again = client.post(urls(line, message, "unredact"))
    assert again.status_code == 400 and "not redacted" in again.content.decode()
    assert other_line.pk == line.pk  # one line in this account: the 404s above are by access


def test_a_text_still_on_its_way_cannot_be_redacted_yet(client, world):
    account, line, message = world
    agent = make_user("sam", "Agent", lines=[line])
    queued = Message.objects.create(
        conversation_id=message.conversation_id,
        direction="S",
        body="pending text",
        sent_at=datetime.now(UTC),
        status=Message.Status.PENDING,
    )
    client.force_login(agent)
    response = redact(client, line, queued)
    assert response.status_code == 400
    assert "still on its way" in response.content.decode()
    failed = Message.objects.create(
        conversation_id=message.conversation_id,
        direction="S",
        body="never sent: pin 1234",
        sent_at=datetime.now(UTC),
        status=Message.Status.FAILED,
    )
    assert redact(client, line, failed).status_code == 302
    failed.refresh_from_db()
    assert failed.body == "" and failed.redacted_at is not None
    assert not Change.objects.filter(kind="redact_message").exists()  # nothing to ask
    assert Entry.objects.filter(kind="redact_message", actor=agent).exists()


def test_matching_our_outbox_row_to_a_redacted_copy_keeps_it_redacted(world):
    from textdesk.conversations.outbound import attach
    from textdesk.textrequest import types as tr_types

    account, line, message = world
    agent = make_user("sam", "Agent", lines=[line])
    # A copy of one of our texts, read by a sync before its outbox row learnt its id, redacted.
    copy = Message.objects.create(
        conversation_id=message.conversation_id, direction="S", body="", message_id="M-1",
        sent_at=datetime.now(UTC), status=Message.Status.SENT,
        redacted_at=datetime.now(UTC), redacted_by=agent,
    )  # fmt: skip
    row = Message.objects.create(
        conversation_id=message.conversation_id, direction="S", body="pin 9876",
        sent_at=datetime.now(UTC), status=Message.Status.UNKNOWN, attempts=1,
        client_key=uuid.uuid4(),
    )  # fmt: skip
    item = tr_types.Message.from_api({"message_id": "M-1", "body": "pin 9876",
                                      "message_direction": "S"})  # fmt: skip
    assert attach(row, item)
    row.refresh_from_db()
    assert (row.message_id, row.body, row.redacted_by) == ("M-1", "", agent)
    assert not Message.objects.filter(pk=copy.pk).exists()
