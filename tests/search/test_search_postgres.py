"""The PostgreSQL path: generated tsvector columns, GIN indexes used, English stemming.

Run with DATABASE_URL=postgres://… (skipped on SQLite, a failure under
TEXTDESK_REQUIRE_SERVICES=1)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tests.conftest import make_conversation
from tests.search_helpers import add_text
from textdesk.conversations.models import Message
from textdesk.search import index

pytestmark = pytest.mark.postgres


def test_every_searched_table_has_a_generated_vector_and_a_gin_index(db):
    assert index.backend() == "postgres"
    with connection.cursor() as cursor:
        for kind, (table, _, _) in index.SOURCES.items():
            cursor.execute(
                "SELECT is_generated FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = 'search_vector'",
                [table],
            )
            assert cursor.fetchone() == ("ALWAYS",)
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [f"search_{kind}_gin"]
            )
            assert "USING gin" in cursor.fetchone()[0]


def test_the_query_uses_the_gin_index(db, line):
    convo = make_conversation(line)
    add_text(convo, "blue fence")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM conversations_message "
            "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
            ["fence"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_message_gin" in plan


def test_english_stemming_and_stop_words(client, agent, line):
    convo = make_conversation(line, first_name="Dana")
    add_text(convo, "The fences were painted yesterday")
    client.force_login(agent)
    for q, hit in [
        ("fence", True),
        ("painting", True),
        ('"fences were painted"', True),
        ("the", False),
        ("fence -paint", False),
    ]:
        body = client.get(reverse("search:results"), {"q": q}).content.decode()
        assert ("Dana" in body) is hit, q


@pytest.mark.django_db(transaction=True)
def test_rebuild_and_size(line):
    add_text(make_conversation(line), "something")
    call_command("rebuild_search_index")
    assert index.index_size() > 0
    assert Message.objects.count() == 1
