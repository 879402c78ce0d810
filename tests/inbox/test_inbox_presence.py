"""Who is here: colleagues viewing or typing in a conversation, through the live poll."""

import html as htmllib
import re
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from textdesk.conversations import presence

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def conversation(line):
    return make_conversation(line, first_name="Gia")


def open_page(client, conversation) -> str:
    url = reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])
    return client.get(url).content.decode()


def live_url(page: str) -> str:
    return htmllib.unescape(re.search(r'id="live" class="live" hx-get="([^"]+)"', page).group(1))


def test_a_colleague_sees_who_is_viewing_and_typing(client, agent, line, conversation):
    colleague = make_user("jordan", "Agent", lines=[line])
    client.force_login(colleague)
    page = open_page(client, conversation)
    assert 'id="presence"' in page and "is viewing" not in page
    poll = live_url(page)

    client.force_login(agent)
    mine = open_page(client, conversation)
    assert "Jordan is viewing" in mine  # the colleague's open tab

    client.force_login(colleague)
    answer = client.get(poll, **HTMX)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "Sam is viewing" in body and 'id="presence"' in body
    poll = live_url(body)
    assert client.get(poll, **HTMX).status_code == 204  # nothing new: no cost beyond the poll

    client.force_login(agent)
    draft = reverse("conversations:draft", args=[conversation.dashboard_id, conversation.pk])
    assert client.post(draft, {"body": "On it"}, HTTP_X_DRAFT="1").status_code == 204
    client.force_login(colleague)
    typing = client.get(poll, **HTMX).content.decode()
    assert "Sam is typing a reply" in typing
    assert 'data-typing="Sam;"' in typing


def test_presence_expires_when_the_tab_stops_polling(agent, line, conversation, monkeypatch):
    colleague = make_user("jordan", "Agent", lines=[line])
    monkeypatch.setattr(presence, "SEEN_FOR", 0.3)
    presence.touch(conversation.pk, agent, typing=True)
    assert [c.name for c in presence.others(conversation.pk, colleague)] == ["Sam"]
    assert presence.others(conversation.pk, colleague)[0].is_typing
    assert presence.others(conversation.pk, agent) == []
    time.sleep(0.4)
    assert presence.others(conversation.pk, colleague) == []


def test_typing_stops_when_the_reply_is_cleared(agent, line, conversation):
    colleague = make_user("jordan", "Agent", lines=[line])
    presence.touch(conversation.pk, agent, typing=True)
    presence.touch(conversation.pk, agent, typing=False)
    assert not presence.others(conversation.pk, colleague)[0].is_typing


def test_presence_of_another_line_is_not_reachable(client, other_agent, conversation):
    client.force_login(other_agent)
    url = reverse("conversations:live", args=[conversation.dashboard_id])
    assert client.get(f"{url}?c={conversation.pk}", **HTMX).status_code == 404
    assert presence.others(conversation.pk, other_agent) == []
