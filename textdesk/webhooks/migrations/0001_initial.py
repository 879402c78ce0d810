# The WebhookEvent model moves here from ``dashboards``; its table stays (state only).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('dashboards', '0002_sync_webhooks_changes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('message', 'Text sent or received'), ('status', 'Delivery status')], max_length=10)),
                        ('key', models.CharField(max_length=200)),
                        ('payload', models.JSONField()),
                        ('received_at', models.DateTimeField(auto_now_add=True)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='dashboards.connection')),
                    ],
                    options={
                        'db_table': 'dashboards_webhookevent',
                        'ordering': ['-received_at', '-id'],
                        'indexes': [models.Index(condition=models.Q(('processed_at__isnull', True)), fields=['received_at'], name='event_unprocessed')],
                        'constraints': [models.UniqueConstraint(fields=('connection', 'kind', 'key'), name='one_event_per_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
