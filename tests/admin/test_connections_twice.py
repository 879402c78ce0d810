"""The same Text Request account is connected once: a second connect with its key, or with
another key that sees its lines, is refused with a reason; a double submit of the connect form
lands on the connection the first submit made."""

import uuid

import pytest
from django.urls import reverse

from tests.conftest import make_connection, make_line, make_user
from tests.textrequest_helpers import seeded_account
from textdesk.dashboards.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(db):
    return make_user("avery", "Admin")


@pytest.fixture
def account(sandbox_server, settings):
    settings.TEXTDESK_PUBLIC_URL = "https://textdesk.example.com"
    return seeded_account(sandbox_server, contacts=5, messages=10, dashboards=1)


def form(account, **extra):
    return {"name": "Main account", "api_url": account.api_url, "api_key": account.api_key,
            "rate_limit": 100, "client_key": str(uuid.uuid4()), **extra}  # fmt: skip


def test_the_same_key_is_not_connected_twice(client, admin, account):
    client.force_login(admin)
    first = client.post(reverse("dashboards:connection_new"), form(account))
    assert first.status_code == 302
    again = client.post(reverse("dashboards:connection_new"), form(account, name="Copy"))
    page = again.content.decode()
    assert again.status_code == 200
    assert "This API key is already connected as “Main account”" in page
    assert "Copy" in page  # what was typed stays (the key never does)
    assert list(Connection.objects.values_list("name", flat=True)) == ["Main account"]


def test_another_key_of_a_connected_account_is_refused(client, admin, account):
    # An earlier connection to the same API mirrors the account's line under another key.
    earlier = make_connection(name="Front office", api_url=account.api_url, api_key="tr_old_1")
    make_line(earlier, name="Front desk", dashboard_id=account.dashboard_id)
    client.force_login(admin)
    response = client.post(reverse("dashboards:connection_new"), form(account))
    page = response.content.decode()
    assert "already connected as “Front office”" in page
    assert "Front desk" in page
    assert Connection.objects.count() == 1


def test_a_disconnected_copy_does_not_block_connecting_again(client, admin, account):
    make_connection(name="Old", api_url=account.api_url, api_key=account.api_key, is_active=False)
    client.force_login(admin)
    response = client.post(reverse("dashboards:connection_new"), form(account))
    assert response.status_code == 302
    assert Connection.objects.filter(is_active=True).count() == 1


def test_a_double_submit_is_one_connection(client, admin, account):
    client.force_login(admin)
    data = form(account)
    first = client.post(reverse("dashboards:connection_new"), data)
    second = client.post(reverse("dashboards:connection_new"), data)
    connection = Connection.objects.get()
    assert first["Location"] == second["Location"]
    assert second["Location"] == reverse("dashboards:connection", args=[connection.pk])


def test_a_mangled_form_key_only_loses_the_guard(client, admin, account):
    client.force_login(admin)
    response = client.post(reverse("dashboards:connection_new"), form(account, client_key="²\x00"))
    assert response.status_code == 302
    assert Connection.objects.get().client_key is None
