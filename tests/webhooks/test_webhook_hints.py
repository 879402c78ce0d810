"""Events other than texts are hints: each queues one targeted read (coalesced per line,
resource and id), never data to keep and never a reason to text anyone."""

import json
import time
import uuid

import pytest

from tests.callback_catcher import catcher_fixture  # noqa: F401
from tests.textrequest_helpers import calls, connect, lines_of, staff_fixture  # noqa: F401
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Message
from textdesk.dashboards.models import Dashboard
from textdesk.dashboards.sync import register_hooks
from textdesk.payments.models import Payment
from textdesk.sync.engine import run_sync
from textdesk.webhooks import services
from textdesk.webhooks.models import Hint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(sandbox_account, settings, catcher):
    """A connected line whose event subscriptions point at the catcher; ``deliver`` hands
    what the stand-in sent to textdesk's receiver unchanged."""
    settings.TEXTDESK_PUBLIC_URL = catcher.url
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    register_hooks(connection)
    return line


def deliver(client, caught):
    return client.post(
        caught.path, caught.body, content_type="application/json", **caught.django_headers()
    )


def spent_since(account, before):
    return {op: n - before.get(op, 0) for op, n in calls(account).items() if n != before.get(op, 0)}


def sent_texts(account):
    return sum(s["count"] for s in account.control.counters(account.api_key)["sent"])


def test_a_portal_payment_shows_paid_through_its_event(client, world, sandbox_account, catcher):
    account, line = sandbox_account, world
    created = account.post(
        f"/dashboards/{line.dashboard_id}/payments",
        json={"customer_phone": "6155550160", "amount_requested": 40, "message": "Invoice 7"},
    ).json()
    run_sync(line, wait=True)
    payment = Payment.objects.get(payment_id=created["payment_id"])
    assert payment.is_open
    texts = sent_texts(account)
    before = calls(account)
    account.control.pay(account.api_key, line.dashboard_id, created["payment_id"])
    answer = deliver(client, catcher.wait(1, event="payment_status_updated")[0])
    assert answer.status_code == 200 and answer.json()["queued"] is True
    payment.refresh_from_db()
    assert not payment.is_open and payment.textrequest_payment_status == "Paid"
    assert spent_since(account, before) == {"GetPayment": 1}  # the one payment it names
    assert sent_texts(account) == texts  # a hint never texts anyone
    assert Dashboard.objects.get(pk=line.pk).hooks_seen_at is not None


def test_a_contact_made_in_text_requests_app_appears_through_its_event(
    client, world, sandbox_account, catcher
):
    account, line = sandbox_account, world
    account.control.create_contact(
        account.api_key, line.dashboard_id, "6155550171", first_name="Noor", last_name="Haddad"
    )
    before = calls(account)
    deliver(client, catcher.wait(1, event="contact_created")[0])
    contact = Contact.objects.get(dashboard=line, phone_number="6155550171")
    assert contact.display_name == "Noor Haddad"
    assert spent_since(account, before) == {"GetContactByPhoneNumber": 1}
    account.post(
        f"/dashboards/{line.dashboard_id}/contacts/6155550171", json={"note": "Prefers mornings"}
    )
    answer = deliver(client, catcher.wait(1, event="contact_updated")[0])
    assert answer.json() == {"ok": True, "queued": True}
    assert Contact.objects.get(pk=contact.pk).note == "Prefers mornings"


def test_a_delivery_status_event_reads_our_texts_in_flight(
    client, world, sandbox_account, catcher, staff
):
    from textdesk.conversations import services as conversations

    account, line = sandbox_account, world
    conversation = conversations.start_conversation(
        dashboard=line, phone_number="6155550123", user=staff, body="Ready", client_key=uuid.uuid4()
    )
    message = conversation.messages.get()
    Message.objects.filter(pk=message.pk).update(delivery_status="sending")
    account.control.set_delivery_status(account.api_key, message.message_id or "", "undelivered")
    caught = [
        c
        for c in catcher.wait(2, event="msg_status_updated")
        if c.payload["DeliveryStatus"] == "undelivered"
    ]
    deliver(client, caught[0])
    assert Message.objects.get(pk=message.pk).delivery_status != "sending"


def test_a_burst_of_events_costs_one_read_and_none_is_lost(
    client, world, sandbox_account, catcher, monkeypatch
):
    account, line = sandbox_account, world
    queued = []
    monkeypatch.setattr(services, "_enqueue_hint", lambda pk, countdown=None: queued.append(pk))
    for n in range(5):
        account.post(f"/dashboards/{line.dashboard_id}/contacts/6155550188", json={"note": f"v{n}"})
    for caught in catcher.wait(5, event="contact_"):
        assert deliver(client, caught).status_code == 200
    assert Hint.objects.count() == 1 and len(queued) == 1
    before = calls(account)
    services.read_hint(queued[0], eager=True)
    assert spent_since(account, before) == {"GetContactByPhoneNumber": 1}
    assert Contact.objects.get(phone_number="6155550188").note == "v4"
    # An event arriving after the read began asks again. (A second later: the same body
    # signed in the same second at the same URL would be a replay.)
    catcher.clear()
    time.sleep(1.1)
    account.post(f"/dashboards/{line.dashboard_id}/contacts/6155550188", json={"note": "v5"})
    deliver(client, catcher.wait(1, event="contact_updated")[0])
    assert Hint.objects.count() == 1 and len(queued) == 2


def test_a_hint_with_junk_ids_reads_nothing_it_names(client, world, sandbox_account):
    """The payload only chooses what to read: a junk payment id reads the open payments."""
    from tests.webhooks.test_webhook_signatures import post, signed, url_of

    line = world
    body = json.dumps({"PaymentId": "'; DROP TABLE", "PaymentStatus": "Paid"}).encode()
    answer = post(
        client, url_of(line, "payment_status_updated"), body, signed(line.connection.api_key, body)
    )
    assert answer.status_code == 200
    assert not Payment.objects.exists()
