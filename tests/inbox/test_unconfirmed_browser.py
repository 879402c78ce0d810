# ruff: noqa: F811  (the browser fixtures are imported from test_inbox_browser)
"""In Chromium: a text Text Request never confirmed waits for the agent, who sends it again once;
an admin sees a webhook event that could not be processed and retries it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.inbox.test_inbox_browser import (  # noqa: F401 (fixtures)
    browser_page,
    delivered,
    demo,
    live_url,
    log_in,
    shot,
)
from tests.webhooks.test_webhooks import event
from textdesk.conversations import outbound
from textdesk.conversations.models import Conversation, Message
from textdesk.webhooks.models import WebhookEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_agent_sends_an_unconfirmed_text_again(
    demo,
    browser_page,
    live_url,
    sandbox_server,
    settings,
):
    settings.TEXTDESK_UNKNOWN_GRACE = 0
    settings.TEXTREQUEST_READ_TIMEOUT = 1.0
    page, errors = browser_page
    control, line = sandbox_server.control, demo["line"]
    conversation = (
        Conversation.objects.filter(
            dashboard=line, is_archived=False, contact__opted_out_at__isnull=True,
            contact__is_blocked=False,
        )
        .order_by("-last_message_at")
        .first()
    )  # fmt: skip
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    # A 500 may have been processed (a 503 was not: it is simply retried).
    control.set_faults(api_key=demo["key"], error_rate=1.0)
    composer = page.locator("#composer textarea")
    composer.fill("Your table for four is ready")
    composer.press("Enter")
    expect(page.locator("#thread-log")).to_contain_text("Your table for four is ready")
    control.clear_faults(demo["key"])
    row = Message.objects.get(body="Your table for four is ready")
    assert row.status == Message.Status.UNKNOWN
    # Beat's next check finds nothing at Text Request: the thread says so, and waits.
    Message.objects.filter(pk=row.pk).update(not_before=None)
    outbound.settle_text(row.pk, now=timezone.now() + timedelta(minutes=2))
    unconfirmed = page.locator("#thread-log .state-failed", has_text="has not confirmed")
    expect(unconfirmed).to_be_visible(timeout=6000)
    assert delivered(control, demo["key"], "Your table for four is ready") == 0
    shot(page, "20-text-unconfirmed")
    # The agent chooses to send it again (after a confirmation): it goes out once.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send again").click()
    expect(unconfirmed).to_have_count(0, timeout=6000)
    control.wait_idle()
    assert delivered(control, demo["key"], "Your table for four is ready") == 1
    row.refresh_from_db()
    assert row.status == Message.Status.SENT
    shot(page, "21-text-sent-again")
    assert not [e for e in errors if "status of 409" not in e], errors


def test_admin_retries_a_dead_webhook_event(demo, browser_page, live_url):
    page, errors = browser_page
    line = demo["line"]
    make_user("ada", "Admin")
    payload = event(line, phone="not-a-phone", body="Lost in transit")
    WebhookEvent.objects.create(
        connection=line.connection, kind="message", key=payload["messageUniqueIdentifier"],
        payload=payload, attempts=5, dead_at=timezone.now(),
        error="InvalidPhoneNumber: “not-a-phone” is not a phone number.",
    )  # fmt: skip
    log_in(page, live_url, "ada")
    page.goto(f"{live_url}/lines/sync/")
    section = page.locator("section[aria-labelledby=dead-events]")
    expect(section).to_contain_text("not-a-phone")
    shot(page, "22-sync-status-dead-event")
    section.get_by_role("button", name="Discard").click()
    page.wait_for_url(re.compile(r"/lines/sync/$"))
    expect(page.locator(".flash, [role=status]").first).to_contain_text("Event discarded")
    expect(page.locator("section[aria-labelledby=dead-events]")).to_have_count(0)
    assert not errors, errors
