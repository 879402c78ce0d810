"""Payment reminders text the customer, so they follow the texts' consent rules: the
follow-up queue never offers an opted-out or blocked contact's payment, an agent's reminder is
refused for them, and a reminder queued before a STOP fails at send time with the reason."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.payments.test_payments_follow_up import reminder_texts, run_due, world  # noqa: F401
from textdesk.contacts.models import Contact
from textdesk.outbox.models import Change
from textdesk.payments import followup, services
from textdesk.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_queue_never_offers_an_opted_out_or_blocked_contacts_payment(client, world):  # noqa: F811
    account, line, fran, old, young = world
    Contact.objects.filter(pk=old[0].contact_id).update(opted_out_at=timezone.now())
    Contact.objects.filter(pk=old[1].contact_id).update(is_blocked=True)
    client.force_login(fran)
    rows = client.get(reverse("payments:follow_up")).context["rows"]
    assert [p.pk for p in rows] == [old[2].pk]
    client.post(reverse("payments:follow_up"), {"everything": "on"})
    run_due()
    assert reminder_texts(account) == {old[2].customer_phone: 1}


def test_an_agents_reminder_is_refused_for_an_opted_out_contact(world):  # noqa: F811
    account, line, fran, old, young = world
    Contact.objects.filter(pk=old[0].contact_id).update(opted_out_at=timezone.now())
    payment = Payment.objects.get(pk=old[0].pk)
    with pytest.raises(services.PaymentActionRefused, match="opted out"):
        services.send_reminder(payment=payment, user=fran)
    assert not payment.changes.exists()


def test_a_reminder_queued_before_a_stop_fails_at_send_time(world):  # noqa: F811
    account, line, fran, old, young = world
    now = timezone.now()
    followup.send_reminders(followup.queue(Payment.objects.all()), user=fran, now=now)
    waiting = list(Change.objects.filter(kind="remind_payment", status="pending"))
    assert len(waiting) == 2  # the first went at once; two wait their turn
    stopped = Payment.objects.get(pk=waiting[0].target_id)
    Contact.objects.filter(pk=stopped.contact_id).update(opted_out_at=now)  # STOP arrives

    Change.objects.filter(status="pending").update(not_before=now - timedelta(seconds=1))
    run_due()

    refused = Change.objects.get(pk=waiting[0].pk)
    assert refused.status == Change.Status.FAILED
    assert refused.failure_reason.startswith("Not sent: This contact opted out")
    assert stopped.customer_phone not in reminder_texts(account)
    assert Change.objects.get(pk=waiting[1].pk).status == Change.Status.DONE
