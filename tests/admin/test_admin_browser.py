"""The Admin's journey in Chromium: connect an account (a wrong key refused first), watch its
first sync, create a group, import 200 contacts with 3 bad rows, export and re-import with no
change, a saved reply used by an Agent, delete a contact, and every step in the audit log.

Screenshots land in test-artifacts/screenshots/admin-*.png.
"""

import csv
import io
import re

import pytest

from tests.conftest import make_user
from tests.inbox.test_inbox_browser import CHROMIUM_ARGS, SHOTS, browser_page, live_url  # noqa: F401
from tests.textrequest_helpers import reset_limiter
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact, Group
from textdesk.dashboards.models import Connection
from textdesk.outbox.models import Change
from textdesk.textrequest.client import TextRequestClient, iter_items
from textdesk.textrequest.types import HOOK_EVENTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"admin-{name}.png"), full_page=True)


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.keyboard.press("Enter")  # the keyboard is enough
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def people_csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Phone", "First name", "Last name", "Note"])
    for n in range(count - 3):
        writer.writerow([f"(865) 555-{1000 + n:04d}", f"Guest{n}", "Imported", "from the fair"])
    writer.writerow(["555-12", "Bad", "Number", ""])
    writer.writerow(["865-555-1000", "Twice", "Listed", ""])
    writer.writerow(["", "No", "Number", ""])
    return out.getvalue().encode()


@pytest.fixture
def world(live_url, sandbox_server, settings):  # noqa: F811
    settings.TEXTDESK_PUBLIC_URL = live_url
    control = sandbox_server.control
    control.clear_faults()
    # Like the sandbox's second demo account (`sandbox serve`): one lived-in line.
    key, dashboard_ids = control.new_account(seed="demo", contacts=24, messages=160, dashboards=1)
    control.configure(api_key=key, rate_limit=2000)
    from django.contrib.auth.models import Group as Role
    from django.contrib.auth.models import Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Role, Permission)
    admin = make_user("avery", "Admin")
    yield {"key": key, "dashboard_id": dashboard_ids[0], "api_url": sandbox_server.api_url,
           "control": control, "admin": admin}  # fmt: skip
    control.wait_idle()


