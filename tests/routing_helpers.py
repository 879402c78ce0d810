"""Arrivals for the automatic-assignment tests: a customer's text stored the way a webhook or
a sync stores it (``inbound.record_message``), so the real hook routes it."""

import uuid
from datetime import timedelta

from django.utils import timezone

from tests.conftest import make_conversation, make_user
from textdesk.conversations.inbound import record_message
from textdesk.conversations.models import Conversation
from textdesk.textrequest import types as tr


def text_in(conversation: Conversation, body: str = "Hi, are you open?", *, at=None):
    """The customer texts: stored as news, as a webhook would."""
    item = tr.Message(
        message_id=uuid.uuid4().hex,
        body=body,
        message_direction=tr.DIRECTION_RECEIVED,
        response_by_username=None,
        message_timestamp_utc=at or timezone.now(),
        delivery_status=None,
        delivery_error=None,
        mms_media=[],
    )
    conversation = Conversation.objects.get(pk=conversation.pk)  # its state before the text
    return record_message(conversation, item, is_new=True)


def arrive(line, *, first_name="Casey", minutes_ago: int = 0) -> Conversation:
    """A new conversation: its first text arrives. Answers the conversation as stored after."""
    conversation = make_conversation(line, first_name=first_name, last_message_at=None)
    text_in(conversation, at=timezone.now() - timedelta(minutes=minutes_ago))
    return Conversation.objects.get(pk=conversation.pk)


def available_agent(username: str, line, **extra):
    return make_user(username, "Agent", lines=[line], is_available=True, **extra)


def set_rule(line, rule: str, capacity: int = 10) -> None:
    line.assignment_rule = rule
    line.assignment_capacity = capacity
    line.save(update_fields=["assignment_rule", "assignment_capacity"])
