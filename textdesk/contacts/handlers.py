"""The kinds of change this domain writes to Text Request through the outbox."""

from contextlib import suppress

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from textdesk.audit import registry as audit
from textdesk.contacts.models import Contact, CustomField, Group, Tag
from textdesk.contacts.services import (
    BULK_UPDATE_CONTACTS,
    CREATE_CONTACT,
    CREATE_FIELD,
    CREATE_GROUP,
    CREATE_TAG,
    DELETE_CONTACT,
    DELETE_FIELD,
    DELETE_GROUP,
    DELETE_TAG,
    EDIT_CONTACT,
    EDIT_FIELD,
    EDIT_GROUP,
    EDIT_TAG,
    SET_GROUPS,
)
from textdesk.contacts.sync import apply_contact, apply_contacts, contact_values
from textdesk.dashboards.models import line_of
from textdesk.outbox import registry
from textdesk.textrequest import errors


def write_contact(change, client) -> None:
    """CreateOrUpdateContact with the change's fields, then store what Text Request answers.
    Also the handler of the conversation actions that are contact fields (resolve, tags)."""
    contact = client.create_or_update_contact(
        line_of(change).dashboard_id, change.target.phone_number, **change.payload
    )
    apply_contact(line_of(change), contact, respect_pending=False)


def _edit_group(change, client) -> None:
    client.update_group(
        line_of(change).dashboard_id,
        change.payload["group_id"],
        **{k: v for k, v in change.payload.items() if k in ("name", "notes")},
    )


def _delete_group(change, client) -> None:
    client.delete_group(line_of(change).dashboard_id, change.payload["group_id"])


def _group_gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def _create_group(change, client) -> None:
    """CreateGroup, unless a group of that name exists already: a repeat after a lost answer
    finds the one the first attempt made instead of making a second."""
    dashboard = line_of(change)
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


def _delete_contact(change, client) -> None:
    """DeleteContact. Text Request refuses (400) a contact with message history: the change
    fails with its reason and the contact stays."""
    client.delete_contact(line_of(change).dashboard_id, change.target.phone_number)


def _contact_gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def _contact_deleted(change) -> None:
    Contact.objects.filter(pk=change.target_id).update(removed_at=timezone.now())


def _bulk_update(change, client) -> None:
    """BulkUpdateContacts of at most 1,000 contacts (create or update), stored as answered;
    group member counts follow."""
    dashboard = line_of(change)
    items = client.bulk_update_contacts(dashboard.dashboard_id, change.payload["contacts"])
    _store_answer(dashboard, items)
    for group in Group.objects.filter(dashboard=dashboard).annotate(n=Count("contacts")):
        if group.member_count != group.n:
            Group.objects.filter(pk=group.pk).update(member_count=group.n)


def _store_answer(dashboard, items) -> None:
    """Contacts new to textdesk (most of an import) are inserted in bulk, their tags and groups
    too; the others (known, or opted out) go through ``apply_contacts``, which handles edits
    on their way and consent. A thousand one by one cost ~8 queries each."""
    phones = [item.phone_number for item in items]
    known = set(
        Contact.objects.filter(dashboard=dashboard, phone_number__in=phones).values_list(
            "phone_number", flat=True
        )
    )
    new = [i for i in items if i.phone_number not in known and i.opted_out_utc is None]
    fresh = {item.phone_number for item in new}
    with transaction.atomic():
        Contact.objects.bulk_create(
            [
                Contact(dashboard=dashboard, phone_number=i.phone_number, **contact_values(i))
                for i in new
            ],
            ignore_conflicts=True,  # one stored meanwhile (a webhook) keeps its row
        )
        ids = dict(
            Contact.objects.filter(dashboard=dashboard, phone_number__in=fresh).values_list(
                "phone_number", "id"
            )
        )
        tags = dict(Tag.objects.filter(dashboard=dashboard).values_list("tag_id", "id"))
        groups = dict(Group.objects.filter(dashboard=dashboard).values_list("group_id", "id"))
        tag_rows, group_rows = [], []
        for item in new:
            pk = ids[item.phone_number]
            tag_rows += [
                Contact.tags.through(contact_id=pk, tag_id=tags[t])
                for t in item.contact_tags
                if t in tags
            ]
            group_rows += [
                Contact.groups.through(contact_id=pk, group_id=groups[g])
                for g in item.groups
                if g in groups
            ]
        Contact.tags.through.objects.bulk_create(tag_rows, ignore_conflicts=True)
        Contact.groups.through.objects.bulk_create(group_rows, ignore_conflicts=True)
    apply_contacts(dashboard, [i for i in items if i.phone_number not in fresh])


