"""Conversations: what agents do in the inbox, local first.

A text is an outbound ``Message`` row (the outbox, status ``pending``; delivered by
``outbound.py``) and every other write a ``Change`` row (``textdesk/outbox``) whose kinds this
app registers in ``handlers.py``. What Text Request tells us is recorded by ``inbound.py``.
Views check permissions (through the ``for_user`` querysets); these functions do not.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from textdesk.audit import services as audit
from textdesk.audit.models import Entry
from textdesk.celery import enqueue
from textdesk.contacts.models import Contact, Tag
from textdesk.contacts.services import contact_for
from textdesk.conversations import routing, signals, sla
from textdesk.conversations.models import (
    Assignment,
    Attachment,
    Conversation,
    Message,
    Note,
    ScheduledText,
)
from textdesk.conversations.outbound import enqueue_send
from textdesk.conversations.waits import RESOLVE_KIND
from textdesk.dashboards.models import Dashboard
from textdesk.outbox import delivery
from textdesk.outbox.changes import queue_change
from textdesk.outbox.models import Change
from textdesk.phones import InvalidPhoneNumber
from textdesk.textrequest import mms

__all__ = [
    "CannotText",
    "InvalidPhoneNumber",
    "add_note",
    "assign",
    "load_history",
    "mark_read",
    "pending_changes",
    "redact_message",
    "retry_text",
    "send_text",
    "set_archived",
    "set_resolved",
    "set_tags",
    "start_conversation",
    "unredact_message",
]

MAX_BODY_LENGTH = 1600
MAX_NOTE_LENGTH = 4000
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")
# The kinds of change this app queues (their handlers: ``handlers.py``).
ARCHIVE = "archive"
UNARCHIVE = "unarchive"
RESOLVE = RESOLVE_KIND
REOPEN = "reopen"
SET_TAGS = "set_tags"
REDACT = "redact_message"
UNREDACT = "unredact_message"
REDACTED_PREVIEW = "Message redacted"


class CannotText(Exception):
    """The text cannot be sent; ``reason`` is a sentence to show the agent."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def send_text(
    *, conversation: Conversation, user, body: str, client_key, attachments=()
) -> Message:
    """Queue a reply: creates the outbound ``Message`` (status ``pending``) with its
    ``Attachment`` rows (the files, uploaded by the send task) and enqueues its send when the
    transaction commits.

    ``client_key`` (a UUID from the compose form) dedupes: a double submit returns the row
    the first one created. ``attachments`` are uploaded files (``name``, ``size``, ``read()``).
    Raises ``CannotText`` for an empty or too long body, a file Text Request would refuse,
    a contact who opted out or is blocked, or a line that was removed."""
    existing = Message.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    body = (body or "").strip()
    attachments = list(attachments)
    if not body and not attachments:
        raise CannotText("Write a message first.")
    if len(attachments) > mms.MAX_ATTACHMENTS:
        raise CannotText(f"A text can carry at most {mms.MAX_ATTACHMENTS} files.")
    for upload in attachments:
        if problem := mms.problem(upload.name, upload.size):
            raise CannotText(problem)
    if len(body) > MAX_BODY_LENGTH:
        raise CannotText(
            f"A text can be at most {MAX_BODY_LENGTH} characters; this one has {len(body)}."
        )
    contact = Contact.objects.get(pk=conversation.contact_id)
    if contact.cannot_text_reason:
        raise CannotText(contact.cannot_text_reason)
    if Dashboard.objects.filter(pk=conversation.dashboard_id, removed_at__isnull=False).exists():
        raise CannotText("This line was removed from Text Request.")
    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.SENT,
                body=body,
                sender_name=sender_name(user),
                sent_by=user if getattr(user, "pk", None) else None,
                sent_at=now,
                status=Message.Status.PENDING,
                client_key=client_key,
            )
            Attachment.objects.bulk_create(
                Attachment(
                    message=message,
                    position=i,
                    name=upload.name[-200:],
                    content_type=mms.content_type(upload.name),
                    size=upload.size,
                    content=upload.read(),
                )
                for i, upload in enumerate(attachments)
            )
            Conversation.objects.touch(conversation.pk, message, is_new=True)
            enqueue_send(message.pk)
    except IntegrityError:
        # The same client_key committed in parallel: that row is the answer.
        return Message.objects.get(client_key=client_key)
    return message


def retry_text(*, message: Message, user) -> Message:
    """Send again, because the agent chose to, a text that failed or that Text Request has not
    confirmed (it may still arrive: the agent was told). Exactly once per click: a second click
    finds it already queued.

    Raises ``CannotText`` if the text is neither or the contact may not be texted now."""
    contact = message.conversation.contact
    if contact.cannot_text_reason:
        raise CannotText(contact.cannot_text_reason)
    if message.direction != Message.Direction.SENT:
        raise CannotText("Only a text that failed can be sent again.")
    with transaction.atomic():
        if not delivery.reopen_for_resend(message):
            raise CannotText("Only a text that failed can be sent again.")
        Message.objects.filter(pk=message.pk).update(
            sent_at=timezone.now(),
            sent_by=user if getattr(user, "pk", None) else message.sent_by_id,
        )
        # A scheduled text's "not sent" reason no longer holds once a person sends it again.
        ScheduledText.objects.filter(message=message).exclude(skip_reason="").update(skip_reason="")
        enqueue_send(message.pk)
    message.refresh_from_db()
    return message


