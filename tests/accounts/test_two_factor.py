"""Two-factor sign-in: enrolment, the code step, recovery codes, and every bad input."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.two_factor_helpers import (
    code_for,
    enrol,
    make_enrolled,
    sign_in,
    submit_code,
)
from tests.conftest import make_user
from textdesk.accounts.services import REMEMBER_COOKIE
from textdesk.audit.models import Entry


@pytest.fixture
def no_backoff(settings):
    """django-otp waits 1, 2, 4 … seconds after a wrong code; tests that follow a wrong code
    with a right one turn that off (the back-off has its own test)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


# --- enrolment ---------------------------------------------------------------------------------


def test_setup_page_shows_a_qr_code_and_the_typed_key(client, db):
    user = make_user("sam", "Agent")
    client.force_login(user)
    response = client.get(reverse("accounts:two_factor_setup"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and "<path" in page  # the QR code, inline (no image request)
    assert "<script" not in page.split("</head>")[1]
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert response.context["typed_key"].replace(" ", "") in device.config_url
    # The same key until it is confirmed: reloading does not invalidate what was scanned.
    client.get(reverse("accounts:two_factor_setup"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_enrolment_turns_on_with_the_first_code_and_shows_ten_recovery_codes(client, db):
    user = make_user("sam", "Agent")
    client.force_login(user)
    codes = enrol(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert Entry.objects.filter(kind="two_factor", actor=user).exists()
    # Shown once: the page says so and the setup page now sends to Preferences.
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 302
    prefs = client.get(reverse("accounts:preferences")).content.decode()
    assert "10 unused recovery codes" in prefs
    assert codes[0] not in prefs


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code"),
        ("12345", "A code is the 6 digits"),
        ("x" * 40, "too long for a code"),
        ("abcdefgh", "A code is the 6 digits"),  # recovery codes do not turn it on
    ],
)
def test_enrolment_refuses_a_missing_or_malformed_code(client, db, code, message):
    user = make_user("sam", "Agent")
    client.force_login(user)
    client.get(reverse("accounts:two_factor_setup"))
    response = client.post(reverse("accounts:two_factor_setup"), {"code": code})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()


def test_enrolment_refuses_a_wrong_or_expired_code(client, db, no_backoff):
    user = make_user("sam", "Agent")
    client.force_login(user)
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(code_for(device)) + 1) % 10**6:06d}"
    for code in (wrong, code_for(device, seconds_ago=180)):
        response = client.post(reverse("accounts:two_factor_setup"), {"code": code})
        assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_a_post_to_enrolment_without_starting_it_changes_nothing(client, db):
    user = make_user("sam", "Agent")
    client.force_login(user)
    # No set-up page was opened: the view makes the pending device, the code cannot match it.
    response = client.post(reverse("accounts:two_factor_setup"), {"code": "123456"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- signing in ---------------------------------------------------------------------------------


def test_with_two_factor_the_password_alone_does_not_sign_in(client, db):
    user = make_user("sam", "Agent")
    make_enrolled(user)
    response = sign_in(client, "sam")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:two_factor_verify")
    # Not signed in yet: every page still sends to the sign-in page.
    inbox = client.get(reverse("conversations:inbox"))
    assert inbox.status_code == 302 and inbox["Location"].startswith("/accounts/login/")
    assert client.get(reverse("accounts:two_factor_verify")).status_code == 200


def test_sign_in_with_a_code_from_the_app(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    response = submit_code(client, code_for(device))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("conversations:inbox")).status_code == 200
    assert REMEMBER_COOKIE not in response.cookies
    assert Entry.objects.filter(kind="sign_in", actor=user).count() == 1


def test_the_code_step_keeps_the_next_page(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam", next="/contacts/")
    assert submit_code(client, code_for(device))["Location"] == "/contacts/"


def test_sign_in_with_a_recovery_code_spends_it(client, db):
    user = make_user("sam", "Agent")
    _, codes = make_enrolled(user)
    sign_in(client, "sam")
    response = submit_code(client, f"{codes[0][:4].upper()}-{codes[0][4:].upper()}")
    assert response.status_code == 302
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    # A recovery code signs in once: replayed, it is refused.
    client.post(reverse("accounts:logout"))
    sign_in(client, "sam")
    replay = submit_code(client, codes[0])
    assert replay.status_code == 200
    assert "That recovery code is not right, or was already used" in replay.content.decode()
    assert client.get(reverse("conversations:inbox")).status_code == 302


@pytest.mark.parametrize("kind", ["wrong", "expired", "forty"])
def test_a_bad_code_is_refused_with_a_message(client, db, kind):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    code = {
        "wrong": f"{(int(code_for(device)) + 1) % 10**6:06d}",
        "expired": code_for(device, seconds_ago=300),
        "forty": "7" * 40,
    }[kind]
    response = submit_code(client, code)
    assert response.status_code == 200
    page = response.content.decode()
    assert "That code is not right" in page or "too long for a code" in page
    assert client.get(reverse("conversations:inbox")).status_code == 302
    if kind != "forty":
        assert Entry.objects.filter(kind="two_factor_failed", actor=user).count() == 1


def test_a_code_already_used_is_refused(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    code = code_for(device)
    sign_in(client, "sam")
    assert submit_code(client, code).status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, "sam")
    reused = submit_code(client, code)
    assert reused.status_code == 200
    assert "already used" in reused.content.decode()


def test_after_a_wrong_code_the_next_try_must_wait(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    submit_code(client, "000000" if code_for(device) != "000000" else "111111")
    response = submit_code(client, code_for(device))
    assert "Wait a few seconds" in response.content.decode()
    assert client.get(reverse("conversations:inbox")).status_code == 302


def test_wrong_codes_lock_like_wrong_passwords(client, db, no_backoff):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    wrong = f"{(int(code_for(device)) + 1) % 10**6:06d}"
    for _ in range(4):
        submit_code(client, wrong)
    locked = submit_code(client, wrong)
    assert locked.status_code == 429
    assert AccessAttempt.objects.filter(username="sam").exists()
    # Locked: even the right code and the right password are refused for now.
    assert submit_code(client, code_for(device)).status_code == 429
    assert sign_in(client, "sam").status_code == 429


def test_the_code_step_expires(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    session = client.session
    pending = session["_td_2fa_pending"]
    session["_td_2fa_pending"] = {**pending, "at": pending["at"] - 6 * 60}
    session.save()
    response = submit_code(client, code_for(device))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("conversations:inbox")).status_code == 302


def test_the_code_step_without_a_password_step_goes_to_sign_in(client, db):
    response = submit_code(client, "123456")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


# --- remember this browser ------------------------------------------------------------------------


def test_a_remembered_browser_skips_the_code_for_that_person_and_key(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    response = submit_code(client, code_for(device), remember="on")
    cookie = response.cookies[REMEMBER_COOKIE]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    client.post(reverse("accounts:logout"))
    again = sign_in(client, "sam")
    assert again["Location"] == reverse("home")  # straight in
    # Another person signing in on this browser still needs their code.
    other = make_user("kim", "Agent")
    make_enrolled(other)
    client.post(reverse("accounts:logout"))
    assert sign_in(client, "kim")["Location"] == reverse("accounts:two_factor_verify")


def test_a_reset_forgets_remembered_browsers(client, db):
    user = make_user("sam", "Agent")
    device, _ = make_enrolled(user)
    sign_in(client, "sam")
    submit_code(client, code_for(device), remember="on")
    client.post(reverse("accounts:logout"))
    device.delete()
    new_device, _ = make_enrolled(user)  # a new phone: a new key
    assert sign_in(client, "sam")["Location"] == reverse("accounts:two_factor_verify")


def test_a_forged_remember_cookie_is_ignored(client, db):
    user = make_user("sam", "Agent")
    make_enrolled(user)
    client.cookies[REMEMBER_COOKIE] = f"{user.pk}:whatever"
    assert sign_in(client, "sam")["Location"] == reverse("accounts:two_factor_verify")


# --- recovery codes and turning it off ------------------------------------------------------------


def test_new_recovery_codes_need_the_password_and_a_code(client, db, no_backoff):
    user = make_user("sam", "Agent")
    client.force_login(user)
    old = enrol(client, user)
    url = reverse("accounts:recovery_codes")
    refused = client.post(url, {"password": "wrong", "code": old[0]})
    assert "Your password is not right" in refused.content.decode()
    assert StaticToken.objects.filter(token=old[0]).exists()  # not spent by a refused try
    missing = client.post(url, {"password": "correct horse battery", "code": ""})
    assert "Enter a code" in missing.content.decode()
    # The app's code was just used to set it up (a code works once): a recovery code then.
    response = client.post(url, {"password": "correct horse battery", "code": old[1]})
    new = response.context["codes"]
    assert len(new) == 10
    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert tokens == set(new)
    assert TOTPDevice.objects.get(user=user).confirmed  # the authenticator itself is untouched
    assert response["Cache-Control"] == "no-store"


def test_turning_off_needs_the_password(client, db):
    user = make_user("sam", "Agent")
    _, codes = make_enrolled(user)
    client.force_login(user)
    response = client.post(reverse("accounts:two_factor_off"), {"password": "", "code": codes[0]})
    assert response.status_code == 200
    assert "Enter your password" in response.content.decode()
    wrong = client.post(reverse("accounts:two_factor_off"), {"password": "nope", "code": codes[0]})
    assert "Your password is not right" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_turning_off_needs_a_code_too(client, db):
    user = make_user("sam", "Agent")
    make_enrolled(user)
    client.force_login(user)
    response = client.post(
        reverse("accounts:two_factor_off"),
        {"password": "correct horse battery", "code": "zzzzzzzz"},
    )
    assert "not right" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_turning_off_with_the_password_and_a_recovery_code(client, db):
    user = make_user("sam", "Agent")
    _, codes = make_enrolled(user)
    client.force_login(user)
    response = client.post(
        reverse("accounts:two_factor_off"), {"password": "correct horse battery", "code": codes[3]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert Entry.objects.filter(kind="two_factor", summary__contains="turned off").exists()
