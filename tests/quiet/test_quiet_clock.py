"""Quiet hours are read in the contact's clock: their own zone, else their area code's (with
daylight saving), else the line's."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_line
from textdesk.contacts import quiet
from textdesk.contacts.area_codes import ZONES_BY_AREA_CODE, valid_zone, zone_for_number
from textdesk.contacts.models import Contact
from textdesk.dashboards.models import BusinessHours

pytestmark = [pytest.mark.django_db, pytest.mark.quiet_hours]


@pytest.fixture
def line(db):
    return make_line()  # default window 8:00–21:00


def contact(line, phone="3035550123", **extra):
    return Contact(dashboard=line, phone_number=phone, first_name="Casey", **extra)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_default_window_is_8_to_21(line):
    assert (line.quiet_start, line.quiet_end) == (time(8), time(21))


@pytest.mark.parametrize(
    "now, quiet_now, local, next_allowed",
    [
        # Winter in Denver is UTC-7: 14:30Z is 7:30, quiet until 8:00 (15:00Z).
        ("2026-01-15T14:30", True, "7:30", "2026-01-15T15:00"),
        # Summer is UTC-6: the same instant is 8:30, allowed.
        ("2026-07-15T14:30", False, "8:30", None),
        # 23:10 in Denver: quiet until 8:00 the next morning.
        ("2026-01-16T06:10", True, "23:10", "2026-01-16T15:00"),
        # The night clocks spring forward (Mar 8, 2026): 1:00 MST, next 8:00 is MDT (14:00Z).
        ("2026-03-08T08:00", True, "1:00", "2026-03-08T14:00"),
        # The night clocks fall back (Nov 1, 2026): 23:30 MDT, next 8:00 is MST (15:00Z).
        ("2026-11-01T05:30", True, "23:30", "2026-11-01T15:00"),
        # 20:59 is still inside; 21:00 is not.
        ("2026-07-16T02:59", False, "20:59", None),
        ("2026-07-16T03:00", True, "21:00", "2026-07-16T14:00"),
    ],
)
def test_quiet_hours_by_area_code_with_daylight_saving(line, now, quiet_now, local, next_allowed):
    clock = quiet.clock_for(contact(line), line, at(now))
    assert clock.zone_name == "America/Denver" and clock.source == "area code"
    assert clock.is_quiet is quiet_now
    assert clock.time_label == local
    assert clock.next_allowed() == (at(next_allowed) if next_allowed else None)


def test_the_question_and_the_waiting_note_name_the_contacts_time(line):
    clock = quiet.clock_for(contact(line), line, at("2026-01-16T06:10"))
    casey = contact(line)
    assert quiet.ask_text(casey, clock) == "It is 23:10 for Casey in Denver. Send anyway?"
    assert quiet.waiting_note(casey, clock) == "Waiting for 8:00 in Casey's time (Denver)"


def test_a_contacts_own_zone_wins_over_the_area_code(line):
    casey = contact(line, time_zone="America/New_York")  # a Denver number, living in New York
    clock = quiet.clock_for(casey, line, at("2026-01-15T14:30"))
    assert clock.zone_name == "America/New_York" and clock.source == "contact"
    assert not clock.is_quiet and clock.time_label == "9:30"


def test_without_a_known_area_code_the_lines_zone_is_used(line):
    BusinessHours.objects.create(dashboard=line, time_zone="America/Los_Angeles")
    clock = quiet.clock_for(contact(line, phone="9995550123"), line, at("2026-01-15T14:30"))
    assert clock.source == "line" and clock.zone_name == "America/Los_Angeles"
    assert clock.is_quiet and clock.next_allowed() == at("2026-01-15T16:00")


def test_an_end_of_midnight_runs_to_the_end_of_the_day(line):
    line.quiet_start, line.quiet_end = time(0), time(0)
    for moment in ("2026-01-15T06:59", "2026-01-15T07:00", "2026-01-15T12:00"):
        assert not quiet.clock_for(contact(line), line, at(moment)).is_quiet
    line.quiet_start = time(9)
    clock = quiet.clock_for(contact(line), line, at("2026-01-15T15:30"))  # 8:30 in Denver
    assert clock.is_quiet and clock.next_allowed() == at("2026-01-15T16:00")


def test_the_area_code_table_covers_the_us_and_canada_with_majority_zones():
    assert len(ZONES_BY_AREA_CODE) > 400
    assert all(valid_zone(name) for name in set(ZONES_BY_AREA_CODE.values()))
    assert zone_for_number("2125550123") == "America/New_York"
    assert zone_for_number("+1 (303) 555-0123") == "America/Denver"
    assert zone_for_number("4165550123") == "America/Toronto"
    assert zone_for_number("6055550123") == "America/Chicago"  # spans two: the east's
    assert zone_for_number("9075550123") == "America/Anchorage"
    assert zone_for_number("2085550123") == "America/Boise"
    assert zone_for_number("6025550123") == "America/Phoenix"  # no daylight saving
    assert zone_for_number("8765550123") is None  # Jamaica: not the US or Canada
    assert zone_for_number("12") is None
    for name in ("America/Denver", "UTC"):
        assert valid_zone(name)
    for name in ("Mars/Olympus", "EST", "", " America/Denver", "../etc/passwd"):
        assert not valid_zone(name)
    assert ZoneInfo("America/Phoenix").utcoffset(datetime(2026, 7, 1)).total_seconds() == -25200
