"""Contacts, groups and consent: agents' edits (through the outbox) and opt-out rules.

Edits are applied locally at once and queued as ``Change`` rows (``textdesk/outbox``); views
check permissions, these functions do not.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.audit import services as audit
from textdesk.contacts import signals
from textdesk.contacts.models import ConsentEvent, Contact, CustomField, Group, Tag
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.changes import queue_change
from textdesk.outbox.models import Change
from textdesk.phones import InvalidPhoneNumber, normalize_phone

__all__ = [
    "InvalidPhoneNumber",
    "ContactExists",
    "change_membership",
    "consent_word",
    "contact_for",
    "create_contact",
    "create_field",
    "create_group",
    "create_tag",
    "delete_contact",
    "delete_field",
    "delete_group",
    "delete_tag",
    "queue_bulk_update",
    "record_consent",
    "set_custom_fields",
    "set_groups",
    "update_contact",
    "update_field",
    "update_group",
    "update_tag",
]

# The kinds of change this domain queues (their handlers: ``handlers.py``).
EDIT_CONTACT = "edit_contact"
SET_GROUPS = "set_groups"
EDIT_GROUP = "edit_group"
DELETE_GROUP = "delete_group"
CREATE_GROUP = "create_group"
CREATE_CONTACT = "create_contact"
DELETE_CONTACT = "delete_contact"
BULK_UPDATE_CONTACTS = "bulk_update_contacts"
CREATE_TAG = "create_tag"
EDIT_TAG = "edit_tag"
DELETE_TAG = "delete_tag"
CREATE_FIELD = "create_field"
EDIT_FIELD = "edit_field"
DELETE_FIELD = "delete_field"
TAG_KINDS = (CREATE_TAG, EDIT_TAG, DELETE_TAG, CREATE_FIELD, EDIT_FIELD, DELETE_FIELD)
# The most contacts one BulkUpdateContacts call takes.
BULK_BATCH = 1000

# CTIA opt-out and opt-in keywords (RELIABILITY.md, "SMS compliance").
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
# Carriers answer these with the program's help text; textdesk never answers them itself.
HELP_WORDS = frozenset({"HELP", "INFO"})
# Revocation in other words (FCC 24-18): flagged for an agent to confirm, not acted on.
FLAG_PATTERNS = re.compile(
    r"\b(revoke|opt[\s-]?out|unsubscribe|remove me|take me off|"
    r"stop (texting|messaging|sending|contacting)|don'?t (text|message|contact) me)\b",
    re.IGNORECASE,
)
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def consent_word(body: str) -> str:
    """The text normalised for keyword matching: trimmed, case-folded, punctuation stripped."""
    return body.translate(_PUNCTUATION).strip().upper()


def contact_for(dashboard: Dashboard, phone_number: str, **defaults) -> tuple[Contact, bool]:
    """The line's contact for a number (any common US spelling), created if missing.

    Raises ``InvalidPhoneNumber``. Safe under concurrent callers (the unique constraint on
    dashboard and phone decides)."""
    phone = normalize_phone(phone_number)
    contact = Contact.objects.filter(dashboard=dashboard, phone_number=phone).first()
    if contact is not None:
        return contact, False
    try:
        with transaction.atomic():
            return Contact.objects.create(dashboard=dashboard, phone_number=phone, **defaults), True
    except IntegrityError:
        return Contact.objects.get(dashboard=dashboard, phone_number=phone), False


def record_consent(
    contact: Contact, kind: str, *, source: str, body: str = "", occurred_at: datetime | None = None
) -> ConsentEvent:
    """Append a consent event and apply it to the contact unless a newer one already was.

    Opting out blocks the composer at once and, through ``signals.opted_out``, fails texts
    still queued for the contact."""
    occurred_at = occurred_at or timezone.now()
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        newer = contact.consent_events.filter(
            kind__in=[ConsentEvent.Kind.OPT_OUT, ConsentEvent.Kind.OPT_IN],
            occurred_at__gt=occurred_at,
        ).exists()
        event = ConsentEvent.objects.create(
            contact=contact, kind=kind, source=source, body=body[:1000], occurred_at=occurred_at
        )
        if newer or kind == ConsentEvent.Kind.FLAGGED:
            return event
        if kind == ConsentEvent.Kind.OPT_OUT:
            Contact.objects.filter(pk=contact.pk).update(opted_out_at=occurred_at)
            signals.opted_out.send(sender=Contact, contact=contact)
        else:
            Contact.objects.filter(pk=contact.pk).update(opted_out_at=None)
    return event


def update_contact(*, contact: Contact, user, first_name: str, last_name: str, note: str) -> Change:
    """Edit a contact's name and note: shown at once, written to Text Request by the outbox."""
    first_name, last_name, note = first_name.strip(), last_name.strip(), note.strip()
    with transaction.atomic():
        display = f"{first_name} {last_name}".strip()
        Contact.objects.filter(pk=contact.pk).update(
            first_name=first_name, last_name=last_name, note=note, display_name=display
        )
        contact.first_name, contact.last_name, contact.note = first_name, last_name, note
        contact.display_name = display
        return queue_change(
            dashboard=contact.dashboard,
            kind=EDIT_CONTACT,
            subject="contact",
            payload={
                "first_name": first_name,
                "last_name": last_name,
                "display_name": display,
                "note": note,
            },
            user=user,
            target=contact,
        )


