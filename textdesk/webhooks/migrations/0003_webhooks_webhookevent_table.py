# The table is named after its app (it predates ``webhooks``: dashboards_webhookevent).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0002_dead_letters"),
    ]

    operations = [
        migrations.AlterModelTable(name="webhookevent", table=None),
    ]
