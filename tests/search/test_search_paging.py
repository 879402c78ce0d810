"""Search's paging: conversations newest match first, read by a window of the newest matches
that grows when it holds too few conversations; every page costs the same queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from tests.search_helpers import add_text
from textdesk.conversations.models import Message
from textdesk.search import engine

URL = reverse("search:results")
MORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results-more"}


def names_in_order(body: str) -> list[str]:
    return re.findall(r"<strong>(\w+)</strong>", body)


def every_page(client, **params) -> list[list[str]]:
    """The names on each page, following "Load more" to the end."""
    body = client.get(URL, params).content.decode()
    pages = [names_in_order(body)]
    while more := re.search(r'hx-get="\?([^"]+)"', body):
        body = client.get(f"{URL}?{more.group(1).replace('&amp;', '&')}", **MORE).content.decode()
        pages.append(names_in_order(body))
        assert len(pages) < 20, "Load more never ends"
    return pages


def text_at(conversation, body, at) -> Message:
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.RECEIVED,
        status=Message.Status.RECEIVED,
        body=body,
        sent_at=at,
    )


@pytest.fixture(params=["default window", "tiny window"])
def window(request, monkeypatch):
    """The default window, and one of 4 matches so the same data needs every larger window
    and cuts through matches that share a moment."""
    if request.param == "tiny window":
        monkeypatch.setattr(engine, "WINDOW", 4)
        monkeypatch.setattr(engine, "WINDOW_GROWTH", 3)
    return request.param


def test_pages_follow_the_newest_match_without_repeats_or_gaps(client, agent, line, window):
    now = timezone.now().replace(microsecond=0)
    shared = now - timedelta(minutes=60)
    newest = {}
    for i in range(47):
        convo = make_conversation(line, first_name=f"C{i:02d}")
        # Seven conversations share one moment (texts imported together): the contact id
        # breaks the tie, across the window's edge too.
        at = shared if i >= 40 else now - timedelta(minutes=i)
        text_at(convo, "parcel arrived", at)
        # An older match lands among the next page's moments: that conversation was shown
        # already and must not come back.
        text_at(convo, "second parcel", at - timedelta(minutes=17, seconds=30))
        text_at(convo, "newer but about something else", now)
        newest[convo.contact.first_name] = (at, convo.contact.pk)
    client.force_login(agent)

    pages = every_page(client, q="parcel")

    expected = sorted(newest, key=lambda name: newest[name], reverse=True)
    assert [len(page) for page in pages] == [20, 20, 7]
    assert sum(pages, []) == expected


def test_a_window_cut_among_texts_of_one_moment_waits_for_all_of_them(
    client, agent, line, monkeypatch
):
    # 19 conversations, then 8 whose texts share one moment, written in reverse: the window
    # of 24 holds the 19 and only 5 of the 8, and not the 5 that sort first.
    monkeypatch.setattr(engine, "WINDOW", 24)
    now = timezone.now().replace(microsecond=0)
    for i in range(19):
        text_at(make_conversation(line, first_name=f"A{i:02d}"), "hedge trim", now - timedelta(i))
    tied = [make_conversation(line, first_name=f"T{i}") for i in range(8)]
    for convo in reversed(tied):
        text_at(convo, "hedge trim", now - timedelta(days=30))
    client.force_login(agent)

    pages = every_page(client, q="hedge")

    assert sum(pages, []) == [f"A{i:02d}" for i in range(19)] + [f"T{i}" for i in range(7, -1, -1)]


def test_a_chatty_conversation_does_not_hide_the_others(client, agent, line, window):
    chatty = make_conversation(line, first_name="Chatty")
    for i in range(engine.WINDOW * 2 + 3):
        add_text(chatty, f"invoice number {i}", minutes_ago=i)
    others = [make_conversation(line, first_name=f"O{i:02d}") for i in range(24)]
    for i, convo in enumerate(others):
        add_text(convo, "invoice paid", minutes_ago=1000 + i)
    client.force_login(agent)

    pages = every_page(client, q="invoice")

    assert sum(pages, []) == ["Chatty"] + [f"O{i:02d}" for i in range(24)]
    assert [len(page) for page in pages] == [20, 5]


def test_another_lines_texts_never_count(client, agent, admin_user, line, other_line, window):
    # The other line's matches are newer and more than any window: read before scoping, they
    # would fill it, and a count taken before scoping would include them.
    busy = make_conversation(other_line, first_name="Foreign")
    for i in range(engine.WINDOW + 5):
        add_text(busy, "gutter repair", minutes_ago=i)
    theirs = [make_conversation(other_line, first_name=f"F{i:02d}") for i in range(5)]
    for convo in theirs:
        add_text(convo, "gutter repair", minutes_ago=1)
    mine = [make_conversation(line, first_name=f"M{i:02d}") for i in range(22)]
    for i, convo in enumerate(mine):
        add_text(convo, "gutter repair", minutes_ago=500 + i)
    add_text(mine[0], "the gutter again", minutes_ago=900)
    client.force_login(agent)

    pages = every_page(client, q="gutter")

    assert sum(pages, []) == [f"M{i:02d}" for i in range(22)]
    body = client.get(URL, {"q": "gutter"}).content.decode()
    assert body.count("more match") == 1
    assert "and 1 more match in this conversation" in body
    client.force_login(admin_user)
    assert "Foreign" in sum(every_page(client, q="gutter"), [])


def fill(line, agent, count, start=0):
    for i in range(start, start + count):
        convo = make_conversation(line, first_name=f"Q{i:03d}")
        add_text(convo, "ladder rental", minutes_ago=i)
        add_text(convo, "ladder returned", minutes_ago=i + 500)


def queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("sort", ["newest", "best"])
def test_every_page_costs_the_same_queries(client, agent, line, sort):
    client.force_login(agent)
    fill(line, agent, 2)
    first = f"{URL}?q=ladder&sort={sort}"
    few = queries(client, first)
    fill(line, agent, 60, start=2)
    assert queries(client, first) == few
    body = client.get(first).content.decode()
    deeper = []
    for _ in range(2):
        more = re.search(r'hx-get="\?([^"]+)"', body).group(1).replace("&amp;", "&")
        deeper.append(queries(client, f"{URL}?{more}", **MORE))
        body = client.get(f"{URL}?{more}", **MORE).content.decode()
    # "Load more" answers a fragment: no page chrome, the same reads of results.
    assert deeper[0] == deeper[1] <= few


def test_best_match_says_when_it_ranked_only_the_newest(client, agent, line, monkeypatch):
    monkeypatch.setattr(engine, "BEST_CAP", 5)
    for i in range(8):
        add_text(make_conversation(line, first_name=f"B{i}"), "mulch delivery", minutes_ago=i)
    client.force_login(agent)
    body = client.get(URL, {"q": "mulch", "sort": "best"}).content.decode()
    assert names_in_order(body) and set(names_in_order(body)) <= {f"B{i}" for i in range(5)}
    assert "Best match ranks the newest 5 matches" in body
    assert "ranks the newest" not in client.get(URL, {"q": "mulch"}).content.decode()
    monkeypatch.setattr(engine, "BEST_CAP", 50)
    body = client.get(URL, {"q": "mulch", "sort": "best"}).content.decode()
    assert len(names_in_order(body)) == 8 and "ranks the newest" not in body
