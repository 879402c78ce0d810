"""In Chromium: a person required to use two-factor enrols by computing the code from the
typed key (as an app would), signs in with a code, and sees and ends their sessions.

Screenshots land in test-artifacts/screenshots/ at desktop and phone widths.
"""

import base64
import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.conftest import make_line, make_user
from tests.inbox.test_inbox_browser import SHOTS, browser_page, live_url  # noqa: F401
from textdesk.accounts.models import SecurityPolicy, SignedInSession

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def code_from_key(typed_key: str, *, ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed in by hand (``ahead`` steps on)."""
    key = typed_key.replace(" ", "").upper()
    key += "=" * (-len(key) % 8)
    totp = TOTP(base64.b32decode(key))
    totp.time = time.time() + 30 * ahead
    return f"{totp.token():06d}"


def shots(page, name):
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar would sit mid-page otherwise
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_enrol_sign_in_with_a_code_and_end_a_session(live_url, browser_page):  # noqa: F811
    page, errors = browser_page
    make_user("sam", "Agent", lines=[make_line()], last_name="Rivera")
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"two_factor": "everyone"})

    # The password step leads straight to enrolment, and nothing else opens until it is done.
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.locator(".qr svg")).to_be_visible()
    page.goto(f"{live_url}/contacts/")
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    shots(page, "2fa-01-enrol")

    page.click("text=Can’t scan it? Type this key instead")
    typed_key = page.locator("#typed-key").inner_text()
    page.fill("input[name=code]", "999")
    page.click("text=Turn on two-factor")
    expect(page.locator(".errorlist")).to_contain_text("6 digits")
    page.fill("input[name=code]", code_from_key(typed_key))
    page.click("text=Turn on two-factor")
    codes = page.locator(".recovery-codes code")
    expect(codes).to_have_count(10)
    recovery = codes.nth(0).inner_text()
    shots(page, "2fa-02-recovery-codes")
    page.click("text=I have saved them")
    page.wait_for_url(re.compile(r"/accounts/preferences/"))

    # Sign out and in again: now the password is followed by the code step.
    page.locator("details.usermenu summary").click()
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/two-factor/code/"))
    shots(page, "2fa-03-code-step")
    # A code works once: the one used to enrol is spent, so the app's next one.
    page.fill("input[name=code]", code_from_key(typed_key, ahead=1))
    page.check("input[name=remember]")
    page.click("text=Verify and sign in")
    page.wait_for_url(re.compile(r"/inbox/"))

    # A second browser (a phone) signs in with a recovery code; the list shows both.
    phone = Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="198.51.100.7")
    phone.post("/accounts/login/", {"username": "sam", "password": "correct horse battery"})
    assert phone.post("/accounts/two-factor/code/", {"code": recovery}).status_code == 302
    page.goto(f"{live_url}/accounts/preferences/#sessions")
    sessions = page.locator("#sessions .session")
    expect(sessions).to_have_count(2)
    expect(page.locator("#sessions")).to_contain_text("Safari 17 on iPhone")
    expect(page.locator("#sessions")).to_contain_text("This browser")
    shots(page, "2fa-04-sessions")
    page.locator("#sessions .session", has_text="iPhone").get_by_role("button").click()
    expect(page.locator("#messages")).to_contain_text("That browser is signed out")
    expect(sessions).to_have_count(1)
    assert phone.get("/inbox/").status_code == 302
    assert SignedInSession.objects.count() == 1
    assert errors == []
