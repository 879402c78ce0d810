"""TRUNCATE fires no row triggers: empty the rollup with the payments (also when they are
truncated by CASCADE from the lines or connections)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION payments_rollup_truncate() RETURNS trigger AS $$
BEGIN
    DELETE FROM payments_rollup;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS payments_rollup_truncate_trigger ON payments_payment;
CREATE TRIGGER payments_rollup_truncate_trigger
    AFTER TRUNCATE ON payments_payment
    FOR EACH STATEMENT EXECUTE FUNCTION payments_rollup_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS payments_rollup_truncate_trigger ON payments_payment;
DROP FUNCTION IF EXISTS payments_rollup_truncate();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("payments", "0006_rollup_trigger")]
    operations = [migrations.RunPython(create, drop)]
