"""SLA arithmetic: the moment N open seconds after a start, across business hours, time zones
and DST, is the inverse of the Reports' seconds_between."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from textdesk.dashboards.hours import ALWAYS, Hours

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
WEEKDAYS_8_TO_18 = tuple([(time(8), time(18))] * 5 + [None, None])
ALL_DAY = tuple([(time(0), time(0))] * 7)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_always_open_is_plain_addition():
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert ALWAYS.moment_after(start, 600) == start + timedelta(minutes=10)


def test_a_wait_after_closing_is_due_the_next_open_morning():
    hours = Hours(zone=NY, weekly=WEEKDAYS_8_TO_18)
    # Tuesday 17:55 + 15 open minutes: 5 today, 10 on Wednesday from 8:00.
    due = hours.moment_after(ny(2026, 3, 3, 17, 55), 15 * 60)
    assert due == ny(2026, 3, 4, 8, 10)


def test_a_friday_evening_wait_is_due_on_monday():
    hours = Hours(zone=NY, weekly=WEEKDAYS_8_TO_18)
    due = hours.moment_after(ny(2026, 3, 6, 19, 0), 30 * 60)  # Friday evening
    assert due == ny(2026, 3, 9, 8, 30)


def test_same_instant_other_zone_gives_other_due():
    start = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 10:00 New York, 7:00 Los Angeles
    new_york = Hours(zone=NY, weekly=WEEKDAYS_8_TO_18).moment_after(start, 3600)
    los_angeles = Hours(zone=LA, weekly=WEEKDAYS_8_TO_18).moment_after(start, 3600)
    assert new_york == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    assert los_angeles == datetime(2026, 3, 3, 9, 0, tzinfo=LA)  # opens at 8, one hour in


def test_spring_forward_day_has_23_open_hours():
    hours = Hours(zone=NY, weekly=ALL_DAY)
    start = ny(2026, 3, 8, 0, 0)  # DST starts at 2:00 that Sunday
    end = ny(2026, 3, 9, 0, 0)
    assert hours.seconds_between(start, end) == 23 * 3600
    assert hours.moment_after(start, 23 * 3600) == end
    # Two open hours after midnight is 3:00 EDT (2:00 never happened).
    assert hours.moment_after(start, 2 * 3600) == ny(2026, 3, 8, 3, 0)


def test_fall_back_day_has_25_open_hours():
    hours = Hours(zone=NY, weekly=ALL_DAY)
    start = ny(2026, 11, 1, 0, 0)  # DST ends at 2:00 that Sunday
    end = ny(2026, 11, 2, 0, 0)
    assert hours.seconds_between(start, end) == 25 * 3600
    assert hours.moment_after(start, 25 * 3600) == end


def test_business_hours_keep_their_wall_clock_across_dst():
    hours = Hours(zone=NY, weekly=WEEKDAYS_8_TO_18)
    # Friday before the change, 17:00 + 2 open hours: 1 on Friday, 1 on Monday after the change.
    due = hours.moment_after(ny(2026, 3, 6, 17, 0), 2 * 3600)
    assert due == ny(2026, 3, 9, 9, 0)
    assert due.astimezone(UTC).hour == 13  # EDT: UTC-4 (it was UTC-5 on Friday)


@pytest.mark.parametrize("minutes", [1, 59, 600, 601, 3000, 43_200])
def test_moment_after_is_the_inverse_of_seconds_between(minutes):
    hours = Hours(zone=NY, weekly=WEEKDAYS_8_TO_18)
    start = ny(2026, 10, 30, 16, 30)  # a Friday before fall back
    due = hours.moment_after(start, minutes * 60)
    assert hours.seconds_between(start, due) == minutes * 60


def test_hours_closed_every_day_have_no_due_moment():
    hours = Hours(zone=NY, weekly=(None,) * 7)
    assert hours.moment_after(ny(2026, 3, 3, 9, 0), 60) is None
