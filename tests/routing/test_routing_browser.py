# ruff: noqa: F811 - the browser fixtures are imported from the inbox's journey and requested here
"""An agent goes Available from the top bar and a conversation waiting in Unassigned lands in
their Mine view without a reload (desktop and phone; axe on the phone)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_conversation, make_line, make_user
from tests.inbox.test_inbox_browser import SHOTS, browser_page, live_url, log_in  # noqa: F401
from tests.project.test_every_screen_browser import AXE, AXE_RUN, PHONE, WIDTH_CHECK
from tests.routing_helpers import set_rule
from textdesk.audit.models import Entry
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Dashboard

pytestmark = [pytest.mark.browser]


def test_an_agent_goes_available_and_receives_the_waiting_conversation(browser_page, live_url):
    page, errors = browser_page
    line = make_line(name="Front desk")
    set_rule(line, Dashboard.Assignment.ROUND_ROBIN, capacity=5)
    make_user("sam", "Agent", lines=[line], last_name="Rivera")
    waiting = make_conversation(
        line,
        first_name="Casey",
        queued_at=timezone.now(),
        last_message_preview="Is the shop open on Sunday?",
        last_message_direction="R",
    )

    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/?view=mine")
    toggle = page.locator("#availability button")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_have_text("Away")
    expect(page.locator(f"#row-{waiting.pk}")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "routing-away-1440.png"))

    with page.expect_response(re.compile(r"/accounts/availability/")):
        toggle.click()
    expect(page.locator("#availability button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#availability button")).to_have_text("Available")
    # The live poll brings the conversation into Mine, no reload.
    expect(page.locator(f"#row-{waiting.pk}")).to_be_visible(timeout=15_000)
    page.screenshot(path=str(SHOTS / "routing-available-1440.png"))
    waiting.refresh_from_db()
    assert waiting.assigned_to.username == "sam" and waiting.queued_at is None
    assert Entry.objects.filter(kind="assignment_auto", conversation_id=waiting.pk).exists()

    # On a phone: the toggle fits the top bar, nothing scrolls sideways, axe passes.
    phone = page.context.browser.new_context(
        viewport=PHONE, bypass_csp=True, storage_state=page.context.storage_state()
    )
    small = phone.new_page()
    small.goto(f"{live_url}/inbox/{line.pk}/?view=mine")
    expect(small.locator("#availability button")).to_be_visible()
    expect(small.locator("#availability button")).to_have_text("Available")
    assert small.evaluate(WIDTH_CHECK) == []
    small.add_script_tag(path=str(AXE))
    assert small.evaluate(AXE_RUN) == []
    small.screenshot(path=str(SHOTS / "routing-available-390.png"))
    # Going Away from the phone keeps the conversation theirs.
    small.locator("#availability button").click()
    expect(small.locator("#availability button")).to_have_text("Away")
    phone.close()
    assert Conversation.objects.get(pk=waiting.pk).assigned_to.username == "sam"
    assert not errors, errors
