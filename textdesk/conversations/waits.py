"""What a wait, a reply and a resolution are: the one clock that Reports and SLAs both read.

Reports (textdesk/reports/rollups.py) walks every conversation through `Waits` to record
response and resolution times; SLAs (sla.py) walk the open episode of one conversation through
the same `Waits` to know which target is running and since when. One clock, one meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import BooleanField, ExpressionWrapper, Q

from textdesk.conversations.models import Message
from textdesk.outbox.models import Change

# The outbox kind of a resolve (services.RESOLVE). A resolve stands unless Text Request
# refused it or a newer change (a reopen) replaced it before it was sent.
RESOLVE_KIND = "resolve"
RESOLVE_VOID = (Change.Status.FAILED, Change.Status.SUPERSEDED)
SENT = Message.Status.SENT
RECEIVED = Message.Direction.RECEIVED
MESSAGE, RESOLVE = 0, 1


def named_by_a_person() -> ExpressionWrapper:
    """The `sender_name` flag both walks read from the database: the text names its sender,
    and is not one textdesk sent by itself (an away reply is nobody's answer)."""
    return ExpressionWrapper(
        ~Q(sender_name="") & Q(is_automatic=False), output_field=BooleanField()
    )


def is_person_reply(direction: str, sent_by_id: int | None, sender_name: str) -> bool:
    """A text sent by a person: by a textdesk user (`sent_by`), or in Text Request's own app
    (it names the person, `sender_name`). Text Request's own sends (payment links, reminders)
    carry neither."""
    return direction != RECEIVED and (sent_by_id is not None or bool(sender_name))


def timeline(messages: Iterable[tuple], resolves: Iterable[tuple]) -> Iterator[tuple]:
    """(at, MESSAGE | RESOLVE, row) in time order; a text and a resolve at the same moment:
    the text first.

    `messages`: (sent_at, id, direction, status, sent_by_id, sender_name) in time order;
    `resolves`: (resolved_at, resolved_by_id) of the resolves that stand, in time order."""
    events = [(m[0], MESSAGE, m) for m in messages]
    if resolves:
        events += [(r[0], RESOLVE, r) for r in resolves]
        events.sort(key=lambda e: (e[0], e[1], e[2][1] if e[1] == MESSAGE else 0))
    return iter(events)


class Waits:
    """The state of one conversation's clock while its events are walked in time order.

    An episode opens at the first customer text since the start or the last resolve and closes
    at a resolve. A wait starts at the first customer text not yet answered by a person and
    ends at a person's text that was sent (queued, unconfirmed or failed texts are not sent
    yet); a resolve ends it unanswered. The episode's first wait is its first response; each
    later wait (a new customer text after a reply) is a next response."""

    __slots__ = ("opened_at", "replies", "waiting_from")

    def __init__(self) -> None:
        self.waiting_from: datetime | None = None
        self.opened_at: datetime | None = None
        self.replies = 0  # waits of this episode answered so far

    def received(self, at: datetime) -> None:
        self.waiting_from = self.waiting_from or at
        self.opened_at = self.opened_at or at

    def replied(self, at: datetime) -> datetime | None:
        """A person's text was sent at `at`: answers the start of the wait it ends, if any."""
        start = self.waiting_from
        if start is not None:
            self.waiting_from = None
            self.replies += 1
        return start

    def resolved(self, at: datetime) -> datetime | None:
        """Resolved at `at`: answers when the episode opened, if it had a customer text."""
        opened = self.opened_at
        self.opened_at = self.waiting_from = None
        self.replies = 0
        return opened

    def walk(self, at: datetime, kind: int, row: tuple):
        """Apply one event of `timeline`; answers ("reply" | "resolution", start) when the
        event ends a wait or an episode, else None."""
        if kind == RESOLVE:
            opened = self.resolved(at)
            return ("resolution", opened) if opened is not None else None
        _, _, direction, status, sent_by_id, sender_name = row
        if direction == RECEIVED:
            self.received(at)
        elif status == SENT and is_person_reply(direction, sent_by_id, sender_name):
            start = self.replied(at)
            if start is not None:
                return ("reply", start)
        return None
