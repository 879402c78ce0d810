"""Text-to-pay: one reminder, cancel texts the customer, mark-paid, portal pay, past due."""

import pytest

CUSTOMER = "3216547890"
BODY = {
    "description": "Housecall",
    "customer_phone": "321-654-7890",
    "amount_requested": 220.5,
    "message": "Please pay for today's visit.",
    "reference_number": "receipt-chicago",
}


@pytest.fixture
def line(sandbox_account):
    acct = sandbox_account
    return acct, f"/dashboards/{acct.dashboard_id}"


def create(acct, d, **changes):
    r = acct.post(d + "/payments", json={**BODY, **changes})
    assert r.status_code == 200, r.text
    return r.json()


def texts(acct):
    return [m["body"] for m in acct.control.messages(acct.api_key) if m["message_direction"] == "S"]


def test_a_new_payment_starts_sent_and_texts_the_link(line):
    acct, d = line
    acct.post(f"{d}/contacts/{CUSTOMER}", json={"display_name": "Pat Doe"})
    p = create(acct, d)
    assert p["textrequest_payment_status"] == "Sent" and p["transaction_status"] == "Unknown"
    assert p["reminder_was_sent"] is False and p["is_past_due"] is False
    assert p["customer_phone"] == CUSTOMER and p["recipient"] == "Pat Doe"
    assert p["amount_requested"] == 220.5
    [text] = texts(acct)
    assert text.startswith(BODY["message"]) and "https://pay.textrequest.com/p/" in text


def test_only_one_reminder_per_payment(line):
    acct, d = line
    p = create(acct, d)
    first = acct.post(f"{d}/payments/{p['payment_id']}/resend")
    assert first.status_code == 200 and first.json()["reminder_was_sent"] is True
    second = acct.post(f"{d}/payments/{p['payment_id']}/resend")
    assert second.status_code == 400 and "reminder" in second.json()["message"]
    assert len(texts(acct)) == 2


def test_cancel_texts_the_customer_and_closes_the_payment(line):
    acct, d = line
    p = create(acct, d)
    r = acct.post(f"{d}/payments/{p['payment_id']}/cancel")
    assert r.status_code == 200 and r.json()["textrequest_payment_status"] == "Canceled"
    assert "canceled" in texts(acct)[-1]
    for action in ("cancel", "resend", "mark_as_paid"):
        again = acct.post(f"{d}/payments/{p['payment_id']}/{action}")
        assert again.status_code == 400 and "canceled" in again.json()["message"]
    with pytest.raises(Exception, match="400"):
        acct.control.pay(acct.api_key, acct.dashboard_id, p["payment_id"])


def test_mark_as_paid_closes_without_texting(line):
    acct, d = line
    p = create(acct, d)
    r = acct.post(f"{d}/payments/{p['payment_id']}/mark_as_paid")
    assert r.status_code == 200 and r.json()["textrequest_payment_status"] == "Paid"
    assert len(texts(acct)) == 1
    for action in ("cancel", "resend", "mark_as_paid"):
        assert acct.post(f"{d}/payments/{p['payment_id']}/{action}").status_code == 400


def test_the_customer_pays_through_the_portal(line):
    acct, d = line
    p = create(acct, d)
    declined = acct.control.pay(
        acct.api_key, acct.dashboard_id, p["payment_id"], outcome="declined"
    )
    assert (
        declined["transaction_status"] == "Declined"
        and declined["textrequest_payment_status"] == "Sent"
    )
    paid = acct.control.pay(acct.api_key, acct.dashboard_id, p["payment_id"])
    assert paid["textrequest_payment_status"] == "Paid" and paid["transaction_status"] == "Approved"
    got = acct.get(f"{d}/payments/{p['payment_id']}").json()
    assert got == paid


def test_past_due_after_seven_days_while_unpaid(sandbox_server):
    from standins.textrequest.testing import SandboxServer

    with SandboxServer(delivery_delay=0) as server:  # its own clock
        key, [dash] = server.control.new_account()
        headers = {"x-api-key": key}
        import requests

        url = f"{server.api_url}/dashboards/{dash}/payments"
        open_p = requests.post(url, json=BODY, headers=headers, timeout=5).json()
        paid_p = requests.post(url, json=BODY, headers=headers, timeout=5).json()
        requests.post(f"{url}/{paid_p['payment_id']}/mark_as_paid", headers=headers, timeout=5)
        server.control.advance_clock(6 * 86400)
        assert (
            requests.get(f"{url}/{open_p['payment_id']}", headers=headers, timeout=5).json()[
                "is_past_due"
            ]
            is False
        )
        server.control.advance_clock(86400 + 1)
        assert (
            requests.get(f"{url}/{open_p['payment_id']}", headers=headers, timeout=5).json()[
                "is_past_due"
            ]
            is True
        )
        assert (
            requests.get(f"{url}/{paid_p['payment_id']}", headers=headers, timeout=5).json()[
                "is_past_due"
            ]
            is False
        )


def test_payments_to_opted_out_customers_are_400(line):
    acct, d = line
    acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "STOP")
    r = acct.post(d + "/payments", json=BODY)
    assert r.status_code == 400 and "opted out" in r.json()["message"]


def test_unknown_payments(line):
    acct, d = line
    assert acct.get(f"{d}/payments/123456").status_code == 204
    for action in ("cancel", "resend", "mark_as_paid"):
        r = acct.post(f"{d}/payments/123456/{action}")
        assert r.status_code == 400 and r.json()["message"]


def test_filters_and_sorting(line):
    acct, d = line
    a = create(acct, d, amount_requested=50, reference_number="r-1")
    b = create(acct, d, amount_requested=300, customer_phone="4235550190", reference_number="r-2")
    c = create(acct, d, amount_requested=120, reference_number="r-1")
    acct.post(f"{d}/payments/{c['payment_id']}/mark_as_paid")

    def ids(**params):
        r = acct.get(d + "/payments", page=0, page_size=50, **params)
        assert r.status_code == 200, r.text
        return [p["payment_id"] for p in r.json()["items"]]

    pa, pb, pc = a["payment_id"], b["payment_id"], c["payment_id"]
    assert ids() == [pc, pb, pa]  # date, newest first
    assert ids(sort_direction="asc") == [pa, pb, pc]
    assert ids(sort_type="amount") == [pb, pc, pa]
    assert ids(sort_type="amount", sort_direction="asc") == [pa, pc, pb]
    assert ids(sort_type="status", sort_direction="asc") == [pc, pa, pb]
    assert ids(reference_number="r-1") == [pc, pa]
    assert ids(phone_number="(423) 555-0190") == [pb]
    assert ids(sort_type="contact", sort_direction="asc")[-1] in (pa, pb, pc)
    assert acct.get(d + "/payments", page=0, page_size=5, sort_type="size").status_code == 400
    assert acct.get(d + "/payments", page=0, page_size=5, sort_direction="up").status_code == 400
