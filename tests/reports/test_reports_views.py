"""The Reports page, its CSV and the business-hours setting: roles, scoping, bad input, queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from textdesk.conversations.models import Message
from textdesk.dashboards.models import BusinessHours
from textdesk.reports import rollups
from textdesk.reports.models import Reply
from textdesk.reports.views import safe_cell

URL = reverse("reports:show")
CSV = reverse("reports:export")


def chat(line, person, *, wait=120, name="Casey", when=None):
    """A received text answered by `person` after `wait` seconds, an hour ago."""
    when = when or timezone.now() - timedelta(hours=1)
    c = make_conversation(line, first_name=name)
    Message.objects.create(conversation=c, direction="R", sent_at=when, status="received")
    Message.objects.create(
        conversation=c,
        direction="S",
        sent_at=when + timedelta(seconds=wait),
        status="sent",
        sent_by=person,
        sender_name=person.display_name,
    )
    return c


def refresh():
    rollups.refresh(now=timezone.now() + timedelta(hours=1))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Summed histograms are cached per rollup stamp; tests reuse stamps, so start clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def team(db, line, other_line, agent, other_agent):
    """Sam answers on Front desk in 2 minutes; Olive on Billing line in 9."""
    chat(line, agent, wait=120)
    chat(other_line, other_agent, wait=540, name="Robin")
    refresh()


def test_admin_sees_every_line_and_agent_with_charts(client, admin_user, team):
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Front desk" in html and "Billing line" in html
    assert "Sam" in html and "Olive" in html
    assert html.count('<svg class="chart-svg"') == 3  # the charts (not the top bar's icons)
    assert '<title id="chart-texts-title">Texts per day</title>' in html
    assert "How we count" in html
    assert 'href="/reports/"' in html  # the navigation link


def test_agent_sees_only_own_lines_and_own_figures(client, agent, team):
    client.force_login(agent)
    html = client.get(URL).content.decode()
    assert "Front desk" in html
    assert "Billing line" not in html
    assert "Olive" not in html
    report = client.get(URL).context["report"]
    assert report.total.replies == 1
    assert report.total.reply_median == pytest.approx(120, rel=0.025)  # Sam's, not Olive's 540


def test_agent_cannot_ask_for_another_line_or_agent(client, agent, other_line, other_agent, team):
    client.force_login(agent)
    response = client.get(URL, {"line": other_line.pk})
    assert response.status_code == 400
    assert "Billing line" not in response.content.decode()
    assert b"Select a valid choice" in response.content
    response = client.get(URL, {"agent": other_agent.pk})
    assert response.status_code == 400
    assert b"Olive" not in response.content
    rows = list(csv.reader(io.StringIO(b"".join(client.get(CSV).streaming_content).decode())))
    assert {row[1] for row in rows if row[0] in ("line", "agent")} == {"Front desk", "Sam"}


def test_admin_filters_by_line_and_agent(client, admin_user, line, agent, team):
    client.force_login(admin_user)
    response = client.get(URL, {"line": line.pk, "agent": agent.pk, "period": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Billing line" not in html.split('id="report"')[1]
    assert "Olive" not in html.split('id="report"')[1]


def test_finance_has_no_reports(client, finance_user):
    client.force_login(finance_user)
    assert client.get(URL).status_code == 403
    assert client.get(CSV).status_code == 403
    assert b'href="/reports/"' not in client.get(reverse("payments:list")).content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom"}, "Choose both the first and the last day."),
        (
            {"period": "custom", "start": "2026-11-05", "end": "2026-11-01"},
            "The first day must come before the last day.",
        ),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-01"}, "Enter a valid date."),
        ({"period": "year"}, "Select a valid choice"),
    ],
)
def test_bad_filters_are_explained_and_kept(client, admin_user, params, message):
    client.force_login(admin_user)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    if params.get("start"):
        assert f'value="{params["start"]}"' in response.content.decode()


def test_custom_period(client, admin_user, line, agent):
    chat(line, agent, when=timezone.now() - timedelta(days=40))
    refresh()
    client.force_login(admin_user)
    day = timezone.localdate() - timedelta(days=40)
    response = client.get(URL, {"period": "custom", "start": day, "end": day})
    assert response.status_code == 200
    assert response.context["report"].total.replies == 1
    assert client.get(URL, {"period": "30"}).context["report"].total.replies == 0


def test_htmx_answers_the_report_region(client, admin_user, team):
    client.force_login(admin_user)
    response = client.get(URL, {"period": "today"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<div id="report"')


def test_csv_streams_what_is_shown_and_defuses_formulas(client, admin_user, line, agent):
    line.name = '=HYPERLINK("http://evil")'
    line.save()
    chat(line, agent, wait=50)
    refresh()
    client.force_login(admin_user)
    response = client.get(CSV, {"period": "7"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["table", "row", "texts received", "texts sent"]
    assert [row[0] for row in rows[1:]].count("day") == 7
    [line_row] = [row for row in rows if row[0] == "line"]
    assert line_row[1] == '\'=HYPERLINK("http://evil")'
    assert line_row[7] == "50"  # median first response in seconds (exact under a minute)
    [total] = [row for row in rows if row[0] == "total"]
    assert total[2:4] == ["1", "1"]


def test_safe_cell():
    assert [safe_cell(v) for v in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "ok", 5, None]] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        5,
        "",
    ]


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_data(client, admin_user, line, other_line, agent):
    client.force_login(admin_user)
    chat(line, agent)
    refresh()
    small = _queries(client, URL)
    for i in range(15):
        person = make_user(f"extra{i}", "Agent", lines=[line, other_line])
        chat(other_line if i % 2 else line, person, wait=60 * i, name=f"N{i}")
    refresh()
    assert _queries(client, URL) == small
    # A year of days costs no more queries either (an empty year skips looking up people).
    assert _queries(client, URL, period="custom", start="2025-01-01", end="2025-12-31") <= small


def test_agent_may_not_edit_business_hours(client, agent, line):
    client.force_login(agent)
    assert client.get(reverse("reports:hours")).status_code == 403
    url = reverse("reports:hours_edit", args=[line.pk])
    assert client.post(url, {"is_always_open": "on", "time_zone": "UTC"}).status_code == 403


def test_admin_sets_business_hours_and_times_are_recounted(
    client, admin_user, line, agent, django_capture_on_commit_callbacks
):
    # Received Monday 20:00 New York (closed), answered Tuesday 9:10: 10 open minutes.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monday = datetime(2026, 11, 2, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    chat(line, agent, when=monday, wait=13 * 3600 + 600)
    refresh()
    assert Reply.objects.get().seconds == 13 * 3600 + 600
    client.force_login(admin_user)
    url = reverse("reports:hours_edit", args=[line.pk])
    data = {"time_zone": "America/New_York"}
    for i in range(5):
        data[f"open_{i}"], data[f"close_{i}"] = "09:00", "17:00"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    assert BusinessHours.objects.get(dashboard=line).weekly[5] is None
    assert Reply.objects.get().seconds == 600
    listing = client.get(reverse("reports:hours")).content.decode()
    assert "Mon 09:00–17:00" in listing


def test_business_hours_form_explains_mistakes_and_keeps_input(client, admin_user, line):
    client.force_login(admin_user)
    url = reverse("reports:hours_edit", args=[line.pk])
    response = client.post(
        url,
        {"time_zone": "America/Chicago", "open_0": "17:00", "close_0": "09:00", "open_1": "9:00"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Monday must close after it opens" in html
    assert "Give Tuesday both times, or neither" in html
    assert 'value="17:00"' in html
    assert not BusinessHours.objects.exists()
    response = client.post(url, {"time_zone": "Mars/Olympus"})
    assert b"Select a valid choice" in response.content


def test_other_lines_hours_are_404_for_a_limited_admin(client, line, other_line):
    # Hours are per line: an unknown line id is a 404, not an error page.
    admin = make_user("ada", "Admin")
    client.force_login(admin)
    assert client.get(reverse("reports:hours_edit", args=[999999])).status_code == 404


def test_a_refresh_shows_new_figures_at_once(client, admin_user, line, agent):
    client.force_login(admin_user)
    chat(line, agent, wait=30)
    refresh()
    assert client.get(URL).context["report"].total.reply_median == 30
    assert client.get(URL).context["report"].total.reply_median == 30  # from the cache
    chat(line, agent, wait=40, name="Robin")
    chat(line, agent, wait=50, name="Riley")
    rollups.refresh(now=timezone.now() + timedelta(hours=2))  # a new stamp
    assert client.get(URL).context["report"].total.reply_median == 40
