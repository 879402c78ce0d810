"""Admin → the line (away reply, quiet hours), the contact's time zone and the holidays: bad
input is a clear form error with what was typed kept; every change is audited."""

from datetime import time

import pytest
from django.urls import reverse

from tests.conftest import make_line
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact
from textdesk.dashboards.models import AWAY_TEXT_MAX, BusinessHours, Dashboard

pytestmark = [pytest.mark.django_db, pytest.mark.quiet_hours]


@pytest.fixture
def line(db):
    return make_line()


def texting_url(line):
    return reverse("dashboards:texting", args=[line.pk])


def rules(**extra):
    data = {
        "away_reply_enabled": "on",
        "away_reply_text": "Closed now, back at 9.",
        "quiet_start": "08:00",
        "quiet_end": "21:00",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_the_line_page_links_to_the_away_reply_and_quiet_hours(client, admin_user, line):
    client.force_login(admin_user)
    page = client.get(reverse("dashboards:line", args=[line.pk])).content.decode()
    assert texting_url(line) in page and "Texts leave 8:00–21:00" in page


def test_saving_turns_the_away_reply_on_and_is_audited(client, admin_user, line):
    client.force_login(admin_user)
    response = client.post(texting_url(line), rules(quiet_start="09:30", quiet_end="20:00"))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.away_reply_enabled and line.away_reply_text == "Closed now, back at 9."
    assert (line.quiet_start, line.quiet_end) == (time(9, 30), time(20))
    entry = Entry.objects.get(kind="line_texting_rules")
    assert entry.actor == admin_user and "away reply on" in entry.summary
    assert "09:30–20:00" in entry.summary
    client.post(texting_url(line), rules(quiet_start="09:30", quiet_end="20:00"))
    assert Entry.objects.filter(kind="line_texting_rules").count() == 1  # nothing changed


@pytest.mark.parametrize(
    "data, field, message",
    [
        (rules(quiet_start="21:00", quiet_end="08:00"), "quiet_end", "must come after the start"),
        (rules(quiet_start="08:00", quiet_end="08:00"), "quiet_end", "must come after the start"),
        (rules(quiet_start="25:00"), "quiet_start", "Enter a valid time"),
        (rules(away_reply_text=""), "away_reply_text", "Write the away reply, or turn it off"),
        (rules(away_reply_text="x" * (AWAY_TEXT_MAX + 1)), "away_reply_text", "at most 480"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_lost(
    client, admin_user, line, data, field, message
):  # noqa: E501
    client.force_login(admin_user)
    response = client.post(texting_url(line), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    if data["away_reply_text"]:
        assert data["away_reply_text"][:50] in html  # what was typed is kept
    line.refresh_from_db()
    assert not line.away_reply_enabled and (line.quiet_start, line.quiet_end) == (time(8), time(21))
    assert not Entry.objects.filter(kind="line_texting_rules").exists()


def test_midnight_as_the_end_means_no_quiet_hours(client, admin_user, line):
    client.force_login(admin_user)
    answer = client.post(texting_url(line), rules(quiet_start="00:00", quiet_end="00:00"))
    assert answer.status_code == 302
    assert Dashboard.objects.get(pk=line.pk).quiet_end == time(0)


def test_agents_cannot_change_a_lines_rules(client, agent, line):
    client.force_login(agent)
    assert client.post(texting_url(line), rules()).status_code == 403


def test_a_contacts_time_zone_is_set_on_the_contact_page(client, admin_user, line):
    contact = Contact.objects.create(dashboard=line, phone_number="3035550123", first_name="Casey")
    client.force_login(admin_user)
    url = reverse("contacts:detail", args=[contact.pk])
    page = client.get(url).content.decode()
    assert "America/Denver" in page and "from the area code" in page
    data = {"first_name": "Casey", "last_name": "", "note": "", "time_zone": "Mars/Olympus"}
    bad = client.post(url, data)
    assert bad.status_code == 200
    assert "is not a time zone" in " ".join(bad.context["form"].errors["time_zone"])
    assert 'value="Mars/Olympus"' in bad.content.decode()
    assert Contact.objects.get(pk=contact.pk).time_zone == ""
    good = client.post(url, {**data, "time_zone": "America/New_York"})
    assert good.status_code == 302
    contact.refresh_from_db()
    assert contact.time_zone == "America/New_York" and contact.zone_name == "America/New_York"
    entry = Entry.objects.get(kind="contact_time_zone")
    assert entry.actor == admin_user and "America/New_York" in entry.summary


def test_holidays_are_saved_with_the_hours_and_a_bad_date_is_a_form_error(client, admin_user, line):
    client.force_login(admin_user)
    url = reverse("reports:hours_edit", args=[line.pk])
    data = {"time_zone": "America/New_York", "open_0": "09:00", "close_0": "17:00"}
    bad = client.post(url, {**data, "holidays": "2026-12-25\n2026-13-01\nxmas"})
    assert bad.status_code == 200
    assert "Not a date: 2026-13-01, xmas" in " ".join(bad.context["form"].errors["holidays"])
    assert "2026-13-01" in bad.content.decode()
    assert not BusinessHours.objects.filter(dashboard=line).exists()
    good = client.post(url, {**data, "holidays": "2026-12-25, 2026-01-01\n2026-12-25"})
    assert good.status_code == 302
    row = BusinessHours.objects.get(dashboard=line)
    assert row.holidays == ["2026-01-01", "2026-12-25"]
    assert "holidays 2026-01-01, 2026-12-25" in Entry.objects.get(kind="business_hours").summary
    page = client.get(url).content.decode()
    assert "2026-01-01\n2026-12-25" in page
