# Audit entries keep where they happened by the name it had then: the audit log outlives what it
# describes. Step 1 (this): add the names and fill them while the keys still lead to the rows.
# Step 2 (0003) turns the keys into plain ids; each step is its own transaction (PostgreSQL will
# not alter a table with the updates' constraint checks still pending).

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from textdesk.phones import format_phone

def fill_names(apps, schema_editor):
    Entry = apps.get_model("audit", "Entry")
    Dashboard = apps.get_model("dashboards", "Dashboard")
    Contact = apps.get_model("contacts", "Contact")
    Entry.objects.filter(dashboard__isnull=False).update(
        dashboard_name=Subquery(Dashboard.objects.filter(pk=OuterRef("dashboard_id")).values("name")[:1])
    )
    # ``Contact.name`` is Python (display name, else first and last, else the phone number):
    # one update per contact that has entries.
    linked = Contact.objects.filter(pk__in=Entry.objects.values("contact_id"))
    for contact in linked.only("display_name", "first_name", "last_name", "phone_number").iterator():
        full = f"{contact.first_name} {contact.last_name}".strip()
        name = contact.display_name or full or format_phone(contact.phone_number)
        Entry.objects.filter(contact_id=contact.pk).update(contact_name=name[:200])



class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("outbox", "0006_change_dashboard_id"),
        ("contacts", "0004_search_names_index"),
        ("conversations", "0005_attachments"),
        ("dashboards", "0004_saved_reply_shortcuts"),
        ("payments", "0007_rollup_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="dashboard_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="entry",
            name="contact_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(fill_names, migrations.RunPython.noop),
    ]
