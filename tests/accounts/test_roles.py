"""Roles are groups with real permissions, checked on the server for every page."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.conftest import make_user
from textdesk.accounts.roles import ROLE_PERMISSIONS


def test_roles_and_their_permissions_exist_after_migrate(db):
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        assert set(group.permissions.values_list("codename", flat=True)) == set(codenames)


def test_finance_reads_but_cannot_work_the_inbox(db):
    finance = make_user("fin", "Finance")
    assert finance.has_perm("accounts.view_conversations")
    assert finance.has_perm("accounts.manage_payments")
    assert not finance.has_perm("accounts.work_inbox")


# page → roles that may open it (everyone else gets 403)
MATRIX = {
    "conversations:inbox": {"Agent", "Admin", "Finance"},
    "contacts:list": {"Agent", "Admin", "Finance"},
    "payments:list": {"Agent", "Admin", "Finance"},
    "accounts:staff": {"Admin"},
    "accounts:staff_new": {"Admin"},
    "dashboards:list": {"Admin"},
    "reports:show": {"Agent", "Admin"},
    "reports:export": {"Agent", "Admin"},
    "reports:hours": {"Admin"},
    "accounts:preferences": {"Agent", "Admin", "Finance", None},
    "accounts:password_change": {"Agent", "Admin", "Finance", None},
}


@pytest.mark.parametrize("role", ["Agent", "Admin", "Finance", None])
@pytest.mark.parametrize("page", sorted(MATRIX))
def test_role_page_matrix(client, db, role, page):
    user = make_user(f"user-{role or 'none'}".lower(), role)
    client.force_login(user)
    response = client.get(reverse(page))
    expected = 200 if role in MATRIX[page] else 403
    assert response.status_code == expected


def test_staff_edit_is_admin_only(client, db, agent, admin_user):
    client.force_login(agent)
    assert client.get(reverse("accounts:staff_edit", args=[admin_user.pk])).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("accounts:staff_edit", args=[agent.pk])).status_code == 200


def test_navigation_shows_only_what_the_role_may_open(client, db, agent, admin_user):
    client.force_login(agent)
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'href="/accounts/staff/"' not in page
    client.force_login(admin_user)
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'href="/accounts/staff/"' in page
