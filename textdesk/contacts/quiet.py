"""Quiet hours: texts reach a customer only inside the line's window in the *customer's* clock.

The window (``Dashboard.quiet_start``–``quiet_end``, default 8:00–21:00) is read in the
contact's time zone: their own ``Contact.time_zone`` when set, else their area code's
(``contacts/area_codes.py``), else the line's (its business hours' zone, else ``TIME_ZONE``).

Here, in ``contacts`` (it needs only the contact and the line), so every sender below the
inbox can ask it. Texts textdesk sends by itself never leave in quiet hours: scheduled texts and
away replies (priority ``sync``: ``conversations.outbound.deliver_text``) and the follow-up
queue's bulk payment reminders (``payments.handlers``, the outbox's ``hold_at_send``) ask
``next_allowed`` at send time, under the contact's row lock, and wait (``not_before``) for the
next allowed minute; a text says so in the thread. An agent's own reply is asked about once in
the composer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from textdesk.contacts.area_codes import valid_zone
from textdesk.dashboards.models import BusinessHours, Dashboard


def line_zone_name(dashboard_pk: int) -> str:
    """The line's zone: its business hours' zone, else the site's ``TIME_ZONE``."""
    name = (
        BusinessHours.objects.filter(dashboard_id=dashboard_pk)
        .values_list("time_zone", flat=True)
        .first()
    )
    return name if name and valid_zone(name) else settings.TIME_ZONE


def zone_label(name: str) -> str:
    """A place people recognise: ``America/Los_Angeles`` → ``Los Angeles``."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class Clock:
    """The contact's clock now, and whether a text may reach them."""

    zone_name: str
    local: datetime
    start: time
    end: time
    source: str  # "contact" (their own zone), "area code" or "line"

    @property
    def place(self) -> str:
        return zone_label(self.zone_name)

    @property
    def is_quiet(self) -> bool:
        now = self.local.time().replace(second=0, microsecond=0)
        # An end of 00:00 is midnight: the window runs to the end of the day.
        return not (self.start <= now and (self.end == time(0) or now < self.end))

    @property
    def time_label(self) -> str:
        return f"{self.local:%-H:%M}"

    def next_allowed(self) -> datetime | None:
        """The next minute a text may leave (UTC), or None when it may leave now."""
        if not self.is_quiet:
            return None
        zone = ZoneInfo(self.zone_name)
        day = self.local.date()
        if self.local.time() >= self.start:  # after today's window: tomorrow's start
            day += timedelta(days=1)
        # A start that falls in a DST gap does not exist: the round trip gives the next
        # wall time that does (a 2:30 start on the spring-forward night becomes 3:30).
        opens = datetime.combine(day, self.start, zone)
        return opens.astimezone(ZoneInfo("UTC"))


def clock_for(contact, dashboard: Dashboard, now: datetime | None = None) -> Clock:
    """The contact's clock on ``dashboard``'s quiet hours."""
    now = now or timezone.now()
    if contact.time_zone and valid_zone(contact.time_zone):
        name, source = contact.time_zone, "contact"
    elif area := contact.zone_name:
        name, source = area, "area code"
    else:
        name, source = line_zone_name(dashboard.pk), "line"
    local = now.astimezone(ZoneInfo(name))
    return Clock(name, local, dashboard.quiet_start, dashboard.quiet_end, source)


def waiting_note(contact, clock: Clock) -> str:
    """What the thread says about a text held back by quiet hours."""
    return f"Waiting for {clock.start:%-H:%M} in {contact.name}'s time ({clock.place})"


def ask_text(contact, clock: Clock) -> str:
    """The composer's question when an agent replies in quiet hours."""
    return f"It is {clock.time_label} for {contact.name} in {clock.place}. Send anyway?"
