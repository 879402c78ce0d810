"""The migrations that turn the last keys up the layers into plain ids (an outbox change's line;
an audit entry's line, contact, conversation, text and payment) keep every row's ids, fill the
names the audit log now keeps, and drop only the constraints."""

from decimal import Decimal

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from textdesk.phones import format_phone

# dashboards back to before the columns its historical Connection of this state does not have.
BEFORE = [
    ("outbox", "0005_outbox_change_table"),
    ("audit", "0001_initial"),
    ("dashboards", "0004_saved_reply_shortcuts"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what the previous run applied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {column for c in found.values() if c["foreign_key"] for column in c["columns"]}


@pytest.mark.django_db(transaction=True)
def test_plain_ids_keep_their_rows_and_entries_keep_names():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    try:
        assert {"dashboard_id", "contact_id", "payment_id"} <= _foreign_keys("audit_entry")
        assert "dashboard_id" in _foreign_keys("outbox_change")
        get = old.get_model
        account = get("dashboards", "Connection").objects.create(
            name="Account", api_key_encrypted="x", api_key_last4="1234", webhook_token="t"
        )
        line = get("dashboards", "Dashboard").objects.create(
            connection=account, dashboard_id=7, name="Front desk", phone="4235550100"
        )
        Contact = get("contacts", "Contact")  # noqa: N806
        casey = Contact.objects.create(
            dashboard=line, phone_number="6155550101", first_name="Casey"
        )
        nameless = Contact.objects.create(dashboard=line, phone_number="6155550102")
        thread = get("conversations", "Conversation").objects.create(dashboard=line, contact=casey)
        text = get("conversations", "Message").objects.create(
            conversation=thread, direction="S", body="hi", sent_at=timezone.now()
        )
        payment = get("payments", "Payment").objects.create(
            dashboard=line, customer_phone="6155550101", amount_requested=Decimal("12.50")
        )
        change = get("outbox", "Change").objects.create(
            dashboard=line, kind="resolve", subject="resolved", payload={},
            target_model="contacts.contact", target_id=casey.pk,
        )  # fmt: skip
        Entry = get("audit", "Entry")  # noqa: N806
        common = {"kind": "text", "summary": "s", "dashboard": line}
        texted = Entry.objects.create(
            contact=casey, conversation=thread, message=text, change=change, **common
        )
        paid = Entry.objects.create(contact=nameless, payment=payment, **common)
        signed_in = Entry.objects.create(kind="sign_in", summary="Signed in")

        new = _migrate(latest)

        assert not {"dashboard_id", "contact_id", "conversation_id", "message_id"} & (
            _foreign_keys("audit_entry")
        )
        assert "payment_id" not in _foreign_keys("audit_entry")
        assert "change_id" in _foreign_keys("audit_entry")  # the outbox is below the audit log
        assert "dashboard_id" not in _foreign_keys("outbox_change")
        assert new.get_model("outbox", "Change").objects.get().dashboard_id == line.pk
        Entry = new.get_model("audit", "Entry")  # noqa: N806
        columns = [
            "dashboard_id", "dashboard_name", "contact_id", "contact_name", "conversation_id",
            "message_id", "payment_id", "change_id",
        ]  # fmt: skip
        rows = {e["id"]: tuple(e[c] for c in columns) for e in Entry.objects.values("id", *columns)}
        assert rows == {
            texted.pk: (
                line.pk, "Front desk", casey.pk, "Casey", thread.pk, text.pk, None, change.pk,
            ),
            paid.pk: (
                line.pk, "Front desk", nameless.pk, format_phone("6155550102"), None, None,
                payment.pk, None,
            ),
            signed_in.pk: (None, "", None, "", None, None, None, None),
        }  # fmt: skip

        # An entry outlives its contact now; going back, an id whose row is gone is emptied.
        Entry.objects.filter(pk=paid.pk).update(contact_id=nameless.pk + 1000)
        old = _migrate(BEFORE)
        back = {
            e.pk: (e.dashboard_id, e.contact_id, e.payment_id)
            for e in old.get_model("audit", "Entry").objects.all()
        }
        assert back[texted.pk] == (line.pk, casey.pk, None)
        assert back[paid.pk] == (line.pk, None, payment.pk)
        assert old.get_model("outbox", "Change").objects.get().dashboard_id == line.pk
    finally:
        _migrate(latest)
        # What `migrate` does after: e.g. SQLite's search triggers, dropped by a table rebuild.
        emit_post_migrate_signal(0, False, "default")
