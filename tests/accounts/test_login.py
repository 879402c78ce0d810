"""Signing in and out, brute-force throttling, CSP and CSRF on every page."""

from django.test import Client
from django.urls import reverse

from tests.conftest import make_user

PASSWORD = "correct horse battery"


def sign_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_staff_sign_in_and_land_in_the_inbox(client, db):
    make_user("sam", "Agent")
    response = sign_in(client, "sam", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("conversations:inbox")
    assert client.get(reverse("conversations:inbox")).status_code == 200


def test_finance_lands_on_payments(client, db):
    make_user("fran", "Finance")
    response = sign_in(client, "fran", PASSWORD)
    response = client.get(response["Location"])
    assert response["Location"] == reverse("payments:list")
    assert client.get(reverse("payments:list")).status_code == 200


def test_wrong_password_shows_a_clear_error_and_keeps_the_username(client, db):
    make_user("sam", "Agent")
    response = sign_in(client, "sam", "nope")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please enter a correct username and password" in page
    assert 'value="sam"' in page


def test_repeated_failures_lock_that_username_from_that_address_only(client, db):
    make_user("sam", "Agent")
    make_user("kim", "Agent")
    for _ in range(5):
        sign_in(client, "sam", "wrong")
    locked = sign_in(client, "sam", PASSWORD)
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # A colleague in the same office (same address) can still sign in.
    assert sign_in(Client(), "kim", PASSWORD).status_code == 302


def test_sign_out_is_a_post(client, db):
    client.force_login(make_user("sam", "Agent"))
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("conversations:inbox")).status_code == 302


def test_password_change(client, db):
    user = make_user("sam", "Agent")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a much longer passphrase 42")


def test_pages_carry_a_strict_content_security_policy(client, db):
    client.force_login(make_user("sam", "Agent"))
    response = client.get(reverse("contacts:list"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    page = response.content.decode()
    assert f'nonce="{nonce}"' in page  # our scripts are allowed by nonce
    assert "<script>" not in page  # and there is no inline script


def test_htmx_posts_need_the_csrf_header(db):
    user = make_user("sam", "Agent")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("accounts:preferences"))
    assert 'hx-headers=\'{"X-CSRFToken": "' in page.content.decode()
    token = page.cookies["csrftoken"].value
    without = client.post(
        reverse("accounts:preferences"), {"first_name": "S"}, HTTP_HX_REQUEST="true"
    )
    assert without.status_code == 403
    with_header = client.post(
        reverse("accounts:preferences"),
        {"first_name": "S", "shortcuts_enabled": "on"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert with_header.status_code == 302


def test_preferences_switch_single_key_shortcuts_off(client, db):
    user = make_user("sam", "Agent")
    client.force_login(user)
    client.post(reverse("accounts:preferences"), {"first_name": "Sam", "last_name": ""})
    user.refresh_from_db()
    assert user.shortcuts_enabled is False
    assert 'data-shortcuts="off"' in client.get(reverse("contacts:list")).content.decode()


def test_a_username_longer_than_any_user_is_a_form_error(client, db):
    make_user("sam", "Agent")
    response = sign_in(client, "u" * 256, "wrong")
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


def test_a_nul_in_the_username_is_a_form_error(client, db):
    response = sign_in(client, "sa\x00m", "wrong")
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def via_proxy(client_address: str, forwarded: str | None = None) -> Client:
    """A browser at `client_address` reaching us through one proxy at 10.0.0.2."""
    return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded or client_address)


def test_behind_a_proxy_failures_lock_the_username_only_from_that_client(db, settings):
    settings.TEXTDESK_PROXY_COUNT = 1
    make_user("sam", "Agent")
    attacker = via_proxy("203.0.113.7")
    for _ in range(5):
        sign_in(attacker, "sam", "wrong")
    assert sign_in(attacker, "sam", PASSWORD).status_code == 429
    # Forging X-Forwarded-For does not escape the lock: the proxy appends the real address.
    forged = via_proxy("203.0.113.7", forwarded="198.51.100.1, 203.0.113.7")
    assert sign_in(forged, "sam", PASSWORD).status_code == 429
    # Sam, elsewhere, reaches us through the same proxy and still signs in.
    assert sign_in(via_proxy("198.51.100.20"), "sam", PASSWORD).status_code == 302


def test_behind_two_proxies_the_client_is_second_from_the_right(db, settings):
    settings.TEXTDESK_PROXY_COUNT = 2
    make_user("sam", "Agent")
    for _ in range(5):
        sign_in(via_proxy("x", forwarded="1.1.1.1, 203.0.113.7, 10.0.0.1"), "sam", "wrong")
    locked = via_proxy("x", forwarded="203.0.113.7, 10.0.0.1")
    assert sign_in(locked, "sam", PASSWORD).status_code == 429
    other = via_proxy("x", forwarded="203.0.113.7, 198.51.100.20, 10.0.0.1")
    assert sign_in(other, "sam", PASSWORD).status_code == 302


def test_without_proxies_forwarded_headers_are_ignored(client, db, settings):
    settings.TEXTDESK_PROXY_COUNT = 0
    make_user("sam", "Agent")
    for n in range(5):
        sign_in(via_proxy(f"203.0.113.{n}"), "sam", "wrong")
    assert sign_in(via_proxy("198.51.100.20"), "sam", PASSWORD).status_code == 429
