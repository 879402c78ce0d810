"""Location requests: the tag in a reply, the customer shares through the sandbox, the callback
lands on the text and the thread shows it with a plain OpenStreetMap link."""

import json
import uuid

import pytest
from django.urls import reverse

from standins.textrequest.testing import SandboxControlError
from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of, wait_until
from textdesk.conversations import services
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.outbound import location_callback_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(sandbox_account, live_server, settings):
    settings.TEXTDESK_PUBLIC_URL = live_server.url
    line = lines_of(connect(sandbox_account))[0]
    agent = make_user("sam", "Agent", lines=[line])
    conversation = services.start_conversation(
        dashboard=line,
        phone_number="6155550142",
        user=agent,
        body="Where should we meet? [LocationRequest]",
        client_key=uuid.uuid4(),
    )
    return sandbox_account, line, agent, conversation


def test_a_shared_location_shows_in_the_thread(client, setup):
    account, line, agent, conversation = setup
    message = conversation.messages.get()
    assert message.status == "sent"
    payload = account.control.share_location(
        account.api_key, line.dashboard_id, "6155550142", 36.16266, -86.78160, 15
    )
    assert payload["message_id"] == message.message_id
    wait_until(lambda: Message.objects.get(pk=message.pk).location is not None)
    location = Message.objects.get(pk=message.pk).location
    assert (location["latitude"], location["longitude"], location["accuracy"]) == (
        36.16266,
        -86.7816,
        15,
    )
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, conversation.pk])
    html = client.get(url).content.decode()
    assert "Location shared" in html and "36.16266, -86.78160" in html
    assert "https://www.openstreetmap.org/?mlat=36.162660&amp;mlon=-86.781600" in html
    assert 'data-action="insert-location"' in html


def test_the_callback_goes_only_with_the_tag(setup):
    account, line, agent, conversation = setup
    plain = services.send_text(
        conversation=conversation, user=agent, body="No tag here", client_key=uuid.uuid4()
    )
    assert location_callback_url(plain) is None
    # The sandbox, like Text Request, refuses a callback without the tag.
    with pytest.raises(Exception, match="location request tag"):
        line.connection.client().send_message(
            line.dashboard_id,
            "6155550142",
            body="No tag",
            location_callback="https://example.test/hook",
        )
    with pytest.raises(SandboxControlError):
        account.control.share_location(account.api_key, line.dashboard_id, "6155550199", 1, 2)


@pytest.mark.parametrize(
    "body",
    [
        {"latitude": "north", "longitude": 2},
        {"latitude": 91, "longitude": 2},
        {"latitude": 10},
        {"latitude": 10, "longitude": 2, "accuracy": -1},
        {"latitude": True, "longitude": 2},
        ["not", "an", "object"],
    ],
)
def test_a_location_callback_with_junk_is_a_400_and_stores_nothing(client, setup, body):
    account, line, agent, conversation = setup
    message = conversation.messages.get()
    url = location_callback_url(message).split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert Message.objects.get(pk=message.pk).location is None


def test_a_location_callback_for_another_connection_is_a_404(client, setup, sandbox_server):
    account, line, agent, conversation = setup
    message = conversation.messages.get()
    path = reverse("hooks:location", args=[line.connection.webhook_token, message.pk + 999])
    good = {"latitude": 1.5, "longitude": 2.5}
    response = client.post(path, json.dumps(good), content_type="application/json")
    assert response.status_code == 404
    assert not Conversation.objects.filter(messages__location__isnull=False).exists()
