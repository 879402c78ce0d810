# The same Text Request account must not be connected twice: each connection keeps its key's
# SHA-256 (filled here for the connections that exist) and the connect form's client key.

import hashlib

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models


def fill_fingerprints(apps, schema_editor):
    from textdesk.dashboards.crypto import decrypt

    Connection = apps.get_model("dashboards", "Connection")
    for connection in Connection.objects.all():
        try:
            key = decrypt(connection.api_key_encrypted)
        except ImproperlyConfigured:
            continue  # a key this machine cannot read stays unfingerprinted
        connection.api_key_fingerprint = hashlib.sha256(key.encode()).hexdigest()
        connection.save(update_fields=["api_key_fingerprint"])


class Migration(migrations.Migration):

    dependencies = [
        ("dashboards", "0005_webhook_signatures_and_event_health"),
    ]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="api_key_fingerprint",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="connection",
            name="client_key",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.RunPython(fill_fingerprints, migrations.RunPython.noop),
    ]
