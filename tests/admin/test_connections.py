"""Connections: the `textrequest` and `sync` commands, key rotation, the sync status page."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of, reset_limiter, seeded_account
from textdesk.dashboards.models import Connection, Dashboard, SyncState
from textdesk.textrequest.types import HOOK_EVENTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def roles():
    """Transactional tests start from an empty database: create the role groups."""
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Group, Permission)


def test_connect_command_reads_lines_and_registers_hooks(sandbox_server, settings):
    settings.TEXTDESK_PUBLIC_URL = "https://textdesk.example.com"
    account = seeded_account(sandbox_server, contacts=10, messages=30, dashboards=2)
    out = StringIO()
    call_command(
        "textrequest",
        "connect",
        "--name",
        "Plumbing",
        "--api-url",
        account.api_url,
        "--api-key",
        account.api_key,
        stdout=out,
    )
    connection = Connection.objects.get()
    assert "2 line(s)" in out.getvalue()
    assert account.api_key not in out.getvalue()
    assert connection.api_key == account.api_key
    assert account.api_key not in connection.api_key_encrypted
    assert sorted(Dashboard.objects.values_list("dashboard_id", flat=True)) == sorted(
        account.dashboard_ids
    )
    for dashboard_id in account.dashboard_ids:
        hooks = account.get(f"/dashboards/{dashboard_id}/hooks").json()
        assert sorted(h["event"] for h in hooks) == sorted(HOOK_EVENTS)
        assert all(
            h["target_url"] == f"https://textdesk.example.com/hooks/"
            f"{connection.webhook_token}/lines/{dashboard_id}/{h['event']}"
            for h in hooks
        )
    call_command(
        "textrequest",
        "connect",
        "--name",
        "Plumbing",
        "--api-url",
        account.api_url,
        "--api-key",
        account.api_key,
        "--if-missing",
        stdout=StringIO(),
    )
    assert Connection.objects.count() == 1


def test_connect_with_a_wrong_key_fails_clearly(sandbox_server):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="401|key"):
        call_command(
            "textrequest",
            "connect",
            "--name",
            "Nope",
            "--api-url",
            sandbox_server.api_url,
            "--api-key",
            "tr_wrong",
            stdout=StringIO(),
        )


def test_rotate_keys_reencrypts_with_the_newest_key(sandbox_account, settings):
    connection = connect(sandbox_account)
    old_token = connection.api_key_encrypted
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("textrequest", "rotate-keys", stdout=StringIO())
    connection.refresh_from_db()
    assert connection.api_key_encrypted != old_token
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    assert connection.api_key == sandbox_account.api_key


def test_sync_command_syncs_one_line_or_all(sandbox_server):
    account = seeded_account(sandbox_server, contacts=20, messages=60, dashboards=2)
    connection = connect(account)
    first, second = lines_of(connection)
    out = StringIO()
    call_command("sync", "--dashboard", str(first.dashboard_id), stdout=out)
    assert first.name in out.getvalue()
    assert SyncState.objects.filter(dashboard=first, last_success_at__isnull=False).count() == 7
    assert not SyncState.objects.filter(dashboard=second).exists()
    reset_limiter(connection.bucket)
    call_command("sync", "--full", stdout=out)
    assert SyncState.objects.filter(dashboard=second, last_success_at__isnull=False).count() == 7
    assert first.contacts.exists() and second.contacts.exists()


def test_sync_reflects_deletions_upstream(sandbox_server):
    from textdesk.dashboards.sync import sync_dashboards
    from textdesk.sync.engine import run_sync

    account = seeded_account(sandbox_server, contacts=10, messages=0, dashboards=2)
    connection = connect(account)
    first, second = lines_of(connection)
    run_sync(first, wait=True)
    contact = first.contacts.first()
    assert account.delete(
        f"/dashboards/{first.dashboard_id}/contacts/{contact.phone_number}"
    ).status_code in (200, 204)
    group = first.groups.first()
    if group:
        account.delete(f"/dashboards/{first.dashboard_id}/groups/{group.group_id}")
    run_sync(first, full=True, wait=True)
    contact.refresh_from_db()
    assert contact.removed_at is not None
    if group:
        assert not first.groups.filter(pk=group.pk).exists()
    assert account.delete(f"/dashboards/{second.dashboard_id}").status_code in (200, 204)
    sync_dashboards(connection)
    second.refresh_from_db()
    assert second.removed_at is not None


def test_only_admins_see_sync_status(client, sandbox_server, django_assert_num_queries, roles):
    from textdesk.sync.engine import run_sync

    admin = make_user("avery", "Admin")
    agent = make_user("sam", "Agent")
    client.force_login(agent)
    assert client.get(reverse("sync:status")).status_code == 403
    client.force_login(admin)
    account = seeded_account(sandbox_server, contacts=10, messages=20, dashboards=1)
    connection = connect(account)
    line = lines_of(connection)[0]
    with django_assert_num_queries(9):
        page = client.get(reverse("sync:status"))
    assert page.status_code == 200
    assert "never" in page.content.decode()
    run_sync(line, wait=True)
    account2 = seeded_account(sandbox_server, contacts=5, messages=5, dashboards=3)
    for other in lines_of(connect(account2, name="Second")):
        run_sync(other, wait=True)
    with django_assert_num_queries(9):
        page = client.get(reverse("sync:status"))
    html = page.content.decode()
    assert "Sync status" in html and "up to date" in html
    assert account.api_key not in html and connection.masked_api_key in html
    assert 'style="' not in html
