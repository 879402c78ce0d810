"""The migrations that give outbox changes a target by name (no keys up the layers) and name
the tables after their apps carry the rows that were there before."""

from decimal import Decimal

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# dashboards back to before the webhook-signature and key-fingerprint columns, which the
# historical Connection of this state does not have (they are NOT NULL with no database default).
BEFORE = [
    ("outbox", "0002_priority"),
    ("webhooks", "0002_dead_letters"),
    ("dashboards", "0004_saved_reply_shortcuts"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what the previous run applied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_changes_keep_what_they_change_and_tables_take_their_apps_names():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    try:
        assert {"dashboards_change", "dashboards_webhookevent"} <= _tables()
        Connection = old.get_model("dashboards", "Connection")  # noqa: N806
        Dashboard = old.get_model("dashboards", "Dashboard")  # noqa: N806
        Contact = old.get_model("contacts", "Contact")  # noqa: N806
        Group = old.get_model("contacts", "Group")  # noqa: N806
        Conversation = old.get_model("conversations", "Conversation")  # noqa: N806
        Payment = old.get_model("payments", "Payment")  # noqa: N806
        Change = old.get_model("outbox", "Change")  # noqa: N806
        WebhookEvent = old.get_model("webhooks", "WebhookEvent")  # noqa: N806

        account = Connection.objects.create(
            name="Account", api_key_encrypted="x", api_key_last4="1234", webhook_token="t"
        )
        line = Dashboard.objects.create(
            connection=account, dashboard_id=7, name="Front desk", phone="4235550100"
        )
        casey = Contact.objects.create(dashboard=line, phone_number="6155550101")
        drew = Contact.objects.create(dashboard=line, phone_number="6155550102")
        thread = Conversation.objects.create(dashboard=line, contact=casey)
        drews = Conversation.objects.create(dashboard=line, contact=drew)
        group = Group.objects.create(dashboard=line, group_id=9, name="VIP")
        payment = Payment.objects.create(
            dashboard=line, customer_phone="6155550101", amount_requested=Decimal("12.50")
        )
        common = {"dashboard": line, "payload": {}}
        archive = Change.objects.create(
            kind="archive", subject="archived", conversation=thread, contact=casey, **common
        )
        resolve = Change.objects.create(  # a conversation's change with no contact set
            kind="resolve", subject="resolved", conversation=drews, **common
        )
        edit = Change.objects.create(
            kind="edit_contact", subject="contact", contact=drew, status="failed", **common
        )
        remind = Change.objects.create(
            kind="remind_payment", subject="remind", payment=payment, **common
        )
        rename = Change.objects.create(kind="edit_group", subject="group", group=group, **common)
        line_wide = Change.objects.create(kind="rename_dashboard", subject="name", **common)
        event = WebhookEvent.objects.create(connection=account, kind="message", key="k", payload={})

        new = _migrate(latest)

        tables = _tables()
        assert {"outbox_change", "webhooks_webhookevent"} <= tables
        assert not {"dashboards_change", "dashboards_webhookevent"} & tables
        Change = new.get_model("outbox", "Change")  # noqa: N806
        assert not {"contact", "conversation", "payment", "group"} & {
            f.name for f in Change._meta.get_fields()
        }
        targets = {c.pk: (c.target_model, c.target_id, c.status) for c in Change.objects.all()}
        assert targets == {
            archive.pk: ("contacts.contact", casey.pk, "pending"),
            resolve.pk: ("contacts.contact", drew.pk, "pending"),
            edit.pk: ("contacts.contact", drew.pk, "failed"),
            remind.pk: ("payments.payment", payment.pk, "pending"),
            rename.pk: ("contacts.group", group.pk, "pending"),
            line_wide.pk: ("", None, "pending"),
        }
        assert new.get_model("webhooks", "WebhookEvent").objects.get().pk == event.pk

        # And back: the keys are filled again from the targets.
        old = _migrate(BEFORE)
        Change = old.get_model("outbox", "Change")  # noqa: N806
        back = {
            c.pk: (c.contact_id, c.conversation_id, c.payment_id, c.group_id)
            for c in Change.objects.all()
        }
        assert back[archive.pk] == (casey.pk, thread.pk, None, None)
        assert back[remind.pk] == (None, None, payment.pk, None)
        assert back[rename.pk] == (None, None, None, group.pk)
        assert back[line_wide.pk] == (None, None, None, None)
    finally:
        _migrate(latest)
        # What `migrate` does after: e.g. SQLite's search triggers, dropped by a table rebuild.
        emit_post_migrate_signal(0, False, "default")
