"""Internal notes: staff only, never sent, @mentions land in the mentioned colleague's view."""

import uuid

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.audit.models import Entry
from textdesk.conversations.models import Message, Note
from textdesk.outbox.models import Change

HTMX = {"HTTP_HX_REQUEST": "true"}


def note_url(conversation):
    return reverse("conversations:note", args=[conversation.dashboard_id, conversation.pk])


def note_fields(text, key=None):
    """The note form's fields (its client_key comes with the page)."""
    return {"note": text, "client_key": str(key or uuid.uuid4())}


@pytest.fixture
def conversation(line):
    return make_conversation(line, first_name="Dana")


def test_a_note_is_shown_in_the_thread_and_marked_staff_only(client, agent, conversation):
    client.force_login(agent)
    response = client.post(
        note_url(conversation), note_fields("Called her, waiting on parts"), **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="note-form"' in html
    assert 'id="thread-log" ' in html and 'hx-swap-oob="true"' in html  # the thread, out of band
    assert "Called her, waiting on parts" in html
    assert "only staff see this" in html
    note = Note.objects.get()
    assert note.author == agent
    assert not Message.objects.exists()
    assert not Change.objects.exists()
    page = client.get(
        reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])
    )
    assert "Called her, waiting on parts" in page.content.decode()


def test_an_empty_note_is_refused_with_a_reason(client, agent, conversation):
    client.force_login(agent)
    response = client.post(note_url(conversation), note_fields("   "), **HTMX)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Note.objects.exists()


def test_a_mention_reaches_the_colleague_mentions_view(client, agent, line, conversation):
    colleague = make_user("jordan", "Agent", lines=[line])
    outsider = make_user("quinn", "Agent")  # not on this line: cannot be mentioned
    client.force_login(agent)
    response = client.post(
        note_url(conversation), note_fields("@Jordan can you take this? cc @quinn @nobody"), **HTMX
    )
    assert "Jordan will see it in Mentions" in response.content.decode()
    note = Note.objects.get()
    assert list(note.mentions.all()) == [colleague]
    make_conversation(line, first_name="Eli")
    client.force_login(colleague)
    listing = client.get(reverse("conversations:line", args=[line.pk]) + "?view=mentions")
    html = listing.content.decode()
    assert "Dana" in html and "Eli" not in html
    assert not outsider.mentioned_in_notes.exists()


def test_notes_need_the_inbox_role_and_the_line(client, finance_user, other_agent, conversation):
    client.force_login(other_agent)
    assert client.post(note_url(conversation), note_fields("hi")).status_code == 404
    client.force_login(finance_user)
    assert client.post(note_url(conversation), note_fields("hi")).status_code == 403
    assert not Note.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_notes_never_reach_the_sandbox(client, sandbox_account):
    line = lines_of(connect(sandbox_account))[0]
    agent = make_user("sam", "Agent", lines=[line])
    conversation = make_conversation(line, first_name="Fay")
    before = sandbox_account.control.counters(sandbox_account.api_key)["calls_total"]
    client.force_login(agent)
    client.post(note_url(conversation), note_fields("private remark"), **HTMX)
    after = sandbox_account.control.counters(sandbox_account.api_key)
    assert after["calls_total"] == before
    assert not any("private remark" in d["body"] for d in after["sent"])


def test_a_double_submit_makes_one_note_and_one_audit_entry(client, agent, line, conversation):
    colleague = make_user("jordan", "Agent", lines=[line])
    client.force_login(agent)
    fields = note_fields("@jordan please call her back")
    first = client.post(note_url(conversation), fields, **HTMX)
    again = client.post(note_url(conversation), fields, **HTMX)
    assert first.status_code == again.status_code == 200
    saved = Note.objects.get()
    assert list(saved.mentions.all()) == [colleague]
    entry = Entry.objects.get(kind="note")
    assert (entry.actor, entry.conversation_id) == (agent, conversation.pk)
    assert entry.summary == "Added an internal note mentioning @jordan"
    # the form comes back with a new key: the next note is a new one
    client.post(note_url(conversation), note_fields("Second thought"), **HTMX)
    assert Note.objects.count() == 2


def test_assigning_is_in_the_audit_log(client, agent, conversation):
    client.force_login(agent)
    url = reverse("conversations:assign", args=[conversation.dashboard_id, conversation.pk])
    client.post(url, {"assign": "me"}, **HTMX)
    client.post(url, {"assign": "me"}, **HTMX)  # no change, no entry
    client.post(url, {"assign": "nobody"}, **HTMX)
    summaries = list(Entry.objects.filter(kind="assignment").order_by("id").values_list(
        "summary", flat=True))  # fmt: skip
    assert summaries == [f"Assigned the conversation to {agent.display_name}",
                         "Unassigned the conversation"]  # fmt: skip
