"""A webhook event whose processing Text Request refuses (a revoked key, a disconnected
account) counts an attempt like any other failure: set aside after the limit, and never able
to keep a newer lost event from being swept."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of
from tests.webhooks.test_webhooks import event
from textdesk.conversations.models import Message
from textdesk.textrequest import errors
from textdesk.webhooks import services
from textdesk.webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def line(sandbox_account):
    return lines_of(connect(sandbox_account))[0]


@pytest.fixture
def refused(monkeypatch):
    """Reading the account's lines is refused (the key was revoked)."""

    def sync_dashboards(connection):
        raise errors.Unauthorized(401, "Invalid API key", operation="GetDashboards")

    monkeypatch.setattr(services, "sync_dashboards", sync_dashboards)


def for_an_unknown_line(line, **extra):
    """An event naming a line textdesk does not know yet: processing reads the lines."""
    payload = event(line, key=str(uuid.uuid4()))
    payload["yourPhoneNumber"]["id"] = 999_999
    return WebhookEvent.objects.create(
        connection=line.connection, kind="message", key=payload["messageUniqueIdentifier"],
        payload=payload, **extra,
    )  # fmt: skip


def test_a_refused_read_counts_an_attempt_and_ends_dead(line, refused):
    stored = for_an_unknown_line(line)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        services.process_event(stored.pk)
        stored.refresh_from_db()
        assert stored.attempts == attempt
        assert "Invalid API key" in stored.error
    assert stored.dead_at is not None and stored.processed_at is None


def test_refused_events_never_keep_a_newer_lost_one_from_the_sweep(line, refused):
    long_ago = timezone.now() - timedelta(minutes=10)
    stuck = [for_an_unknown_line(line) for _ in range(500)]
    WebhookEvent.objects.filter(pk__in=[e.pk for e in stuck]).update(received_at=long_ago)
    lost = event(line, body="Still open today?")
    genuine = WebhookEvent.objects.create(
        connection=line.connection, kind="message", key=lost["messageUniqueIdentifier"],
        payload=lost,
    )  # fmt: skip
    WebhookEvent.objects.filter(pk=genuine.pk).update(
        received_at=timezone.now() - timedelta(minutes=1)
    )

    services.sweep_events()  # eager here: every event swept is processed at once

    genuine.refresh_from_db()
    assert genuine.processed_at is not None
    assert Message.objects.filter(message_id=lost["messageUniqueIdentifier"]).exists()
    assert set(
        WebhookEvent.objects.filter(pk__in=[e.pk for e in stuck]).values_list("attempts", flat=True)
    ) <= {0, 1}
