"""Payment requests and actions through the outbox: created once, one reminder only."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.outbox.models import Change
from textdesk.payments import services
from textdesk.payments.models import Payment
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def line(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 0.5
    settings.TEXTDESK_UNKNOWN_GRACE = 0
    return lines_of(connect(sandbox_account))[0]


def request(line, staff, key=None, **extra):
    return services.request_payment(
        dashboard=line,
        phone_number="(615) 555-0142",
        user=staff,
        amount="125.50",
        message="Your invoice from Blue Ridge",
        description="Invoice 88",
        reference_number="INV-88",
        client_key=key or uuid.uuid4(),
        **extra,
    )


def remote_payments(account, line):
    return account.get(f"/dashboards/{line.dashboard_id}/payments", page=0, page_size=100).json()


def test_payment_request_reaches_text_request_once(sandbox_account, line, staff):
    key = uuid.uuid4()
    payment = request(line, staff, key)
    assert request(line, staff, key).pk == payment.pk
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SENT
    assert payment.payment_id
    assert payment.textrequest_payment_status == "Sent"
    assert remote_payments(sandbox_account, line)["meta"]["total_items"] == 1
    run_sync(line, wait=True)
    assert Payment.objects.count() == 1


def test_one_reminder_only_and_already_reminded_counts_as_success(sandbox_account, line, staff):
    payment = request(line, staff)
    payment.refresh_from_db()
    change = services.send_reminder(payment=payment, user=staff)
    change.refresh_from_db()
    assert change.status == Change.Status.DONE
    payment.refresh_from_db()
    with pytest.raises(services.PaymentActionRefused, match="only one"):
        services.send_reminder(payment=payment, user=staff)
    # Our earlier attempt timed out, yet it went through: the retry's 400 is success.
    Change.objects.filter(pk=change.pk).update(status="pending", not_before=None)
    from textdesk.outbox.changes import apply_change

    apply_change(change.pk)
    change.refresh_from_db()
    assert change.status == Change.Status.DONE
    reminders = [
        d
        for d in sandbox_account.control.counters(sandbox_account.api_key)["sent"]
        if d["body"].startswith("Reminder")
    ]
    assert sum(d["count"] for d in reminders) == 1


def test_cancel_and_mark_paid(sandbox_account, line, staff):
    first = request(line, staff)
    second = services.request_payment(
        dashboard=line,
        phone_number="6155550143",
        user=staff,
        amount=10,
        message="Deposit",
        description="",
        reference_number="",
        client_key=uuid.uuid4(),
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert services.cancel_payment(payment=first, user=staff)
    assert services.mark_paid(payment=second, user=staff)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.textrequest_payment_status == "Canceled"
    assert second.textrequest_payment_status == "Paid"
    with pytest.raises(services.PaymentActionRefused):
        services.mark_paid(payment=first, user=staff)
    statuses = {
        p["payment_id"]: p["textrequest_payment_status"]
        for p in remote_payments(sandbox_account, line)["items"]
    }
    assert statuses == {first.payment_id: "Canceled", second.payment_id: "Paid"}


def test_timed_out_request_is_found_not_created_twice(sandbox_account, line, staff):
    sandbox_account.control.set_faults(
        api_key=sandbox_account.api_key, timeout_rate=1.0, timeout_seconds=1.0
    )
    payment = request(line, staff)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNKNOWN
    sandbox_account.control.clear_faults(sandbox_account.api_key)
    services.settle_payment(payment.pk, now=timezone.now() + timedelta(minutes=5))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SENT
    assert remote_payments(sandbox_account, line)["meta"]["total_items"] == 1


def test_a_request_answered_503_is_retried_and_created_once(sandbox_account, line, staff):
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, outage=True)
    payment = request(line, staff)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING  # a 503 was not handled: safe to retry
    sandbox_account.control.clear_faults(sandbox_account.api_key)
    for _ in range(2):
        Payment.objects.filter(pk=payment.pk).update(not_before=None)
        services.sweep_payments(min_age=timedelta(0))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SENT
    assert remote_payments(sandbox_account, line)["meta"]["total_items"] == 1


def test_unconfirmed_request_waits_for_a_person_then_goes_once(
    sandbox_account, line, staff, finance_user, client
):
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, error_rate=1.0)
    payment = request(line, staff)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNKNOWN
    sandbox_account.control.clear_faults(sandbox_account.api_key)
    services.settle_payment(payment.pk, now=timezone.now() + timedelta(minutes=5))
    payment.refresh_from_db()
    # Not found, and not created again by itself: the payment page says so and offers a retry.
    assert payment.status == Payment.Status.UNKNOWN and payment.is_unconfirmed
    assert remote_payments(sandbox_account, line)["meta"]["total_items"] == 0
    client.force_login(finance_user)
    page = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert "Text Request has not confirmed this request" in page
    assert "Request again" in page
    again = reverse("payments:action", args=[payment.pk, "again"])
    assert client.post(again).status_code == 302
    assert client.post(again).status_code == 302  # the second click is refused, not sent
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SENT
    assert remote_payments(sandbox_account, line)["meta"]["total_items"] == 1


def test_refusals_are_clear(line, staff):
    with pytest.raises(services.PaymentActionRefused, match="amount"):
        services.request_payment(
            dashboard=line,
            phone_number="6155550142",
            user=staff,
            amount="-3",
            message="x",
            description="",
            reference_number="",
            client_key=uuid.uuid4(),
        )
    with pytest.raises(services.InvalidPhoneNumber):
        services.request_payment(
            dashboard=line,
            phone_number="555",
            user=staff,
            amount="3",
            message="x",
            description="",
            reference_number="",
            client_key=uuid.uuid4(),
        )
    pending = Payment.objects.create(
        dashboard=line, customer_phone="6155550142", amount_requested="5.00", status="pending"
    )
    with pytest.raises(services.PaymentActionRefused, match="not reached"):
        services.send_reminder(payment=pending, user=staff)
