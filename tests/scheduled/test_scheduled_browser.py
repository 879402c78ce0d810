"""In Chromium: an agent schedules a text from the composer (with a saved reply and a file), edits
it and cancels it; nothing reaches Text Request. Screenshots land in test-artifacts/screenshots/."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

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
from textdesk.conversations import scheduled
from textdesk.conversations.models import Conversation, ScheduledText
from textdesk.dashboards.models import SavedReply

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def local(moment, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def test_agent_schedules_edits_and_cancels_a_text(demo, browser_page, live_url, sandbox_server):  # noqa: F811
    page, errors = browser_page
    line = demo["line"]
    conversation = (
        Conversation.objects.filter(dashboard=line, contact__opted_out_at=None)
        .filter(contact__is_blocked=False)
        .order_by("-last_message_at")
        .first()
    )
    zone = ZoneInfo(scheduled.line_zone(line.pk))
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    composer = page.locator("#composer")
    composer.locator("summary", has_text="Send later").click()
    expect(composer.locator("#send-at-zone")).to_contain_text(zone.key)

    # A time in the past: refused, the typed text kept.
    page.fill("#id_body", "Your technician arrives tomorrow at 9.")
    page.fill("#id_send_at", local(timezone.now() - timedelta(hours=2), zone))
    composer.get_by_role("button", name="Schedule").click()
    expect(page.locator("#composer .send-later .form-error")).to_contain_text("already passed")
    expect(page.locator("#id_body")).to_have_value("Your technician arrives tomorrow at 9.")

    page.fill("#id_send_at", local(timezone.now() + timedelta(days=1), zone))
    # With "Send later" open, Enter schedules (it never sends now).
    page.locator("#id_body").press("Enter")
    entry = page.locator("#thread-log .sched-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Your technician arrives tomorrow at 9.")
    expect(entry).to_contain_text("Scheduled · leaves")
    expect(page.locator("#id_body")).to_have_value("")
    shot(page, "30-scheduled-in-thread")
    item = ScheduledText.objects.get(conversation=conversation)

    entry.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/scheduled/\d+/edit/"))
    page.fill("#id_body", "Your technician arrives tomorrow at 10.")
    later = timezone.now() + timedelta(days=2)
    page.fill("#id_send_at", local(later, zone))
    shot(page, "31-scheduled-edit")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/c/{conversation.pk}/"))
    expect(entry).to_contain_text("Your technician arrives tomorrow at 10.")
    item.refresh_from_db()
    assert item.body == "Your technician arrives tomorrow at 10."
    assert item.due_input == local(later, zone)

    page.get_by_role("link", name="Scheduled texts").click()
    page.wait_for_url(re.compile(r"/scheduled/$"))
    expect(page.locator(f"#s-{item.pk}")).to_contain_text("tomorrow at 10")
    shot(page, "32-scheduled-view")
    page.locator(f"#s-{item.pk}").get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Nothing scheduled")).to_be_visible()
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.CANCELLED
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    expect(page.locator("#thread-log .sched-entry")).to_have_count(0)
    counters = sandbox_server.control.counters(demo["key"])
    assert not [d for d in counters["sent"] if "technician arrives" in d["body"]]
    # The refused past time answered 400 (the browser logs it); nothing else went wrong.
    assert [e for e in errors if "status of 400" not in e] == []


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_send_later_with_a_saved_reply_and_a_file(demo, browser_page, live_url, sandbox_server):  # noqa: F811
    """The composer's / picker and its files work in Send later and in Edit; the Scheduled view
    also shows, read only, what was scheduled in Text Request's own app (the demo seeds some)."""
    page, errors = browser_page
    line = demo["line"]
    SavedReply.objects.create(dashboard=line, shortcut="visit", body="See you at the visit.")
    SavedReply.objects.create(dashboard=line, shortcut="thanks", body="Thanks for choosing us!")
    conversation = (
        Conversation.objects.filter(dashboard=line, contact__opted_out_at=None)
        .filter(contact__is_blocked=False)
        .order_by("-last_message_at")
        .first()
    )
    zone = ZoneInfo(scheduled.line_zone(line.pk))
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    composer = page.locator("#composer")
    composer.locator("summary", has_text="Send later").click()
    body = page.locator("#id_body")
    body.press_sequentially("/vis")
    expect(page.locator("#saved-replies")).to_be_visible()
    body.press("Tab")  # the picker takes the key
    expect(body).to_have_value("See you at the visit.")
    composer.locator("input[type=file]").set_input_files(
        [{"name": "map.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(composer.locator("[data-attach-previews] li")).to_have_count(1)
    page.fill("#id_send_at", local(timezone.now() + timedelta(days=1), zone))
    shot(page, "33-send-later-reply-and-file")
    composer.get_by_role("button", name="Schedule").click()
    entry = page.locator("#thread-log .sched-entry")
    expect(entry).to_contain_text("See you at the visit.")
    expect(entry).to_contain_text("map.png")
    item = ScheduledText.objects.get(conversation=conversation)
    assert list(item.attachments.values_list("name", flat=True)) == ["map.png"]

    entry.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/scheduled/\d+/edit/"))
    body = page.locator("#id_body")
    body.press("End")
    body.press_sequentially(" /tha")
    expect(page.locator("#saved-replies")).to_be_visible()
    page.locator("#saved-replies [role=option]", has_text="/thanks").click()
    expect(body).to_have_value("See you at the visit. Thanks for choosing us!")
    page.get_by_label("Remove map.png").check()
    shot(page, "34-scheduled-edit-reply-and-file")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "34-scheduled-edit-phone")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/c/{conversation.pk}/"))
    item.refresh_from_db()
    assert item.body == "See you at the visit. Thanks for choosing us!"
    assert not item.attachments.exists()

    page.goto(f"{live_url}/inbox/{line.pk}/scheduled/")
    theirs = page.locator("h2", has_text="Created in Text Request")
    expect(theirs).to_be_visible()
    expect(page.locator(".tr-scheduled")).to_have_count(3)
    expect(page.locator(".tr-scheduled").first).to_contain_text("created in Text Request")
    shot(page, "35-scheduled-view-with-text-request")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "35-scheduled-view-phone")
    counters = sandbox_server.control.counters(demo["key"])
    assert counters["calls"].get("UploadMms", 0) == 0  # nothing left yet
    assert errors == []
