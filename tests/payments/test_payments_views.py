"""Finance staff request, remind (once), cancel, mark paid and total payments through the UI."""

import re
import uuid

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(sandbox_account):
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    return sandbox_account, line


def request_payment(client, line, **overrides):
    data = {
        "dashboard": line.pk,
        "phone_number": "(615) 555-0142",
        "amount": "125.50",
        "message": "Your invoice from Front Desk Dental",
        "description": "Cleaning, Nov 20",
        "reference_number": "INV-1001",
        "client_key": str(uuid.uuid4()),
        **overrides,
    }
    return client.post(reverse("payments:new"), data)


def sandbox_payments(account, line):
    from textdesk.textrequest.client import TextRequestClient

    with TextRequestClient(account.api_url, account.api_key, bucket="test-reader") as api:
        return api.get_payments(line.dashboard_id, phone_number="6155550142").items


def test_finance_requests_a_payment_that_reaches_text_request_once(client, setup):
    account, line = setup
    client.force_login(make_user("fran", "Finance"))
    data_key = str(uuid.uuid4())
    first = request_payment(client, line, client_key=data_key)
    again = request_payment(client, line, client_key=data_key)  # a double submit
    assert first.status_code == again.status_code == 302
    payment = Payment.objects.get()
    assert first["Location"] == reverse("payments:detail", args=[payment.pk])
    assert payment.status == Payment.Status.SENT
    assert payment.payment_id
    [upstream] = sandbox_payments(account, line)
    assert upstream.amount_requested == payment.amount_requested
    assert upstream.reference_number == "INV-1001"


def test_bad_input_keeps_what_was_typed(client, setup):
    _, line = setup
    client.force_login(make_user("fran", "Finance"))
    response = request_payment(client, line, phone_number="12", amount="-3")
    assert response.status_code == 200
    page = response.content.decode()
    assert "not a phone number" in page or "not a valid US phone number" in page
    assert "Ensure this value is greater than or equal to 0.01" in page
    assert "Cleaning, Nov 20" in page  # nothing typed is lost
    assert not Payment.objects.exists()


def test_one_reminder_then_the_button_is_gone(client, setup):
    account, line = setup
    client.force_login(make_user("fran", "Finance"))
    request_payment(client, line)
    payment = Payment.objects.get()
    url = reverse("payments:action", args=[payment.pk, "remind"])
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    payment.refresh_from_db()
    assert payment.reminder_was_sent
    second = client.post(url, HTTP_HX_REQUEST="true")
    assert second.status_code == 400
    assert "only one" in second.content.decode()
    page = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert "Reminder sent" in page
    [upstream] = sandbox_payments(account, line)
    assert upstream.reminder_was_sent


def test_cancel_and_mark_paid(client, setup):
    account, line = setup
    client.force_login(make_user("fran", "Finance"))
    request_payment(client, line, client_key=str(uuid.uuid4()))
    request_payment(client, line, client_key=str(uuid.uuid4()), amount="40")
    first, second = Payment.objects.order_by("id")
    client.post(reverse("payments:action", args=[first.pk, "cancel"]))
    client.post(reverse("payments:action", args=[second.pk, "mark_paid"]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.textrequest_payment_status == "Canceled"
    assert second.textrequest_payment_status == "Paid"
    statuses = {p.payment_id: p.textrequest_payment_status for p in sandbox_payments(account, line)}
    assert statuses == {first.payment_id: "Canceled", second.payment_id: "Paid"}
    summary = client.get(reverse("payments:summary"))
    assert summary.context["totals"]["paid_amount"] == 40
    assert summary.context["totals"]["canceled_count"] == 1
    assert summary.context["totals"]["collected_this_month"] == 40  # marked paid just now


def test_agents_cannot_mark_paid_and_see_only_their_lines(client, setup):
    _, line = setup
    client.force_login(make_user("fran", "Finance"))
    request_payment(client, line)
    payment = Payment.objects.get()
    outsider = make_user("olive", "Agent")
    client.force_login(outsider)
    assert client.get(reverse("payments:detail", args=[payment.pk])).status_code == 404
    insider = make_user("sam", "Agent", lines=[line])
    client.force_login(insider)
    assert client.get(reverse("payments:detail", args=[payment.pk])).status_code == 200
    mark = client.post(reverse("payments:action", args=[payment.pk, "mark_paid"]))
    assert mark.status_code == 403


def test_payment_list_queries_do_not_grow(client, db, django_assert_max_num_queries):
    from tests.conftest import make_line

    line = make_line()
    client.force_login(make_user("fran", "Finance"))
    conversation = make_conversation(line)

    ids = iter(range(1, 1000))

    def add(n):
        for _ in range(n):
            Payment.objects.create(
                dashboard=line,
                contact=conversation.contact,
                customer_phone=conversation.contact.phone_number,
                amount_requested="10.00",
                payment_id=next(ids),
                status=Payment.Status.SENT,
                textrequest_payment_status="Sent",
            )

    def rows(response) -> int:
        assert response.status_code == 200
        return len(re.findall(r'href="/payments/\d+/"', response.content.decode()))

    add(2)
    with django_assert_max_num_queries(12) as few:
        response = client.get(reverse("payments:list"))
    assert rows(response) == 2
    add(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("payments:list"))
    assert rows(response) == 42