def set_time_zone(*, contact: Contact, user, time_zone: str) -> None:
    """Set (or clear: '' goes by the area code) the contact's own time zone. textdesk's own
    (Text Request has no such field): saved here and in the audit log."""
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(time_zone=time_zone)
        contact.time_zone = time_zone
        audit.record(
            actor=user,
            kind="contact_time_zone",
            dashboard=contact.dashboard,
            contact=contact,
            summary=f"Time zone of {contact.name}: "
            + (time_zone or f"from the area code ({contact.zone_name or 'none'})"),
        )


def set_custom_fields(*, contact: Contact, user, values: dict[str, str]) -> Change:
    """Set some custom field values of a contact ({field id: value}; '' clears a value)."""
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        merged = {**contact.custom_fields, **values}
        contact.custom_fields = {k: v for k, v in merged.items() if v}
        contact.save(update_fields=["custom_fields"])
        return queue_change(
            dashboard=contact.dashboard,
            kind=EDIT_CONTACT,
            # Its own subject: a name edit queued meanwhile must not supersede it.
            subject="custom_fields",
            payload={"custom_fields": values},
            user=user,
            target=contact,
        )


def set_groups(*, contact: Contact, user, groups: list[Group]) -> Change:
    """Put a contact in exactly these groups of its line."""
    groups = [g for g in groups if g.dashboard_id == contact.dashboard_id]
    with transaction.atomic():
        contact.groups.set(groups)
        return queue_change(
            dashboard=contact.dashboard,
            kind=SET_GROUPS,
            subject="groups",
            payload={"groups": sorted(g.group_id for g in groups)},
            user=user,
            target=contact,
        )


def update_group(*, group: Group, user, name: str, notes: str) -> Change:
    """Rename a group or change its notes."""
    name, notes = name.strip(), notes.strip()
    if not name:
        raise ValueError("A group needs a name.")
    with transaction.atomic():
        Group.objects.filter(pk=group.pk).update(name=name, notes=notes)
        group.name, group.notes = name, notes
        return queue_change(
            dashboard=group.dashboard,
            kind=EDIT_GROUP,
            subject="group",
            payload={"group_id": group.group_id, "name": name, "notes": notes},
            user=user,
            target=group,
        )


def delete_group(*, group: Group, user) -> Change:
    """Delete a group (its contacts stay)."""
    with transaction.atomic():
        change = queue_change(
            dashboard=group.dashboard,
            kind=DELETE_GROUP,
            subject=f"group_delete:{group.group_id}",
            payload={"group_id": group.group_id, "name": group.name},
            user=user,
        )
        group.delete()
    return change


