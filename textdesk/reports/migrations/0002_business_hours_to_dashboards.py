# BusinessHours moved to ``dashboards``; its table stays (state only).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0001_initial'),
        ('dashboards', '0007_business_hours_from_reports'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='BusinessHours')],
            database_operations=[],
        ),
    ]
