"""Trigram indexes for the inbox's partial search by name or number (PostgreSQL only).

Django's `icontains` compiles to `UPPER(col::text) LIKE UPPER(%s)` and `contains` to
`col::text LIKE %s`; these expression indexes match exactly those, so a search is an index
lookup instead of a scan of the line's contacts. SQLite (development) has no such index.
"""

from django.db import migrations

COLUMNS = ["first_name", "last_name", "display_name"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_phone_trgm ON contacts_contact "
        "USING gin ((phone_number::text) gin_trgm_ops)"
    )
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm ON contacts_contact "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ["phone", *COLUMNS]:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{name}_trgm")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