class ContactExists(Exception):
    def __init__(self, contact: Contact):
        self.contact = contact
        super().__init__(f"{contact.formatted_phone} is already a contact on this line.")


def create_contact(
    *, dashboard: Dashboard, user, phone_number: str, first_name: str, last_name: str, note: str
) -> Contact:
    """A new contact: stored at once, written to Text Request (CreateContact) by the outbox.
    Raises ``InvalidPhoneNumber`` or ``ContactExists``."""
    phone = normalize_phone(phone_number)
    first_name, last_name, note = first_name.strip(), last_name.strip(), note.strip()
    with transaction.atomic():
        existing = Contact.objects.filter(dashboard=dashboard, phone_number=phone).first()
        if existing is not None and existing.removed_at is None:
            raise ContactExists(existing)
        values = {
            "first_name": first_name,
            "last_name": last_name,
            "note": note,
            "display_name": f"{first_name} {last_name}".strip(),
            "removed_at": None,
        }
        contact, _ = Contact.objects.update_or_create(
            dashboard=dashboard, phone_number=phone, defaults=values
        )
        queue_change(
            dashboard=dashboard,
            kind=CREATE_CONTACT,
            subject="contact",
            payload={k: v for k, v in values.items() if k != "removed_at"},
            user=user,
            target=contact,
        )
    return contact


def delete_contact(*, contact: Contact, user) -> Change:
    """Ask Text Request to delete a contact; it leaves textdesk when Text Request agrees."""
    return queue_change(
        dashboard=contact.dashboard,
        kind=DELETE_CONTACT,
        subject="delete",
        payload={"phone_number": contact.phone_number, "name": contact.name},
        user=user,
        target=contact,
    )


def create_group(*, dashboard: Dashboard, user, name: str, notes: str) -> Change:
    """A new group: created in Text Request by the outbox, shown once it answers."""
    name, notes = name.strip(), notes.strip()
    if not name:
        raise ValueError("A group needs a name.")
    return queue_change(
        dashboard=dashboard,
        kind=CREATE_GROUP,
        subject=f"group_create:{name.casefold()[:25]}",
        payload={"name": name, "notes": notes},
        user=user,
    )


def queue_bulk_update(
    *, dashboard: Dashboard, user, contacts: list[dict], source: str, label: str
) -> Change:
    """One BulkUpdateContacts of at most 1,000 contacts (``source`` names the batch, so no
    other batch supersedes it)."""
    if not 0 < len(contacts) <= BULK_BATCH:
        raise ValueError("A bulk update takes 1 to 1,000 contacts.")
    return queue_change(
        dashboard=dashboard,
        kind=BULK_UPDATE_CONTACTS,
        subject=source[:40],
        payload={"contacts": contacts, "count": len(contacts), "label": label},
        user=user,
    )


def change_membership(*, group: Group, user, contacts, add: bool) -> list[Change]:
    """Add ``contacts`` (any queryset; only those of the group's line count) to ``group`` or
    remove them: shown at once, written with BulkUpdateContacts in batches of 1,000 (each
    contact's whole list of groups, since Text Request sets the list)."""
    import uuid

    membership = Contact.groups.through
    selected = contacts.filter(dashboard_id=group.dashboard_id, removed_at__isnull=True)
    selected = selected.exclude(groups=group) if add else selected.filter(groups=group)
    targets = list(selected.order_by("id").values_list("id", "phone_number"))
    run, verb = uuid.uuid4().hex[:8], "Add to" if add else "Remove from"
    changes = []
    for start in range(0, len(targets), BULK_BATCH):
        chunk = dict(targets[start : start + BULK_BATCH])
        with transaction.atomic():
            current: dict[int, set[int]] = {pk: set() for pk in chunk}
            for contact_id, group_id in membership.objects.filter(contact_id__in=chunk).values_list(
                "contact_id", "group__group_id"
            ):
                current[contact_id].add(group_id)
            if add:
                membership.objects.bulk_create(
                    [membership(contact_id=pk, group_id=group.pk) for pk in chunk],
                    ignore_conflicts=True,
                )
            else:
                membership.objects.filter(contact_id__in=chunk, group_id=group.pk).delete()
            payload = []
            for pk, phone in chunk.items():
                groups = current[pk] | {group.group_id} if add else current[pk] - {group.group_id}
                payload.append({"phone_number": phone, "groups": sorted(groups)})
            changes.append(
                queue_bulk_update(
                    dashboard=group.dashboard,
                    user=user,
                    contacts=payload,
                    source=f"members:{group.pk}:{run}:{start // BULK_BATCH}",
                    label=f"{verb} group “{group.name}”",
                )
            )
    count = membership.objects.filter(group_id=group.pk).count()
    Group.objects.filter(pk=group.pk).update(member_count=count)
    group.member_count = count
    return changes


