"""Signed-in sessions: Preferences lists them; a person ends one or all others; an Admin ends
all of someone's; a new password ends the others."""

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.accounts.two_factor_helpers import sign_in
from tests.conftest import make_user
from textdesk.accounts.models import SignedInSession
from textdesk.audit.models import Entry

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def browser(user_agent, address):
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)


def session_exists(key) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


@pytest.fixture
def three_browsers(db):
    make_user("sam", "Agent")
    clients = [
        browser(CHROME_MAC, "203.0.113.5"),
        browser(SAFARI_IPHONE, "198.51.100.7"),
        browser(FIREFOX_WINDOWS, "192.0.2.44"),
    ]
    for each in clients:
        assert sign_in(each, "sam").status_code == 302
    return clients


def test_preferences_lists_each_signed_in_browser(three_browsers):
    mac, _, _ = three_browsers
    page = mac.get(reverse("accounts:preferences")).content.decode()
    assert "Chrome 131 on macOS" in page
    assert "Safari 17 on iPhone" in page
    assert "Firefox 133 on Windows" in page
    assert "203.0.113.5" in page and "198.51.100.7" in page
    assert page.count("This browser") == 1
    assert "Sign out everywhere else" in page


def test_sign_out_one_other_browser(three_browsers):
    mac, iphone, windows = three_browsers
    row = SignedInSession.objects.get(user_agent=SAFARI_IPHONE)
    key = iphone.session.session_key
    response = mac.post(reverse("accounts:session_end", args=[row.pk]))
    assert response.status_code == 302
    assert not session_exists(key)
    assert iphone.get("/inbox/")["Location"].startswith("/accounts/login/")
    assert windows.get("/inbox/").status_code == 200
    assert mac.get("/inbox/").status_code == 200
    assert Entry.objects.filter(kind="sign_out_forced", summary__contains="Safari").exists()


def test_sign_out_everywhere_else_keeps_this_browser(three_browsers):
    mac, iphone, windows = three_browsers
    mac.post(reverse("accounts:sessions_end_others"))
    assert mac.get("/inbox/").status_code == 200
    for other in (iphone, windows):
        assert other.get("/inbox/").status_code == 302
    assert list(SignedInSession.objects.values_list("user_agent", flat=True)) == [CHROME_MAC]


def test_nobody_ends_someone_elses_session(three_browsers):
    make_user("kim", "Agent")
    kim = Client()
    sign_in(kim, "kim")
    row = SignedInSession.objects.get(user_agent=SAFARI_IPHONE)
    assert kim.post(reverse("accounts:session_end", args=[row.pk])).status_code == 404
    assert SignedInSession.objects.filter(pk=row.pk).exists()


def test_ending_this_browser_from_the_list_is_refused_kindly(three_browsers):
    mac = three_browsers[0]
    row = SignedInSession.objects.get(user_agent=CHROME_MAC)
    response = mac.post(reverse("accounts:session_end", args=[row.pk]), follow=True)
    assert "That is this browser" in response.content.decode()
    assert mac.get("/inbox/").status_code == 200


def test_sign_out_removes_the_row(three_browsers):
    mac = three_browsers[0]
    mac.post(reverse("accounts:logout"))
    assert not SignedInSession.objects.filter(user_agent=CHROME_MAC).exists()
    assert SignedInSession.objects.count() == 2


def test_changing_the_password_ends_the_other_sessions(three_browsers):
    mac, iphone, windows = three_browsers
    response = mac.post(
        reverse("accounts:password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "a much longer passphrase 42",
            "new_password2": "a much longer passphrase 42",
        },
    )
    assert response.status_code == 302
    assert mac.get("/inbox/").status_code == 200
    assert iphone.get("/inbox/").status_code == 302
    assert SignedInSession.objects.count() == 1
    assert Entry.objects.filter(kind="sign_out_forced", summary__contains="password").exists()


def test_an_admin_signs_a_person_out_everywhere(three_browsers):
    admin = make_user("avery", "Admin")
    client = Client()
    client.force_login(admin)
    person = SignedInSession.objects.first().user
    page = client.get(reverse("accounts:staff_edit", args=[person.pk])).content.decode()
    assert "3 active sessions" in page
    response = client.post(reverse("accounts:staff_sign_out", args=[person.pk]))
    assert response.status_code == 302
    for each in three_browsers:
        assert each.get("/inbox/").status_code == 302
    assert not SignedInSession.objects.filter(user=person).exists()
    entry = Entry.objects.get(kind="sign_out_forced")
    assert entry.actor == admin and "out everywhere (3 sessions)" in entry.summary


def test_agents_cannot_sign_others_out(three_browsers):
    other = make_user("kim", "Agent")
    client = Client()
    client.force_login(other)
    person = SignedInSession.objects.first().user
    assert client.post(reverse("accounts:staff_sign_out", args=[person.pk])).status_code == 403
    assert three_browsers[0].get("/inbox/").status_code == 200


def test_last_seen_is_written_at_most_once_a_minute(db, django_assert_num_queries):
    make_user("sam", "Agent")
    client = Client()
    sign_in(client, "sam")
    row = SignedInSession.objects.get()
    first_seen = row.last_seen_at
    client.get(reverse("accounts:preferences"))
    row.refresh_from_db()
    assert row.last_seen_at == first_seen  # within the minute: no write
    session = client.session
    session["_td_seen"] -= 120
    session.save()
    client.get(reverse("accounts:preferences"))
    row.refresh_from_db()
    assert row.last_seen_at > first_seen


def test_a_session_from_before_the_list_gets_its_row(db):
    make_user("sam", "Agent")
    client = Client()
    sign_in(client, "sam")
    SignedInSession.objects.all().delete()
    session = client.session
    del session["_td_seen"]
    session.save()
    assert client.get("/inbox/").status_code == 200
    assert SignedInSession.objects.count() == 1


def test_sessions_end_a_working_day_after_sign_in(db):
    make_user("sam", "Agent")
    client = Client()
    sign_in(client, "sam")
    session = client.session
    assert "_session_expiry" in session  # absolute: activity does not stretch it
    assert 0 < session.get_expiry_age() <= settings.SESSION_COOKIE_AGE


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_MAC, "Chrome 131 on macOS"),
        (SAFARI_IPHONE, "Safari 17 on iPhone"),
        (FIREFOX_WINDOWS, "Firefox 133 on Windows"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge 131 on Windows",
        ),
        ("", "Unknown browser"),
        ("curl/8.5.0", "Unknown browser"),
    ],
)
def test_browser_names(agent, expected):
    from textdesk.accounts.services import describe_browser

    assert describe_browser(agent) == expected
