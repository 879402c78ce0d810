"""Admin → Connections: connect an account in the UI (after a test call), replace its key,
set its limit, webhook health, disconnect; and the page per line."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import reset_limiter, seeded_account
from textdesk.audit.models import Entry
from textdesk.dashboards.models import Connection, Dashboard, SyncState
from textdesk.outbox.models import Change
from textdesk.textrequest.types import HOOK_EVENTS

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin(db):
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Group, Permission)
    return make_user("avery", "Admin")


@pytest.fixture
def account(sandbox_server, settings):
    settings.TEXTDESK_PUBLIC_URL = "https://textdesk.example.com"
    return seeded_account(sandbox_server, contacts=20, messages=60, dashboards=2)


def connect_form(account, **extra):
    return {"name": "Second account", "api_url": account.api_url, "api_key": account.api_key,
            "rate_limit": 100, **extra}  # fmt: skip


def hooks_of(account, dashboard_id) -> list[dict]:
    return account.get(f"/dashboards/{dashboard_id}/hooks").json()


def test_a_wrong_key_is_refused_and_nothing_is_saved(client, admin, account):
    client.force_login(admin)
    wrong = "tr_wrong_key_9999"
    response = client.post(
        reverse("dashboards:connection_new"), connect_form(account, api_key=wrong)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Text Request refused this API key (HTTP 401)" in page
    assert wrong not in page  # never put back into the form
    assert "Second account" in page  # the rest of what was typed stays
    assert not Connection.objects.exists()
    assert Entry.objects.get(kind="connection").status == "failed"


def test_an_unreachable_url_or_a_timeout_is_explained(client, admin, account, settings):
    client.force_login(admin)
    closed = client.post(
        reverse("dashboards:connection_new"),
        connect_form(account, api_url="http://127.0.0.1:9/api/v3"),
    )
    assert "Could not reach http://127.0.0.1:9/api/v3" in closed.content.decode()
    settings.TEXTREQUEST_READ_TIMEOUT = 0.3
    account.control.set_faults(api_key=account.api_key, latency_ms=1500)
    try:
        slow = client.post(reverse("dashboards:connection_new"), connect_form(account))
    finally:
        account.control.clear_faults(account.api_key)
    assert "did not answer in time" in slow.content.decode()
    assert not Connection.objects.exists()


def test_connecting_reads_lines_registers_hooks_and_syncs(client, admin, account):
    client.force_login(admin)
    response = client.post(reverse("dashboards:connection_new"), connect_form(account))
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboards:connection", args=[connection.pk])
    assert connection.api_key == account.api_key
    lines = Dashboard.objects.filter(connection=connection)
    assert sorted(lines.values_list("dashboard_id", flat=True)) == sorted(account.dashboard_ids)
    for dashboard_id in account.dashboard_ids:
        assert sorted(h["event"] for h in hooks_of(account, dashboard_id)) == sorted(HOOK_EVENTS)
    # Tasks run inline in tests: the first sync is already over.
    page = client.get(response["Location"])
    assert page.context["progress"].finished
    assert "The first sync is finished" in page.content.decode()
    assert account.api_key not in page.content.decode()
    assert f"••••{account.api_key[-4:]}" in page.content.decode()
    progress = client.get(reverse("dashboards:connection_progress", args=[connection.pk]), **HTMX)
    assert (
        "<html" not in progress.content.decode()
        and 'id="sync-progress"' in progress.content.decode()
    )
    assert "every 2s" not in progress.content.decode()  # finished: no more polling


def test_progress_estimates_the_time_left_at_the_limit(client, admin, account):
    from textdesk.dashboards.connections import first_sync_progress

    connection = Connection(name="x", api_url=account.api_url, rate_limit=60, rate_window=60)
    connection.set_api_key(account.api_key)
    connection.save()
    line = Dashboard.objects.create(connection=connection, dashboard_id=1, name="L", phone="1")
    SyncState.objects.create(
        dashboard=line, resource="contacts", progress_done=10, progress_total=64
    )
    progress = first_sync_progress(connection)
    contacts = next(s for s in progress.stages if s.key == "contacts")
    assert (contacts.done, contacts.total, contacts.percent) == (10, 64, 16)
    # 54 contact pages + one page each for conversations, payments and histories = 57 calls,
    # at 60 per minute less the 10 % reserve for people: 54 per minute.
    assert progress.calls_left == 57
    assert progress.seconds_left == 64


def test_replacing_the_key_is_tested_first(client, admin, account, sandbox_server):
    client.force_login(admin)
    client.post(reverse("dashboards:connection_new"), connect_form(account))
    connection = Connection.objects.get()
    url = reverse("dashboards:connection_key", args=[connection.pk])
    wrong = client.post(url, {"api_key": "tr_nope_0000"})
    assert "refused this API key" in wrong.content.decode()
    other = seeded_account(sandbox_server, contacts=1, messages=1)
    foreign = client.post(url, {"api_key": other.api_key})
    assert "belongs to another Text Request account" in foreign.content.decode()
    connection.refresh_from_db()
    assert connection.api_key == account.api_key  # the old key stays
    assert client.post(url, {"api_key": f"  {account.api_key} "}).status_code == 302


def test_setting_the_limit(client, admin, account):
    client.force_login(admin)
    client.post(reverse("dashboards:connection_new"), connect_form(account))
    connection = Connection.objects.get()
    url = reverse("dashboards:connection_limit", args=[connection.pk])
    assert client.post(url, {"rate_limit": "0", "rate_window": "60"}).status_code == 200
    assert client.post(url, {"rate_limit": "250", "rate_window": "60"}).status_code == 302
    connection.refresh_from_db()
    assert connection.rate_limit == 250


def test_webhook_health_and_register_again(client, admin, account):
    client.force_login(admin)
    client.post(reverse("dashboards:connection_new"), connect_form(account))
    connection = Connection.objects.get()
    first = account.dashboard_ids[0]
    hook = hooks_of(account, first)[0]
    account.delete(f"/dashboards/{first}/hooks/{hook['id']}")
    url = reverse("dashboards:connection_webhooks", args=[connection.pk])
    health = client.get(url)
    counts = {h.line.dashboard_id: h.registered for h in health.context["health"]}
    assert counts == {first: 6, account.dashboard_ids[1]: 7}
    region = client.get(url, **HTMX).content.decode()
    assert "<html" not in region and "6 of 7" in region and "7 of 7" in region
    client.post(reverse("dashboards:connection_register", args=[connection.pk]))
    assert len(hooks_of(account, first)) == 7


@pytest.mark.parametrize("mirror", ["keep", "delete"])
def test_disconnect_stops_sync_and_removes_hooks(client, admin, account, mirror):
    client.force_login(admin)
    client.post(reverse("dashboards:connection_new"), connect_form(account))
    connection = Connection.objects.get()
    url = reverse("dashboards:connection_disconnect", args=[connection.pk])
    unconfirmed = client.post(url, {"mirror": mirror, "confirm": "second"})
    assert "Type “Second account” exactly" in unconfirmed.content.decode()
    assert client.post(url, {"mirror": mirror, "confirm": "Second account"}).status_code == 302
    for dashboard_id in account.dashboard_ids:
        assert hooks_of(account, dashboard_id) == []
    if mirror == "delete":
        assert not Connection.objects.exists() and not Dashboard.objects.exists()
        return
    connection.refresh_from_db()
    assert not connection.is_active
    line = Dashboard.objects.filter(connection=connection).first()
    assert line is not None  # the mirror stays, read-only:
    from textdesk.outbox.changes import queue_change

    reset_limiter(connection.bucket)
    change = queue_change(dashboard=line, kind="rename_dashboard", subject="name",
                          payload={"name": "Nope"}, user=admin)  # fmt: skip
    change.refresh_from_db()
    assert change.status == Change.Status.FAILED
    assert "disconnected" in change.failure_reason


def test_the_line_page(client, admin, account):
    client.force_login(admin)
    client.post(reverse("dashboards:connection_new"), connect_form(account))
    line = Dashboard.objects.order_by("dashboard_id").first()
    line.agents.add(make_user("sam", "Agent"))
    page = client.get(reverse("dashboards:line", args=[line.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert line.formatted_phone in body and "Sam" in body
    assert page.context["counts"]["contacts"] != "0"


@pytest.mark.parametrize("role", ["Agent", "Finance"])
def test_agents_and_finance_get_403(client, admin, account, role):
    connection = Connection(name="x", api_url=account.api_url)
    connection.set_api_key(account.api_key)
    connection.save()
    line = Dashboard.objects.create(connection=connection, dashboard_id=1, name="L", phone="1")
    person = make_user("pat", role, lines=[line])
    client.force_login(person)
    pk = connection.pk
    for name in ("connections", "connection_new"):
        assert client.get(reverse(f"dashboards:{name}")).status_code == 403
    for name in (
        "connection",
        "connection_progress",
        "connection_webhooks",
        "connection_disconnect",
    ):
        assert client.get(reverse(f"dashboards:{name}", args=[pk])).status_code == 403
    for name in (
        "connection_register",
        "connection_key",
        "connection_limit",
        "connection_disconnect",
    ):
        assert client.post(reverse(f"dashboards:{name}", args=[pk]), {}).status_code == 403
    assert (
        client.post(reverse("dashboards:connection_new"), connect_form(account)).status_code == 403
    )
    assert client.get(reverse("dashboards:line", args=[line.pk])).status_code == 403
    assert Connection.objects.count() == 1 and Connection.objects.get().is_active
