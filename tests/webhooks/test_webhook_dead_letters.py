"""Webhook events that can never be processed: refused at receipt when we can tell, set aside
after a few failed attempts otherwise, and never in the way of events that are merely late."""

import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of
from tests.webhooks.test_webhooks import event
from textdesk.conversations.models import Message
from textdesk.webhooks import services
from textdesk.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def line(sandbox_account):
    return lines_of(connect(sandbox_account))[0]


def post(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"consumerPhoneNumber": "+44 20 7946 0958"}, "not a US phone number"),
        ({"consumerPhoneNumber": "not-a-phone"}, "not a US phone number"),
    ],
)
def test_an_event_we_could_never_store_is_refused_with_the_reason(client, line, change, reason):
    payload = event(line)
    payload["conversation"].update(change)
    answer = post(client, reverse("hooks:messages", args=[line.connection.webhook_token]), payload)
    assert answer.status_code == 400
    assert reason in answer.content.decode()
    assert not WebhookEvent.objects.exists()


def test_an_unknown_overlong_status_word_is_kept_cut_and_never_poisons(client, line):
    payload = event(line, body="Status from the future")
    payload["conversation"]["status"] = "d" * 300
    answer = post(client, reverse("hooks:messages", args=[line.connection.webhook_token]), payload)
    assert answer.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is not None and stored.attempts == 0
    message = Message.objects.get(message_id=payload["messageUniqueIdentifier"])
    assert message.delivery_status == "d" * 20


def test_an_overlong_message_id_is_refused(client, line):
    payload = event(line, key="x" * 65)
    answer = post(client, reverse("hooks:messages", args=[line.connection.webhook_token]), payload)
    assert answer.status_code == 400
    assert "longer than 64" in answer.content.decode()
    status_url = reverse("hooks:status", args=[line.connection.webhook_token, 1])
    answer = post(client, status_url, {"message_id": "m" * 65, "delivery_status": "delivered"})
    assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()


def poison(line, key=None):
    """An event stored before it could be checked (e.g. by an older release) that fails."""
    payload = event(line, key=key or str(uuid.uuid4()), phone="not-a-phone")
    return WebhookEvent.objects.create(
        connection=line.connection, kind="message", key=payload["messageUniqueIdentifier"],
        payload=payload,
    )  # fmt: skip


def test_a_poison_event_is_set_aside_after_a_few_attempts(line):
    stored = poison(line)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        services.process_event(stored.pk)
        stored.refresh_from_db()
        assert stored.attempts == attempt
        assert "InvalidPhoneNumber" in stored.error
    assert stored.dead_at is not None and stored.processed_at is None
    services.process_event(stored.pk)  # a dead event is left alone
    stored.refresh_from_db()
    assert stored.attempts == services.MAX_ATTEMPTS


def test_dead_events_never_block_the_sweep_of_a_lost_one(line):
    long_ago = timezone.now() - timedelta(minutes=5)
    dead = [poison(line) for _ in range(510)]
    WebhookEvent.objects.filter(pk__in=[e.pk for e in dead]).update(
        dead_at=timezone.now(), attempts=services.MAX_ATTEMPTS, received_at=long_ago
    )
    lost = event(line, body="Are you open Sunday?")
    genuine = WebhookEvent.objects.create(
        connection=line.connection, kind="message", key=lost["messageUniqueIdentifier"],
        payload=lost,
    )  # fmt: skip
    WebhookEvent.objects.filter(pk=genuine.pk).update(received_at=timezone.now())
    WebhookEvent.objects.filter(pk=genuine.pk).update(received_at=long_ago)
    assert services.sweep_events() == 1
    genuine.refresh_from_db()
    assert genuine.processed_at is not None
    assert Message.objects.filter(message_id=lost["messageUniqueIdentifier"]).exists()


def test_admin_sees_a_dead_event_and_retries_or_discards_it(client, line, admin_user, agent):
    first, second = poison(line), poison(line)
    WebhookEvent.objects.filter(pk__in=[first.pk, second.pk]).update(
        dead_at=timezone.now(), attempts=services.MAX_ATTEMPTS, error="InvalidPhoneNumber: bad"
    )
    status = reverse("sync:status")
    client.force_login(agent)
    assert client.get(status).status_code == 403
    assert client.post(reverse("sync:dead_event", args=[first.pk, "retry"])).status_code == 403
    client.force_login(admin_user)
    page = client.get(status).content.decode()
    assert "could not be processed" in page and "InvalidPhoneNumber: bad" in page
    client.post(reverse("sync:dead_event", args=[first.pk, "retry"]))
    first.refresh_from_db()
    # Processed once more (eager here) and failed again: counting starts over.
    assert first.dead_at is None and first.attempts == 1
    client.post(reverse("sync:dead_event", args=[second.pk, "discard"]))
    second.refresh_from_db()
    assert second.processed_at is not None and second.error.startswith("Discarded by")
    assert client.post(reverse("sync:dead_event", args=[second.pk, "retry"])).status_code == 404
    assert client.post(reverse("sync:dead_event", args=[first.pk, "explode"])).status_code == 404