def _create_tag(change, client) -> None:
    """CreateTag, unless the line has a tag of that name already: a repeat after a lost answer
    finds the one the first attempt made instead of making a second."""
    dashboard = line_of(change)
    name, color = change.payload["name"], change.payload.get("color") or None
    existing = None
    for page in range(100):
        result = client.get_tags(dashboard.dashboard_id, page=page, page_size=100)
        existing = next(
            (t for t in result.items if (t.tag or "").casefold() == name.casefold()), None
        )
        if existing is not None or len(result.items) < 100:
            break
    tag = existing or client.create_tag(dashboard.dashboard_id, tag=name, tag_color=color)
    with suppress(IntegrityError), transaction.atomic():  # a sync may have stored it meanwhile
        Tag.objects.update_or_create(
            dashboard=dashboard,
            tag_id=tag.id,
            defaults={"name": (tag.tag or name)[:100], "color": (tag.tag_color or "")[:20]},
        )


def _edit_tag(change, client) -> None:
    payload = change.payload
    client.update_tag(
        line_of(change).dashboard_id,
        payload["tag_id"],
        tag=payload["name"],
        tag_color=payload.get("color") or None,
    )


def _delete_tag(change, client) -> None:
    client.delete_tag(line_of(change).dashboard_id, change.payload["tag_id"])


def _create_field(change, client) -> None:
    """CreateCustomField, unless one of that name exists already (see ``_create_tag``)."""
    dashboard, name = line_of(change), change.payload["name"]
    existing = next(
        (
            f
            for f in client.get_custom_fields(dashboard.dashboard_id)
            if (f.name or "").casefold() == name.casefold()
        ),
        None,
    )
    made = existing or client.create_custom_field(dashboard.dashboard_id, name=name)
    with suppress(IntegrityError), transaction.atomic():
        CustomField.objects.update_or_create(
            dashboard=dashboard, field_id=made.id, defaults={"name": (made.name or name)[:100]}
        )


def _edit_field(change, client) -> None:
    client.update_custom_field(
        line_of(change).dashboard_id, change.payload["field_id"], name=change.payload["name"]
    )


def _delete_field(change, client) -> None:
    client.delete_custom_field(line_of(change).dashboard_id, change.payload["field_id"])


def _gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def _contact_place(contact: Contact) -> dict:
    return {"contact_id": contact.pk, "name": contact.name}


def register() -> None:
    audit.place(Contact, _contact_place)
    registry.register(EDIT_CONTACT, registry.Handler(label="Edit contact", apply=write_contact))
    registry.register(SET_GROUPS, registry.Handler(label="Change groups", apply=write_contact))
    registry.register(EDIT_GROUP, registry.Handler(label="Edit group", apply=_edit_group))
    registry.register(
        DELETE_GROUP,
        registry.Handler(label="Delete group", apply=_delete_group, already_done=_group_gone),
    )
    registry.register(CREATE_GROUP, registry.Handler(label="Create group", apply=_create_group))
    registry.register(CREATE_CONTACT, registry.Handler(label="Create contact", apply=write_contact))
    registry.register(
        DELETE_CONTACT,
        registry.Handler(
            label="Delete contact",
            apply=_delete_contact,
            already_done=_contact_gone,
            on_done=_contact_deleted,
        ),
    )
    registry.register(CREATE_TAG, registry.Handler(label="Create tag", apply=_create_tag))
    registry.register(EDIT_TAG, registry.Handler(label="Rename or recolour tag", apply=_edit_tag))
    registry.register(
        DELETE_TAG, registry.Handler(label="Delete tag", apply=_delete_tag, already_done=_gone)
    )
    registry.register(
        CREATE_FIELD, registry.Handler(label="Create custom field", apply=_create_field)
    )
    registry.register(EDIT_FIELD, registry.Handler(label="Rename custom field", apply=_edit_field))
    registry.register(
        DELETE_FIELD,
        registry.Handler(label="Delete custom field", apply=_delete_field, already_done=_gone),
    )
    registry.register(
        BULK_UPDATE_CONTACTS,
        registry.Handler(label="Update contacts in bulk", apply=_bulk_update),
    )
