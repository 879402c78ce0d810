# The line a change writes to becomes a plain id: the outbox sits below ``dashboards``. The
# column (dashboard_id) and its rows stay; only the foreign key constraint goes (PostgreSQL drops
# it, SQLite rebuilds the table with its rows). The autodetector would drop the column and add a
# new one, so the database step is an AlterField on the old field, pinned to its column, and the
# state step swaps the field for ``dashboard_id``. Deleting a line's changes with the line is now
# the dashboards domain's ``pre_delete`` receiver.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0005_outbox_change_table"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="change",
                    name="dashboard",
                    field=models.BigIntegerField(db_column="dashboard_id", db_index=True),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="change", name="dashboard"),
                migrations.AddField(
                    model_name="change",
                    name="dashboard_id",
                    field=models.BigIntegerField(db_index=True),
                    preserve_default=False,
                ),
            ],
        ),
    ]
