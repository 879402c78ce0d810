"""In Chromium: an agent replies in the customer's quiet hours, is asked once, keeps the text
and sends it anyway. Screenshots land in test-artifacts/screenshots/."""

import re
import uuid
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.inbox.test_inbox_browser import (  # noqa: F401
    browser_page,
    demo,
    live_url,
    log_in,
    shot,
)
from textdesk.contacts import quiet
from textdesk.conversations.models import Conversation, Message, ScheduledText
from textdesk.dashboards.models import Dashboard

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.quiet_hours]


def axe_problems(page) -> list:
    """Serious or critical axe findings (the every-screen test's check, on this state)."""
    from tests.project.test_every_screen_browser import AXE, AXE_RUN

    page.evaluate(AXE.read_text())  # through the debugger: the page's CSP stays as it is
    return page.evaluate(AXE_RUN)


def quiet_now_for(contact, line) -> None:
    """A window that makes it quiet now in the contact's clock, at any hour."""
    local = quiet.clock_for(contact, line).local
    if local.hour < 22:
        start = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
        Dashboard.objects.filter(pk=line.pk).update(quiet_start=start, quiet_end=time(0))
    else:
        Dashboard.objects.filter(pk=line.pk).update(
            quiet_start=time(0), quiet_end=time(local.hour - 1)
        )


def test_quiet_hours_ask_then_send_anyway(demo, browser_page, live_url, sandbox_server):  # noqa: F811
    """An agent replying in quiet hours is asked once, keeps the text, sends anyway."""
    page, errors = browser_page
    line = demo["line"]
    conversation = (
        Conversation.objects.filter(dashboard=line, contact__opted_out_at=None)
        .filter(contact__is_blocked=False)
        .order_by("-last_message_at")
        .first()
    )
    contact = conversation.contact
    quiet_now_for(contact, line)
    line.refresh_from_db()
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    composer = page.locator("#composer")
    composer.locator("summary", has_text="Send later").click()
    expect(composer.locator("[data-contact-clock]")).to_contain_text(f"for {contact.name}")
    expect(composer.locator("[data-contact-clock]")).to_contain_text("quiet hours until")

    body = "Your water heater is in; we can install it Monday."
    page.fill("#id_body", body)
    composer.locator(".composer-foot").get_by_role("button", name="Send").click()
    ask = page.locator("#composer [data-quiet-ask]")
    expect(ask).to_contain_text(f"for {contact.name} in ")
    expect(ask).to_contain_text("Send anyway?")
    expect(page.locator("#id_body")).to_have_value(body)
    assert not Message.objects.filter(body=body).exists()
    shot(page, "40-quiet-hours-ask")
    assert axe_problems(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "41-quiet-hours-ask-phone")
    page.set_viewport_size({"width": 1440, "height": 900})

    composer.locator(".composer-foot").get_by_role("button", name="Send anyway").click()
    expect(page.locator("#thread-log")).to_contain_text(body)
    expect(page.locator("#composer [data-quiet-ask]")).to_have_count(0)
    expect(page.locator("#id_body")).to_have_value("")
    deadline = datetime.now() + timedelta(seconds=20)
    while datetime.now() < deadline:
        sent = Message.objects.filter(body=body).first()
        if sent is not None and sent.status == "sent":
            break
        page.wait_for_timeout(100)
    assert Message.objects.get(body=body).status == "sent"
    counters = sandbox_server.control.counters(demo["key"])
    assert sum(d["count"] for d in counters["sent"] if d["body"] == body) == 1
    # Send now of a scheduled text asks too, on its own page.
    item = ScheduledText.objects.create(
        dashboard=line,
        conversation=conversation,
        contact_name=contact.name,
        body="Reminder: we come Monday at 9.",
        due_at=timezone.now() + timedelta(days=1),
        time_zone="America/New_York",
        client_key=uuid.uuid4(),
    )
    page.goto(f"{live_url}/inbox/{line.pk}/scheduled/")
    page.locator(f"#s-{item.pk}").get_by_role("button", name="Send now").click()
    expect(page.locator("[data-quiet-ask]")).to_contain_text("Send anyway?")
    shot(page, "42-quiet-hours-send-now")
    assert axe_problems(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "43-quiet-hours-send-now-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="Send anyway").click()
    page.wait_for_url(re.compile(r"/scheduled/$"))
    item.refresh_from_db()
    assert item.status == "released"
    # The questions answered 409 (the browser logs them); nothing else went wrong.
    assert [e for e in errors if "status of 409" not in e] == []
