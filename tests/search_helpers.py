"""Small helpers for the search tests: texts and notes at known moments."""

from datetime import timedelta

from django.utils import timezone

from textdesk.conversations.models import Message, Note

_counter = iter(range(10**9))


def add_text(conversation, body, *, received=True, minutes_ago=0, **extra) -> Message:
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.RECEIVED if received else Message.Direction.SENT,
        status=Message.Status.RECEIVED if received else Message.Status.SENT,
        body=body,
        sent_at=timezone.now() - timedelta(minutes=minutes_ago),
        message_id=f"m-{next(_counter)}",
        **extra,
    )


def add_note(conversation, body, author=None) -> Note:
    return Note.objects.create(conversation=conversation, body=body, author=author)
