"""The search page: what it finds, for whom, and how it answers bad input."""

import re

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_line
from tests.search_helpers import add_note, add_text
from textdesk.contacts.models import Tag

URL = reverse("search:results")


def search(client, user, q="", **params):
    client.force_login(user)
    return client.get(URL, {"q": q, **params})


def results(response) -> list[str]:
    return re.findall(r'class="search-snippet">(.*?)</span>', response.content.decode())


@pytest.fixture
def convo(line):
    return make_conversation(line, first_name="Dana")


@pytest.fixture
def foreign(other_line):
    return make_conversation(other_line, first_name="Felix")


def test_finds_received_and_sent_texts_with_highlight(client, agent, convo):
    add_text(convo, "Can you fix the blue fences by Friday?", minutes_ago=5)
    add_text(convo, "Sure, the fence crew comes Friday", received=False, minutes_ago=1)
    response = search(client, agent, "fence")
    assert response.status_code == 200
    snippets = results(response)
    assert len(snippets) == 1  # grouped by conversation: the newest match
    assert "<mark>fence</mark> crew" in snippets[0]
    assert "and 1 more match in this conversation" in response.content.decode()


def test_stemmed_words_all_must_match(client, agent, convo, line):
    add_text(convo, "The blue fences need paint")
    other = make_conversation(line, first_name="Eli")
    add_text(other, "a blue gate")
    body = search(client, agent, "blue fence").content.decode()
    assert "Dana" in body and "Eli" not in body


def test_phrase_exclusion_and_or(client, agent, line):
    a, b, c = (make_conversation(line, first_name=n) for n in ("Ann", "Bob", "Cy"))
    add_text(a, "the blue fence is broken")
    add_text(b, "fence is blue and broken")
    add_text(c, "the gate is broken")
    assert names(search(client, agent, '"blue fence"')) == {"Ann"}
    assert names(search(client, agent, "broken -gate")) == {"Ann", "Bob"}
    assert names(search(client, agent, "gate OR fence")) == {"Ann", "Bob", "Cy"}


def names(response) -> set[str]:
    return set(re.findall(r"<strong>(\w+)</strong>", response.content.decode()))


def test_notes_contacts_and_tags_are_searched(client, agent, line, convo):
    add_note(convo, "Gate code is 4471", author=agent)
    contact = make_conversation(line, first_name="Zelda").contact
    contact.note = "prefers mornings"
    contact.custom_fields = {"f1": "Lakeside apartments"}
    contact.save()
    tagged = make_conversation(line, first_name="Tom").contact
    tagged.tags.add(Tag.objects.create(dashboard=line, tag_id="t1", name="Warranty"))
    body = search(client, agent, "4471").content.decode()
    assert "Internal note" in body and "Dana" in body
    assert names(search(client, agent, "mornings")) == {"Zelda"}
    assert names(search(client, agent, "lakeside")) == {"Zelda"}
    assert names(search(client, agent, "warranty")) == {"Tom"}
    # Inside a name and a number (trigram / contains), as the inbox's own search does.
    assert names(search(client, agent, "eld")) == {"Zelda"}
    assert names(search(client, agent, contact.phone_number[3:8])) == {"Zelda"}


def test_an_agent_never_sees_another_lines_texts(client, agent, other_agent, convo, foreign):
    add_text(convo, "secret blueprint here")
    add_text(foreign, "secret blueprint there")
    assert names(search(client, agent, "blueprint")) == {"Dana"}
    assert names(search(client, other_agent, "blueprint")) == {"Felix"}


@pytest.mark.parametrize("role", ["admin_user", "finance_user"])
def test_admin_and_finance_see_every_line(client, role, request, convo, foreign):
    add_text(convo, "secret blueprint here")
    add_text(foreign, "secret blueprint there")
    assert names(search(client, request.getfixturevalue(role), "blueprint")) == {"Dana", "Felix"}


def test_another_lines_id_is_refused_not_widened(client, agent, convo, foreign, other_line):
    add_text(foreign, "blueprint")
    for params in ({"line": other_line.pk}, {}):
        q = "blueprint" if params else f"blueprint line:{other_line.pk}"
        response = search(client, agent, q, **params)
        assert response.status_code == 400
        assert "Felix" not in response.content.decode()
    response = search(client, agent, f'blueprint line:"{other_line.name}"')
    assert response.status_code == 400
    assert "No line “Billing line” that you can see." in response.content.decode()


def test_filters_narrow(client, agent, line, admin_user):
    second = make_line(line.connection, name="Second")
    agent.dashboards.add(second)
    a = make_conversation(line, first_name="Ann")
    b = make_conversation(second, first_name="Bob", is_resolved=True)
    add_text(a, "invoice sent", received=False, sent_by=agent, minutes_ago=60 * 24 * 40)
    add_text(b, "invoice please", minutes_ago=5)
    b.contact.tags.add(Tag.objects.create(dashboard=second, tag_id="t9", name="VIP"))
    assert names(search(client, agent, "invoice")) == {"Ann", "Bob"}
    assert names(search(client, agent, "invoice line:Second")) == {"Bob"}
    assert names(search(client, agent, "invoice", line=second.pk)) == {"Bob"}
    assert names(search(client, agent, "invoice is:received")) == {"Bob"}
    assert names(search(client, agent, "invoice is:sent")) == {"Ann"}
    assert names(search(client, agent, "invoice by:sam")) == {"Ann"}
    assert names(search(client, agent, "invoice tag:vip")) == {"Bob"}
    assert names(search(client, agent, "invoice is:resolved")) == {"Bob"}
    assert names(search(client, agent, "invoice is:open")) == {"Ann"}
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    assert names(search(client, agent, f"invoice from:{today}")) == {"Bob"}
    assert names(search(client, agent, "invoice", start=today)) == {"Bob"}
    assert names(search(client, agent, "invoice has:attachment")) == set()


