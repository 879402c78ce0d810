"""The finance journey in Chromium: filter the payments, see the charts, send three reminders
from the follow-up queue, export the filter as CSV and read it back, open a payment's timeline.

Screenshots land in test-artifacts/screenshots/.
"""

import csv
import io
import os
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.conftest import make_user  # noqa: E402
from tests.inbox.test_inbox_browser import browser_page, live_url, shot  # noqa: E402, F401
from textdesk.dashboards.services import connect  # noqa: E402
from textdesk.outbox.changes import sweep_changes  # noqa: E402
from textdesk.outbox.models import Change  # noqa: E402
from textdesk.payments import services  # noqa: E402
from textdesk.payments.models import Payment  # noqa: E402
from textdesk.sync.tasks import sync_dashboard  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONES = ["6155550171", "6155550172", "6155550173"]


@pytest.fixture
def books(live_url, sandbox_server, settings):  # noqa: F811
    """A demo account synced, and three requests of ours, five days old, never reminded."""
    settings.TEXTDESK_PUBLIC_URL = live_url
    control = sandbox_server.control
    control.clear_faults()
    key, _ = control.new_account(seed="demo", contacts=20, messages=60, dashboards=1)
    control.configure(api_key=key, rate_limit=2000)
    connection = connect(name="Demo account", api_url=sandbox_server.api_url, api_key=key)
    connection.rate_limit = 2000
    connection.save()
    line = connection.dashboards.get()
    sync_dashboard.delay(line.pk, full=True)
    fran = make_user("fran", "Finance", last_name="Okafor")
    ours = []
    for i, phone in enumerate(PHONES):
        payment = services.request_payment(
            dashboard=line, phone_number=phone, user=fran, amount=f"{100 + i}.25",
            message="Your invoice from Blue Ridge", description="Annual service",
            reference_number=f"FIN-{i}", client_key=uuid.uuid4(),
        )  # fmt: skip
        ours.append(payment)
    Payment.objects.filter(pk__in=[p.pk for p in ours]).update(
        requested_at=timezone.now() - timedelta(days=5)
    )
    yield {"key": key, "line": line, "ours": ours, "control": control}
    control.wait_idle()


def reminder_texts(control, key) -> dict:
    found = {}
    for row in control.counters(key)["sent"]:
        if row["body"].startswith("Reminder from"):
            found[row["phone_number"]] = found.get(row["phone_number"], 0) + row["count"]
    return found


def test_finance_journey(books, browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    control, key, ours = books["control"], books["key"], books["ours"]
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", "fran")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # The list with its summary and charts (loaded into the page), then a filter.
    page.goto(f"{live_url}/payments/")
    expect(page.locator("#payment-summary .stat").first).to_be_visible()
    weekly = page.locator("#chart-weekly svg[role=img]")
    expect(weekly).to_be_visible()
    expect(page.locator("#chart-weekly title").first).to_have_text(
        "Requested and collected per week"
    )
    expect(page.locator("#chart-aging svg[role=img]")).to_be_visible()
    shot(page, "payments-01-workspace")
    page.locator("#chart-weekly").scroll_into_view_if_needed()
    page.click("#chart-aging summary")  # the numbers behind the chart
    expect(page.locator("#chart-aging table")).to_be_visible()
    shot(page, "payments-01b-charts")
    page.fill("#f-q", "FIN-")
    page.select_option("#f-state", "open")
    page.click("button:text('Filter')")
    page.wait_for_url(re.compile(r"q=FIN-.*state=open|state=open.*q=FIN-"))
    rows = page.locator("#payment-rows tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#payment-summary")).to_contain_text("$303.75")  # 100.25+101.25+102.25
    page.click("th a:text('Amount')")
    page.wait_for_url(re.compile(r"sort=amount"))
    expect(rows.first).to_contain_text("$102.25")
    expect(page.locator("#payment-summary .stat").first).to_be_visible()
    expect(page.locator("#chart-aging svg")).to_be_visible()
    shot(page, "payments-02-filtered")
    page.go_back()  # the filter lives in the URL: back is the previous view
    page.wait_for_url(re.compile(r"state=open"))
    expect(page.locator("#f-q")).to_have_value("FIN-")

    # Export the filter and read it back.
    with page.expect_download() as download:
        page.click("a:text('Export CSV')")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["reference"] for r in exported) == ["FIN-0", "FIN-1", "FIN-2"]
    assert sorted(r["amount"] for r in exported) == ["100.25", "101.25", "102.25"]
    assert {r["state"] for r in exported} == {"open"}  # five days: not past due yet

    # The follow-up queue: pick our three, send.
    page.click("a:text('Follow-up queue')")
    for payment in ours:
        page.check(f"#pick-{payment.pk}")
    shot(page, "payments-03-queue")
    page.click("button:text('Send reminders to the picked')")
    expect(page.locator("#follow-up .flash")).to_contain_text("3 reminders queued")
    expect(page.locator("#follow-up progress")).to_be_visible()
    shot(page, "payments-04-sending")
    # The paced ones come due (time travel) and the sweeper sends them.
    for _ in range(5):
        Change.objects.filter(status="pending").update(not_before=timezone.now())
        if not sweep_changes(min_age=timedelta(0)):
            break
    expect(page.locator("#follow-up")).to_contain_text("Reminders sent: 3 of 3", timeout=15_000)
    for payment in ours:
        expect(page.locator(f"#pick-{payment.pk}")).to_have_count(0)
    shot(page, "payments-05-sent")
    assert reminder_texts(control, key) == {phone: 1 for phone in PHONES}

    # The payment's timeline.
    page.goto(f"{live_url}/payments/{ours[0].pk}/")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Requested by Fran Okafor")
    expect(timeline).to_contain_text("Reminder sent by Fran Okafor")
    expect(page.locator("a:text('Open the conversation')")).to_be_visible()
    shot(page, "payments-06-timeline")
    assert not errors, errors
