"""The stand-in signs every callback as Text Request does, emits all seven events with the
payloads COVERAGE.md documents, and its control API plays forged, stale and replayed ones."""

import base64
import hashlib
import hmac
import time

import pytest

from tests.callback_catcher import catcher_fixture  # noqa: F401

SEVEN = [
    "msg_sent",
    "msg_received",
    "msg_status_updated",
    "contact_created",
    "contact_updated",
    "location_received",
    "payment_status_updated",
]


def subscribe(account, catcher, *events):
    for event in events:
        answer = account.post(
            f"/dashboards/{account.dashboard_id}/hooks",
            json={"event": event, "target_url": f"{catcher.url}/{event}", "http_verb": "POST"},
        )
        assert answer.status_code == 200, answer.text


def valid(caught, key) -> bool:
    timestamp = caught.headers["x-tr-webhook-timestamp"]
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + caught.body, hashlib.sha256)
    return hmac.compare_digest(
        base64.b64encode(mac.digest()).decode(), caught.headers["x-tr-webhook-signature"]
    )


def test_event_types_are_the_seven(sandbox_account):
    answer = sandbox_account.get("/eventTypes")
    assert answer.status_code == 200
    assert answer.json() == SEVEN
    for event in SEVEN:
        subscribe(sandbox_account, type("C", (), {"url": "http://127.0.0.1:9"}), event)


def test_every_callback_is_signed_with_the_accounts_key(sandbox_account, catcher):
    account = sandbox_account
    subscribe(account, catcher, "msg_received")
    account.control.inbound(account.api_key, account.dashboard_id, "6155550142", "Hi there")
    caught = catcher.wait(1, event="msg_received")[0]
    assert valid(caught, account.api_key)
    assert abs(int(caught.headers["x-tr-webhook-timestamp"]) - time.time()) < 60
    assert caught.payload["conversation"]["message"] == "Hi there"
    # status callbacks are signed the same way
    sent = account.post(
        f"/dashboards/{account.dashboard_id}/contacts/6155550142/messages",
        json={"body": "Hello back", "status_callback": f"{catcher.url}/status/1"},
    )
    assert sent.status_code == 200
    assert valid(catcher.wait(1, event="/status/1")[0], account.api_key)


@pytest.mark.parametrize("mode", ["unsigned", "bad_signature", "stale_timestamp", "replay"])
def test_the_control_api_tampers_with_the_next_callback(sandbox_account, catcher, mode):
    account = sandbox_account
    subscribe(account, catcher, "msg_received")
    account.control.tamper_callbacks(account.api_key, mode)
    account.control.inbound(account.api_key, account.dashboard_id, "6155550142", "one")
    account.control.wait_idle()
    caught = catcher.wait(1)
    first = caught[0]
    if mode == "unsigned":
        assert "x-tr-webhook-signature" not in first.headers
    elif mode == "bad_signature":
        assert not valid(first, account.api_key)
    elif mode == "stale_timestamp":
        assert valid(first, account.api_key)
        assert time.time() - int(first.headers["x-tr-webhook-timestamp"]) >= 3500
    else:
        assert len(caught) == 2
        assert (caught[1].headers, caught[1].body) == (first.headers, first.body)
        assert valid(first, account.api_key)
    # only the next one: the following callback is genuine again
    account.control.inbound(account.api_key, account.dashboard_id, "6155550142", "two")
    last = catcher.wait(len(caught) + 1)[-1]
    assert valid(last, account.api_key)
    assert account.control.counters(account.api_key)["callbacks"][mode] == 1


def test_the_seven_events_fire_with_their_payloads(sandbox_account, catcher):
    account = sandbox_account
    subscribe(account, catcher, *SEVEN)
    line = account.get(f"/dashboards/{account.dashboard_id}").json()
    key, dash = account.api_key, account.dashboard_id

    account.control.create_contact(key, dash, "6155550160", first_name="Ada", last_name="Byrne")
    created = catcher.wait(1, event="contact_created")[0].payload
    assert created == {
        "ContactId": created["ContactId"],
        "LocationPhoneNumber": line["phone"],
        "ContactPhoneNumber": "6155550160",
        "ContactFriendlyName": "Ada Byrne",
    }
    account.post(f"/dashboards/{dash}/contacts/6155550160", json={"note": "VIP"})
    assert catcher.wait(1, event="contact_updated")[0].payload["ContactPhoneNumber"] == (
        "6155550160"
    )

    payment = account.post(
        f"/dashboards/{dash}/payments",
        json={"customer_phone": "6155550160", "amount_requested": 12.5, "message": "Invoice"},
    ).json()
    account.control.pay(key, dash, payment["payment_id"])
    paid = catcher.wait(1, event="payment_status_updated")[0].payload
    assert paid["PaymentId"] == payment["payment_id"] and paid["PaymentStatus"] == "Paid"

    status = catcher.wait(1, event="msg_status_updated")[0].payload
    assert status["ContactPhoneNumber"] == "6155550160" and status["DeliveryStatus"] == "delivered"

    account.post(
        f"/dashboards/{dash}/contacts/6155550160/messages",
        json={"body": "Where are you? [LocationRequest]", "location_callback": f"{catcher.url}/l"},
    )
    account.control.share_location(key, dash, "6155550160", 36.1, -86.7)
    located = catcher.wait(1, event="location_received")[0].payload
    assert located["ContactPhoneNumber"] == "6155550160" and located["MessageId"]
    account.control.inbound(key, dash, "6155550160", "Thanks")
    assert catcher.wait(1, event="msg_received")
    assert catcher.wait(1, event="msg_sent")
    assert all(valid(c, key) for c in catcher.caught)


def test_rotating_the_key_signs_with_the_new_one(sandbox_account, catcher):
    account = sandbox_account
    subscribe(account, catcher, "msg_received")
    new_key = account.control.rotate_key(account.api_key)
    assert account.get("/dashboards").status_code == 401  # the old key stops working
    account.api_key = new_key
    assert account.get("/dashboards").status_code == 200
    account.control.inbound(new_key, account.dashboard_id, "6155550142", "after rotation")
    caught = catcher.wait(1)[0]
    assert valid(caught, new_key)


def test_tampering_refuses_bad_input(sandbox_account):
    from standins.core.control import ControlError

    with pytest.raises(ControlError):
        sandbox_account.control.tamper_callbacks(sandbox_account.api_key, "teleport")
    with pytest.raises(ControlError):
        sandbox_account.control.tamper_callbacks(sandbox_account.api_key, "unsigned", count=0)
