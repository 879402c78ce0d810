# ruff: noqa: F811  (the browser fixtures are imported from test_inbox_browser)
"""Every page of every role, by machine: nothing wider than a phone, no serious accessibility fault.

A demo account of the sandbox is connected and synced; then each role (Admin, Agent, Finance)
signs in and opens every page it may open:
- at 390x844, no element may reach past the viewport unless a scroll container of its own (a
  table wrapper, a tab strip) holds it: content cut off by `overflow:hidden`, or a page that
  scrolls sideways, fails;
- at 390x844 and 1440x900 in the light colour scheme, and at 1440x900 in the dark one, axe-core
  (vendored in tests/vendor/, injected here only, never served to users; colour contrast
  included) finds no serious or critical violation.
The failure lists every page and element at once, so one run shows the whole picture.
"""

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.db import connections  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import make_user  # noqa: E402
from tests.inbox.test_inbox_browser import CHROMIUM_ARGS, SHOTS, demo, live_url  # noqa: E402, F401
from textdesk.accounts.models import User  # noqa: E402
from textdesk.cases.models import Case  # noqa: E402
from textdesk.contacts.models import Contact, Group  # noqa: E402
from textdesk.conversations import sla  # noqa: E402
from textdesk.conversations.models import Attachment, Conversation, ScheduledText  # noqa: E402
from textdesk.dashboards.models import SavedReply, SlaPolicy  # noqa: E402
from textdesk.payments.models import Payment  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# Elements past the right edge whose nearest clipping or scrolling ancestor is not a scroll
# container inside the viewport. Hidden things and deliberate off-screen things (the skip link)
# do not count; only the outermost offender of each subtree is reported.
WIDTH_CHECK = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  const seen = new Set();
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  if (document.documentElement.scrollWidth > vw + 1) {
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px');
  }
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || r.right <= vw + 1 || r.right <= 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.position === 'fixed') continue;
    if (el.closest('[hidden], .visually-hidden, details:not([open]) > :not(summary)')) continue;
    let ok = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'visible') continue;
      const ar = a.getBoundingClientRect();
      ok = (ox === 'auto' || ox === 'scroll') && ar.right <= vw + 1;
      break;
    }
    if (ok) continue;
    let p = el.parentElement, nested = false;
    while (p) { if (seen.has(p)) { nested = true; break; } p = p.parentElement; }
    seen.add(el);
    if (!nested) out.push(describe(el) + ' reaches ' + Math.round(r.right) + 'px');
  }
  return out;
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ' (' + v.impact + '): ' +
      v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '')
        .replace(/\\s+/g, ' ').slice(0, 160)).join(' | '));
}"""


def pages(line) -> list[str]:
    """Every full page (not the htmx partials, downloads or POST-only endpoints)."""
    conversation = Conversation.objects.filter(dashboard=line).order_by("-last_message_at").first()
    contact = Contact.objects.filter(dashboard=line).order_by("pk").first()
    payment = Payment.objects.order_by("pk").first()
    group = Group.objects.order_by("pk").first()
    reply = SavedReply.objects.order_by("pk").first()
    case = Case.objects.order_by("pk").first()
    staff = User.objects.order_by("pk").first()
    urls = [
        reverse("conversations:line", args=[line.pk]),
        reverse("conversations:conversation", args=[line.pk, conversation.pk]),
        reverse("conversations:new", args=[line.pk]),
        reverse("contacts:list"),
        reverse("contacts:detail", args=[contact.pk]),
        reverse("contacts:new"),
        reverse("contacts:import"),
        reverse("contacts:groups"),
        reverse("contacts:group_new"),
        reverse("payments:list"),
        reverse("payments:new"),
        reverse("payments:follow_up"),
        reverse("cases:list"),
        reverse("cases:settings"),
        reverse("reports:show"),
        reverse("reports:hours"),
        reverse("accounts:staff"),
        reverse("accounts:staff_new"),
        reverse("accounts:staff_edit", args=[staff.pk]),
        reverse("accounts:preferences"),
        reverse("accounts:password_change"),
        reverse("audit:list"),
        reverse("dashboards:list"),
        reverse("dashboards:line", args=[line.pk]),
        reverse("dashboards:agents", args=[line.pk]),
        reverse("dashboards:rename", args=[line.pk]),
        reverse("dashboards:assignment", args=[line.pk]),
        reverse("dashboards:sla", args=[line.pk]),
        reverse("conversations:notifications"),
        reverse("dashboards:texting", args=[line.pk]),
        reverse("dashboards:new"),
        reverse("dashboards:connections"),
        reverse("dashboards:connection", args=[line.connection_id]),
        reverse("dashboards:connection_new"),
        reverse("replies:list"),
        reverse("replies:new"),
        reverse("sync:status"),
    ]
    if payment:
        urls.append(reverse("payments:detail", args=[payment.pk]))
    if group:
        urls += [
            reverse("contacts:group_edit", args=[group.pk]),
            reverse("contacts:group_members", args=[group.pk]),
        ]
    if reply:
        urls.append(reverse("replies:edit", args=[reply.pk]))
    if case:
        urls.append(reverse("cases:detail", args=[case.pk]))
    urls.append(reverse("reports:hours_edit", args=[line.pk]))
    urls.append(reverse("conversations:scheduled", args=[line.pk]))
    waiting = ScheduledText.objects.filter(dashboard=line, status="scheduled").first()
    if waiting:
        urls.append(reverse("conversations:scheduled_edit", args=[line.pk, waiting.pk]))
    return urls


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def world(demo):
    """The demo line with something on every page: a group, a saved reply, a case, hours."""
    line = demo["line"]
    make_user("avery", "Admin")
    make_user("fran", "Finance")
    contact = Contact.objects.filter(dashboard=line).order_by("pk").first()
    group = Group.objects.get_or_create(
        dashboard=line, group_id=9001, defaults={"name": "Spring tune-ups"}
    )[0]
    contact.groups.add(group)
    SavedReply.objects.get_or_create(
        dashboard=line, shortcut="omw", defaults={"body": "We are on our way."}
    )
    conversation = Conversation.objects.filter(dashboard=line).first()
    Case.objects.create(
        conversation=conversation,
        dashboard=line,
        subject="Water heater leaking",
        status=Case.Status.CREATED,
        case_id=501,
        code="HS-501",
        state_name="In progress",
        opened_at=timezone.now() - timedelta(hours=3),
    )
    # SLA targets: clocks in the list and the thread, the Breached view's data.
    SlaPolicy.objects.create(
        dashboard=line, first_response_minutes=15, next_response_minutes=30, resolution_minutes=480
    )
    sla.recount_line(line.pk)
    # A text waiting to leave and one skipped: the thread, the Scheduled view and its edit page.
    shown = Conversation.objects.filter(dashboard=line).order_by("-last_message_at").first()
    for status, reason in (("scheduled", ""), ("skipped", "Not sent: This contact is blocked.")):
        item = ScheduledText.objects.create(
            dashboard=line,
            conversation=shown,
            contact_name=shown.contact.name,
            body="Your technician arrives between 9 and 11 tomorrow.",
            due_at=timezone.now() + timedelta(days=1 if status == "scheduled" else -1),
            time_zone="America/New_York",
            status=status,
            skip_reason=reason,
            client_key=uuid.uuid4(),
        )
        # With a file: the thread, the Scheduled view and the edit page list it.
        Attachment.objects.create(
            scheduled=item, position=0, name="map.png", content_type="image/png", size=3
        )
    return demo


def audit(
    base, username, line, *, scheme="light", widths=(PHONE, DESKTOP), system=None
) -> list[str]:
    """Walk every page as ``username`` in ``scheme``; the browser's own scheme is ``system``
    (the same unless a person's Preferences chose another)."""
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        # axe is injected as a script tag: the test's context may bypass our CSP to do it.
        context = browser.new_context(
            viewport=PHONE, bypass_csp=True, color_scheme=system or scheme
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, base, username)
        only = os.environ.get("SCREENS_ONLY")  # a substring of the URLs to walk, when debugging
        for url in pages(line):
            if only and only not in url:
                continue
            for size in widths:
                page.set_viewport_size(size)
                response = page.goto(base + url)
                if response.status in (403, 404):
                    break  # not this role's page: its own walk covers the page itself
                page.wait_for_load_state("networkidle")
                where = f"{username} {size['width']}px {scheme} {url}"
                if response.status != 200:
                    problems.append(f"{where}: HTTP {response.status}")
                    break
                if size is PHONE:
                    wide = page.evaluate(WIDTH_CHECK)
                    problems += [f"{where}: too wide: {item}" for item in wide]
                if size is PHONE or scheme == "dark":
                    name = f"screen-{username}-{scheme}-{url.strip('/').replace('/', '-')}"
                    name += "" if size is PHONE else f"-{size['width']}"
                    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
                page.add_script_tag(path=str(AXE))
                problems += [f"{where}: axe {item}" for item in page.evaluate(AXE_RUN)]
        connections.close_all()
        context.close()
        browser.close()
    return problems


@pytest.mark.parametrize("username", ["avery", "sam", "fran"])
def test_every_page_fits_a_phone_and_passes_axe(world, live_url, username):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = audit(live_url, username, world["line"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username", ["avery", "sam", "fran"])
def test_every_page_passes_axe_in_the_dark(world, live_url, username):
    """Dark as the system asks (prefers-color-scheme), and for Finance as Preferences chose it
    on a light system, with axe's colour contrast; at the desktop width, whose inbox shows every
    pane at once (the screenshots of both widths are in test-artifacts/screenshots/)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    system = "dark"
    if username == "fran":
        User.objects.filter(username="fran").update(theme=User.Theme.DARK)
        system = "light"
    problems = audit(live_url, username, world["line"], scheme="dark", system=system,
                     widths=(DESKTOP,))  # fmt: skip
    assert not problems, "\n".join(problems)
