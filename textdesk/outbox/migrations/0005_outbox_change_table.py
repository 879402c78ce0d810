# Step 3: the table is named after its app (it predates ``outbox``: dashboards_change).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0004_drop_change_keys"),
    ]

    operations = [
        migrations.AlterModelTable(name="change", table=None),
    ]