def test_admin_journey(world, browser_page, live_url, sandbox_server):  # noqa: F811
    page, errors = browser_page
    log_in(page, live_url, "avery")

    # 1. Connect the account; a wrong key first.
    page.goto(f"{live_url}/lines/connections/")
    page.get_by_role("link", name="Connect an account").click()
    page.fill("#id_name", "Second demo")
    page.fill("#id_api_url", world["api_url"])
    page.fill("#id_api_key", "tr_wrong_0000")
    page.fill("#id_rate_limit", "2000")
    page.get_by_role("button", name="Test and connect").click()
    refused = page.get_by_role("alert")
    assert "refused this API key" in refused.inner_text()
    assert page.input_value("#id_api_key") == ""  # the key is never sent back
    assert page.input_value("#id_name") == "Second demo"  # what was typed stays
    shot(page, "1-wrong-key")
    assert not Connection.objects.exists()
    page.fill("#id_api_key", world["key"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/lines/connections/\d+/$"))
    connection = Connection.objects.get()
    reset_limiter(connection.bucket)
    progress = page.locator("#sync-progress")
    progress.get_by_text("The first sync is finished").wait_for(timeout=60_000)
    assert page.locator("#sync-progress progress").count() == 5
    events = len(HOOK_EVENTS)  # every line subscribes every event the account offers
    page.locator("#webhook-health").get_by_text(f"{events} of {events}").wait_for()
    assert world["key"] not in page.content()
    assert f"••••{world['key'][-4:]}" in page.content()
    shot(page, "2-connected")
    line = connection.dashboards.get()

    # 2. A group.
    page.goto(f"{live_url}/contacts/groups/new/")
    page.fill("#id_name", "Fair visitors")
    page.get_by_role("button", name="Create group").click()
    page.get_by_role("link", name="Fair visitors").wait_for()
    group = Group.objects.get(dashboard=line, name="Fair visitors")
    shot(page, "3-group")

    # 3. Import 200 contacts, 3 of them bad.
    page.goto(f"{live_url}/contacts/import/")
    page.set_input_files(
        "#id_file", {"name": "fair.csv", "mimeType": "text/csv", "buffer": people_csv(200)}
    )
    page.get_by_role("button", name="Upload").click()
    assert page.locator("select#id_col_0").input_value() == "phone"
    shot(page, "4-map")
    page.get_by_role("button", name="Check the file").click()
    bad_rows = page.locator("table", has_text="Problem")
    assert "not a valid US phone number" in bad_rows.inner_text()
    assert "the same number as row 2" in bad_rows.inner_text()
    assert "no phone number" in bad_rows.inner_text()
    assert bad_rows.locator("tbody tr").count() == 3
    shot(page, "5-preview")
    page.get_by_role("button", name="Import 197 contacts").click()
    page.get_by_text("Import finished.").wait_for(timeout=60_000)
    shot(page, "6-imported")
    with TextRequestClient(world["api_url"], world["key"], bucket="check") as api:
        upstream = {c.phone_number for c in iter_items(api.get_contacts, line.dashboard_id)}
    imported = {f"865555{1000 + n:04d}" for n in range(197)}
    assert imported <= upstream

    # The new group filled by search: everyone the search "Guest19" finds.
    page.goto(f"{live_url}/contacts/groups/{group.pk}/members/")
    page.fill("#id_q", "Guest19")
    page.keyboard.press("Enter")
    add = page.get_by_role("button", name=re.compile(r"Add \d+ to “Fair visitors”"))
    found = int(re.search(r"Add (\d+)", add.inner_text()).group(1))
    # A name holding "Guest19" (Guest19, Guest190…196) or a number holding 19 (Guest119, and
    # whichever of the seeded contacts' random numbers do).
    expected = [
        c
        for c in Contact.objects.filter(dashboard=line, removed_at__isnull=True)
        if "guest19" in f"{c.first_name} {c.last_name} {c.display_name}".lower()
        or "19" in c.phone_number
    ]
    assert found == len(expected) >= 9
    add.click()
    page.get_by_text(f"Added {found} contacts to “Fair visitors”").wait_for()
    shot(page, "6b-members")
    group.refresh_from_db()
    assert group.member_count == found

    # 4. Export the line and import the file back: nothing changes.
    page.goto(f"{live_url}/contacts/?line={line.pk}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export these contacts (CSV)").click()
    with open(download.value.path(), "rb") as file:
        exported = file.read()
    assert exported.count(b"\n") == Contact.objects.filter(dashboard=line).count() + 1
    page.goto(f"{live_url}/contacts/import/")
    page.set_input_files(
        "#id_file", {"name": "back.csv", "mimeType": "text/csv", "buffer": exported}
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("every contact in the file is already up to date").wait_for()
    shot(page, "7-reimport")

    # 5. A saved reply, used by an Agent.
    page.goto(f"{live_url}/lines/replies/new/")
    page.fill("#id_shortcut", "fair")
    page.fill("#id_body", "Thanks for visiting our booth at the fair!")
    page.locator("#reply-preview").get_by_text("1 SMS").wait_for()
    shot(page, "8-reply")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("link", name="/fair", exact=True).wait_for()
    make_user("sam", "Agent", lines=[line])
    page.context.clear_cookies()
    log_in(page, live_url, "sam")
    page.locator("a.row-link").first.click()
    composer = page.locator("#id_body")
    composer.click()
    composer.press_sequentially("/fa")
    page.locator("#saved-replies [role=option]", has_text="/fair").wait_for()
    composer.press("Enter")
    assert composer.input_value() == "Thanks for visiting our booth at the fair!"
    shot(page, "9-agent-reply")

    # 6. Delete a contact without history.
    page.context.clear_cookies()
    log_in(page, live_url, "avery")
    guest = Contact.objects.get(dashboard=line, phone_number="8655551005")
    page.goto(f"{live_url}/contacts/{guest.pk}/")
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name=re.compile("Delete Guest5")).click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    guest.refresh_from_db()
    writes = list(Change.objects.of(guest).values_list("kind", "status", "failure_reason"))
    assert guest.removed_at is not None, writes
    with TextRequestClient(world["api_url"], world["key"], bucket="check") as api:
        assert api.get_contact(line.dashboard_id, "8655551005") is None

    # 7. Every step in the audit log.
    page.goto(f"{live_url}/audit/?person={world['admin'].pk}")
    log = page.locator("table").inner_text()
    for text in (
        "Connect the account “Second demo”",  # the refused attempt
        "Connected the account “Second demo”",
        "Create group “Fair visitors”",
        "Imported fair.csv",
        "Created the saved reply /fair",
        "Delete contact for Guest5 Imported",
        "Signed in",
    ):
        assert text in log, text
    assert "Failed" in log and "Done" in log
    shot(page, "10-audit")
    assert Entry.objects.filter(kind="bulk_update_contacts", change__status="done").exists()
    assert group.pk
    assert not errors, errors
