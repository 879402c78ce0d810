"""Polling steps back while a line's events are healthy and takes over on its own when they
are not; contacts made in Text Request's own app arrive within five minutes without events
and at once with "Sync now"."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.textrequest_helpers import calls, connect, lines_of
from textdesk.contacts.models import Contact
from textdesk.dashboards.models import Dashboard, SyncState
from textdesk.dashboards.sync import register_hooks
from textdesk.payments.models import Payment
from textdesk.sync import engine
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


def spent(account, before):
    return {op: n - before.get(op, 0) for op, n in calls(account).items() if n != before.get(op, 0)}


@pytest.fixture
def line(sandbox_account, settings):
    """A synced line with one open payment, its events subscribed (not delivered here)."""
    settings.TEXTDESK_PUBLIC_URL = "https://textdesk.example.com"
    account = sandbox_account
    connection = connect(account)
    line = lines_of(connection)[0]
    account.post(
        f"/dashboards/{line.dashboard_id}/payments",
        json={"customer_phone": "6155550160", "amount_requested": 20, "message": "Invoice"},
    )
    run_sync(line, wait=True)
    assert Payment.objects.filter(Payment.OPEN, dashboard=line).exists()
    return line


def test_with_events_healthy_an_idle_cycle_costs_one_call(line, sandbox_account):
    register_hooks(line.connection)
    assert Dashboard.objects.get(pk=line.pk).hooks_healthy()
    before = calls(sandbox_account)
    run_sync(line, wait=True)
    assert spent(sandbox_account, before) == {"GetConversations": 1}


def test_without_events_the_cycle_reads_open_payments_itself(line, sandbox_account):
    register_hooks(line.connection)
    Dashboard.objects.filter(pk=line.pk).update(
        hooks_verified_at=timezone.now() - timedelta(hours=2)  # the periodic check is overdue
    )
    before = calls(sandbox_account)
    run_sync(line, wait=True)
    assert spent(sandbox_account, before) == {"GetConversations": 1, "GetPayments": 1}


def test_activity_no_event_brought_hands_back_to_polling(line, sandbox_account, monkeypatch):
    register_hooks(line.connection)
    monkeypatch.setattr(engine, "EVENT_LATENESS", timedelta(0))
    sandbox_account.control.inbound(
        sandbox_account.api_key, line.dashboard_id, "6155550199", "Nobody told you"
    )  # the event went nowhere: the subscriptions point at an unreachable host
    run_sync(line, wait=True)
    line.refresh_from_db()
    assert line.hooks_missed_at is not None and not line.hooks_healthy()
    before = calls(sandbox_account)
    run_sync(line, wait=True)
    assert spent(sandbox_account, before)["GetPayments"] == 1
    # A later event (or check) makes them healthy again.
    Dashboard.objects.filter(pk=line.pk).update(hooks_seen_at=timezone.now())
    assert Dashboard.objects.get(pk=line.pk).hooks_healthy()


def test_a_contact_made_elsewhere_arrives_within_five_minutes_without_events(line, sandbox_account):
    account = sandbox_account
    account.control.create_contact(
        account.api_key, line.dashboard_id, "6155550172", first_name="Bo"
    )
    run_sync(line, wait=True)  # the cadence: not yet
    assert not Contact.objects.filter(phone_number="6155550172").exists()
    state = SyncState.objects.get(dashboard=line, resource=SyncState.Resource.CONTACTS)
    due = (timezone.now() - engine.NEW_CONTACTS_EVERY).isoformat()
    state.cursor = {**state.cursor, "created_since": due}
    state.save()
    before = calls(account)
    run_sync(line, wait=True)
    assert Contact.objects.get(phone_number="6155550172").first_name == "Bo"
    assert spent(account, before).get("GetContacts") == 1


def test_sync_now_reads_new_contacts_and_payments_at_once(
    line, sandbox_account, admin_client, django_capture_on_commit_callbacks
):
    account = sandbox_account
    register_hooks(line.connection)  # even with healthy events
    account.control.create_contact(account.api_key, line.dashboard_id, "6155550173")
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(reverse("sync:now", args=[line.connection_id]))
    assert answer.status_code == 302
    assert Contact.objects.filter(phone_number="6155550173").exists()


def test_the_connection_page_says_whether_polling_stepped_back(line, admin_client):
    register_hooks(line.connection)
    url = reverse("dashboards:connection_webhooks", args=[line.connection_id])
    html = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "7 of 7" in html and 'badge-ok">Events<' in html and 'badge-warn">Polling<' not in html
    Dashboard.objects.filter(pk=line.pk).update(hooks_verified_at=None)
    html = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'badge-warn">Polling<' in html and 'badge-ok">Events<' not in html


def test_a_failing_periodic_check_hands_back_to_polling(line, sandbox_account):
    from textdesk.textrequest import errors

    register_hooks(line.connection)
    assert Dashboard.objects.get(pk=line.pk).hooks_healthy()
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, outage=True)
    try:
        with pytest.raises(errors.TextRequestError):
            register_hooks(line.connection)
    finally:
        sandbox_account.control.clear_faults(sandbox_account.api_key)
    assert not Dashboard.objects.get(pk=line.pk).hooks_healthy()
