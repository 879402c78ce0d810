"""Record, describe and prune audit entries.

``record`` is for what people do outside the outbox (views call it); ``record_change`` and
``record_row`` (for the rows the domains ``registry.track``) link an outbox row, whose state
is the entry's outcome (see ``Entry``). Recording never breaks the action it records: it runs
in the same transaction, so an action rolled back leaves no entry either.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from textdesk.audit.models import Entry

logger = logging.getLogger(__name__)

# How to name lines by id (``registry.name_lines``, from the dashboards domain).
LINE_NAMES: list = []


def line_names(ids: list[int] | None) -> dict[int, str]:
    """``{id: name}`` of those lines (every line when ``ids`` is None)."""
    return LINE_NAMES[0](ids) if LINE_NAMES else {}


def _line_name(pk: int | None) -> str:
    return line_names([pk]).get(pk, "")[:200] if pk is not None else ""


def _name(user) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    return (user.get_full_name() or user.get_username())[:150]


def _ip(request) -> str | None:
    if request is None:
        return None
    try:
        from axes.helpers import get_client_ip_address

        return get_client_ip_address(request) or None
    except Exception:  # an address is a nice-to-have, never a reason to fail a sign-in
        return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    actor,
    kind: str,
    summary: str,
    status: str = Entry.Status.DONE,
    reason: str = "",
    dashboard=None,
    contact=None,
    conversation=None,
    request=None,
    actor_name: str = "",
) -> Entry:
    """One entry for something a person did that has no outbox row."""
    return Entry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_name or _name(actor),
        kind=kind,
        summary=summary[:300],
        status=status,
        reason=reason[:500],
        dashboard_id=dashboard.pk if dashboard is not None else None,
        dashboard_name=dashboard.name[:200] if dashboard is not None else "",
        contact_id=contact.pk if contact is not None else None,
        contact_name=contact.name[:200] if contact is not None else "",
        conversation_id=conversation.pk if conversation is not None else None,
        ip_address=_ip(request),
    )


def _who(name: str | None) -> str:
    return f" for {name}" if name else ""


def describe_change(change, name: str | None = None) -> str:
    """A sentence for an outbox change, from its kind and payload (``name``: its target's, as
    the target's domain places it)."""
    payload = change.payload or {}
    label = change.label
    if change.kind == "rename_dashboard":
        return f"Renamed the line to “{payload.get('name', '')}”"
    if change.kind in {
        *("edit_group", "delete_group", "create_group", "create_tag", "edit_tag", "delete_tag"),
        *("create_field", "edit_field", "delete_field"),
    }:
        return f"{label} “{payload.get('name', '')}”"
    if change.kind == "edit_contact" and "custom_fields" in payload:
        return f"Changed custom fields{_who(name)}"
    if payload.get("count"):
        count = f"{payload['count']} contact{'s' if payload['count'] != 1 else ''}"
        return f"{payload.get('label') or label}: {count}"
    return f"{label}{_who(name)}"


def record_change(change, place: dict | None = None) -> Entry:
    """The entry of an outbox change a person made; ``place`` (``contact_id``,
    ``conversation_id``, ``name``) is where its target's domain says it happened."""
    place = place or {}
    return Entry.objects.create(
        at=change.created_at or timezone.now(),
        actor_id=change.created_by_id,
        actor_name=_name(change.created_by),
        kind=change.kind,
        summary=describe_change(change, place.get("name"))[:300],
        status=Entry.Status.PENDING,
        dashboard_id=change.dashboard_id,
        dashboard_name=_line_name(change.dashboard_id),
        contact_id=place.get("contact_id"),
        contact_name=(place.get("name") or "")[:200] if place.get("contact_id") else "",
        conversation_id=place.get("conversation_id"),
        change=change,
    )


def record_row(*, actor, kind: str, summary: str, at=None, **where) -> Entry:
    """The entry of a domain's row with its own outcome (a text, a payment request), from the
    fields the domain's ``registry.track`` callback answered: ``where`` holds the place
    (``dashboard_id``, ``contact_id`` and ``contact_name``, ``conversation_id``) and the row's
    link (``message_id`` or ``payment_id``)."""
    if where.get("dashboard_id") is not None and "dashboard_name" not in where:
        where["dashboard_name"] = _line_name(where["dashboard_id"])
    return Entry.objects.create(
        at=at or timezone.now(),
        actor=actor,
        actor_name=_name(actor),
        kind=kind,
        summary=summary[:300],
        status=Entry.Status.PENDING,
        **where,
    )


def prune(*, now=None, batch: int = 10_000) -> int:
    """Delete entries older than ``TEXTDESK_AUDIT_RETENTION_DAYS``, a batch at a time (short
    transactions on a big table); answers how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TEXTDESK_AUDIT_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(Entry.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:batch])
        if not ids:
            break
        total += Entry.objects.filter(id__in=ids).delete()[0]
    if total:
        logger.info("audit: pruned %d entries older than %s", total, cutoff.date())
    return total
