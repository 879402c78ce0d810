"""In Chromium: an Admin manages a line's tags and fields, and an agent redacts a text a
customer sent with a card number. Screenshots at desktop and phone widths land in
test-artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.inbox.test_inbox_browser import (  # noqa: F401
    browser_page,
    demo,
    live_url,
    log_in,
    shot,
)
from textdesk.contacts.models import Tag
from textdesk.conversations.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARD = "Sure, my card is 4111 1111 1111 1111, exp 12/29, CVV 123"


def both_widths(page, name):
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, f"{name}-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_admin_manages_tags_and_fields(demo, browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    line = demo["line"]
    make_user("avery", "Admin", last_name="Stone")
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_url}/contacts/tags/?line={line.pk}")
    expect(page.get_by_role("heading", name=re.compile("^Tags"))).to_be_visible()
    page.fill("#id_name", "Card on file")
    page.fill("#id_color", "#0f766e")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator("td", has_text="Card on file")).to_be_visible()
    assert Tag.objects.filter(dashboard=line, name="Card on file").exists()
    page.fill("#id_name", "x" * 60)  # maxlength stops at 50; a duplicate is refused
    page.fill("#id_name", "card on file")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator(".errorlist")).to_contain_text("already has a tag called")
    both_widths(page, "20-tags-and-fields")
    tag = Tag.objects.get(dashboard=line, name="Card on file")
    page.goto(f"{live_url}/contacts/tags/{line.pk}/{tag.pk}/delete/")
    expect(page.get_by_text("It comes off")).to_be_visible()
    both_widths(page, "21-delete-tag-confirm")
    page.get_by_role("button", name="Delete tag").click()
    expect(page.locator("td", has_text="Card on file")).to_have_count(0)
    # the refused duplicate answered 400 on purpose (the form with its reason)
    assert not [e for e in errors if "status of 400" not in e], errors


def test_agent_redacts_a_card_number(demo, browser_page, live_url, sandbox_server):  # noqa: F811
    page, errors = browser_page
    line = demo["line"]
    conversation = (
        Conversation.objects.filter(dashboard=line, contact__opted_out_at__isnull=True)
        .select_related("contact")
        .order_by("-last_message_at")
        .first()
    )
    sandbox_server.control.inbound(
        demo["key"], demo["dashboard_id"], conversation.contact.phone_number, CARD
    )
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    bubble = page.locator(".msg", has_text="4111 1111")
    expect(bubble).to_be_visible(timeout=15_000)
    message = Message.objects.get(conversation=conversation, body=CARD)
    bubble.get_by_role("link", name="Redact…").click()
    expect(page.get_by_role("heading", name="Redact a text")).to_be_visible()
    both_widths(page, "22-redact-confirm")
    page.get_by_role("button", name="Redact this text").click()
    page.wait_for_url(re.compile(rf"/c/{conversation.pk}/"))
    redacted = page.locator(f"#m-{message.pk}")
    expect(redacted).to_contain_text("Redacted by Sam Rivera at")
    expect(page.locator("#thread-log")).not_to_contain_text("4111")
    redacted.scroll_into_view_if_needed()
    both_widths(page, "23-redacted-thread")
    assert not errors, errors
