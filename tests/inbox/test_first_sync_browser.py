"""In Chromium: a line on its first sync shows "Syncing your lines…" (never "All caught up"),
and the inbox fills itself, without a reload by hand, once the conversation list is in."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.conftest import make_conversation, make_line, make_user  # noqa: E402
from tests.inbox.test_inbox_browser import browser_page, live_url, log_in, shot  # noqa: E402, F401
from textdesk.dashboards.models import SyncState  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_inbox_fills_itself_after_the_first_sync(browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    line = make_line(name="Front Desk", first_synced=False)
    make_user("sam", "Agent", lines=[line])
    log_in(page, live_url, "sam")
    expect(page.get_by_role("heading", name="Syncing your lines…")).to_be_visible()
    expect(page.get_by_text("All caught up")).to_have_count(0)
    expect(page.locator("#lines").get_by_text("Syncing…")).to_be_visible()
    shot(page, "first-sync-inbox")

    make_conversation(line, first_name="Robin")
    now = timezone.now()
    SyncState.objects.create(
        dashboard=line, resource="conversations", last_success_at=now, last_full_at=now
    )
    expect(page.locator("#conversation-list").get_by_text("Robin")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("heading", name="Syncing your lines…")).to_have_count(0)
    expect(page.locator("#lines").get_by_text("Syncing…")).to_have_count(0, timeout=15_000)
    shot(page, "first-sync-inbox-filled")
    assert not errors


def test_the_syncing_pages_fit_a_phone_and_pass_axe(live_url):  # noqa: F811
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.inbox.test_inbox_browser import CHROMIUM_ARGS, SHOTS
    from tests.project.test_every_screen_browser import AXE, AXE_RUN, DESKTOP, PHONE, WIDTH_CHECK

    line = make_line(name="Front Desk", first_synced=False)
    make_user("avery", "Admin")
    urls = [
        f"/inbox/{line.pk}/",
        "/payments/",
        "/reports/",
        "/lines/first-sync/?resource=conversations",
    ]
    problems = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport=PHONE, bypass_csp=True, color_scheme=scheme)
            page = context.new_page()
            log_in(page, live_url, "avery")
            for url in urls:
                for size in (PHONE, DESKTOP):
                    page.set_viewport_size(size)
                    page.goto(live_url + url)
                    expect(page.get_by_role("heading", name="Syncing your lines…")).to_be_visible()
                    where = f"{size['width']}px {scheme} {url}"
                    if size is PHONE:
                        problems += [f"{where}: too wide: {x}" for x in page.evaluate(WIDTH_CHECK)]
                        name = url.strip("/").split("?")[0].replace("/", "-")
                        page.screenshot(path=str(SHOTS / f"first-sync-{scheme}-{name}.png"))
                    page.add_script_tag(path=str(AXE))
                    problems += [f"{where}: axe {item}" for item in page.evaluate(AXE_RUN)]
            context.close()
        connections.close_all()
        browser.close()
    assert not problems, "\n".join(problems)
