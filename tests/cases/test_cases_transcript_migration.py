"""Migration cases 0002 carries each case's transcript columns into its CaseTranscript row (the
transcript became an outbox row of its own) and back."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cases", "0001_initial")]
AFTER = [("cases", "0002_case_transcript_row")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_transcript_columns_become_rows_and_come_back(line):
    # Going back to 0001 also unapplies every later migration: the end puts all of them back,
    # or the tests after this one (random order) would meet an old schema.
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    conversation = make_conversation(line)
    old = migrate(BEFORE)
    Case = old.get_model("cases", "Case")
    common = {"conversation_id": conversation.pk, "dashboard_id": line.pk, "subject": "s"}
    attached = Case.objects.create(
        **common, status="created", case_id=1, transcript_status="attached"
    )
    unknown = Case.objects.create(
        **common,
        status="created",
        case_id=2,
        transcript_status="unknown",
        transcript_error="no answer in time",
        transcript_attempts=2,
    )
    Case.objects.create(**common, status="failed", transcript_status="none")
    try:
        new = migrate(AFTER)
        rows = {r.case_id: r for r in new.get_model("cases", "CaseTranscript").objects.all()}
        assert set(rows) == {attached.pk, unknown.pk}  # "none": no row
        assert rows[attached.pk].status == "attached"
        assert (rows[unknown.pk].status, rows[unknown.pk].failure_reason) == (
            "unknown",
            "no answer in time",
        )
        assert rows[unknown.pk].attempts == 2
        back = migrate(BEFORE).get_model("cases", "Case")
        assert back.objects.get(pk=unknown.pk).transcript_status == "unknown"
        assert back.objects.get(pk=unknown.pk).transcript_error == "no answer in time"
    finally:
        migrate(latest)
        # What `migrate` does after: e.g. SQLite's search triggers, dropped by a table rebuild.
        emit_post_migrate_signal(0, False, "default")