def start_conversation(
    *, dashboard: Dashboard, phone_number: str, user, body: str, client_key
) -> Conversation:
    """Text a number on a line, creating the contact and conversation locally if needed.

    Any common US spelling works. Raises ``InvalidPhoneNumber`` or ``CannotText``."""
    with transaction.atomic():
        contact, _ = contact_for(dashboard, phone_number)
        if contact.removed_at is not None:
            Contact.objects.filter(pk=contact.pk).update(removed_at=None)
        conversation = Conversation.objects.for_contact(contact)
        send_text(conversation=conversation, user=user, body=body, client_key=client_key)
    return conversation


def set_archived(
    *, conversation: Conversation, user, archived: bool, priority: str = "interactive"
) -> Change:
    """Archive or unarchive: shown at once, written to Text Request by the outbox."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(is_archived=archived)
        Contact.objects.filter(pk=conversation.contact_id).update(is_archived=archived)
        conversation.is_archived = archived
        if archived:
            routing.drain_for(conversation.assigned_to_id)  # they hold one fewer
        change = queue_change(
            dashboard=conversation.dashboard,
            kind=ARCHIVE if archived else UNARCHIVE,
            subject="archived",
            payload={},
            user=user,
            target=conversation.contact,
            priority=priority,
        )
        sla.recount([conversation.pk])
        return change


def set_resolved(
    *, conversation: Conversation, user, resolved: bool, priority: str = "interactive"
) -> Change:
    """Resolve or reopen (Text Request: the contact's ``is_resolved``)."""
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(is_resolved=resolved)
        Contact.objects.filter(pk=conversation.contact_id).update(is_resolved=resolved)
        conversation.is_resolved = resolved
        if resolved:
            routing.drain_for(conversation.assigned_to_id)  # they hold one fewer
        change = queue_change(
            dashboard=conversation.dashboard,
            kind=RESOLVE if resolved else REOPEN,
            subject="resolved",
            payload={"is_resolved": resolved},
            user=user,
            target=conversation.contact,
            priority=priority,
        )
        sla.recount([conversation.pk])  # after the change: a resolve ends the episode
        return change


def set_tags(
    *, conversation: Conversation, user, tags: list[Tag], priority: str = "interactive"
) -> Change:
    """Give the conversation's contact exactly these tags (tags of other lines are ignored)."""
    tags = [t for t in tags if t.dashboard_id == conversation.dashboard_id]
    with transaction.atomic():
        conversation.contact.tags.set(tags)
        return queue_change(
            dashboard=conversation.dashboard,
            kind=SET_TAGS,
            subject="tags",
            payload={"contact_tags": sorted(t.tag_id for t in tags)},
            user=user,
            target=conversation.contact,
            priority=priority,
        )


def assign(*, conversation: Conversation, user, assignee) -> None:
    """Assign the conversation to a colleague (or nobody). Local to textdesk; recorded in the
    audit log when it changes who has it.

    A person's choice always wins over automatic assignment (``routing.py``): it takes the
    conversation out of the waiting queue, capacity or not. Unassigned by hand, it waits in
    Unassigned for a person (or the customer's next text)."""
    with transaction.atomic():
        changed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(assigned_to=assignee)
            .update(assigned_to=assignee, queued_at=None)
        )
        if changed:
            if assignee is not None:
                Assignment.objects.create(
                    conversation=conversation,
                    dashboard_id=conversation.dashboard_id,
                    assignee=assignee,
                    assigned_by=user,
                    rule=Assignment.Rule.MANUAL,
                    queued_at=conversation.queued_at,
                    assigned_at=timezone.now(),
                )
            routing.drain_for(conversation.assigned_to_id)  # who had it has room again
            audit.record(
                actor=user,
                kind="assignment",
                summary=f"Assigned the conversation to {sender_name(assignee)}"
                if assignee is not None
                else "Unassigned the conversation",
                dashboard=conversation.dashboard,
                contact=conversation.contact,
                conversation=conversation,
            )
    conversation.assigned_to, conversation.queued_at = assignee, None


def mark_read(*, conversation: Conversation, user) -> None:
    """The agent has seen the conversation. Local to textdesk (Text Request has no read state)."""
    if conversation.is_unread:
        Conversation.objects.filter(pk=conversation.pk).update(is_unread=False)
        conversation.is_unread = False


def load_history(*, conversation: Conversation) -> bool:
    """Fill a conversation's message history now, at interactive priority, if it was never read.

    Answers whether a fill was enqueued (the thread refreshes when it lands)."""
    if conversation.history_synced_at is not None:
        return False
    enqueue(
        "textdesk.conversations.tasks.fill_history",
        conversation.pk,
        "interactive",  # its priority
        queue="interactive",
    )
    return True


