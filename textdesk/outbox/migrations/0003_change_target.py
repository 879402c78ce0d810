# The outbox row points at what it changes by name (``target_model``, ``target_id``) instead
# of foreign keys up to contacts, conversations and payments. Step 1: add the target and fill
# it from the keys (a conversation's change targets its contact: one conversation per contact).

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_target(apps, schema_editor):
    Change = apps.get_model("outbox", "Change")
    Conversation = apps.get_model("conversations", "Conversation")
    rows = Change.objects.all()
    rows.filter(contact__isnull=False).update(
        target_model="contacts.contact", target_id=models.F("contact_id")
    )
    rows = rows.filter(contact__isnull=True)
    rows.filter(payment__isnull=False).update(
        target_model="payments.payment", target_id=models.F("payment_id")
    )
    rows = rows.filter(payment__isnull=True)
    rows.filter(group__isnull=False).update(
        target_model="contacts.group", target_id=models.F("group_id")
    )
    rows.filter(group__isnull=True, conversation__isnull=False).update(
        target_model="contacts.contact",
        target_id=Subquery(
            Conversation.objects.filter(pk=OuterRef("conversation_id")).values("contact_id")[:1]
        ),
    )


def fill_keys(apps, schema_editor):
    """Back: the keys from the target (a contact's change shows in its conversation)."""
    Change = apps.get_model("outbox", "Change")
    Conversation = apps.get_model("conversations", "Conversation")
    contacts = Change.objects.filter(target_model="contacts.contact")
    contacts.update(
        contact_id=models.F("target_id"),
        conversation_id=Subquery(
            Conversation.objects.filter(contact_id=OuterRef("target_id")).values("pk")[:1]
        ),
    )
    Change.objects.filter(target_model="payments.payment").update(payment_id=models.F("target_id"))
    Change.objects.filter(target_model="contacts.group").update(group_id=models.F("target_id"))


class Migration(migrations.Migration):
    # Backwards, PostgreSQL refuses to drop the target columns in the transaction whose update
    # left foreign-key checks pending; each step commits on its own instead.
    atomic = False

    dependencies = [
        ("outbox", "0002_priority"),
        ("contacts", "0004_search_names_index"),
        ("conversations", "0005_attachments"),
        ("payments", "0007_rollup_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="change",
            name="target_model",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
        migrations.AddField(
            model_name="change",
            name="target_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill_target, fill_keys, atomic=True),
    ]
