"""In Chromium: the SLA clocks in the list and the thread, the Breached view, the alerts page
and the targets form read as words and an icon, fit a phone and pass axe (light and dark)."""

import os
from datetime import timedelta

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.conftest import make_conversation, make_line, make_user  # noqa: E402
from tests.inbox.test_inbox_browser import live_url, log_in  # noqa: E402, F401
from tests.sla.test_sla_reports import talk  # noqa: E402
from textdesk.conversations import sla_alerts  # noqa: E402
from textdesk.conversations.models import Conversation  # noqa: E402
from textdesk.dashboards.models import SlaPolicy  # noqa: E402
from textdesk.reports import rollups  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def with_clock(line, name, due, target="first", **extra):
    conversation = make_conversation(
        line, first_name=name, last_message_preview="Any news?", history_synced_at=timezone.now()
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_due_at=due,
        sla_target=target,
        sla_reply_due_at=due,
        sla_reply_target=target,
        sla_reply_from=due - timedelta(minutes=15),
        waiting_since=due - timedelta(minutes=15),
        **extra,
    )
    return conversation


def test_clocks_alerts_and_targets_fit_a_phone_and_pass_axe(live_url):  # noqa: F811
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.inbox.test_inbox_browser import CHROMIUM_ARGS, SHOTS
    from tests.project.test_every_screen_browser import AXE, AXE_RUN, DESKTOP, PHONE, WIDTH_CHECK

    line = make_line(name="Front Desk")
    sam = make_user("sam", "Agent", lines=[line])
    make_user("avery", "Admin")
    now = timezone.now()
    late = with_clock(line, "Casey", now - timedelta(minutes=6), target="next", assigned_to=sam)
    with_clock(line, "Robin", now + timedelta(minutes=12))
    sla_alerts.raise_alerts(now=now)
    # Answered waits against the line's targets, for the Reports' table and chart.
    SlaPolicy.objects.create(dashboard=line, first_response_minutes=5, next_response_minutes=10)
    talk(line, sam, [120, 900], name="Dana")
    talk(line, sam, [600], name="Eli")
    rollups.refresh(now=now + timedelta(hours=1))
    urls = [
        # The minutes move on while the test runs: any number of them.
        (f"/inbox/{line.pk}/?sort=sla", r"Reply overdue \d+ min"),
        (f"/inbox/{line.pk}/?view=breached", r"Reply overdue \d+ min"),
        (f"/inbox/{line.pk}/c/{late.pk}/", r"Reply overdue \d+ min"),
        ("/inbox/notifications/", "Reply overdue|Breaches per day"),
        (f"/lines/{line.pk}/sla/", "Service-level targets of Front Desk"),
        ("/reports/", "Service-level breaches per day"),
    ]
    problems = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        for username, scheme in (("sam", "light"), ("avery", "dark")):
            context = browser.new_context(viewport=PHONE, bypass_csp=True, color_scheme=scheme)
            page = context.new_page()
            log_in(page, live_url, username)
            for url, words in urls:
                if url.startswith("/lines/") and username == "sam":
                    continue  # Admins only
                for size in (PHONE, DESKTOP):
                    page.set_viewport_size(size)
                    page.goto(live_url + url)
                    expect(page.locator(f"text=/{words}/ >> visible=true").first).to_be_visible()
                    badge = page.locator("#notification-badge")
                    expect(badge).to_contain_text("Alerts")
                    where = f"{size['width']}px {scheme} {url}"
                    if size is PHONE:
                        problems += [f"{where}: too wide: {x}" for x in page.evaluate(WIDTH_CHECK)]
                    name = url.strip("/").split("?")[0].replace("/", "-")
                    tag = url.split("?")[1].replace("=", "-") if "?" in url else "page"
                    page.screenshot(
                        path=str(SHOTS / f"sla-{scheme}-{size['width']}-{name}-{tag}.png")
                    )
                    page.add_script_tag(path=str(AXE))
                    problems += [f"{where}: axe {item}" for item in page.evaluate(AXE_RUN)]
            context.close()
        browser.close()
        connections.close_all()
    assert not problems, "\n".join(problems)
