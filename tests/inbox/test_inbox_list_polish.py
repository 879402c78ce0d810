"""What a row of the conversation list says: never two contradicting states, readable previews."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation


def row_html(body: str, pk: int) -> str:
    match = re.search(rf'<li class="row[^"]*" id="row-{pk}">(.*?)</li>', body, re.S)
    assert match, f"row {pk} not in the list"
    return match.group(0)


def test_a_resolved_row_is_not_also_waiting(client, agent, line):
    hours_ago = timezone.now() - timedelta(hours=3)
    done = make_conversation(line, is_resolved=True, waiting_since=hours_ago)
    waiting = make_conversation(line, first_name="Wes", waiting_since=hours_ago)
    client.force_login(agent)
    body = client.get(reverse("conversations:line", args=[line.pk]), {"view": "all"}).content
    body = body.decode()
    assert "Resolved" in row_html(body, done.pk)
    assert "Waiting" not in row_html(body, done.pk)
    assert "Waiting 3h" in row_html(body, waiting.pk)


def test_the_conversation_being_read_is_not_new(client, agent, line):
    opened = make_conversation(line, is_unread=True)
    other = make_conversation(line, first_name="Una", is_unread=True)
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, opened.pk])
    body = client.get(url).content.decode()
    assert "New" not in row_html(body, opened.pk)
    assert "is-unread" not in row_html(body, opened.pk)
    assert "New" in row_html(body, other.pk)


def test_a_location_request_preview_is_a_label(client, agent, line):
    asked = make_conversation(
        line, last_message_preview="[LocationRequest] Where should we send the tech?"
    )
    client.force_login(agent)
    body = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    row = row_html(body, asked.pk)
    assert "[LocationRequest]" not in row
    assert "Location request: Where should we send the tech?" in row
