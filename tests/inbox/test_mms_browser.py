# ruff: noqa: F811  (the browser fixtures are imported from test_inbox_browser)
"""In Chromium: an agent attaches pictures to a reply, sees them in the composer, removes one,
is told at once about a file Text Request would refuse, sends, and sees the picture in the
thread, served from Text Request's (the sandbox's) storage; it went out once."""

import copy
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.inbox.test_inbox_browser import (  # noqa: F401 (fixtures)
    browser_page,
    demo,
    live_url,
    log_in,
    shot,
)
from textdesk.conversations.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tiny_png(width=64, height=48) -> bytes:
    """A real PNG (a blue and orange split), so the browser draws a thumbnail."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    blue, orange = b"\x25\x63\xeb", b"\xf5\x9e\x0b"
    row = b"\x00" + blue * (width // 2) + orange * (width - width // 2)
    rows = row * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_agent_attaches_previews_removes_and_sends_a_picture(
    demo, browser_page, live_url, sandbox_server, settings
):
    # The sandbox serves uploads over http from its own port (settings allow the API's origin).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["img-src"].append(sandbox_server.url.rstrip("/"))
    settings.CONTENT_SECURITY_POLICY = policy
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
    composer = page.locator("#composer")
    composer.locator("textarea").fill("Here is the photo of your order")
    files = composer.locator("input[type=file]")
    files.set_input_files(
        [
            {"name": "order.png", "mimeType": "image/png", "buffer": tiny_png()},
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"},
        ]
    )
    previews = composer.locator("[data-attach-previews] li")
    expect(previews).to_have_count(2)
    thumb = previews.nth(0).locator("img")
    assert thumb.get_attribute("src").startswith("blob:")
    page.wait_for_function(
        "() => document.querySelector('[data-attach-previews] img').naturalWidth > 0"
    )
    expect(previews.nth(1)).to_contain_text("invoice.pdf")
    # A file Text Request would refuse is named at once, and left out.
    files.set_input_files(
        [{"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"0" * 1_100_000}]
    )
    error = composer.locator("[data-attach-error]")
    expect(error).to_contain_text("A PDF can be at most 1 MB")
    expect(previews).to_have_count(2)
    shot(page, "30-mms-composer-previews")
    # Remove before sending.
    page.get_by_role("button", name="Remove invoice.pdf").click()
    expect(previews).to_have_count(1)
    expect(error).to_be_hidden()
    assert control.counters(demo["key"])["calls"].get("UploadMms", 0) == 0  # nothing sent yet
    composer.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator("#thread-log .msg-out", has_text="Here is the photo of your order")
    expect(sent).to_be_visible()
    expect(page.locator("#composer [data-attach-previews] li")).to_have_count(0)
    row = Message.objects.get(body="Here is the photo of your order")
    picture = sent.locator(".mms img")
    expect(picture).to_have_count(1, timeout=8000)
    row.refresh_from_db()
    assert row.status == Message.Status.SENT and len(row.mms_media) == 1
    assert picture.get_attribute("src") == row.mms_media[0]
    page.wait_for_function(
        "(src) => [...document.querySelectorAll('#thread-log .mms img')]"
        ".some((img) => img.src === src && img.naturalWidth === 64)",
        arg=row.mms_media[0],
    )
    shot(page, "31-mms-sent-in-thread")
    counters = control.counters(demo["key"])
    assert counters["calls"]["UploadMms"] == 1 and counters["mms_uploads"] == 1
    assert sum(s["count"] for s in counters["sent"] if s["body"] == row.body) == 1
    assert not errors, errors
