"""Outbox handlers of the contacts domain's newer writes: one Text Request call each, safe to
run again (the outbox repeats a write whose outcome it could not learn).

Registered in ``ContactsConfig.ready()`` into the outbox's handler registry.
"""

from __future__ import annotations

from contextlib import suppress

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.contacts.models import Contact, Group
from textdesk.textrequest import errors


def create_group(change, client) -> None:
    """CreateGroup, unless a group of that name exists already (a repeat after a lost answer
    finds the one the first attempt made)."""
    dashboard = change.dashboard
    name, notes = change.payload["name"], change.payload.get("notes", "")
    existing = None
    for page in range(100):
        result = client.get_groups(dashboard.dashboard_id, page=page, page_size=100)
        existing = next((g for g in result.items if (g.name or "") == name), None)
        if existing is not None or len(result.items) < 100:
            break
    group = existing or client.create_group(dashboard.dashboard_id, name=name, notes=notes or None)
    with suppress(IntegrityError), transaction.atomic():  # a sync may have stored it meanwhile
        Group.objects.update_or_create(
            dashboard=dashboard, group_id=group.id, defaults={"name": name, "notes": notes}
        )


def create_contact(change, client) -> None:
    from textdesk.contacts.sync import apply_contact

    item = client.create_or_update_contact(
        change.dashboard.dashboard_id, change.contact.phone_number, **change.payload
    )
    apply_contact(change.dashboard, item, respect_pending=False)


def delete_contact(change, client) -> None:
    """DeleteContact; gone already counts as done. Text Request refuses (400) a contact with
    message history: the change fails with its reason and the contact stays."""
    with suppress(errors.NotFound):
        client.delete_contact(change.dashboard.dashboard_id, change.contact.phone_number)
    Contact.objects.filter(pk=change.contact_id).update(removed_at=timezone.now())


def bulk_update_contacts(change, client) -> None:
    """BulkUpdateContacts of at most 1,000 contacts (create or update), stored as answered."""
    from textdesk.contacts.sync import apply_contacts

    items = client.bulk_update_contacts(change.dashboard.dashboard_id, change.payload["contacts"])
    apply_contacts(change.dashboard, items)
    _recount_groups(change.dashboard)


def _recount_groups(dashboard) -> None:
    from django.db.models import Count

    for group in Group.objects.filter(dashboard=dashboard).annotate(n=Count("contacts")):
        if group.member_count != group.n:
            Group.objects.filter(pk=group.pk).update(member_count=group.n)


HANDLERS = {
    "create_group": create_group,
    "create_contact": create_contact,
    "delete_contact": delete_contact,
    "bulk_update_contacts": bulk_update_contacts,
}
