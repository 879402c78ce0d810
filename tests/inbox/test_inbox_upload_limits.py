"""An upload over its limit is stopped while it arrives: the server reads little more than the
limit (never the whole body), answers the reason and keeps what was typed."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import FakePayload
from django.urls import reverse

from tests.conftest import make_conversation
from textdesk.conversations.models import Message

MB = 1024 * 1024
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bytes_read(monkeypatch):
    """How many bytes of request bodies the server read."""
    seen = {"bytes": 0}
    read = FakePayload.read

    def counting(self, size=-1, /):
        content = read(self, size)
        seen["bytes"] += len(content)
        return content

    monkeypatch.setattr(FakePayload, "read", counting)
    return seen


def png(name, size):
    return SimpleUploadedFile(name, b"\x89PNG" + b"\x00" * (size - 4), content_type="image/png")


def composer_fields(client, conversation, body, files):
    url = reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])
    html = client.get(url).content.decode()
    key = re.search(r'name="client_key" value="([^"]+)"', html).group(1)
    seen = re.search(r'name="seen" value="([^"]*)"', html).group(1)
    return {"body": body, "client_key": key, "seen": seen, "attachments": files}


def send(client, conversation, fields):
    url = reverse("conversations:send", args=[conversation.dashboard_id, conversation.pk])
    return client.post(url, fields, **HTMX)


def test_a_30_mb_photo_is_refused_before_it_is_read(client, agent, line, bytes_read):
    conversation = make_conversation(line)
    client.force_login(agent)
    photo = [png("big.png", 30 * MB)]
    fields = composer_fields(client, conversation, "The photo you asked for", photo)
    bytes_read["bytes"] = 0

    response = send(client, conversation, fields)

    assert response.status_code == 400
    html = response.content.decode()
    assert "more than the 15 MB allowed" in html and "Nothing was sent" in html
    assert "The photo you asked for</textarea>" in html  # what was typed is kept
    assert bytes_read["bytes"] < MB  # its Content-Length said enough: the file is never read
    assert not Message.objects.exists()


def test_a_file_over_its_own_limit_is_stopped_there(client, agent, line, bytes_read):
    conversation = make_conversation(line)
    client.force_login(agent)
    fields = composer_fields(client, conversation, "Eight megabytes", [png("big.png", 8 * MB)])
    bytes_read["bytes"] = 0

    response = send(client, conversation, fields)

    assert response.status_code == 400
    html = response.content.decode()
    assert "A file can be at most 5 MB" in html and "Nothing was sent" in html
    assert "Eight megabytes</textarea>" in html
    assert bytes_read["bytes"] < 6 * MB  # the 5 MB limit and a chunk, never the whole 8 MB
    assert not Message.objects.exists()
