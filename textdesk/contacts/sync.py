"""Reading tags, custom fields, groups and contacts of a line from Text Request.

Tags, fields and groups are small lists read whole (what disappeared upstream is deleted here).
Contacts are read whole on the first sync and on a slow full pass (which also marks contacts
deleted upstream as removed), and otherwise only those with new activity, through
``last_message_timestamp_after_utc``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from textdesk.contacts import signals
from textdesk.contacts.models import ConsentEvent, Contact, CustomField, Group, Tag
from textdesk.contacts.services import record_consent
from textdesk.dashboards.models import Dashboard, SyncState
from textdesk.outbox.models import Change
from textdesk.textrequest import types as tr

# The activity filter is compared with Text Request's clock: read a little before our cursor.
ACTIVITY_SKEW = timedelta(minutes=2)
OPT_IN_CAUTION = timedelta(seconds=30)


def _pending(dashboard, kinds: tuple[str, ...], key: str) -> set[str]:
    """Text Request ids named by this line's queued edits or deletions of these kinds: a read
    made before they are written must not undo them here."""
    payloads = Change.objects.filter(
        dashboard_id=dashboard.pk, kind__in=kinds, status__in=Change.ACTIVE
    ).values_list("payload", flat=True)
    return {p.get(key) for p in payloads if p.get(key)}


def sync_tags(run) -> None:
    """Every tag of the line; tags gone upstream are deleted. A tag with a rename or deletion
    still queued keeps textdesk's version until that change is written."""
    dashboard = run.dashboard
    held = _pending(dashboard, ("edit_tag", "delete_tag"), "tag_id")
    seen = []
    for item in run.walk(run.client.get_tags, dashboard.dashboard_id):
        seen.append(item.id)
        if item.id in held:
            continue
        Tag.objects.update_or_create(
            dashboard=dashboard,
            tag_id=item.id,
            defaults={"name": (item.tag or "")[:100], "color": (item.tag_color or "")[:20]},
        )
    Tag.objects.filter(dashboard=dashboard).exclude(tag_id__in=seen).delete()


def sync_fields(run) -> None:
    """Every custom field of the line (not paged); fields gone upstream are deleted. A field
    with a rename or deletion still queued keeps textdesk's version."""
    dashboard = run.dashboard
    held = _pending(dashboard, ("edit_field", "delete_field"), "field_id")
    items = run.call(run.client.get_custom_fields, dashboard.dashboard_id)
    for item in items:
        if item.id in held:
            continue
        CustomField.objects.update_or_create(
            dashboard=dashboard, field_id=item.id, defaults={"name": (item.name or "")[:100]}
        )
    CustomField.objects.filter(dashboard=dashboard).exclude(
        field_id__in=[i.id for i in items]
    ).delete()


def sync_groups(run) -> None:
    """Every group of the line; groups gone upstream are deleted."""
    dashboard = run.dashboard
    seen = []
    for item in run.walk(run.client.get_groups, dashboard.dashboard_id):
        Group.objects.update_or_create(
            dashboard=dashboard,
            group_id=item.id,
            defaults={
                "name": (item.name or "")[:200],
                "notes": item.notes or "",
                "is_keyword": item.is_keyword,
                "member_count": item.group_member_count or 0,
                "last_message_sent_at": item.last_message_sent_utc,
            },
        )
        seen.append(item.id)
    Group.objects.filter(dashboard=dashboard).exclude(group_id__in=seen).delete()


def sync_contacts(run, state, *, full: bool) -> None:
    """Contacts of the line: every page (``full``; resumable) or those with activity since the
    last read."""
    dashboard = run.dashboard
    now = timezone.now()
    if full:
        cursor = state.cursor if state.cursor.get("walk") == "full" else {"walk": "full", "page": 0}
        cursor.setdefault("started", now.isoformat())
        for page in run.pages(
            run.client.get_contacts, dashboard.dashboard_id, start_page=cursor["page"]
        ):
            apply_contacts(dashboard, page.items)
            cursor["page"] = page.page + 1
            run.progress(state, page, cursor)
        # Contacts not seen during a complete pass were deleted upstream.
        started = datetime.fromisoformat(cursor["started"])
        Contact.objects.filter(dashboard=dashboard, removed_at__isnull=True).filter(
            synced_at__lt=started
        ).update(removed_at=now)
        # A complete pass saw every contact created before it started, too.
        state.cursor = {"since": started.isoformat(), "created_since": started.isoformat()}
        state.last_full_at = now
        return
    since = state.cursor.get("since")
    after = datetime.fromisoformat(since) - ACTIVITY_SKEW if since else None
    for page in run.pages(
        run.client.get_contacts, dashboard.dashboard_id, last_message_timestamp_after_utc=after
    ):
        apply_contacts(dashboard, page.items)
    state.cursor = {"since": now.isoformat(), **_created(state)}


def _created(state) -> dict:
    """The cursor of ``sync_new_contacts``, kept across the walk's cursor changes."""
    since = state.cursor.get("created_since")
    return {"created_since": since} if since else {}


