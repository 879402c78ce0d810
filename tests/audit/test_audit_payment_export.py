"""Exporting payments is a person's action like exporting contacts: it is in the audit log,
with the filter it covered."""

from django.urls import reverse

from textdesk.audit.models import Entry


def test_the_payments_export_is_audited(client, finance_user, line):
    client.force_login(finance_user)
    response = client.get(reverse("payments:export"), {"state": "open"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = Entry.objects.get(kind="payment_export")
    assert entry.actor == finance_user
    assert entry.summary.startswith("Exported payments (") and "open" in entry.summary


def test_a_refused_export_is_not_audited(client, finance_user, line):
    client.force_login(finance_user)
    assert client.get(reverse("payments:export"), {"amount_min": "abc"}).status_code == 400
    assert not Entry.objects.filter(kind="payment_export").exists()
