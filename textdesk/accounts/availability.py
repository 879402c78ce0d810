"""Available / Away: whether automatic assignment may give someone conversations.

A person sets it from the top bar; they go Away on their own after
``TEXTDESK_AWAY_AFTER`` seconds with no inbox open (``conversations.routing.send_idle_away``,
which knows who has an inbox open). Going Away never takes a conversation off anyone: it only
stops new ones arriving. Every change is in the audit log.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from textdesk.accounts.models import User
from textdesk.accounts.signals import availability_changed
from textdesk.audit import services as audit


def set_availability(*, user: User, is_available: bool, actor=None, reason: str = "") -> bool:
    """Make ``user`` Available or Away; answers whether it changed. ``actor`` is who did it
    (None: textdesk itself, e.g. after the idle time; ``reason`` then says why)."""
    now = timezone.now()
    with transaction.atomic():
        changed = (
            User.objects.filter(pk=user.pk)
            .exclude(is_available=is_available)
            .update(is_available=is_available, availability_changed_at=now)
        )
        if changed:
            state = "Available" if is_available else "Away"
            summary = f"{user.display_name} is {state}" + (f": {reason}" if reason else "")
            audit.record(
                actor=actor,
                actor_name="" if actor is not None else "textdesk",
                kind="availability",
                summary=summary,
            )
            availability_changed.send(sender=User, user=user, is_available=is_available)
    user.is_available = is_available
    if changed:
        user.availability_changed_at = now
    return bool(changed)
