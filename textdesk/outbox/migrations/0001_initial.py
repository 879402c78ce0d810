# The Change model moves here from ``dashboards``; its table stays (state only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contacts', '0002_search_indexes'),
        ('conversations', '0002_outbox'),
        ('dashboards', '0002_sync_webhooks_changes'),
        ('payments', '0002_outbox'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Change',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=20)),
                        ('subject', models.CharField(max_length=40)),
                        ('payload', models.JSONField(blank=True, default=dict)),
                        ('status', models.CharField(choices=[('pending', 'Queued'), ('sending', 'Sending'), ('unknown', 'Checking'), ('done', 'Done'), ('failed', 'Failed'), ('superseded', 'Replaced by a newer change')], default='pending', max_length=10)),
                        ('failure_reason', models.CharField(blank=True, max_length=500)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('not_before', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('done_at', models.DateTimeField(blank=True, null=True)),
                        ('dismissed_at', models.DateTimeField(blank=True, null=True)),
                        ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='contacts.contact')),
                        ('conversation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='conversations.conversation')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ('dashboard', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='dashboards.dashboard')),
                        ('group', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='changes', to='contacts.group')),
                        ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='payments.payment')),
                    ],
                    options={
                        'db_table': 'dashboards_change',
                        'ordering': ['created_at', 'id'],
                        'indexes': [models.Index(condition=models.Q(('status__in', ['pending', 'sending', 'unknown'])), fields=['status', 'not_before'], name='change_active'), models.Index(fields=['conversation', 'status'], name='change_conversation')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('kind__in', ['remind_payment', 'cancel_payment', 'mark_paid']), models.Q(('status__in', ['failed', 'superseded']), _negated=True)), fields=('payment', 'kind'), name='one_payment_action')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
