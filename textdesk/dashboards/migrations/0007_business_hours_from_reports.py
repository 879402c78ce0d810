# BusinessHours moves here from ``reports``: the inbox, routing and texts sent by textdesk
# itself need a line's hours, and reports sits above them. The table stays (state only).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0006_connection_key_fingerprint'),
        ('reports', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BusinessHours',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('is_always_open', models.BooleanField(default=True)),
                        ('time_zone', models.CharField(default='America/New_York', max_length=64)),
                        ('weekly', models.JSONField(blank=True, default=list)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('dashboard', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='business_hours', to='dashboards.dashboard')),
                    ],
                    options={
                        'db_table': 'reports_businesshours',
                        'verbose_name_plural': 'business hours',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
