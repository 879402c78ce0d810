# ruff: noqa: F811 - the browser fixtures are imported from the inbox's journey and requested here
"""In Chromium: a case whose code ASMS now gives to another case says so on its page and in the
conversation's panel, at desktop and phone widths. Screenshots in test-artifacts/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.cases.test_cases_views import make_case
from tests.conftest import make_conversation, make_line, make_user
from tests.inbox.test_inbox_browser import browser_page, live_url, log_in, shot  # noqa: F401

pytestmark = [pytest.mark.browser]
MISMATCH = (
    "ASMS's case IT-1001 does not carry this case's textdesk reference (textdesk-0a1b2c): a "
    "different case, so nothing was overwritten. Was the service desk restored or its address "
    "changed?"
)


def test_a_mismatch_is_shown_on_the_case_page_and_panel(browser_page, live_url):
    page, errors = browser_page
    line = make_line()
    make_user("sam", "Agent", lines=[line])
    conversation = make_conversation(line, first_name="Casey")
    case = make_case(conversation, code="IT-1001", case_id=5001, marker="textdesk-0a1b2c",
                     state_name="Solved", commentary="Replaced the battery.",
                     identity_error=MISMATCH)  # fmt: skip
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/cases/{case.pk}/")
    expect(page.get_by_role("alert")).to_contain_text("nothing was overwritten")
    shot(page, "cases-identity-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot(page, "cases-identity-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    expect(page.locator("#case-panel")).to_contain_text("nothing was overwritten")
    shot(page, "cases-identity-panel")
    assert errors == []
