"""Reports in Chromium: the page, its charts, filtering through htmx, and what an agent sees.

Screenshots land in test-artifacts/screenshots/reports-*.png.
"""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_conversation, make_line, make_user
from tests.inbox.test_inbox_browser import SHOTS, browser_page, live_url, log_in, shot  # noqa: F401
from textdesk.conversations.models import Message
from textdesk.outbox.models import Change
from textdesk.reports import rollups

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Summed histograms are cached per rollup stamp; tests reuse stamps, so start clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def busy_week(transactional_db):
    """Two lines, three agents, two weeks of texts, replies and resolves."""
    rng = random.Random(3)
    front = make_line(name="Front desk")
    billing = make_line(front.connection, name="Billing line")
    sam = make_user("sam", "Agent", lines=[front], last_name="Rivera")
    kim = make_user("kim", "Agent", lines=[front])
    olive = make_user("olive", "Agent", lines=[billing])
    make_user("avery", "Admin")
    now = timezone.now()
    for i in range(60):
        line = front if i % 3 else billing
        people = [sam, kim] if line == front else [olive]
        c = make_conversation(line, first_name=f"Customer{i}")
        moment = now - timedelta(days=rng.randrange(0, 14), hours=rng.randrange(1, 20))
        for _ in range(rng.randrange(1, 4)):
            Message.objects.create(conversation=c, direction="R", sent_at=moment, status="received")
            moment += timedelta(minutes=rng.randrange(1, 180))
            person = rng.choice(people)
            Message.objects.create(
                conversation=c,
                direction="S",
                sent_at=moment,
                status="sent",
                sent_by=person,
                sender_name=person.display_name,
            )
            if rng.random() < 0.5:
                change = Change.objects.create(
                    dashboard_id=line.pk,
                    target=c.contact,
                    kind="resolve",
                    subject="resolved",
                    status="done",
                    created_by=person,
                )
                moment += timedelta(minutes=rng.randrange(5, 300))
                Change.objects.filter(pk=change.pk).update(created_at=moment)
            moment += timedelta(hours=rng.randrange(2, 30))
    rollups.refresh(now=now + timedelta(hours=1))
    return {"front": front, "billing": billing}


def test_reports_page_with_charts_filters_and_roles(busy_week, browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    log_in(page, live_url, "avery")
    page.click("nav.mainnav >> text=Reports")
    page.wait_for_url(f"{live_url}/reports/")
    expect(page.locator("h1")).to_have_text("Reports")
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(3)
    for title in ["Texts per day", "New conversations and resolutions per day"]:
        expect(page.locator("svg title", has_text=title)).to_have_count(1)
    assert page.locator("#chart-texts desc").text_content().startswith("30 categories")
    expect(page.locator("#lines-table tbody tr")).to_have_count(2)
    expect(page.locator("#agents-table tbody th")).to_have_text(["Kim", "Olive", "Sam Rivera"])
    expect(page.locator("#how-we-count")).to_contain_text("First response time")
    expect(page.locator("#id_period")).to_have_value("30")
    page.screenshot(path=str(SHOTS / "reports-admin-30-days.png"), full_page=True)

    # The table fallback of a chart opens without JavaScript libraries.
    page.locator("#chart-texts summary").click()
    expect(page.locator("#chart-texts table tbody tr")).to_have_count(30)

    # Filtering swaps the report region (htmx) and keeps the URL shareable.
    page.select_option("#id_period", "7")
    page.select_option("#id_line", str(busy_week["front"].pk))
    page.click("button:has-text('Show')")
    page.wait_for_url("**/reports/?period=7*")
    expect(page.locator("#lines-table tbody tr")).to_have_count(1)
    expect(page.locator("#chart-texts desc")).to_contain_text("7 categories")
    export = page.locator("#export-link")
    assert "period=7" in export.get_attribute("href")
    shot(page, "reports-admin-front-desk-7-days")

    # Business hours of a line: weekdays 9 to 5.
    page.click("text=Business hours")
    page.click("text=Edit hours of Front desk")
    page.uncheck("#id_is_always_open")
    for day in range(5):
        page.fill(f"#id_open_{day}", "09:00")
        page.fill(f"#id_close_{day}", "17:00")
    shot(page, "reports-hours-edit")
    page.click("button:has-text('Save hours')")
    expect(page.locator("table")).to_contain_text("Mon 09:00–17:00")
    shot(page, "reports-hours-list")
    assert errors == []


def test_agent_sees_own_lines_and_own_row(busy_week, browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/reports/")
    expect(page.locator("#lines-table tbody tr")).to_have_count(1)
    expect(page.locator("#lines-table tbody th")).to_have_text("Front desk")
    expect(page.locator("#agents-table tbody th")).to_have_text(["Sam Rivera"])
    expect(page.locator("#id_agent option")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("Olive")
    expect(page.locator("body")).not_to_contain_text("Billing line")
    shot(page, "reports-agent")
    assert errors == []
