"""Signed callbacks: every receiver verifies Text Request's signature over the raw body before
anything is stored; stale, replayed, forged and (once signing was seen) unsigned callbacks
change nothing and are counted; the previous key verifies for a grace period after the key is
replaced; an admin sees the state and can reset it."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.callback_catcher import catcher_fixture  # noqa: F401
from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from tests.webhooks.test_webhooks import event
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Message
from textdesk.dashboards.models import Connection
from textdesk.dashboards.sync import register_hooks
from textdesk.webhooks.models import Refusal, WebhookEvent
from textdesk.webhooks.signatures import sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def line(sandbox_account):
    return lines_of(connect(sandbox_account))[0]


def url_of(line, event_name="msg_received"):
    return reverse(
        "hooks:event", args=[line.connection.webhook_token, line.dashboard_id, event_name]
    )


def signed(key, body: bytes, *, at=None):
    timestamp = str(int(at if at is not None else time.time()))
    return {
        "HTTP_X_TR_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_X_TR_WEBHOOK_SIGNATURE": sign(key, timestamp, body),
    }


def post(client, url, payload, headers=None):
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    return client.post(url, body, content_type="application/json", **(headers or {}))


def test_a_signed_text_is_stored_and_signatures_are_required_from_then_on(client, line):
    payload = event(line, body="Signed hello")
    body = json.dumps(payload).encode()
    answer = post(client, url_of(line), body, signed(line.connection.api_key, body))
    assert answer.status_code == 200 and answer.json()["duplicate"] is False
    assert Message.objects.filter(body="Signed hello").exists()
    connection = Connection.objects.get()
    assert connection.requires_signatures and connection.last_signed_at

    unsigned = post(client, url_of(line), event(line, body="Unsigned now"))
    assert unsigned.status_code == 401
    assert not Message.objects.filter(body="Unsigned now").exists()
    assert Refusal.objects.get().reason.startswith("unsigned")


def test_unsigned_is_accepted_until_a_connection_has_signed(client, line):
    assert post(client, url_of(line), event(line, body="legacy")).status_code == 200
    connection = Connection.objects.get()
    assert not connection.requires_signatures and connection.last_unsigned_at
    assert Message.objects.filter(body="legacy").exists()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (lambda key, body: signed(key + "x", body), "bad signature"),
        (lambda key, body: signed(key, body, at=time.time() - 301), "timestamp outside"),
        (lambda key, body: signed(key, body, at=time.time() + 400), "timestamp outside"),
        (lambda key, body: {"HTTP_X_TR_WEBHOOK_TIMESTAMP": str(int(time.time()))}, "incomplete"),
        (lambda key, body: {**signed(key, body), "HTTP_X_TR_WEBHOOK_TIMESTAMP": "soon"}, "Unix"),
        (lambda key, body: signed(key, body + b" "), "bad signature"),  # body changed
    ],
)
def test_forged_or_stale_callbacks_are_401_and_store_nothing(client, line, headers, reason):
    body = json.dumps(event(line, body="forged")).encode()
    answer = post(client, url_of(line), body, headers(line.connection.api_key, body))
    assert answer.status_code == 401
    assert WebhookEvent.objects.count() == 0 and Message.objects.count() == 0
    assert reason in Refusal.objects.get().reason
    assert not Connection.objects.get().requires_signatures  # a forgery proves nothing


def test_a_spoofed_start_with_a_bad_signature_changes_nothing(client, line):
    key = line.connection.api_key
    stop = json.dumps(event(line, body="STOP")).encode()
    assert post(client, url_of(line), stop, signed(key, stop)).status_code == 200
    contact = Contact.objects.get()
    assert contact.has_opted_out
    start = json.dumps(event(line, body="START")).encode()
    assert post(client, url_of(line), start, signed("stolen-guess", start)).status_code == 401
    assert post(client, url_of(line), event(line, body="START")).status_code == 401  # unsigned
    assert Contact.objects.get(pk=contact.pk).has_opted_out
    assert Refusal.objects.count() == 2


def test_a_replayed_callback_is_a_no_op(client, line):
    key = line.connection.api_key
    body = json.dumps(event(line, body="once")).encode()
    headers = signed(key, body)
    assert post(client, url_of(line), body, headers).json()["duplicate"] is False
    again = post(client, url_of(line), body, headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Message.objects.filter(body="once").count() == 1
    assert Refusal.objects.get().reason.startswith("replayed")


def test_bad_input_is_refused_clearly_and_counted(client, line):
    key = line.connection.api_key
    token = line.connection.webhook_token
    huge = json.dumps({**event(line), "padding": "x" * 70_000}).encode()
    assert post(client, url_of(line), huge, signed(key, huge)).status_code == 413
    junk = b"{nope"
    assert post(client, url_of(line), junk, signed(key, junk)).status_code == 400
    body = json.dumps({"x": 1}).encode()
    answer = post(client, url_of(line, "msg_teleported"), body, signed(key, body))
    assert answer.status_code == 400 and answer.content == b"unknown event"
    body = json.dumps({"ContactPhoneNumber": "6155550100"}).encode()
    elsewhere = reverse("hooks:event", args=[token, 999999, "contact_created"])
    answer = post(client, elsewhere, body, signed(key, body))
    assert answer.status_code == 200 and answer.json()["ignored"] == "unknown line"
    other_line = json.dumps(
        {**event(line), "yourPhoneNumber": {"id": line.dashboard_id + 1}}
    ).encode()
    assert post(client, url_of(line), other_line, signed(key, other_line)).status_code == 400
    wrong_token = reverse("hooks:event", args=["nope", line.dashboard_id, "msg_received"])
    missing = post(client, wrong_token, body, signed(key, body))
    assert missing.status_code == 404 and b"nope" not in missing.content
    assert WebhookEvent.objects.count() == 0 and Message.objects.count() == 0
    assert Refusal.objects.count() == 5  # the unknown token is not this connection's


def test_status_and_location_callbacks_are_verified_too(client, line, staff):
    from textdesk.conversations import services

    conversation = services.start_conversation(
        dashboard=line,
        phone_number="6155550123",
        user=staff,
        body="Your car is ready",
        client_key=uuid.uuid4(),
    )
    message = conversation.messages.get()
    key, token = line.connection.api_key, line.connection.webhook_token
    status = json.dumps({"message_id": "m-1", "delivery_status": "delivered"}).encode()
    url = reverse("hooks:status", args=[token, message.pk])
    assert post(client, url, status, signed(key + "x", status)).status_code == 401
    location = json.dumps({"message_id": "m-1", "latitude": 36.1, "longitude": -86.7}).encode()
    url = reverse("hooks:location", args=[token, message.pk])
    assert post(client, url, location, signed(key, location, at=0)).status_code == 401
    assert Message.objects.get(pk=message.pk).location is None
    assert not WebhookEvent.objects.exists()
    # Not said to be always signed: unsigned callbacks still count where events must be signed,
    # and a signed callback does not switch the connection to "required".
    url = reverse("hooks:status", args=[token, message.pk])
    assert post(client, url, status, signed(key, status)).status_code == 200
    assert not Connection.objects.get().requires_signatures
    Connection.objects.update(signatures_required_at=timezone.now())
    unsigned = json.dumps({"message_id": "m-1", "delivery_status": "error"}).encode()
    assert post(client, url, unsigned).status_code == 200
    assert WebhookEvent.objects.filter(kind="status").count() == 2


def test_the_previous_key_verifies_during_the_grace_period(
    client, admin_client, line, sandbox_account, settings
):
    old_key = sandbox_account.api_key
    new_key = sandbox_account.control.rotate_key(old_key)
    answer = admin_client.post(
        reverse("dashboards:connection_key", args=[line.connection_id]), {"api_key": new_key}
    )
    assert answer.status_code == 302
    connection = Connection.objects.get()
    assert connection.api_key == new_key and old_key not in connection.previous_api_key_encrypted
    for key, text in ((old_key, "late retry"), (new_key, "new key")):
        body = json.dumps(event(line, body=text)).encode()
        assert post(client, url_of(line), body, signed(key, body)).status_code == 200
    Connection.objects.update(api_key_replaced_at=timezone.now() - timedelta(hours=2))
    body = json.dumps(event(line, body="too late")).encode()
    assert post(client, url_of(line), body, signed(old_key, body)).status_code == 401
    assert sorted(Message.objects.values_list("body", flat=True)) == ["late retry", "new key"]


def test_the_admin_sees_the_signing_state_and_can_reset_it(client, admin_client, line):
    key = line.connection.api_key
    body = json.dumps(event(line, body="signed")).encode()
    post(client, url_of(line), body, signed(key, body))
    post(client, url_of(line), event(line, body="unsigned"))
    page = admin_client.get(reverse("dashboards:connection", args=[line.connection_id]))
    html = page.content.decode()
    assert "Signatures required" in html and "unsigned, but this connection requires" in html
    assert page.context["signing"].refused == 1
    answer = admin_client.post(
        reverse("dashboards:connection_signatures_reset", args=[line.connection_id])
    )
    assert answer.status_code == 302
    assert not Connection.objects.get().requires_signatures
    assert Entry.objects.filter(summary__contains="accept unsigned webhooks").exists()
    assert post(client, url_of(line), event(line, body="unsigned again")).status_code == 200
    assert client.post(
        reverse("dashboards:connection_signatures_reset", args=[line.connection_id])
    ).status_code in (302, 403)  # not an admin: the login page or a refusal
    assert Entry.objects.filter(summary__contains="accept unsigned webhooks").count() == 1


def test_the_stand_ins_tampered_callbacks_are_refused(
    client, line, sandbox_account, settings, catcher
):
    """The world plays each case: what the stand-in sends is handed to the receiver as is."""
    settings.TEXTDESK_PUBLIC_URL = catcher.url
    register_hooks(line.connection)
    key, dash = sandbox_account.api_key, line.dashboard_id
    control = sandbox_account.control

    def deliver(caught):
        return client.post(
            caught.path, caught.body, content_type="application/json", **caught.django_headers()
        ).status_code

    control.inbound(key, dash, "6155550142", "genuine")
    assert deliver(catcher.wait(1, event="msg_received")[0]) == 200
    expected = {"unsigned": 401, "bad_signature": 401, "stale_timestamp": 401}
    for mode, status in expected.items():
        catcher.clear()
        control.tamper_callbacks(key, mode)
        control.inbound(key, dash, "6155550142", f"START {mode}")
        assert deliver(catcher.wait(1, event="msg_received")[0]) == status, mode
    catcher.clear()
    control.tamper_callbacks(key, "replay")
    control.inbound(key, dash, "6155550142", "replayed")
    first, second = catcher.wait(2, event="msg_received")[:2]
    assert deliver(first) == 200 and deliver(second) == 200
    assert sorted(Message.objects.values_list("body", flat=True)) == ["genuine", "replayed"]
    assert Refusal.objects.count() == 4
