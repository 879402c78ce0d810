"""In Chromium: "/" from any page, a search, and a click that opens the thread at that text,
far older than the newest window, highlighted and in view. Screenshots in
test-artifacts/screenshots/search-*.png."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from playwright.sync_api import expect  # noqa: E402

from tests.conftest import make_conversation, make_line, make_user  # noqa: E402
from tests.inbox.test_inbox_browser import browser_page, live_url, log_in, shot  # noqa: E402, F401
from tests.search_helpers import add_note, add_text  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_search_and_jump_to_an_old_text(browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    line = make_line(name="Front desk")
    agent = make_user("sam", "Agent", lines=[line])
    from django.utils import timezone

    convo = make_conversation(line, first_name="Dana", history_synced_at=timezone.now())
    texts = [add_text(convo, f"Routine update number {i}", minutes_ago=900 - i) for i in range(150)]
    target = texts[30]
    target.body = "Can you look at the <b>blue fence</b> by the back gate in March?"
    target.save()
    other = make_conversation(line, first_name="Eli", history_synced_at=timezone.now())
    add_text(other, "The fences were painted blue last week", minutes_ago=2)
    add_note(other, "Blue fence job: paint ordered", author=agent)

    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/contacts/")
    page.keyboard.press("/")
    expect(page.locator("#topbar-search")).to_be_focused()
    page.keyboard.type('"blue fence"')
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    results = page.locator(".search-result")
    expect(results).to_have_count(2)
    # The body's markup is shown as text; the match is marked.
    expect(page.locator(".search-snippet mark").first).to_be_visible()
    assert page.locator(".search-snippet b").count() == 0
    expect(page.locator(".search-result .badge", has_text="Internal note")).to_be_visible()
    shot(page, "search-results")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "search-results-phone")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.locator(".search-result", has_text="Dana").locator("a").click()
    page.wait_for_url(f"**?at={target.pk}*")
    highlighted = page.locator(f"#m-{target.pk}.is-target")
    expect(highlighted).to_be_in_viewport()
    expect(page.get_by_role("link", name="Newer messages")).to_be_attached()
    shot(page, "search-jump-to")
    page.get_by_role("link", name="Newer messages").click()
    expect(page.locator(".thread-log .msg").last).to_contain_text("number")
    assert not [e for e in errors if "favicon" not in e], errors
