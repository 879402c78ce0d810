"""Trigram indexes for the finance list's search by customer name or reference (PostgreSQL
only), matching what `icontains` compiles to: `UPPER(col::text) LIKE UPPER(%s)`. The phone
number search is `contains`: `col::text LIKE %s`."""

from django.db import migrations

INDEXES = {
    "payment_recipient_trgm": "(UPPER(recipient::text)) gin_trgm_ops",
    "payment_reference_trgm": "(UPPER(reference_number::text)) gin_trgm_ops",
    "payment_phone_trgm": "(customer_phone::text) gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON payments_payment USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_finance")]
    operations = [migrations.RunPython(create, drop)]
