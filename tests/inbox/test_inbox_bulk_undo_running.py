"""Undo of a bulk action still being queued is refused by the service, not only hidden by the
template: what the batch changed is not known until every conversation is queued."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations import bulk as bulks
from textdesk.conversations.models import Bulk, BulkItem

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def running(line, agent):
    bulk = Bulk.objects.create(
        dashboard=line, user=agent, action="resolve", client_key=uuid.uuid4(), total=2
    )
    first, second = make_conversation(line), make_conversation(line, phone="6155550177")
    BulkItem.objects.create(bulk=bulk, conversation=first, queued_at=timezone.now())
    BulkItem.objects.create(bulk=bulk, conversation=second)  # not queued yet
    return bulk


def test_the_service_refuses_to_undo_a_running_bulk(running, agent):
    with pytest.raises(bulks.BulkRefused, match="still being queued"):
        bulks.undo_bulk(bulk=running, user=agent, client_key=uuid.uuid4())
    assert Bulk.objects.count() == 1


def test_a_forged_undo_post_gets_the_reason(client, running, agent, line):
    client.force_login(agent)
    url = reverse("conversations:bulk_undo", args=[line.pk, running.pk])
    response = client.post(url, {"client_key": str(uuid.uuid4())}, **HTMX)
    assert response.status_code == 409
    assert "still being queued" in response.content.decode()
    assert Bulk.objects.count() == 1
