# Step 2: drop the keys up the layers; the index and the one-action-per-payment constraint
# move to the target.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0003_change_target"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="change", name="one_payment_action"),
        migrations.RemoveIndex(model_name="change", name="change_conversation"),
        migrations.RemoveField(model_name="change", name="contact"),
        migrations.RemoveField(model_name="change", name="conversation"),
        migrations.RemoveField(model_name="change", name="group"),
        migrations.RemoveField(model_name="change", name="payment"),
        migrations.AddIndex(
            model_name="change",
            index=models.Index(
                fields=["target_model", "target_id", "status"], name="change_target"
            ),
        ),
        migrations.AddConstraint(
            model_name="change",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("kind__in", ["remind_payment", "cancel_payment", "mark_paid"]),
                    models.Q(("status__in", ["failed", "superseded"]), _negated=True),
                ),
                fields=("target_model", "target_id", "kind"),
                name="one_payment_action",
            ),
        ),
    ]
