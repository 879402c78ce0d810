"""Hostile webhook bodies are refused with a 400 and a reason, never a 500, and store nothing.

Each case here was a 500 on PostgreSQL: deep nesting overflowed the parser's recursion,
dates at the edge of `datetime` overflowed on conversion to UTC, and NUL or a lone surrogate
cannot be stored in a PostgreSQL `jsonb` or text column."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.conftest import make_line
from textdesk.webhooks.models import WebhookEvent


def event(line, **conversation):
    return {
        "messageUniqueIdentifier": str(uuid.uuid4()),
        "account": {"id": 5001},
        "yourPhoneNumber": {"id": line.dashboard_id, "description": line.name},
        "conversation": {
            "id": 700001,
            "date": datetime.now(UTC).isoformat(),
            "consumerPhoneNumber": "6155550123",
            "messageDirection": "R",
            "message": "Hello?",
            "consumerFriendlyName": "Casey Jones",
        }
        | conversation,
    }


@pytest.fixture
def line(db):
    return make_line()


def post(client, url, body: str):
    return client.post(url, body, content_type="application/json")


def messages_url(line):
    return reverse("hooks:messages", args=[line.connection.webhook_token])


def status_url(line):
    return reverse("hooks:status", args=[line.connection.webhook_token, 1])


def test_a_plain_event_is_stored(client, line):
    assert post(client, messages_url(line), json.dumps(event(line))).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_under_the_size_limit_is_400(client, line, opening):
    depth = 10_000
    body = opening * depth + "1" + ("]" if opening == "[" else "}") * depth
    assert len(body) < 64 * 1024
    response = post(client, messages_url(line), body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_moderately_nested_extra_field_is_400(client, line):
    """Deep enough to pass the parser, still refused: nothing we read nests this deep."""
    payload = event(line)
    nested: list = []
    for _ in range(200):
        nested = [nested]
    payload["extra"] = nested
    response = post(client, messages_url(line), json.dumps(payload))
    assert response.status_code == 400
    assert b"nested" in response.content
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_date_out_of_range_is_400(client, line, date):
    response = post(client, messages_url(line), json.dumps(event(line, date=date)))
    assert response.status_code == 400
    assert b"date" in response.content
    assert not WebhookEvent.objects.exists()


BAD_TEXT = {"NUL": "\\u0000", "lone surrogate": "\\ud800"}


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
@pytest.mark.parametrize("field", ["message", "consumerFriendlyName", "messageUniqueIdentifier"])
def test_nul_or_a_lone_surrogate_in_a_message_event_is_400(client, line, field, bad):
    payload = event(line)
    # Put the bad character in the one field under test; the others stay clean.
    fields = ["messageUniqueIdentifier", "message", "consumerFriendlyName"]
    for name in fields:
        value = "clean" if name != field else "__BAD__"
        if name == "messageUniqueIdentifier":
            payload[name] = value + str(uuid.uuid4())
        else:
            payload["conversation"][name] = value
    body = json.dumps(payload).replace("__BAD__", f"x{bad}y")
    response = post(client, messages_url(line), body)
    assert response.status_code == 400
    assert b"character" in response.content
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_nul_or_a_lone_surrogate_in_an_unread_key_is_400(client, line, bad):
    body = json.dumps(event(line) | {"__BAD__": 1}).replace("__BAD__", bad)
    response = post(client, messages_url(line), body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_nul_or_a_lone_surrogate_in_a_delivery_status_is_400(client, line, bad):
    body = json.dumps({"message_id": "m-1", "delivery_status": "__BAD__"})
    response = post(client, status_url(line), body.replace("__BAD__", f"deliv{bad}ered"))
    assert response.status_code == 400
    assert b"character" in response.content
    assert not WebhookEvent.objects.exists()


def test_a_clean_status_callback_is_stored(client, line):
    body = json.dumps({"message_id": "m-1", "delivery_status": "delivered"})
    assert post(client, status_url(line), body).status_code == 200
    assert WebhookEvent.objects.count() == 1
