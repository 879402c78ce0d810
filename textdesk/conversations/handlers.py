"""This app's part in the layers below it: the kinds of change it writes through the outbox,
its sweeper of texts, and what it does when the contacts domain signals a change."""

import logging

from textdesk.audit import registry as audit
from textdesk.contacts import signals
from textdesk.contacts.handlers import write_contact
from textdesk.contacts.models import Contact
from textdesk.conversations import sla
from textdesk.conversations.bulk import sweep_bulks
from textdesk.conversations.models import Conversation, Message
from textdesk.conversations.outbound import sweep_texts
from textdesk.conversations.services import (
    ARCHIVE,
    REDACT,
    REDACTED_PREVIEW,
    REOPEN,
    RESOLVE,
    SET_TAGS,
    UNARCHIVE,
    UNREDACT,
)
from textdesk.dashboards.models import line_of
from textdesk.outbox import registry
from textdesk.textrequest.client import iter_pages

logger = logging.getLogger(__name__)
# How far back an unredacted text is looked for in its conversation (pages of 100).
READ_BACK_PAGES = 50


def _archive(change, client) -> None:
    client.archive_conversation(line_of(change).dashboard_id, change.target.phone_number)


def _unarchive(change, client) -> None:
    client.unarchive_conversation(line_of(change).dashboard_id, change.target.phone_number)


def _redact(change, client) -> None:
    client.redact_message(change.payload["message_id"])


def _unredact(change, client) -> None:
    """Unredact in Text Request, then read the text back from the conversation's messages
    (newest first) and restore it here. A text not found keeps its blank body and flag."""
    message_id = change.payload["message_id"]
    client.unredact_message(message_id)
    found = None
    pages = iter_pages(
        client.get_messages, line_of(change).dashboard_id, change.target.phone_number
    )
    for number, page in enumerate(pages):
        found = next((item for item in page.items if item.message_id == message_id), None)
        if found is not None or number + 1 >= READ_BACK_PAGES:
            break
    if found is None:
        logger.warning(
            "unredacted text %s not found in its conversation", change.payload["message_pk"]
        )
        return
    message = Message.objects.filter(pk=change.payload["message_pk"]).first()
    if message is None:
        return
    Message.objects.filter(pk=message.pk).update(
        body=found.body, redacted_at=None, redacted_by=None
    )
    Conversation.objects.filter(
        pk=message.conversation_id,
        last_message_preview=REDACTED_PREVIEW,
        last_message_at=message.sent_at,
    ).update(last_message_preview=found.body[:200])


def fail_queued_texts(sender, contact, **kwargs) -> None:
    """A contact opted out: texts still queued for them must not go out."""
    Message.objects.filter(
        conversation__contact=contact,
        direction=Message.Direction.SENT,
        status=Message.Status.PENDING,
    ).update(
        status=Message.Status.FAILED,
        failure_reason="Not sent: the contact opted out (texted STOP) before it went out.",
        not_before=None,
        waiting_note="",  # no longer waiting for quiet hours to end
    )


def mirror_contact_state(sender, contact, is_archived: bool, is_resolved: bool, **kwargs) -> None:
    """Text Request keeps archived/resolved on the contact; the inbox reads them here."""
    rows = Conversation.objects.filter(contact=contact).exclude(
        is_archived=is_archived, is_resolved=is_resolved
    )
    ids = list(rows.values_list("pk", flat=True))
    if ids:
        Conversation.objects.filter(pk__in=ids).update(
            is_archived=is_archived, is_resolved=is_resolved
        )
        sla.recount(ids)  # resolved or archived elsewhere: the clocks stop (or start again)


def _audit_text(message: Message) -> dict | None:
    """The audit entry of a text a person sent (None for texts received or synced)."""
    if not message.sent_by_id or message.direction != Message.Direction.SENT:
        return None
    conversation = message.conversation
    preview = message.body if len(message.body) <= 60 else message.body[:59] + "…"
    return {
        "at": message.created_at,
        "actor": message.sent_by,
        "kind": "text",
        "summary": f"Texted {conversation.contact.name}: “{preview}”",
        "dashboard_id": conversation.dashboard_id,
        "contact_id": conversation.contact_id,
        "contact_name": conversation.contact.name,
        "conversation_id": conversation.pk,
        "message_id": message.pk,
    }


def _conversation_of(contact: Contact) -> dict:
    """A change of a contact happened in its conversation too (one per contact)."""
    return {
        "conversation_id": Conversation.objects.filter(contact=contact)
        .values_list("pk", flat=True)
        .first()
    }


def register() -> None:
    audit.track(Message, _audit_text)
    audit.place(Contact, _conversation_of)
    registry.register(ARCHIVE, registry.Handler(label="Archive", apply=_archive))
    registry.register(UNARCHIVE, registry.Handler(label="Unarchive", apply=_unarchive))
    registry.register(RESOLVE, registry.Handler(label="Resolve", apply=write_contact))
    registry.register(REOPEN, registry.Handler(label="Reopen", apply=write_contact))
    registry.register(SET_TAGS, registry.Handler(label="Change tags", apply=write_contact))
    registry.register(REDACT, registry.Handler(label="Redact a text", apply=_redact))
    registry.register(UNREDACT, registry.Handler(label="Unredact a text", apply=_unredact))
    registry.register_sweeper("texts", sweep_texts)
    registry.register_sweeper("bulk", sweep_bulks)
    signals.opted_out.connect(fail_queued_texts, dispatch_uid="conversations.fail_queued_texts")
    signals.state_synced.connect(
        mirror_contact_state, dispatch_uid="conversations.mirror_contact_state"
    )
