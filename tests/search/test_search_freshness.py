"""The index is kept by the database: however a row is written (save, bulk_create, .update(),
delete, a webhook, a sync), the next search sees it; the command rebuilds it."""

import html
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from tests.search_helpers import add_note, add_text
from textdesk.conversations.models import Message, Note
from textdesk.search import index


def found(client, user, q) -> set[str]:
    client.force_login(user)
    response = client.get(reverse("search:results"), {"q": q})
    assert response.status_code == 200
    # Every name the seeds may give ("Casey O'Brien" is escaped in the page), not only words.
    page = response.content.decode()
    return {html.unescape(name) for name in re.findall(r"<strong>([^<]+)</strong>", page)}


def test_bulk_create_update_and_delete_are_seen(client, agent, line):
    convo = make_conversation(line, first_name="Dana")
    Message.objects.bulk_create(
        Message(
            conversation=convo,
            direction="R",
            body=f"crate {i} of marmalade",
            sent_at=timezone.now(),
            message_id=f"bulk-{i}",
        )
        for i in range(3)
    )
    assert found(client, agent, "marmalade") == {"Dana"}
    Message.objects.filter(conversation=convo).update(body="now it is quince jelly")
    assert found(client, agent, "marmalade") == set()
    assert found(client, agent, "quince") == {"Dana"}
    Message.objects.filter(conversation=convo).delete()
    assert found(client, agent, "quince") == set()


def test_notes_and_contacts_written_by_update_are_seen(client, agent, line):
    convo = make_conversation(line, first_name="Dana")
    note = add_note(convo, "first draft", author=agent)
    Note.objects.filter(pk=note.pk).update(body="ladder stored in the garage")
    assert found(client, agent, "garage") == {"Dana"}
    type(convo.contact).objects.filter(pk=convo.contact_id).update(
        note="allergic to peanuts", custom_fields={"f": "Unit 12B"}
    )
    assert found(client, agent, "peanuts") == {"Dana"}
    assert found(client, agent, "12B") == {"Dana"}


@pytest.mark.django_db(transaction=True)
def test_rebuild_command_restores_a_lost_index(client, agent, line):
    convo = make_conversation(line, first_name="Dana")
    add_text(convo, "tangerine")
    if index.backend() == "fts5":
        with connection.cursor() as cursor:  # lose the index behind the database's back
            cursor.execute(
                "INSERT INTO search_message_fts(search_message_fts) VALUES ('delete-all')"
            )
        assert found(client, agent, "tangerine") == set()
    call_command("rebuild_search_index")
    assert found(client, agent, "tangerine") == {"Dana"}


@pytest.mark.django_db(transaction=True)
def test_a_text_from_a_webhook_is_found(client, sandbox_account):
    from tests.conftest import make_user
    from tests.textrequest_helpers import connect, lines_of
    from tests.webhooks.test_webhooks import event, post

    line = lines_of(connect(sandbox_account))[0]
    agent = make_user("sam", "Agent", lines=[line])
    assert post(client, line, event(line, body="Is the xylophone repaired?")).status_code == 200
    assert found(client, agent, "xylophone") == {"Casey Jones"}


@pytest.mark.django_db(transaction=True)
def test_synced_texts_and_contacts_are_found(client, sandbox_server):
    from tests.conftest import make_user
    from tests.textrequest_helpers import connect, lines_of, seeded_account
    from textdesk.sync.engine import run_sync

    account = seeded_account(sandbox_server, contacts=5, messages=20, dashboards=1)
    line = lines_of(connect(account))[0]
    run_sync(line, wait=True)
    agent = make_user("sam", "Agent", lines=[line])
    message = Message.objects.exclude(body="").select_related("conversation__contact").first()
    word = max(re.findall(r"[A-Za-z]{4,}", message.body), key=len)
    assert message.conversation.contact.name in found(client, agent, word)


@pytest.mark.django_db(transaction=True)
def test_migrate_puts_back_triggers_a_table_rebuild_dropped(client, agent, line):
    """On SQLite, a migration that rebuilds conversations_message (adding a column does)
    drops the index's triggers with the old table; `migrate` ends by putting them back."""
    from django.core.management.sql import emit_post_migrate_signal

    if index.backend() != "fts5":
        pytest.skip("the triggers are SQLite's (PostgreSQL's column is generated)")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_message_fts_au")  # what a table rebuild does
    emit_post_migrate_signal(0, False, "default")  # how `migrate` ends
    convo = make_conversation(line, first_name="Dana")
    text = add_text(convo, "routine update")
    text.body = "the gate latch is broken"
    text.save()
    assert found(client, agent, "latch") == {"Dana"}
