# Audit entries keep where they happened by id and by the name it had then, instead of foreign
# keys up to dashboards, contacts, conversations and payments: the audit log sits below them and
# outlives what it describes. Step 1 adds the names and fills them while the keys still lead to
# the rows; step 2 turns each key into a plain id on the same column (PostgreSQL drops the
# constraint, SQLite rebuilds the table with its rows; the autodetector would drop the columns).

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from textdesk.phones import format_phone

PLAIN = ["dashboard", "contact", "conversation", "message", "payment"]
TARGETS = {
    "dashboard": ("dashboards", "Dashboard"),
    "contact": ("contacts", "Contact"),
    "conversation": ("conversations", "Conversation"),
    "message": ("conversations", "Message"),
    "payment": ("payments", "Payment"),
}


def fill_names(apps, schema_editor):
    Entry = apps.get_model("audit", "Entry")
    Dashboard = apps.get_model("dashboards", "Dashboard")
    Contact = apps.get_model("contacts", "Contact")
    Entry.objects.filter(dashboard__isnull=False).update(
        dashboard_name=Subquery(Dashboard.objects.filter(pk=OuterRef("dashboard_id")).values("name")[:1])
    )
    # ``Contact.name`` is Python (display name, else first and last, else the phone number):
    # one update per contact that has entries.
    linked = Contact.objects.filter(pk__in=Entry.objects.values("contact_id"))
    for contact in linked.only("display_name", "first_name", "last_name", "phone_number").iterator():
        full = f"{contact.first_name} {contact.last_name}".strip()
        name = contact.display_name or full or format_phone(contact.phone_number)
        Entry.objects.filter(contact_id=contact.pk).update(contact_name=name[:200])


def forget_missing(apps, schema_editor):
    """Back to foreign keys: an id whose row is gone cannot be a key (it becomes empty)."""
    Entry = apps.get_model("audit", "Entry")
    for name, (app, model) in TARGETS.items():
        rows = apps.get_model(app, model).objects.values("pk")
        column = f"{name}_id"
        Entry.objects.exclude(**{f"{column}__in": rows}).exclude(**{column: None}).update(
            **{column: None}
        )


def plain(name: str) -> migrations.SeparateDatabaseAndState:
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.AlterField(
                model_name="entry",
                name=name,
                field=models.BigIntegerField(blank=True, null=True, db_column=f"{name}_id"),
            ),
        ],
        state_operations=[
            migrations.RemoveField(model_name="entry", name=name),
            migrations.AddField(
                model_name="entry",
                name=f"{name}_id",
                field=models.BigIntegerField(blank=True, null=True),
            ),
        ],
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("outbox", "0006_change_dashboard_id"),
        ("contacts", "0004_search_names_index"),
        ("conversations", "0005_attachments"),
        ("dashboards", "0004_saved_reply_shortcuts"),
        ("payments", "0007_rollup_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="dashboard_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="entry",
            name="contact_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(fill_names, migrations.RunPython.noop),
        # The line index keeps its column; in the state it moves from the key to the id.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="entry", name="audit_line")]
        ),
        *[plain(name) for name in PLAIN],
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="entry",
                    index=models.Index(fields=["dashboard_id", "-at", "-id"], name="audit_line"),
                )
            ]
        ),
        migrations.RunPython(migrations.RunPython.noop, forget_missing),
    ]
