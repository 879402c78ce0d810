"""The follow-up queue: exactly one reminder per payment, paced, even when the button is
pressed twice or a worker dies mid-batch (counted by the sandbox)."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import calls, connect, lines_of
from textdesk.outbox.changes import STALE_SENDING, sweep_changes
from textdesk.outbox.models import Change
from textdesk.payments import followup, services
from textdesk.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)
PHONES = ["6155550141", "6155550142", "6155550143", "6155550144", "6155550145"]


@pytest.fixture
def world(sandbox_account):
    line = lines_of(connect(sandbox_account))[0]
    fran = make_user("fran", "Finance")
    payments = []
    for i, phone in enumerate(PHONES):
        payment = services.request_payment(
            dashboard=line, phone_number=phone, user=fran, amount=f"{20 + i}.00",
            message="Your invoice", description="", reference_number=f"INV-{i}",
            client_key=uuid.uuid4(),
        )  # fmt: skip
        payments.append(payment)
    # Three old enough to chase, one too young, one already paid.
    old, young, paid = payments[:3], payments[3], payments[4]
    Payment.objects.filter(pk__in=[p.pk for p in old + [paid]]).update(
        requested_at=timezone.now() - timedelta(days=5)
    )
    Payment.objects.filter(pk=paid.pk).update(textrequest_payment_status="Paid")
    return sandbox_account, line, fran, old, young


def reminder_texts(account) -> dict:
    """Reminder texts the sandbox accepted, per phone number."""
    counters = account.control.counters(account.api_key)
    found = {}
    for row in counters["sent"]:
        if row["body"].startswith("Reminder from"):
            found[row["phone_number"]] = found.get(row["phone_number"], 0) + row["count"]
    return found


def run_due(rounds: int = 10) -> None:
    """Let the paced reminders come due (time travel) and let the sweeper send them."""
    for _ in range(rounds):
        Change.objects.filter(status="pending").update(not_before=timezone.now())
        if not sweep_changes(min_age=timedelta(0)):
            return


def queue_rows(client):
    return client.get(reverse("payments:follow_up")).context["rows"]


def test_the_queue_holds_old_open_unreminded_requests(client, world):
    account, line, fran, old, young = world
    client.force_login(fran)
    assert sorted(p.pk for p in queue_rows(client)) == sorted(p.pk for p in old)


def test_three_reminders_once_each_even_when_pressed_twice(client, world):
    account, line, fran, old, young = world
    client.force_login(fran)
    picked = {"payment": [p.pk for p in old]}
    first = client.post(reverse("payments:follow_up"), picked, HTTP_HX_REQUEST="true")
    again = client.post(reverse("payments:follow_up"), picked, HTTP_HX_REQUEST="true")
    assert first.status_code == again.status_code == 200
    assert "3 reminders queued" in first.content.decode()
    assert "No reminder queued" in again.content.decode()
    assert "Sending reminders" in again.content.decode()  # progress, polled while sending
    run_due()
    assert reminder_texts(account) == {p.customer_phone: 1 for p in old}
    assert calls(account).get("SendPaymentReminder") == 3
    assert queue_rows(client) == []  # the queue emptied as they went
    for payment in old:
        payment.refresh_from_db()
        assert payment.reminder_was_sent and payment.reminder_sent_at
    page = client.get(reverse("payments:follow_up")).content.decode()
    assert "Reminders sent: 3 of 3" in page
    # Another press, now everything is sent: nothing more goes out.
    client.post(reverse("payments:follow_up"), {"everything": "on"})
    run_due()
    assert reminder_texts(account) == {p.customer_phone: 1 for p in old}


def test_reminders_are_paced_and_an_agent_is_not_held_up(world):
    account, line, fran, old, young = world
    queue = followup.queue(Payment.objects.all())
    now = timezone.now()
    outcome = followup.send_reminders(queue, user=fran, now=now)
    assert outcome.queued == 3
    # The first went at once; the others wait their turn, 3 s apart (20 a minute by
    # default: a fifth of the account's calls).
    assert Change.objects.filter(kind="remind_payment", status="done").count() == 1
    due = list(
        Change.objects.filter(kind="remind_payment", status="pending").order_by("not_before")
        .values_list("not_before", flat=True)
    )  # fmt: skip
    assert [(d - now).total_seconds() for d in due] == [3.0, 6.0]
    # Bulk reminders call at sync priority: they never take the reserve kept for people.
    assert set(Change.objects.values_list("priority", flat=True)) == {"sync"}
    # An agent's own reminder on the young payment is queued without a wait.
    young.refresh_from_db()
    mine = services.send_reminder(payment=young, user=fran)
    mine.refresh_from_db()
    assert mine.not_before is None
    assert mine.priority == "interactive"
    assert mine.status == Change.Status.DONE
    # A second batch queues behind the first, not on top of it.
    later = services.request_payment(
        dashboard=line, phone_number="6155550149", user=fran, amount="9.00",
        message="Your invoice", description="", reference_number="", client_key=uuid.uuid4(),
    )  # fmt: skip
    Payment.objects.filter(pk=later.pk).update(requested_at=now - timedelta(days=9))
    followup.send_reminders(followup.queue(Payment.objects.all()), user=fran, now=now)
    last = later.changes.get()
    assert (last.not_before - due[-1]).total_seconds() == 3.0


def test_a_worker_dying_mid_batch_sends_no_reminder_twice(client, world):
    account, line, fran, old, young = world
    client.force_login(fran)
    # The web process died after queuing the first reminder: a new press queues the rest.
    followup.send_reminders(followup.queue(Payment.objects.filter(pk=old[0].pk)), user=fran)
    client.post(reverse("payments:follow_up"), {"everything": "on"})
    assert Change.objects.filter(kind="remind_payment").count() == 3
    # A Celery worker died after its call reached Text Request (second payment) and another
    # before making the call (third): both rows are left "sending".
    second, third = (p.changes.get() for p in old[1:])
    account.post(f"/dashboards/{line.dashboard_id}/payments/{old[1].payment_id}/resend")
    long_ago = timezone.now() - STALE_SENDING - timedelta(seconds=1)
    Change.objects.filter(pk__in=[second.pk, third.pk]).update(
        status="sending", claimed_at=long_ago, not_before=None
    )
    run_due()
    assert reminder_texts(account) == {p.customer_phone: 1 for p in old}
    assert set(Change.objects.filter(kind="remind_payment").values_list("status", flat=True)) == {
        "done"
    }
    assert queue_rows(client) == []


def test_nothing_picked_is_a_clear_message(client, world):
    account, line, fran, old, young = world
    client.force_login(fran)
    response = client.post(reverse("payments:follow_up"), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Pick at least one payment" in response.content.decode()
    bad = client.post(reverse("payments:follow_up"), {"payment": "x"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    assert not Change.objects.exists()


def test_a_bulk_reminder_held_by_the_limiter_waits_without_failing(world, monkeypatch):
    from textdesk.textrequest import errors
    from textdesk.textrequest.client import TextRequestClient

    account, line, fran, old, young = world

    def busy(self, *args, **kwargs):
        raise errors.LimiterBusy(2.0, operation="SendPaymentReminder")

    monkeypatch.setattr(TextRequestClient, "send_payment_reminder", busy)
    followup.send_reminders(followup.queue(Payment.objects.filter(pk=old[0].pk)), user=fran)
    for _ in range(20):  # far more than the outbox's attempts for a person's action
        run_due(rounds=1)
    change = old[0].changes.get()
    assert change.status == Change.Status.PENDING
    assert change.attempts == 0
    monkeypatch.undo()
    run_due()
    change.refresh_from_db()
    assert change.status == Change.Status.DONE
    assert reminder_texts(account) == {old[0].customer_phone: 1}
