"""The inbox's views: ``pages`` reads, ``actions`` writes, ``rendering`` composes answers."""

from textdesk.conversations.listing import PAGE_SIZE
from textdesk.conversations.threads import THREAD_SIZE
from textdesk.conversations.views.actions import (
    archive,
    assign,
    cancel_payment,
    change,
    edit_contact,
    note,
    remind,
    request_payment,
    resolve,
    retry,
    save_draft,
    send,
    tags,
)
from textdesk.conversations.views.pages import (
    conversation_page,
    earlier_messages,
    inbox,
    line_inbox,
    live,
    new_conversation,
    people,
)

__all__ = [
    "PAGE_SIZE",
    "THREAD_SIZE",
    "archive",
    "assign",
    "cancel_payment",
    "change",
    "conversation_page",
    "earlier_messages",
    "edit_contact",
    "inbox",
    "line_inbox",
    "live",
    "new_conversation",
    "note",
    "people",
    "remind",
    "request_payment",
    "resolve",
    "retry",
    "save_draft",
    "send",
    "tags",
]
