# ruff: noqa: F811 - the browser fixtures are imported from the inbox's journey and requested here
"""An Admin disconnects the service desk from Admin → Service desk: the confirmation says what
stops, and afterwards the page offers to connect again (phone and desktop widths)."""

import pytest

from tests.cases_helpers import connect_desk
from tests.conftest import make_user
from tests.inbox.test_inbox_browser import SHOTS, browser_page, live_url  # noqa: F401
from tests.project.test_every_screen_browser import AXE, AXE_RUN, PHONE, WIDTH_CHECK
from textdesk.cases.models import ServiceDesk

pytestmark = [pytest.mark.browser]


def test_an_admin_disconnects_the_service_desk(browser_page, live_url, asms_tenant):
    page, errors = browser_page
    connect_desk(asms_tenant)
    make_user("avery", "Admin")
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", "correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(f"{live_url}/cases/settings/")
    page.get_by_role("link", name="Disconnect…").click()
    heading = page.get_by_role("heading", name=f"Disconnect {asms_tenant.url}?")
    heading.wait_for()
    assert "0 open cases keep their link" in page.locator("main").inner_text()
    page.screenshot(path=str(SHOTS / "service-desk-disconnect-1440.png"))
    # On a phone, signed in as the same person; axe is injected, so this context bypasses CSP.
    phone = page.context.browser.new_context(
        viewport=PHONE, bypass_csp=True, storage_state=page.context.storage_state()
    )
    small = phone.new_page()
    small.goto(page.url)
    small.get_by_role("heading", name=f"Disconnect {asms_tenant.url}?").wait_for()
    assert small.evaluate(WIDTH_CHECK) == []
    small.add_script_tag(path=str(AXE))
    assert small.evaluate(AXE_RUN) == []
    small.screenshot(path=str(SHOTS / "service-desk-disconnect-390.png"), full_page=True)
    phone.close()

    page.get_by_role("button", name="Disconnect and delete the token").click()
    page.get_by_text("Service desk disconnected; its token is deleted.").wait_for()
    assert page.get_by_text("Not connected yet.").is_visible()
    assert not ServiceDesk.objects.exists()
    assert not errors
