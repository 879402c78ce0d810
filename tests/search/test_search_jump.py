"""Opening a search result: the thread at that text, with context, even when it is old."""

import re

import pytest
from django.urls import reverse

from tests.conftest import make_conversation
from tests.search_helpers import add_note, add_text
from textdesk.conversations.threads import CONTEXT_BEFORE, THREAD_SIZE


@pytest.fixture
def long_thread(line):
    convo = make_conversation(line, first_name="Dana")
    texts = [add_text(convo, f"text number {i}", minutes_ago=500 - i) for i in range(200)]
    return convo, texts


def thread_ids(body: str) -> list[int]:
    log = body.split('id="thread-log"', 1)[1].split("</ol>", 1)[0]
    return [int(x) for x in re.findall(r'id="m-(\d+)"', log)]


def test_an_old_text_opens_highlighted_with_context(client, agent, line, long_thread):
    convo, texts = long_thread
    target = texts[50]
    target.body = "the blue fence in March"
    target.save()
    client.force_login(agent)
    # Search finds it and links to it...
    found = client.get(reverse("search:results"), {"q": "blue fence"}).content.decode()
    url = reverse("conversations:conversation", args=[line.pk, convo.pk])
    assert f'href="{url}?at={target.pk}"' in found
    # ...and the link opens the thread around it, far older than the newest window.
    body = client.get(url, {"at": target.pk}).content.decode()
    ids = thread_ids(body)
    assert ids == [
        t.pk for t in texts[50 - CONTEXT_BEFORE + 1 : 50 - CONTEXT_BEFORE + 1 + THREAD_SIZE]
    ]
    assert re.search(rf'class="[^"]*is-target[^"]*" id="m-{target.pk}"', body)
    assert "Show earlier messages" in body
    newest_shown = ids[-1]
    assert f"?at={newest_shown}&amp;newer=1" in body and "Newer messages" in body


def test_newer_messages_pages_on_to_the_newest(client, agent, line, long_thread):
    convo, texts = long_thread
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, convo.pk])
    at, seen = texts[10].pk, []
    for _ in range(10):
        body = client.get(url, {"at": at, "newer": 1}).content.decode()
        assert "is-target" not in body
        seen += thread_ids(body)
        # The thread's own "Newer messages" link (the page's URL is elsewhere too, e.g. in the
        # top bar's forms that come back to it).
        match = re.search(r'id="thread-newer"><a [^>]*href="[^"]*\?at=(\d+)&amp;newer=1"', body)
        if not match:
            break
        at = int(match.group(1))
    # Every text from there to the newest, page after page, each page starting where the
    # last one stopped.
    assert set(seen) == {t.pk for t in texts[max(0, 10 - CONTEXT_BEFORE + 1) :]}
    assert thread_ids(body)[-1] == texts[-1].pk


def test_a_recent_text_opens_in_the_normal_window(client, agent, line, long_thread):
    convo, texts = long_thread
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, convo.pk])
    body = client.get(url, {"at": texts[-3].pk}).content.decode()
    assert thread_ids(body)[-1] == texts[-1].pk
    assert "Newer messages" not in body


def test_a_note_opens_highlighted(client, agent, line):
    convo = make_conversation(line)
    add_text(convo, "hello", minutes_ago=3)
    note = add_note(convo, "gate code 4471", author=agent)
    client.force_login(agent)
    body = client.get(
        reverse("conversations:conversation", args=[line.pk, convo.pk]), {"note": note.pk}
    ).content.decode()
    assert re.search(rf'class="note-entry is-target" id="n-{note.pk}"', body)


@pytest.mark.parametrize("value", ["abc", "-1", "²", "9" * 30])
def test_bad_at_values_are_404(client, agent, line, value):
    convo = make_conversation(line)
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, convo.pk])
    assert client.get(url, {"at": value}).status_code == 404


def test_another_conversations_text_is_404(client, agent, line, other_line, other_agent):
    mine, theirs = make_conversation(line), make_conversation(other_line)
    foreign = add_text(theirs, "not yours")
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, mine.pk])
    assert client.get(url, {"at": foreign.pk}).status_code == 404
    url = reverse("conversations:conversation", args=[other_line.pk, theirs.pk])
    assert client.get(url, {"at": foreign.pk}).status_code == 404


def test_jump_query_count_is_constant(client, agent, line):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    convo = make_conversation(line)
    texts = [add_text(convo, f"t{i}", minutes_ago=900 - i) for i in range(THREAD_SIZE + 5)]
    client.force_login(agent)
    url = reverse("conversations:conversation", args=[line.pk, convo.pk])
    client.get(url, {"at": texts[1].pk})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"at": texts[1].pk})
    texts += [add_text(convo, f"u{i}", minutes_ago=500 - i) for i in range(200)]
    add_note(convo, "a note", author=agent)
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"at": texts[150].pk})
    assert len(few) == len(many)
