"""@mentions in notes: the picker's people are the line's, and a mention shows marked, escaped."""

import uuid

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from textdesk.conversations.models import Note
from textdesk.conversations.templatetags.inbox import note_html

HTMX = {"HTTP_HX_REQUEST": "true"}


def people_url(line):
    return reverse("conversations:people", args=[line.pk])


def thread_url(conversation):
    return reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])


def add_note(client, conversation, text):
    url = reverse("conversations:note", args=[conversation.dashboard_id, conversation.pk])
    response = client.post(url, {"note": text, "client_key": str(uuid.uuid4())}, **HTMX)
    assert response.status_code == 200
    return Note.objects.latest("pk")


def test_the_picker_offers_the_line_people_only(
    client, agent, admin_user, other_agent, line, django_assert_num_queries
):
    jordan = make_user("jordan", "Agent", lines=[line], last_name="Lee")
    make_user("gone", "Agent", lines=[line], is_active=False)
    client.force_login(agent)
    with django_assert_num_queries(6):  # session, user, 2 permissions, line, people
        response = client.get(people_url(line), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.count('role="option"') == 2
    assert f'id="person-{jordan.pk}"' in html and "Jordan Lee" in html and "@jordan" in html
    assert 'data-insert="@jordan "' in html
    assert "@avery" in html  # Admins see every line
    assert "@olive" not in html  # another line's agent is never listed
    assert "@gone" not in html
    assert "@sam" not in html  # no mentioning oneself


def test_the_picker_of_another_line_is_a_404_and_needs_the_inbox_role(
    client, other_agent, finance_user, line
):
    client.force_login(other_agent)
    assert client.get(people_url(line), **HTMX).status_code == 404
    client.force_login(finance_user)
    assert client.get(people_url(line), **HTMX).status_code == 403


def test_the_note_form_is_a_combobox_over_the_people_picker(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    html = client.get(thread_url(conversation)).content.decode()
    assert 'role="combobox"' in html and 'aria-controls="mention-people"' in html
    assert 'id="mention-people" class="picker" role="listbox"' in html
    assert f'data-options-url="{people_url(line)}"' in html


def test_a_mention_is_marked_and_the_body_stays_text(client, agent, line):
    jordan = make_user("jordan", "Agent", lines=[line])
    conversation = make_conversation(line)
    client.force_login(agent)
    body = '<b>hot</b> @Jordan, call <script>x()</script> & see @nobody\n"@jordan." again'
    note = add_note(client, conversation, body)
    assert list(note.mentions.all()) == [jordan]

    html = client.get(thread_url(conversation)).content.decode()
    assert (
        '&lt;b&gt;hot&lt;/b&gt; <mark class="mention">@Jordan</mark>, call '
        "&lt;script&gt;x()&lt;/script&gt; &amp; see @nobody<br>"
        '&quot;<mark class="mention">@jordan</mark>.&quot; again'
    ) in html
    assert "<b>hot</b>" not in html and "<script>x()" not in html

    client.force_login(jordan)  # the person mentioned sees theirs as their own
    html = client.get(thread_url(conversation)).content.decode()
    assert '<mark class="mention is-you">@Jordan<span class="visually-hidden"> (you)' in html


@pytest.mark.django_db
def test_only_the_people_a_note_mentions_are_marked(line):
    author = make_user("sam", "Agent", lines=[line])
    quinn = make_user("quinn", "Agent")  # not on the line: the note does not mention them
    note = Note.objects.create(
        conversation=make_conversation(line), author=author, body="@quinn <i>and</i> @sam"
    )
    html = note_html(note, author)
    assert html == "@quinn &lt;i&gt;and&lt;/i&gt; @sam"  # no one mentioned: nothing marked
    note.mentions.set([quinn])
    assert note_html(note, quinn) == (
        '<mark class="mention is-you">@quinn<span class="visually-hidden"> (you)</span></mark>'
        " &lt;i&gt;and&lt;/i&gt; @sam"
    )
