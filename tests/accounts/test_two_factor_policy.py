"""Admins require two-factor (for Admins or everyone) and reset a person's second factor."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.two_factor_helpers import code_for, make_enrolled, sign_in
from tests.conftest import make_user
from textdesk.accounts.models import SecurityPolicy
from textdesk.audit.models import Entry


def require(level: str) -> None:
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"two_factor": level})


def test_enforcement_is_off_by_default(client, db):
    make_user("avery", "Admin")
    assert SecurityPolicy.current().two_factor == "off"
    assert sign_in(client, "avery")["Location"] == reverse("home")
    assert client.get(reverse("accounts:staff")).status_code == 200


@pytest.mark.parametrize(
    ("level", "role", "must_enrol"),
    [
        ("off", "Admin", False),
        ("admins", "Admin", True),
        ("admins", "Agent", False),
        ("admins", "Finance", False),
        ("everyone", "Agent", True),
        ("everyone", "Finance", True),
    ],
)
def test_enforcement_per_role(client, db, level, role, must_enrol):
    make_user("pat", role)
    require(level)
    response = sign_in(client, "pat")
    assert response.status_code == 302
    page = client.get(reverse("accounts:preferences"))
    if must_enrol:
        assert page.status_code == 302
        assert page["Location"] == reverse("accounts:two_factor_setup")
    else:
        assert page.status_code == 200


def test_a_person_who_must_enrol_can_do_nothing_else_until_done(client, db):
    user = make_user("sam", "Agent")
    require("everyone")
    sign_in(client, "sam")
    setup = reverse("accounts:two_factor_setup")
    for url in ("/inbox/", "/contacts/", "/accounts/preferences/", "/audit/", "/payments/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == setup, url
    posted = client.post(reverse("accounts:sessions_end_others"))
    assert posted["Location"] == setup
    htmx = client.get("/inbox/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == setup
    page = client.get(setup)
    assert page.status_code == 200
    assert "Your organisation requires two-factor" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    client.post(setup, {"code": code_for(device)})
    assert client.get("/inbox/").status_code == 200
    # Sign-out stays open throughout.
    assert client.post(reverse("accounts:logout")).status_code == 302


def test_enrolled_people_are_not_held(client, db):
    user = make_user("avery", "Admin")
    device, _ = make_enrolled(user)
    require("admins")
    sign_in(client, "avery")
    client.post(reverse("accounts:two_factor_verify"), {"code": code_for(device)})
    assert client.get(reverse("accounts:staff")).status_code == 200


def test_turning_off_where_it_is_required_leads_straight_back_to_setup(client, db):
    user = make_user("sam", "Agent")
    _, codes = make_enrolled(user)
    require("everyone")
    client.force_login(user)
    response = client.post(
        reverse("accounts:two_factor_off"), {"password": "correct horse battery", "code": codes[0]}
    )
    assert response["Location"] == reverse("accounts:two_factor_setup")
    assert client.get("/inbox/")["Location"] == reverse("accounts:two_factor_setup")


def test_an_admin_sets_the_rule_and_it_is_audited(client, db):
    admin = make_user("avery", "Admin")
    client.force_login(admin)
    page = client.get(reverse("accounts:security"))
    assert page.status_code == 200
    assert "Required for everyone" in page.content.decode()
    response = client.post(reverse("accounts:security"), {"two_factor": "everyone"})
    assert response.status_code == 302
    policy = SecurityPolicy.current()
    assert policy.two_factor == "everyone" and policy.updated_by == admin
    entry = Entry.objects.get(kind="security_policy")
    assert entry.actor == admin and "required for everyone" in entry.summary


def test_a_bad_rule_is_refused(client, db):
    client.force_login(make_user("avery", "Admin"))
    response = client.post(reverse("accounts:security"), {"two_factor": "sometimes"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert SecurityPolicy.current().two_factor == "off"


@pytest.mark.parametrize("role", ["Agent", "Finance"])
def test_only_admins_set_the_rule(client, db, role):
    client.force_login(make_user("pat", role))
    assert client.post(reverse("accounts:security"), {"two_factor": "off"}).status_code == 403
    assert client.get(reverse("accounts:security")).status_code == 403


def test_admin_resets_a_persons_two_factor_after_confirming(client, db):
    admin = make_user("avery", "Admin")
    person = make_user("sam", "Agent")
    make_enrolled(person)
    client.force_login(admin)
    edit = client.get(reverse("accounts:staff_edit", args=[person.pk])).content.decode()
    assert "Reset two-factor" in edit
    url = reverse("accounts:staff_two_factor_reset", args=[person.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert TOTPDevice.objects.filter(user=person).exists()  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    entry = Entry.objects.get(kind="two_factor_reset")
    assert entry.actor == admin and "Sam" in entry.summary
    # Their next sign-in needs only the password.
    other = client.__class__()
    assert sign_in(other, "sam")["Location"] == reverse("home")


def test_nobody_resets_their_own_two_factor_from_the_admin_pages(client, db):
    admin = make_user("avery", "Admin")
    make_enrolled(admin)
    client.force_login(admin)
    response = client.post(reverse("accounts:staff_two_factor_reset", args=[admin.pk]))
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=admin).exists()
    assert not Entry.objects.filter(kind="two_factor_reset").exists()


def test_agents_cannot_reset_anyone(client, db):
    person = make_user("kim", "Agent")
    make_enrolled(person)
    client.force_login(make_user("sam", "Agent"))
    assert (
        client.post(reverse("accounts:staff_two_factor_reset", args=[person.pk])).status_code == 403
    )
    assert TOTPDevice.objects.filter(user=person).exists()
