"""Record, describe and prune audit entries.

``record`` is for what people do outside the outbox (views call it); ``record_change``,
``record_text`` and ``record_payment_request`` link an outbox row, whose state is the entry's
outcome (see ``Entry``). Recording never breaks the action it records: it runs in the same
transaction, so an action rolled back leaves no entry either.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from textdesk.audit.models import Entry

logger = logging.getLogger(__name__)


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
        dashboard=dashboard,
        contact=contact,
        conversation=conversation,
        ip_address=_ip(request),
    )


def _who(contact) -> str:
    return f" for {contact.name}" if contact is not None else ""


def describe_change(change) -> str:
    """A sentence for an outbox change, from its kind and payload."""
    payload = change.payload or {}
    label = change.label
    contact = change.contact if change.contact_id else None
    if change.kind == "rename_dashboard":
        return f"Renamed the line to “{payload.get('name', '')}”"
    if change.kind in {"edit_group", "delete_group", "create_group"}:
        return f"{label} “{payload.get('name', '')}”"
    if change.kind == "edit_contact" and "custom_fields" in payload:
        return f"Changed custom fields{_who(contact)}"
    if payload.get("count"):
        count = f"{payload['count']} contact{'s' if payload['count'] != 1 else ''}"
        return f"{payload.get('label') or label}: {count}"
    return f"{label}{_who(contact)}"


def record_change(change) -> Entry:
    return Entry.objects.create(
        at=change.created_at or timezone.now(),
        actor_id=change.created_by_id,
        actor_name=_name(change.created_by),
        kind=change.kind,
        summary=describe_change(change)[:300],
        status=Entry.Status.PENDING,
        dashboard_id=change.dashboard_id,
        contact_id=change.contact_id,
        conversation_id=change.conversation_id,
        change=change,
    )


def record_text(message) -> Entry:
    conversation = message.conversation
    preview = message.body if len(message.body) <= 60 else message.body[:59] + "…"
    return Entry.objects.create(
        at=message.created_at or timezone.now(),
        actor_id=message.sent_by_id,
        actor_name=_name(message.sent_by),
        kind="text",
        summary=f"Texted {conversation.contact.name}: “{preview}”"[:300],
        status=Entry.Status.PENDING,
        dashboard_id=conversation.dashboard_id,
        contact_id=conversation.contact_id,
        conversation=conversation,
        message=message,
    )


def record_payment_request(payment) -> Entry:
    return Entry.objects.create(
        at=payment.created_at or timezone.now(),
        actor_id=payment.created_by_id,
        actor_name=_name(payment.created_by),
        kind="payment_request",
        summary=f"Requested ${payment.amount_requested} from {payment.customer_phone}",
        status=Entry.Status.PENDING,
        dashboard_id=payment.dashboard_id,
        contact_id=payment.contact_id,
        payment=payment,
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