@pytest.mark.parametrize(
    "q, params, message",
    [
        ("", {}, "Type a word"),
        ("   ", {}, "Type a word"),
        ("-", {}, "Type a word"),
        ("OR", {}, "OR goes between"),
        ('"', {}, "Type a word"),
        ("x" * 10_000, {}, "at most 1,000 characters"),
        ("fence is:maybe", {}, "is:maybe"),
        ("fence tag:nope", {}, "No tag"),
        ("fence from:yesterday", {}, "is not a date"),
        ("fence", {"kind": "spam"}, "Select a valid choice"),
        ("fence", {"agent": "999999"}, "Nobody by that name"),
        ("fence", {"after": "garbage"}, "not valid"),
        ("fence", {"start": "2026-03-02", "end": "2026-03-01"}, "is after"),
    ],
)
def test_bad_input_gets_a_clear_message(client, agent, q, params, message):
    response = search(client, agent, q, **params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "q",
    ["'; DROP TABLE conversations_message; --", 'a" OR 1=1 --', "NEAR(a b) *", 'x:y z:"w'],
)
def test_sql_looking_queries_are_just_words(client, agent, convo, q):
    add_text(convo, "hello there")
    assert search(client, agent, q).status_code == 200


def test_markup_in_a_body_never_renders(client, agent, convo):
    add_text(convo, '<img src=x onerror=alert(1)> <b>fence</b> & "quotes"')
    body = search(client, agent, "fence").content.decode()
    assert "<img src=x" not in body and "<b>" not in body
    assert "&lt;img src=x onerror=alert(1)&gt; &lt;b&gt;<mark>fence</mark>&lt;/b&gt; &amp;" in body
    body = search(client, agent, "<script>fence").content.decode()
    assert "<script>fence" not in body


def test_load_more_pages_by_keyset(client, agent, line):
    for i in range(25):
        add_text(make_conversation(line, first_name=f"P{i:02d}"), "parcel arrived", minutes_ago=i)
    first = search(client, agent, "parcel").content.decode()
    assert len(names_in_order(first)) == 20
    more = re.search(r'hx-get="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    response = client.get(
        f"{URL}?{more}", headers={"HX-Request": "true", "HX-Target": "results-more"}
    )
    page = response.content.decode()
    assert "<html" not in page
    assert names_in_order(first) + names_in_order(page) == [f"P{i:02d}" for i in range(25)]
    assert "Load more" not in page


def names_in_order(body: str) -> list[str]:
    return re.findall(r"<strong>(\w+)</strong>", body)


def test_best_match_order(client, agent, line):
    a, b = make_conversation(line, first_name="Ann"), make_conversation(line, first_name="Bob")
    add_text(a, "fence fence fence fence, all about the fence", minutes_ago=50)
    add_text(b, "one word about a fence among very many other words in a long text", minutes_ago=1)
    assert names_in_order(search(client, agent, "fence").content.decode()) == ["Bob", "Ann"]
    assert names_in_order(search(client, agent, "fence", sort="best").content.decode()) == [
        "Ann",
        "Bob",
    ]


def test_query_count_is_constant(client, agent, line, django_assert_max_num_queries):
    def fill(n):
        for i in range(n):
            convo = make_conversation(line, first_name=f"Q{i}")
            add_text(convo, "ladder rental")
            add_note(convo, "ladder returned", author=agent)

    client.force_login(agent)
    fill(1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(URL, {"q": "ladder"})
    fill(30)
    with CaptureQueriesContext(connection) as many:
        client.get(URL, {"q": "ladder"})
    assert len(one) == len(many) <= 14


def test_the_page_without_a_query_explains_the_syntax(client, agent):
    client.force_login(agent)
    body = client.get(URL).content.decode()
    assert "the exact phrase" in body and 'id="topbar-search"' in body


def test_best_match_pages_past_contacts_found_by_name(client, agent, line):
    for i in range(22):
        make_conversation(line, first_name=f"Harbor{i:02d}")
    add_text(make_conversation(line, first_name="Zed"), "meet at the harbor")
    first = search(client, agent, "harbor", sort="best").content.decode()
    assert names_in_order(first)[0] == "Zed"
    more = re.search(r'hx-get="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    rest = client.get(f"{URL}?{more}", headers={"HX-Request": "true", "HX-Target": "results-more"})
    assert len(set(names_in_order(first) + names_in_order(rest.content.decode()))) == 23


def test_without_fts5_search_still_works_more_slowly(client, agent, line, monkeypatch):
    from textdesk.search import index

    monkeypatch.setattr(index, "backend", lambda connection=None: "like")
    a, b = make_conversation(line, first_name="Ann"), make_conversation(line, first_name="Bob")
    add_text(a, "the blue fence")
    add_text(b, "the blue gate")
    response = search(client, agent, "blue -gate")
    assert names(response) == {"Ann"}
    assert "slower" in response.content.decode()
