"""The real service's wider status words (docs/textrequest-api.md) are mapped by the client; an
unknown word is kept as it came, shown, logged once, and never stops a sync.

The sandbox never produces these words itself; its control API sets them on real records, so
the words travel the whole way: HTTP, the client, the sync, the database, the page."""

import logging
from collections import Counter

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of, seeded_account
from textdesk.conversations.models import Message
from textdesk.payments.models import Payment
from textdesk.sync.engine import run_sync
from textdesk.textrequest import types as tr

PAYMENT_WORDS = {
    # the real service's word -> (what textdesk keeps, is past due)
    "PastDue": ("Sent", True),
    "MarkedAsPaid": ("Paid", False),
    "Cancelled": ("Canceled", False),
    "Canceled": ("Canceled", False),
    "Failed": ("Failed", False),
    "Refunded": ("Refunded", False),  # unknown: kept as it came
}
DELIVERY_WORDS = {
    "accepted": "sending",
    "queued": "sending",
    "sent": "sending",
    "failed": "error",
    "undelivered": "error",
    "unclaimed": "unclaimed",
    "held-by-carrier": "held-by-carrier",  # unknown: kept as it came
}


@pytest.mark.django_db(transaction=True)
def test_a_sync_maps_the_real_services_status_words(sandbox_server, client, caplog):
    account = seeded_account(sandbox_server, contacts=60, messages=400, dashboards=1)
    dash = account.dashboard_id
    payments = account.get(f"/dashboards/{dash}/payments", page_size=100).json()["items"]
    open_ones = [p for p in payments if p["textrequest_payment_status"] == "Sent"]
    # How many open payments the seed makes depends on the account's id, that is on how many
    # accounts the session's sandbox made before this test: top up to one per word.
    while len(open_ones) < len(PAYMENT_WORDS):
        answer = account.post(
            f"/dashboards/{dash}/payments",
            json={
                "description": "Housecall",
                "customer_phone": open_ones[0]["customer_phone"],
                "amount_requested": 99.0,
                "message": "Please pay for today's visit.",
                "reference_number": f"INV-TOP-{len(open_ones)}",
            },
        )
        assert answer.status_code == 200, answer.text
        open_ones.append(answer.json())
    by_word = {}
    for payment, word in zip(open_ones, PAYMENT_WORDS, strict=False):
        answer = account.control.set_payment_status(
            account.api_key, dash, payment["payment_id"], word
        )
        assert answer["textrequest_payment_status"] == word
        by_word[word] = payment["payment_id"]
    history = account.control.messages(account.api_key, dash)
    per_phone = Counter(m["phone_number"] for m in history)
    # texts of short threads, so each is on its thread's first screen (newest 60)
    sent = [
        m
        for m in reversed(history)
        if m["message_direction"] == "S" and per_phone[m["phone_number"]] < 40
    ]
    texts = {}
    for message, word in zip(sent, DELIVERY_WORDS, strict=False):
        error = "Carrier said no" if DELIVERY_WORDS[word] == "error" else None
        account.control.set_delivery_status(account.api_key, message["message_id"], word, error)
        texts[word] = message["message_id"]

    caplog.set_level(logging.WARNING, logger="textdesk.textrequest.types")
    line = lines_of(connect(account))[0]
    run_sync(line, wait=True, full=True)
    run_sync(line, wait=True, full=True)  # the same unknown words again: not logged again

    for word, (kept, past_due) in PAYMENT_WORDS.items():
        row = Payment.objects.get(dashboard=line, payment_id=by_word[word])
        assert (row.textrequest_payment_status, row.is_past_due) == (kept, past_due), word
    for word, kept in DELIVERY_WORDS.items():
        row = Message.objects.get(message_id=texts[word])
        assert row.delivery_status == kept, word
        if kept == "error":
            assert row.delivery_error == "Carrier said no"
    unknown = [r.getMessage() for r in caplog.records if "unknown" in r.getMessage()]
    assert sum("'Refunded'" in m for m in unknown) <= 1
    assert sum("'held-by-carrier'" in m for m in unknown) <= 1

    # The thread says them in words too, the unknown one as it came.
    client.force_login(make_user("avery", "Admin"))
    for word, shown in (
        ("unclaimed", "Delivered, unclaimed"),
        ("held-by-carrier", "Text Request says “held-by-carrier”"),
        ("undelivered", "Not delivered: Carrier said no"),
    ):
        row = Message.objects.select_related("conversation").get(message_id=texts[word])
        page = client.get(
            reverse("conversations:conversation", args=[line.pk, row.conversation.pk])
        )
        assert shown in page.content.decode(), word
    client.logout()

    # Finance sees them in words: past due, paid, canceled, failed, and the unknown one raw.
    client.force_login(make_user("fran", "Finance"))
    page = client.get("/payments/").content.decode()
    assert "Past due" in page and "Payment failed" in page and "Refunded" in page
    failed = client.get("/payments/?state=failed").context["payments"]
    assert by_word["Failed"] in {p.payment_id for p in failed}
    past_due = client.get("/payments/?state=past_due").context["payments"]
    assert by_word["PastDue"] in {p.payment_id for p in past_due}
    paid = client.get("/payments/?state=paid").context["payments"]
    assert by_word["MarkedAsPaid"] in {p.payment_id for p in paid}


def test_an_unknown_word_is_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="textdesk.textrequest.types")
    for _ in range(3):
        assert tr.payment_state("OnHoldForReview") == "OnHoldForReview"
        assert tr.delivery_state("carrier-hold-42") == "carrier-hold-42"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("OnHoldForReview" in m for m in messages) == 1
    assert sum("carrier-hold-42" in m for m in messages) == 1


def test_a_very_long_unknown_word_is_cut_to_fit_its_column():
    word = "x" * 300
    assert tr.delivery_state(word) == "x" * tr.STATUS_MAX_LENGTH
    assert tr.payment_state(word) == "x" * tr.STATUS_MAX_LENGTH


@pytest.mark.parametrize(
    ("word", "kept"),
    [("Cancelled", "Canceled"), ("CANCELED", "Canceled"), ("Marked As Paid", "Paid"),
     ("past_due", "Sent"), ("Sent", "Sent"), ("Unknown", "Unknown"), ("", None), (None, None)],
)  # fmt: skip
def test_payment_words_in_any_spelling(word, kept):
    assert tr.payment_state(word) == kept


def test_webhooks_and_status_callbacks_map_delivery_words_too():
    callback = tr.StatusCallback.from_payload(
        {"message_id": "m1", "delivery_status": "Undelivered", "delivery_error": "No route"}
    )
    assert (callback.delivery_status, callback.delivery_error) == ("error", "No route")
    event = tr.WebhookEvent.from_payload(
        {
            "messageUniqueIdentifier": "u1",
            "yourPhoneNumber": {"id": 5, "externalPhoneId": None},
            "account": {"id": 1, "externalAccountId": None},
            "conversation": {
                "date": "2025-01-01T00:00:00Z",
                "consumerPhoneNumber": "4235550100",
                "messageDirection": "S",
                "message": "Hi",
                "status": "queued",
                "mmsAttachments": [],
            },
        }
    )
    assert event.status == "sending"
    null_status = {**event.raw, "conversation": {**event.raw["conversation"], "status": None}}
    assert tr.WebhookEvent.from_payload(null_status).status is None
