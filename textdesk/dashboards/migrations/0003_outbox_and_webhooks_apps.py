# Change moved to the ``outbox`` app and WebhookEvent to ``webhooks``; the tables stay.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0002_sync_webhooks_changes'),
        ('outbox', '0001_initial'),
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Change'),
                migrations.DeleteModel(name='WebhookEvent'),
            ],
            database_operations=[],
        ),
    ]