def pending_changes(conversation: Conversation) -> QuerySet[Change]:
    """The conversation's writes not yet confirmed by Text Request, and those that failed
    (until dismissed or replaced), oldest first."""
    return conversation.changes.open()


def sender_name(user) -> str:
    """What Text Request shows as the sender of a text ``user`` sends."""
    if user is None or not getattr(user, "pk", None):
        return ""
    return (getattr(user, "display_name", "") or str(user))[:100]


def colleagues(line):
    """Staff who may see ``line`` (those an ``@mention`` may name): its agents, and everyone
    whose role sees every line."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(dashboards=line)
            | Q(is_superuser=True)
            | Q(groups__permissions__codename="view_all_lines")
        )
        .distinct()
    )


def add_note(*, conversation: Conversation, user, body: str, client_key=None) -> Note:
    """A staff-only note in the thread. Never queued for Text Request. ``@username`` of a
    colleague who may see the line mentions them; other ``@words`` stay plain text. A double
    submit (the same ``client_key``) answers the first note; the audit log records it once."""
    if client_key is not None:
        existing = Note.objects.filter(client_key=client_key).first()
        if existing is not None:
            return existing
    body = (body or "").strip()
    if not body:
        raise CannotText("Write a note first.")
    if len(body) > MAX_NOTE_LENGTH:
        raise CannotText(f"A note can be at most {MAX_NOTE_LENGTH} characters.")
    names = {name.rstrip(".").lower() for name in MENTION.findall(body)}
    mentioned = []
    try:
        with transaction.atomic():
            note = Note.objects.create(
                conversation=conversation, author=user, body=body, client_key=client_key
            )
            if names:
                # Case-insensitive usernames: one read with an OR of iexact lookups.
                match = Q()
                for name in names:
                    match |= Q(username__iexact=name)
                mentioned = list(
                    colleagues(conversation.dashboard).filter(match).exclude(pk=user.pk)
                )
                note.mentions.set(mentioned)
            who = ", ".join(f"@{u.username}" for u in mentioned)
            audit.record(
                actor=user,
                kind="note",
                summary=f"Added an internal note{f' mentioning {who}' if who else ''}",
                dashboard=conversation.dashboard,
                contact=conversation.contact,
                conversation=conversation,
            )
    except IntegrityError:
        if client_key is None:
            raise
        return Note.objects.get(client_key=client_key)  # the other submit won the race
    return note


def redact_message(*, message: Message, user) -> Change | None:
    """Redact one text (a card number, a password): its body is blanked here at once (the
    inbox preview and the audit entry of a text we sent too) and Text Request is asked to hide
    it through the outbox. A text that never reached Text Request (failed before it went out)
    needs no call: None is answered. Raises ``CannotText`` with the reason when it cannot be
    redacted (already redacted, or still on its way)."""
    if message.redacted_at is not None:
        raise CannotText("This text is already redacted.")
    if message.message_id is None and message.status != Message.Status.FAILED:
        raise CannotText(
            "This text is still on its way to Text Request; redact it once it has been sent."
        )
    conversation = message.conversation
    with transaction.atomic():
        row = Message.objects.select_for_update().get(pk=message.pk)
        if row.redacted_at is not None:
            raise CannotText("This text is already redacted.")
        body = row.body
        now = timezone.now()
        Message.objects.filter(pk=row.pk).update(body="", redacted_at=now, redacted_by=user)
        message.body, message.redacted_at, message.redacted_by = "", now, user
        if body:
            Conversation.objects.filter(pk=conversation.pk, last_message_preview=body[:200]).update(
                last_message_preview=REDACTED_PREVIEW
            )
        # The audit entry of a text a person sent quotes its start.
        name = conversation.contact.name
        Entry.objects.filter(message_id=row.pk, kind="text").update(
            summary=f"Texted {name}: [redacted]"[:300]
        )
        if row.message_id is not None:
            signals.message_redacted.send(sender=Message, message_id=row.message_id)
        else:
            audit.record(
                actor=user,
                kind=REDACT,
                summary=f"Redacted a text (never sent) for {name}",
                dashboard=conversation.dashboard,
                contact=conversation.contact,
                conversation=conversation,
            )
            return None
        return queue_change(
            dashboard=conversation.dashboard,
            kind=REDACT,
            subject=f"redaction:{row.pk}",
            payload={"message_id": row.message_id, "message_pk": row.pk},
            user=user,
            target=conversation.contact,
        )


def unredact_message(*, message: Message, user) -> Change:
    """Undo a redaction (Admins): Text Request is asked to show the text again and, once it
    has, textdesk reads the body back from the conversation's messages. Until then the text
    stays blank here. Raises ``CannotText`` when it is not redacted or never reached Text
    Request (then there is nothing to read back)."""
    if message.redacted_at is None:
        raise CannotText("This text is not redacted.")
    if message.message_id is None:
        raise CannotText("This text never reached Text Request, so there is no body to restore.")
    conversation = message.conversation
    return queue_change(
        dashboard=conversation.dashboard,
        kind=UNREDACT,
        subject=f"redaction:{message.pk}",
        payload={"message_id": message.message_id, "message_pk": message.pk},
        user=user,
        target=conversation.contact,
    )
