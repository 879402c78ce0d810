# Step 2: each key up the layers (line, contact, conversation, text, payment) becomes a plain id
# on the same column: PostgreSQL drops the constraint (and the single-column index; the line
# keeps audit_line), SQLite rebuilds the table with its rows. The autodetector would drop the
# columns and add new ones, so the database step is an AlterField pinned to the column and the
# state step swaps the field for ``<name>_id``.

from django.db import migrations, models

PLAIN = ["dashboard", "contact", "conversation", "message", "payment"]

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
        ("audit", "0002_entry_names"),
    ]

    operations = [
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
    ]
