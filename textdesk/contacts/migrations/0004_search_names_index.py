"""One trigram index over the three names (PostgreSQL only), for ``ContactQuerySet.matching``.

The search filters ``UPPER((first_name || ' ' || last_name || ' ' || display_name)::text)
LIKE ...`` (``SearchNames`` with ``icontains``). With the three per-column indexes of 0002 a
common name ("mari": 6% of a line) was ORed over three columns and PostgreSQL scanned the whole
table (100-200 ms at 100,000 contacts under load); on this one expression it is one bitmap scan
(about 20 ms). The 0002 indexes stay: other queries may use them.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_names_trgm ON contacts_contact USING gin "
        "((UPPER((first_name || ' ' || last_name || ' ' || display_name)::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS contact_names_trgm")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_contact_import")]
    operations = [migrations.RunPython(create, drop)]
