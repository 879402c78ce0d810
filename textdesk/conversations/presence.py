"""Who else has a conversation open, and who is typing a reply in it.

Kept in the cache (Redis in production), never in the database: one small entry per
conversation, ``{user_id: [name, seen_until, typing_until]}``. The live poll an open
conversation already makes refreshes the viewer's entry and reads the others (one get and one
set per poll, so an idle tab costs nothing more); the composer's draft autosave marks its
author as typing. Entries simply expire: a closed tab stops polling and disappears within
``SEEN_FOR``. Two viewers writing the entry at the same instant may drop one update; the next
poll (1.5 s later) puts it back, which is fine for a hint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

# A viewer polls every 1.5 s (every 10 s in a hidden tab): gone after this long without a poll.
SEEN_FOR = 15.0
# A draft autosave (700 ms after a keystroke) counts as typing for this long.
TYPING_FOR = 6.0


@dataclass(frozen=True)
class Colleague:
    user_id: int
    name: str
    is_typing: bool


def _key(conversation_pk: int) -> str:
    return f"presence:{conversation_pk}"


def _live(entries: dict, now: float) -> dict:
    return {uid: entry for uid, entry in entries.items() if entry[1] > now}


def touch(conversation_pk: int, user, *, typing: bool | None = None) -> None:
    """``user`` has the conversation open (``typing``: True they are typing, False they sent
    or cleared the reply, None unchanged)."""
    now = time.time()
    entries = _live(cache.get(_key(conversation_pk)) or {}, now)
    _, _, typing_until = entries.get(user.pk, (None, 0, 0))
    if typing is True:
        typing_until = now + TYPING_FOR
    elif typing is False:
        typing_until = 0
    entries[user.pk] = (user.display_name, now + SEEN_FOR, typing_until)
    cache.set(_key(conversation_pk), entries, timeout=max(2, int(SEEN_FOR * 3)))


def others(conversation_pk: int, user) -> list[Colleague]:
    """Everyone else who has it open now, by name."""
    now = time.time()
    entries = _live(cache.get(_key(conversation_pk)) or {}, now)
    return sorted(
        (
            Colleague(uid, name, typing_until > now)
            for uid, (name, _, typing_until) in entries.items()
            if uid != user.pk
        ),
        key=lambda c: (c.name, c.user_id),
    )


def seen_and_others(conversation_pk: int, user) -> list[Colleague]:
    """The live poll's one step: mark the viewer present, answer the others."""
    touch(conversation_pk, user)
    return others(conversation_pk, user)


# --- Who has an inbox open at all (for going Away when idle: routing.send_idle_away) --------


def _inbox_key(user_pk: int) -> str:
    return f"inbox-seen:{user_pk}"


def seen_inbox(user) -> None:
    """``user`` has an inbox open (its page or its live poll, hidden tabs included)."""
    cache.set(_inbox_key(user.pk), time.time(), timeout=max(60, INBOX_SEEN_KEPT))


def inbox_seen(user_pks: list[int]) -> dict[int, float]:
    """``{user id: when their inbox last asked}`` for those seen lately."""
    found = cache.get_many([_inbox_key(pk) for pk in user_pks])
    return {pk: found[_inbox_key(pk)] for pk in user_pks if _inbox_key(pk) in found}


# Long enough to outlast any idle time an operator sets (TEXTDESK_AWAY_AFTER); a missing key
# reads as "not seen", so an agent goes Away at most this long after their last poll anyway.
INBOX_SEEN_KEPT = 24 * 3600
