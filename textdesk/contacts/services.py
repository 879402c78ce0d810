"""Contacts, groups and consent: agents' edits (through the outbox) and opt-out rules.

Edits are applied locally at once and queued as ``Change`` rows (``textdesk/outbox``); views
check permissions, these functions do not.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.contacts import signals
from textdesk.contacts.models import ConsentEvent, Contact, Group
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.changes import queue_change
from textdesk.outbox.models import Change
from textdesk.phones import InvalidPhoneNumber, normalize_phone

__all__ = [
    "InvalidPhoneNumber",
    "consent_word",
    "contact_for",
    "delete_group",
    "record_consent",
    "set_groups",
    "update_contact",
    "update_group",
]

# The kinds of change this domain queues (their handlers: ``handlers.py``).
EDIT_CONTACT = "edit_contact"
SET_GROUPS = "set_groups"
EDIT_GROUP = "edit_group"
DELETE_GROUP = "delete_group"

# CTIA opt-out and opt-in keywords (RELIABILITY.md, "SMS compliance").
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
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
            contact=contact,
            conversation=_conversation_of(contact),
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
            contact=contact,
            conversation=_conversation_of(contact),
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
            group=group,
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


def _conversation_of(contact: Contact):
    """The contact's conversation, if any, so the change shows there too."""
    try:
        return contact.conversation
    except ObjectDoesNotExist:
        return None
