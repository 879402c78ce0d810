# Going back to foreign keys (0003 reversed) needs every id to lead to a row: an entry may now
# outlive its line, contact, text or payment, so this step, run backwards in its own transaction
# first, empties the ids whose rows are gone. Forwards it does nothing.

from django.db import migrations

TARGETS = {
    "dashboard": ("dashboards", "Dashboard"),
    "contact": ("contacts", "Contact"),
    "conversation": ("conversations", "Conversation"),
    "message": ("conversations", "Message"),
    "payment": ("payments", "Payment"),
}


def forget_missing(apps, schema_editor):
    """Back to foreign keys: an id whose row is gone cannot be a key (it becomes empty)."""
    Entry = apps.get_model("audit", "Entry")
    for name, (app, model) in TARGETS.items():
        rows = apps.get_model(app, model).objects.values("pk")
        column = f"{name}_id"
        Entry.objects.exclude(**{f"{column}__in": rows}).exclude(**{column: None}).update(
            **{column: None}
        )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_entry_plain_ids"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, forget_missing),
    ]