def sync_new_contacts(run, state: SyncState | None = None) -> None:
    """Contacts created in Text Request since the last look (``contact_created_after``), e.g.
    added in Text Request's own app with no text yet: the fallback of ``contact_created``
    events when they are not healthy, a hint's read when the event names no contact, and part
    of "Sync now". Its cursor is its own, beside the contacts walk's."""
    dashboard = run.dashboard
    now = timezone.now()
    own = state is None
    if own:
        state, _ = SyncState.objects.get_or_create(
            dashboard=dashboard, resource=SyncState.Resource.CONTACTS
        )
    since = state.cursor.get("created_since") or state.cursor.get("since")
    after = datetime.fromisoformat(since) - ACTIVITY_SKEW if since else now - timedelta(days=1)
    for page in run.pages(
        run.client.get_contacts, dashboard.dashboard_id, contact_created_after=after
    ):
        apply_contacts(dashboard, page.items)
    state.cursor = {**state.cursor, "created_since": now.isoformat()}
    if own:  # otherwise the orchestrator saves the state
        state.save(update_fields=["cursor"])


@transaction.atomic  # one commit per page
def apply_contacts(dashboard: Dashboard, items: list[tr.Contact]) -> None:
    tags = {t.tag_id: t for t in Tag.objects.filter(dashboard=dashboard)}
    groups = {g.group_id: g for g in Group.objects.filter(dashboard=dashboard)}
    busy = set(
        Contact.objects.filter(
            dashboard=dashboard,
            phone_number__in=[i.phone_number for i in items],
            pk__in=Change.objects.of_model(Contact)
            .filter(dashboard_id=dashboard.pk, status__in=Change.ACTIVE)
            .values("target_id"),
        ).values_list("phone_number", flat=True)
    )
    for item in items:
        apply_contact(
            dashboard, item, respect_pending=True, tags=tags, groups=groups,
            pending=item.phone_number in busy,
        )  # fmt: skip


def contact_values(item: tr.Contact, *, pending: bool = False) -> dict:
    """A contact's columns as Text Request has them; while an agent's change is on its way
    (``pending``), without the fields agents edit."""
    values = {
        "is_suppressed": item.is_suppressed,
        "suppressed_reason": (item.suppressed_reason or "")[:200],
        "is_blocked": item.is_blocked,
        "first_contact_at": item.first_contact_utc,
        "last_message_sent_at": item.last_msg_sent_utc,
        "last_message_received_at": item.last_msg_received_utc,
        "last_contact_at": item.last_contact_date_utc,
        "total_messages_sent": item.total_msgs_sent or 0,
        "total_messages_received": item.total_msgs_received or 0,
        "response_count": item.response_count or 0,
        "textrequest_created_at": item.date_created_utc,
        "synced_at": timezone.now(),
        "removed_at": None,
    }
    if not pending:
        values.update(
            first_name=(item.first_name or "")[:100],
            last_name=(item.last_name or "")[:100],
            display_name=(item.display_name or "")[:200],
            note=item.note or "",
            is_archived=item.is_archived,
            is_resolved=item.is_resolved,
            custom_fields={f.id: f.value for f in item.custom_fields if f.value is not None},
        )
    return values


def apply_contact(
    dashboard: Dashboard,
    item: tr.Contact,
    *,
    respect_pending: bool = True,
    tags: dict | None = None,
    groups: dict | None = None,
    pending: bool | None = None,
) -> Contact:
    """Store one contact as Text Request has it. While an agent's change to the contact is
    still on its way (``respect_pending``), the fields agents edit keep the local values."""
    if pending is None:
        pending = (
            respect_pending
            and Change.objects.of_model(Contact)
            .filter(
                target_id__in=Contact.objects.filter(
                    dashboard=dashboard, phone_number=item.phone_number
                ).values("pk"),
                status__in=Change.ACTIVE,
            )
            .exists()
        )
    pending = pending and respect_pending
    values = contact_values(item, pending=pending)
    contact = Contact.objects.filter(dashboard=dashboard, phone_number=item.phone_number).first()
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    dashboard=dashboard, phone_number=item.phone_number, **values
                )
        except IntegrityError:
            contact = Contact.objects.get(dashboard=dashboard, phone_number=item.phone_number)
    else:
        Contact.objects.filter(pk=contact.pk).update(**values)
    previous_opt_out = contact.opted_out_at
    if not pending:
        tags = tags if tags is not None else {t.tag_id: t for t in dashboard.tags.all()}
        groups = groups if groups is not None else {g.group_id: g for g in dashboard.groups.all()}
        contact.tags.set([tags[t] for t in item.contact_tags if t in tags])
        contact.groups.set([groups[g] for g in item.groups if g in groups])
        signals.state_synced.send(
            sender=Contact,
            contact=contact,
            is_archived=item.is_archived,
            is_resolved=item.is_resolved,
        )
    if (item.opted_out_utc is None) != (previous_opt_out is None):
        if item.opted_out_utc:
            record_consent(
                contact, ConsentEvent.Kind.OPT_OUT, source="sync", occurred_at=item.opted_out_utc
            )
        else:
            # Dated a little before the read, so a STOP that arrived meanwhile (by webhook)
            # stays in force: when in doubt, the contact stays opted out.
            record_consent(
                contact,
                ConsentEvent.Kind.OPT_IN,
                source="sync",
                occurred_at=timezone.now() - OPT_IN_CAUTION,
            )
    return contact
