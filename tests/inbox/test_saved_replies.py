"""Saved replies: admins create, edit and delete them per line or for every line; agents get
them in the composer's `/` picker at once."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import make_conversation
from textdesk.dashboards.models import SavedReply

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_admin_creates_a_reply_for_one_line_and_the_agent_gets_it(client, admin_user, agent, line):
    client.force_login(admin_user)
    response = client.post(
        reverse("replies:new"),
        {"dashboard": line.pk, "shortcut": "Hours", "body": "We are open 9 to 5."},
    )
    assert response.status_code == 302
    reply = SavedReply.objects.get()
    assert (reply.dashboard, reply.shortcut, reply.created_by) == (line, "hours", admin_user)
    conversation = make_conversation(line)
    client.force_login(agent)
    inbox = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    assert 'data-match="hours"' in inbox.content.decode()
    assert "We are open 9 to 5." in inbox.content.decode()


def test_a_reply_for_every_line_shows_on_every_line(client, admin_user, line, other_line):
    client.force_login(admin_user)
    client.post(
        reverse("replies:new"),
        {"dashboard": "", "shortcut": "thanks", "body": "Thank you!"},
    )
    assert SavedReply.objects.get().dashboard is None
    for each in (line, other_line):
        conversation = make_conversation(each)
        page = client.get(reverse("conversations:conversation", args=[each.pk, conversation.pk]))
        assert 'data-match="thanks"' in page.content.decode()


def test_shortcuts_are_unique_per_line(client, admin_user, line, other_line):
    SavedReply.objects.create(dashboard=line, shortcut="hours", body="9-5")
    client.force_login(admin_user)
    same_line = client.post(
        reverse("replies:new"), {"dashboard": line.pk, "shortcut": "HOURS", "body": "x"}
    )
    assert same_line.status_code == 200
    assert "/hours is already a saved reply for Front desk." in same_line.content.decode()
    assert "\nx</textarea>" in same_line.content.decode()  # what was typed stays
    # Another line may use the same word...
    other = client.post(
        reverse("replies:new"),
        {"dashboard": other_line.pk, "shortcut": "hours", "body": "8-6"},
    )
    assert other.status_code == 302
    # ...but a reply for every line would clash with both.
    every = client.post(reverse("replies:new"), {"dashboard": "", "shortcut": "hours", "body": "y"})
    assert every.status_code == 200
    assert "already a saved reply" in every.content.decode()
    assert SavedReply.objects.count() == 2


def test_edit_and_delete(client, admin_user, line):
    reply = SavedReply.objects.create(dashboard=line, shortcut="hours", body="9-5")
    client.force_login(admin_user)
    url = reverse("replies:edit", args=[reply.pk])
    assert "9-5" in client.get(url).content.decode()
    # Saving itself under its own shortcut is not a clash.
    response = client.post(url, {"dashboard": line.pk, "shortcut": "hours", "body": "8-6"})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.body == "8-6"
    assert client.post(reverse("replies:delete", args=[reply.pk])).status_code == 302
    assert not SavedReply.objects.exists()


def test_bad_input_is_a_form_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("replies:new"), {"dashboard": "", "shortcut": "two words", "body": ""}
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="errorlist"') == 2
    assert not SavedReply.objects.exists()


def test_preview_counts_segments(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("replies:preview"), {"body": "ж" * 71}, **HTMX)
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="reply-preview"' in body
    assert "71 characters · 2 SMS · Unicode" in body


@pytest.mark.parametrize("who", ["agent", "finance_user"])
def test_agents_and_finance_cannot_manage_replies(client, request, who, line):
    reply = SavedReply.objects.create(dashboard=line, shortcut="hours", body="9-5")
    client.force_login(request.getfixturevalue(who))
    for url in (
        reverse("replies:list"),
        reverse("replies:new"),
        reverse("replies:edit", args=[reply.pk]),
        reverse("replies:preview"),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("replies:new"), {"shortcut": "x", "body": "y"}).status_code == 403
    assert client.post(reverse("replies:delete", args=[reply.pk])).status_code == 403
    assert SavedReply.objects.count() == 1


def test_list_queries_do_not_grow(client, admin_user, line):
    client.force_login(admin_user)
    SavedReply.objects.create(dashboard=line, shortcut="a", body="a", created_by=admin_user)
    with CaptureQueriesContext(db_connection) as few:
        client.get(reverse("replies:list"))
    for n in range(30):
        SavedReply.objects.create(dashboard=line if n % 2 else None, shortcut=f"r{n}", body="b")
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(reverse("replies:list"))
    assert len(response.context["replies"]) == 31
    assert len(many) == len(few)
