from django.db import migrations


def create_index(apps, schema_editor):
    from textdesk.search import index

    index.ensure_index(schema_editor.connection)
    if index.backend(schema_editor.connection) == "fts5":
        index.rebuild(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0005_attachments"),
        ("contacts", "0004_search_names_index"),
    ]

    operations = [migrations.RunPython(create_index, migrations.RunPython.noop)]
