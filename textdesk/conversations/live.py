"""Fingerprints of what the inbox shows, for conditional polling: the page carries one token
per region, and a poll answers 204 while each region's fingerprint is unchanged."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.conversations import services
from textdesk.conversations.guard import payment_state
from textdesk.conversations.listing import PAGE_SIZE, lines_with_counts, list_query
from textdesk.conversations.sla_alerts import unread_count
from textdesk.conversations.templatetags.inbox import sla_clock
from textdesk.conversations.threads import (
    NOTES_SHOWN,
    PAYMENTS_SHOWN,
    THREAD_SIZE,
    scheduled_shown,
)
from textdesk.payments.models import Payment

# What a list row shows; the live fingerprint of the list is built from exactly these.
ROW_FIELDS = (
    "id",
    "last_message_at",
    "last_message_preview",
    "last_message_direction",
    "is_unread",
    "is_resolved",
    "is_archived",
    "assigned_to_id",
    "waiting_since",
    "contact_id",
    "contact__first_name",
    "contact__last_name",
    "contact__display_name",
    "contact__phone_number",
    "contact__opted_out_at",
    "contact__is_blocked",
    "sla_due_at",
    "sla_target",
)


def clock_text(due, target, now) -> str:
    """The clock's words: the list redraws when they change (about once a minute)."""
    clock = sla_clock(due, target, now)
    return clock["text"] if clock else ""


def rows_digest(rows) -> str:
    now = timezone.now()
    return digest(
        [
            (
                r.pk,
                r.last_message_at,
                r.last_message_preview,
                r.last_message_direction,
                r.is_unread,
                r.is_resolved,
                r.is_archived,
                r.assigned_to_id,
                r.waiting_since,
                r.contact_id,
                r.contact.first_name,
                r.contact.last_name,
                r.contact.display_name,
                r.contact.phone_number,
                r.contact.opted_out_at,
                r.contact.is_blocked,
                r.sla_due_at,
                r.sla_target,
                clock_text(r.sla_due_at, r.sla_target, now),
                sorted(t.pk for t in r.tag_list),
            )
            for r in rows
        ]
    )


def list_digest(user, line, filters: dict) -> str:
    """The first page's fingerprint from two narrow reads, without building rows."""
    first_page = dict(filters, after=None)
    values = list(list_query(user, line, first_page).values_list(*ROW_FIELDS)[:PAGE_SIZE])
    tags = defaultdict(list)
    links = Contact.tags.through.objects.filter(contact_id__in=[v[9] for v in values])
    for contact_id, tag_id in links.values_list("contact_id", "tag_id"):
        tags[contact_id].append(tag_id)
    now = timezone.now()
    return digest([(*v, clock_text(v[-2], v[-1], now), sorted(tags[v[9]])) for v in values])


def digest(*values) -> str:
    return hashlib.blake2s(repr(values).encode(), digest_size=6).hexdigest()


def live_parts(
    request, line, conversation, filters, *, rows=None, lines=None, pending=None, **known
):
    """A fingerprint per region, from the same indexed reads that draw it (no rendering).

    What the caller already loaded saves its read: `rows` (the first page of the list),
    `lines`, `pending`, `thread` (the newest window of the open thread) and the contact's
    `tags`. Each gives exactly the values the read would."""
    user = request.user
    if lines is None:
        lines = lines_with_counts(user)
    parts = {
        # The top bar's count of SLA alerts (one indexed count).
        "alerts": digest(unread_count(user)),
        "lines": digest([(x.pk, x.unresolved, x.unread, x.is_syncing) for x in lines]),
        "list": rows_digest(rows)
        if rows is not None
        else list_digest(user, line, filters.cleaned_data),
    }
    if conversation is not None:
        convo = conversation
        thread = known.get("thread")
        if thread is not None:
            recent = [
                (
                    m.pk,
                    m.status,
                    m.delivery_status,
                    m.failure_reason,
                    m.delivery_error,
                    m.location,
                    m.waiting_note,
                )
                for m in reversed(thread.messages)
            ]
            payments = thread.payments[::-1]
            notes = [n.pk for n in thread.notes[::-1]]
            waiting = [(s.pk, s.status, s.due_at, s.body) for s in thread.scheduled]
        else:
            recent = list(
                convo.messages.order_by("-sent_at", "-id").values_list(
                    "id",
                    "status",
                    "delivery_status",
                    "failure_reason",
                    "delivery_error",
                    "location",
                    "waiting_note",
                )[:THREAD_SIZE]
            )
            payments = list(
                Payment.objects.for_user(user)
                .filter(dashboard=line, customer_phone=convo.contact.phone_number)
                .order_by("-created_at", "-id")[:PAYMENTS_SHOWN]
            )
            notes = list(
                convo.notes.order_by("-created_at", "-id").values_list("id", flat=True)[
                    :NOTES_SHOWN
                ]
            )
            waiting = list(scheduled_shown(convo).values_list("id", "status", "due_at", "body"))
        if pending is None:
            pending = services.pending_changes(convo)
        contact = convo.contact
        tags = known.get("tags")
        if tags is None:
            tags = contact.tags.all()
        # A scheduled text edited, cancelled or skipped (by a colleague, by beat) redraws too.
        parts["thread"] = digest(recent, convo.history_synced_at, notes, waiting)
        parts["status"] = digest(
            convo.is_resolved,
            convo.is_archived,
            convo.assigned_to_id,
            clock_text(convo.sla_due_at, convo.sla_target, timezone.now()),
            contact.name,
            contact.opted_out_at,
            contact.is_blocked,
            [t.pk for t in tags],
            [(c.pk, c.status) for c in pending],
        )
        parts["payments"] = digest([(p.pk, payment_state(p)) for p in payments])
        parts["composer"] = digest(contact.cannot_text_reason)
        present = known.get("present")
        if present is not None:
            parts["presence"] = digest([(c.user_id, c.is_typing) for c in present])
    return parts


def live_token(request, line, conversation, filters, **known) -> str:
    parts = live_parts(request, line, conversation, filters, **known)
    return ".".join(f"{key}-{value}" for key, value in sorted(parts.items()))