# --- Tags and custom fields of a line (Admin → Tags and fields) ----------------------------
# Renames and deletions show at once; a new tag or field shows once Text Request has given it
# an id (until then the page lists the creation as pending, like a new group).


def create_tag(*, dashboard: Dashboard, user, name: str, color: str) -> Change:
    """A new tag on the line: created in Text Request by the outbox, listed once it answers."""
    name = name.strip()
    return queue_change(
        dashboard=dashboard,
        kind=CREATE_TAG,
        subject=f"tag_create:{name.casefold()[:28]}",
        payload={"name": name, "color": color},
        user=user,
    )


def update_tag(*, tag: Tag, user, name: str, color: str) -> Change:
    """Rename and/or recolour a tag: shown at once, written to Text Request by the outbox."""
    name = name.strip()
    with transaction.atomic():
        Tag.objects.filter(pk=tag.pk).update(name=name, color=color)
        tag.name, tag.color = name, color
        return queue_change(
            dashboard=tag.dashboard,
            kind=EDIT_TAG,
            subject="tag",
            payload={"tag_id": tag.tag_id, "name": name, "color": color},
            user=user,
            target=tag,
        )


def delete_tag(*, tag: Tag, user) -> Change:
    """Delete a tag: it leaves its contacts here at once and in Text Request by the outbox."""
    with transaction.atomic():
        change = queue_change(
            dashboard=tag.dashboard,
            kind=DELETE_TAG,
            subject=f"tag_delete:{tag.tag_id[:28]}",
            payload={"tag_id": tag.tag_id, "name": tag.name},
            user=user,
        )
        tag.delete()
    return change


def create_field(*, dashboard: Dashboard, user, name: str) -> Change:
    """A new custom field on the line (listed once Text Request answers)."""
    name = name.strip()
    return queue_change(
        dashboard=dashboard,
        kind=CREATE_FIELD,
        subject=f"field_create:{name.casefold()[:26]}",
        payload={"name": name},
        user=user,
    )


def update_field(*, field: CustomField, user, name: str) -> Change:
    """Rename a custom field: shown at once, written by the outbox."""
    name = name.strip()
    with transaction.atomic():
        CustomField.objects.filter(pk=field.pk).update(name=name)
        field.name = name
        return queue_change(
            dashboard=field.dashboard,
            kind=EDIT_FIELD,
            subject="field",
            payload={"field_id": field.field_id, "name": name},
            user=user,
            target=field,
        )


def delete_field(*, field: CustomField, user) -> Change:
    """Delete a custom field and every contact's value of it (here at once, in Text Request
    by the outbox)."""
    with transaction.atomic():
        change = queue_change(
            dashboard=field.dashboard,
            kind=DELETE_FIELD,
            subject=f"field_delete:{field.field_id[:26]}",
            payload={"field_id": field.field_id, "name": field.name},
            user=user,
        )
        holders = Contact.objects.select_for_update().filter(
            dashboard_id=field.dashboard_id, custom_fields__has_key=field.field_id
        )
        for contact in holders:
            contact.custom_fields.pop(field.field_id, None)
            contact.save(update_fields=["custom_fields"])
        field.delete()
    return change
