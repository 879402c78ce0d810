"""Business hours: how many seconds of a span fall inside a line's open hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

# How far ahead a due moment is looked for (a target is at most 30 days of open time).
HORIZON_DAYS = 400
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Hours:
    """A weekly schedule in one time zone; `weekly[i]` is (open, close) for weekday i or None.

    `weekly=None` means open around the clock. `holidays` are local dates closed all day
    whatever the weekday says (they apply to a weekly schedule only)."""

    zone: ZoneInfo
    weekly: tuple[tuple[time, time] | None, ...] | None = None
    holidays: frozenset[date] = frozenset()

    @property
    def always_open(self) -> bool:
        return self.weekly is None

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Open seconds in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0
        if self.weekly is None:
            return int((end - start).total_seconds())
        start, end = start.astimezone(UTC), end.astimezone(UTC)  # real elapsed time (DST)
        total = 0.0
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            window = self.window_on(day)
            if window is not None:
                opens, closes = self._bounds(day, window)
                lo, hi = max(start, opens), min(end, closes)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return int(total)

    def window_on(self, day: date) -> tuple[time, time] | None:
        """The (open, close) of a local date, None when closed all day (holidays too)."""
        if self.weekly is None:
            return (time(0), time(0))
        if day in self.holidays:
            return None
        return self.weekly[day.weekday()]

    def next_open(self, moment: datetime) -> datetime | None:
        """When the line is next open at or after ``moment`` (``moment`` itself when open
        then); None when no day of the coming year is open. The closed period that
        ``moment`` falls in is named by this: away replies answer once per period."""
        if self.weekly is None:
            return moment
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(370):
            window = self.window_on(day)
            if window is not None:
                opens, closes = self._bounds(day, window)
                if closes > moment:
                    return max(opens, moment)
            day += timedelta(days=1)
        return None

    def is_open(self, moment: datetime) -> bool:
        return self.next_open(moment) == moment

    def _bounds(self, day: date, window: tuple[time, time]) -> tuple[datetime, datetime]:
        # Local wall-clock times; a close of 00:00 means midnight at the end of the day.
        opens = datetime.combine(day, window[0], self.zone)
        closes = (
            datetime.combine(day + timedelta(days=1), time(0), self.zone)
            if window[1] == time(0)
            else datetime.combine(day, window[1], self.zone)
        )
        # In UTC: Python subtracts two datetimes of the same zone on the wall clock, so a
        # window across a DST change would count an hour too many or too few.
        return opens.astimezone(UTC), closes.astimezone(UTC)

    def moment_after(
        self, start: datetime, seconds: int, *, horizon_days: int = HORIZON_DAYS
    ) -> datetime | None:
        """The moment when `seconds` open seconds have passed since `start` (the inverse of
        `seconds_between`: `seconds_between(start, moment_after(start, n)) == n`).

        None when the hours do not hold that many open seconds within `horizon_days` (a line
        closed every day): such a target can never be met, so nothing is due."""
        start = start.astimezone(UTC)
        if seconds <= 0:
            return start
        if self.weekly is None:
            return start + timedelta(seconds=seconds)
        remaining = float(seconds)
        day = start.astimezone(self.zone).date()
        for _ in range(horizon_days + 1):
            window = self.window_on(day)  # holidays are closed
            if window is not None:
                opens, closes = self._bounds(day, window)
                lo = max(start, opens)
                if closes > lo:
                    span = (closes - lo).total_seconds()
                    if span >= remaining:
                        return lo + timedelta(seconds=remaining)
                    remaining -= span
            day += timedelta(days=1)
        return None


ALWAYS = Hours(zone=ZoneInfo(settings.TIME_ZONE))


def parse_weekly(weekly: list) -> tuple[tuple[time, time] | None, ...]:
    """The stored JSON (seven `["HH:MM", "HH:MM"]` or null) as times."""
    days = []
    for i in range(7):
        entry = weekly[i] if i < len(weekly) else None
        days.append((time.fromisoformat(entry[0]), time.fromisoformat(entry[1])) if entry else None)
    return tuple(days)


def parse_holidays(holidays: list) -> frozenset[date]:
    """The stored JSON (`"YYYY-MM-DD"` strings) as dates; an unreadable entry is skipped."""
    days = set()
    for entry in holidays or []:
        try:
            days.add(date.fromisoformat(str(entry)))
        except ValueError:
            continue
    return frozenset(days)


def hours_of(row) -> Hours:
    """A line's `BusinessHours` row (or None) as `Hours`."""
    if row is None or row.is_always_open:
        return ALWAYS
    return Hours(
        zone=ZoneInfo(row.time_zone),
        weekly=parse_weekly(row.weekly),
        holidays=parse_holidays(getattr(row, "holidays", None)),
    )
