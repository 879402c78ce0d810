"""The whole agent journey in Chromium, against a demo account of the sandbox synced into the db.

Screenshots of each state land in test-artifacts/screenshots/.
"""

import os
import re
import sys
import time
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.servers.basehttp import WSGIServer  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.conftest import make_user  # noqa: E402
from textdesk.conversations.models import Conversation, Message  # noqa: E402
from textdesk.dashboards.services import connect  # noqa: E402
from textdesk.payments.models import Payment  # noqa: E402
from textdesk.sync.tasks import sync_dashboard  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120">'
    '<rect width="160" height="120" fill="#cbd5e1"/>'
    '<text x="80" y="66" font-size="14" text-anchor="middle" fill="#334155">MMS picture'
    "</text></svg>"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _SerialWSGIServer(WSGIServer):
    """One request at a time (Django then closes each connection, so none can starve)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


class _SerialLiveServerThread(LiveServerThread):
    server_class = _SerialWSGIServer


@pytest.fixture
def live_url(transactional_db):
    """The app served from a thread, like pytest-django's live_server.

    On in-memory SQLite every thread shares the test's one connection, and concurrent requests
    (the page's polls, the sandbox's webhooks, an action) would interleave transactions on it:
    there the server handles one request at a time. PostgreSQL gets the threaded server.
    """
    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread_class = _SerialLiveServerThread if shared else LiveServerThread
    thread = thread_class("localhost", StaticFilesHandler, connections_override=shared, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()
    for conn in shared.values():
        conn.dec_thread_sharing()


def keep_failed_page(page, name: str) -> None:
    """What the browser showed when a test failed: a full-page PNG and the HTML in
    test-artifacts/failures/, and the address and visible text on stderr (CI prints it)."""
    failures = SHOTS.parent / "failures"
    failures.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=failures / f"{name}.png", full_page=True)
        (failures / f"{name}.html").write_text(page.content())
        text = page.locator("body").inner_text(timeout=2_000)
    except Exception as exc:  # noqa: BLE001 - a closed page must not hide the test's failure
        print(f"the failed page could not be kept: {exc}", file=sys.stderr)
        return
    print(f"The page at failure: {page.url}\n{text[:3000]}", file=sys.stderr)


@pytest.fixture
def browser_page(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        # The network is closed: MMS pictures (Text Request's storage) get a stand-in image.
        page.route(
            re.compile(r"^https://"),
            lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=PICTURE),
        )
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => console.error("
            "'CSP', e.violatedDirective, e.target && e.target.outerHTML"
            " ? e.target.outerHTML.slice(0, 300) : String(e.target)));"
        )
        errors = []
        page.on(
            "console", lambda m: m.type == "error" and errors.append(f"{m.text} at {m.location}")
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, errors
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            keep_failed_page(page, request.node.name)
        # Under Playwright's loop the test's ORM calls got their own connection: close it, or
        # PostgreSQL cannot drop the test database at the end.
        connections.close_all()
        context.close()
        browser.close()


@pytest.fixture
def demo(live_url, sandbox_server, settings):
    """A demo-seeded sandbox account, connected and synced, with an agent on its line."""
    settings.TEXTDESK_PUBLIC_URL = live_url
    control = sandbox_server.control
    control.clear_faults()
    key, dashboard_ids = control.new_account(seed="demo", contacts=12, messages=80, dashboards=1)
    control.configure(api_key=key, rate_limit=2000)
    connection = connect(name="Demo account", api_url=sandbox_server.api_url, api_key=key)
    connection.rate_limit = 2000
    connection.save()
    line = connection.dashboards.get()
    sync_dashboard.delay(line.pk, full=True)
    agent = make_user("sam", "Agent", lines=[line], last_name="Rivera")
    yield {"key": key, "dashboard_id": dashboard_ids[0], "line": line, "agent": agent}
    # Let the sandbox's last webhooks and callbacks land before the server stops.
    control.wait_idle()


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def delivered(control, key, body) -> int:
    counters = control.counters(key)
    return sum(item["count"] for item in counters["delivered"] if item["body"] == body)


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox/\d+/"))


def test_agent_journey(demo, browser_page, live_url, sandbox_server):
    page, errors = browser_page
    control = sandbox_server.control
    line = demo["line"]
    assert Conversation.objects.filter(dashboard=line).count() > 3, "the demo sync found nothing"

    log_in(page, live_url, "sam")
    expect(page.locator("#rows .row").first).to_be_visible()
    shot(page, "01-inbox")

    # j/k move through the list, o opens, / goes to search.
    rows = page.locator("#rows .row")
    page.locator("#list-title").click()
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-selected"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("is-selected"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("is-selected"))
    with page.expect_response(re.compile(r"/c/\d+/")):
        page.keyboard.press("o")
    expect(page.locator("#conversation[data-open]")).to_be_visible()
    expect(rows.nth(0)).to_have_class(re.compile("is-open"))
    page.locator("#list-title").click()
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.type("j")  # typing in a field is never a shortcut
    expect(page.locator("#id_q")).to_have_value("j")
    page.fill("#id_q", "")
    page.locator("#list-title").click()

    # Open a conversation of someone who can be texted.
    conversation = (
        Conversation.objects.filter(
            dashboard=line,
            is_archived=False,
            is_resolved=False,
            contact__opted_out_at__isnull=True,
            contact__is_blocked=False,
        )
        .select_related("contact")
        .order_by("-last_message_at")
        .first()
    )
    assert conversation is not None
    with page.expect_response(lambda r: f"/c/{conversation.pk}/" in r.url):
        page.click(f"#row-{conversation.pk} .row-link")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    page.wait_for_url(re.compile(rf"/c/{conversation.pk}/"))
    expect(page.locator("#thread-title")).to_have_text(conversation.contact.name)
    expect(page.locator("#thread-log")).to_have_attribute("aria-live", "polite")
    shot(page, "02-conversation")

    # Reply with Enter: it shows at once and reaches Text Request exactly once.
    body = "Thanks! Your table for 4 is confirmed at 7pm."
    composer = page.locator("#composer textarea[name=body]")
    composer.fill(body)
    expect(page.locator("#counter")).to_contain_text(f"{len(body)} characters · 1 SMS")
    composer.press("Enter")
    sent = page.locator("#thread-log .msg-out", has_text=body)
    expect(sent).to_be_visible()
    expect(sent.locator(".msg-meta")).to_contain_text(re.compile("Delivered|Sent"), timeout=8000)
    expect(sent.locator(".sender")).to_have_text("Sam Rivera")
    expect(composer).to_have_value("")
    control.wait_idle()
    assert delivered(control, demo["key"], body) == 1
    assert Message.objects.filter(body=body).count() == 1
    shot(page, "03-replied")

    # Tag with the keyboard: t opens the picker.
    page.locator("#thread-title").click()
    page.keyboard.press("t")
    picker = page.locator("#tag-details")
    expect(picker).to_have_attribute("open", "")
    first_tag = picker.locator("label.tag-option").first
    tag_name = first_tag.inner_text().strip()
    checkbox = first_tag.locator("input")
    if checkbox.is_checked():
        first_tag = picker.locator("label.tag-option").nth(1)
        tag_name = first_tag.inner_text().strip()
        checkbox = first_tag.locator("input")
    checkbox.check()
    shot(page, "04-tag-picker")
    picker.locator("button[type=submit]").click()
    expect(page.locator("#conversation-status .tag-chips")).to_contain_text(tag_name)
    shot(page, "05-tagged")

    # Resolve, archive, unarchive.
    page.click("#conversation-status [data-key=x]")
    expect(page.locator("#conversation-status .thread-badges")).to_contain_text("Resolved")
    expect(page.locator("#conversation-status [data-key=x]")).to_contain_text("Reopen")
    shot(page, "06-resolved")
    page.click("#conversation-status [data-key=e]")
    expect(page.locator("#conversation-status .thread-badges")).to_contain_text("Archived")
    shot(page, "07-archived")
    page.click("#conversation-status [data-key=e]")
    expect(page.locator("#conversation-status [data-key=e]")).to_contain_text("Archive")
    expect(page.locator("#conversation-status .thread-badges")).not_to_contain_text("Archived")
    conversation.refresh_from_db()
    assert conversation.is_resolved and not conversation.is_archived
    shot(page, "08-unarchived")

    # Request a payment.
    page.click("#payment-form summary")
    page.fill("#payment-form input[name=amount]", "42.50")
    page.fill("#payment-form textarea[name=message]", "Here is the link for your deposit.")
    page.fill("#payment-form input[name=reference_number]", "INV-1001")
    page.click("#payment-form button[type=submit]")
    payment_card = page.locator("#payments .payment", has_text="$42.50")
    expect(payment_card).to_be_visible()
    (
        expect(payment_card.locator("button", has_text="Send reminder")).to_be_visible(
            timeout=8000
        ),
        list(Payment.objects.values("status", "failure_reason", "payment_id")),
    )
    shot(page, "09-payment-requested")

    # The one reminder: sent once, then impossible.
    payment_card.locator("button", has_text="Send reminder").click()
    expect(payment_card.locator("button", has_text="Reminder sent")).to_be_disabled()
    payment = Payment.objects.get(reference_number="INV-1001")
    assert payment.reminder_was_sent
    second = page.evaluate(
        """async (url) => {
            const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
            const seen = document.querySelector('input[name=seen]').value;
            const body = new URLSearchParams({csrfmiddlewaretoken: token, seen: seen});
            const r = await fetch(url, {method: 'POST', body, headers: {'HX-Request': 'true'}});
            return r.status;
        }""",
        f"/inbox/{line.pk}/c/{conversation.pk}/payments/{payment.pk}/remind/",
    )
    assert second in (400, 409)
    shot(page, "10-reminder-sent")

    # A customer's text arrives live, and what the agent is typing stays.
    composer.fill("Half-typed answer")
    phone = conversation.contact.phone_number
    started = time.monotonic()
    control.inbound(demo["key"], demo["dashboard_id"], phone, "Is there parking nearby?")
    expect(page.locator("#thread-log .msg-in", has_text="Is there parking nearby?")).to_be_visible(
        timeout=5000
    )
    arrived = time.monotonic() - started
    expect(composer).to_have_value("Half-typed answer")
    shot(page, "11-inbound-live")
    assert arrived < 4, f"the inbound text took {arrived:.1f}s to appear"

    # The guard: sending now would answer without having seen that text? It was shown, but the
    # composer still holds the old snapshot, so the send pauses and says what changed.
    composer.press("Enter")
    expect(page.locator("#composer .guard")).to_contain_text("Is there parking nearby?")
    expect(composer).to_have_value("Half-typed answer")
    shot(page, "12-guard")
    composer.fill("")

    # STOP disables the composer, with the reason.
    control.inbound(demo["key"], demo["dashboard_id"], phone, "STOP")
    expect(page.locator("#composer .composer-blocked")).to_contain_text("opted out", timeout=6000)
    expect(page.locator("#composer textarea")).to_be_disabled()
    shot(page, "13-opted-out")

    # Help and the phone layout.
    page.locator("#thread-title").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    shot(page, "14-shortcuts-help")
    page.keyboard.press("Escape")

    # Single-key shortcuts can be switched off (WCAG 2.1.4).
    type(demo["agent"]).objects.filter(pk=demo["agent"].pk).update(shortcuts_enabled=False)
    page.reload()
    page.locator("#thread-title").click()
    page.keyboard.press("?")
    page.keyboard.press("e")
    expect(page.locator("#shortcuts-help")).not_to_be_visible()
    expect(page.locator("#conversation-status [data-key=e]")).to_contain_text("Unarchive")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot(page, "15-phone-thread")
    page.goto(f"{live_url}/inbox/{line.pk}/")
    shot(page, "16-phone-list")
    # The guard and the refused second reminder answer 409 on purpose; nothing else may fail.
    unexpected = [e for e in errors if "status of 409" not in e]
    assert not unexpected, "\n".join(unexpected)


def test_team_journey(demo, browser_page, live_url, sandbox_server):
    """A new conversation, retrying a failed text, an internal note, a bulk resolve and a
    browser notification while the tab is hidden."""
    from django.utils import timezone

    page, errors = browser_page
    control = sandbox_server.control
    key, line, agent = demo["key"], demo["line"], demo["agent"]
    make_user("jordan", "Agent", lines=[line])
    type(agent).objects.filter(pk=agent.pk).update(notify_desktop=True)
    log_in(page, live_url, "sam")

    # A new conversation: the number, the text, and the thread opens with it.
    page.click(".list-head a.btn-primary")
    page.fill("input[name=phone_number]", "(615) 555-0199")
    page.fill(".new-form textarea[name=body]", "Hello from the front desk")
    page.click(".new-form button[type=submit]")
    page.wait_for_url(re.compile(r"/c/\d+/"))
    first = page.locator("#thread-log .msg-out", has_text="Hello from the front desk")
    expect(first.locator(".msg-meta")).to_contain_text(re.compile("Delivered|Sent"), timeout=8000)
    shot(page, "20-new-conversation")
    conversation = Conversation.objects.get(dashboard=line, contact__phone_number="6155550199")

    # A text Text Request refused is sent again by the agent's Retry, once.
    failed = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Your order has shipped",
        sender_name="Sam Rivera",
        sent_at=timezone.now(),
        status="failed",
        failure_reason="The carrier refused it",
    )
    page.reload()
    entry = page.locator(f"#m-{failed.pk}")
    expect(entry).to_contain_text("Not sent: The carrier refused it")
    shot(page, "21-failed-text")
    entry.locator("button", has_text="Retry").click()
    expect(page.locator(f"#m-{failed.pk} .msg-meta")).to_contain_text(
        re.compile("Delivered|Sent"), timeout=8000
    )
    control.wait_idle()
    assert delivered(control, key, "Your order has shipped") == 1
    shot(page, "22-retried")

    # An internal note with a mention: in the thread, marked, never sent.
    page.click("#note-form summary")
    page.fill("#note-form textarea", "@jordan they prefer a call after 5pm")
    page.click("#note-form button[type=submit]")
    note = page.locator("#thread-log .note-entry", has_text="they prefer a call after 5pm")
    expect(note).to_contain_text("only staff see this")
    expect(page.locator("#note-form")).to_contain_text("Jordan will see it in Mentions")
    shot(page, "23-note")
    assert not any("5pm" in d["body"] for d in control.counters(key)["sent"])

    # Bulk resolve: a click, then Shift+click selects the range.
    page.goto(f"{live_url}/inbox/{line.pk}/")
    rows = page.locator("#rows .row")
    expect(rows.nth(2)).to_be_visible()
    rows.nth(0).locator(".row-check").click()
    rows.nth(2).locator(".row-check").click(modifiers=["Shift"])
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    picked = page.eval_on_selector_all(
        "#rows .row.is-checked .row-check", "els => els.map(e => Number(e.value))"
    )
    assert len(picked) == 3
    shot(page, "24-bulk-selected")
    page.click("#bulk-form button[value=resolve]")
    expect(page.locator("#bulk-progress")).to_contain_text("3 of 3 finished", timeout=15000)
    page.locator("#bulk-progress summary").click()
    shot(page, "25-bulk-resolved")
    assert Conversation.objects.filter(pk__in=picked, is_resolved=True).count() == 3
    for pk in picked:
        expect(page.locator(f"#row-{pk}")).to_have_count(0)  # gone from the unresolved view

    # A text arrives while the tab is hidden: a browser notification (permission granted).
    page.evaluate(
        """() => {
            window.__notified = [];
            window.Notification = function (title) { window.__notified.push(title); };
            window.Notification.permission = 'granted';
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        }"""
    )
    control.inbound(key, demo["dashboard_id"], "6155550177", "Do you open on Sundays?")
    page.wait_for_function("() => window.__notified.length > 0", timeout=25000)
    assert page.evaluate("window.__notified[0]") == f"New text on {line.name}"
    assert re.match(r"^\(\d+\) ", page.title())
    unexpected = [e for e in errors if "status of 409" not in e]
    assert not unexpected, "\n".join(unexpected)
