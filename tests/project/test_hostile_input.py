"""Hostile input in query strings and hidden fields answers 400/404 or a form error, never 500.

Each case here was a 500 on PostgreSQL: `str.isdigit()` accepts Unicode digits such as "²"
that `int()` refuses, stamps beyond year 9999 overflow `datetime`, and NUL never reaches a
PostgreSQL text column."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations.models import Message
from textdesk.payments.models import Payment

HTMX = {"HTTP_HX_REQUEST": "true"}
HUGE_STAMP = "m=0;t=99999999999999999999;r=0;p="
SUPERSCRIPT_TWO = "%C2%B2"


def conv_url(conversation, name, *extra):
    return reverse(
        f"conversations:{name}", args=[conversation.dashboard_id, conversation.pk, *extra]
    )


@pytest.fixture
def conversation(line):
    return make_conversation(line)


@pytest.fixture
def payment(line, conversation):
    return Payment.objects.create(
        dashboard=line,
        contact=conversation.contact,
        customer_phone=conversation.contact.phone_number,
        amount_requested=Decimal("30.00"),
        payment_id=501,
        status="sent",
        textrequest_payment_status="Sent",
        requested_at=timezone.now(),
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_a_seen_stamp_beyond_year_9999_refuses_the_reply_and_keeps_it(
    client, agent, conversation, htmx
):
    client.force_login(agent)
    form = {"body": "Keep me", "client_key": "7b4c1f1e-0000-4000-8000-00000000000a",
            "seen": HUGE_STAMP}  # fmt: skip
    response = client.post(conv_url(conversation, "send"), form, **(HTMX if htmx else {}))
    assert response.status_code == 400
    assert b"Keep me</textarea>" in response.content
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "seen", [HUGE_STAMP, "m=²;t=0;r=0;p=", "m=0;t=0;r=0;p=²:ab", "m=99999999999999999999999;r=0"]
)
def test_hostile_seen_refuses_resolve(client, agent, conversation, seen):
    client.force_login(agent)
    response = client.post(conv_url(conversation, "resolve"), {"resolved": "1", "seen": seen})
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert not conversation.is_resolved


def test_hostile_seen_refuses_a_reminder(client, agent, conversation, payment):
    client.force_login(agent)
    response = client.post(conv_url(conversation, "remind", payment.pk), {"seen": HUGE_STAMP})
    assert response.status_code == 400
    payment.refresh_from_db()
    assert not payment.reminder_was_sent


@pytest.mark.parametrize(
    "after",
    [
        "9999999999999999999999999.1",
        f"{SUPERSCRIPT_TWO}.1",
        f"1.{SUPERSCRIPT_TWO}",
        "1.99999999999999999999999",
        "-5.1",
    ],
)
def test_hostile_list_cursor_is_400(client, agent, line, conversation, after):
    client.force_login(agent)
    response = client.get(reverse("conversations:line", args=[line.pk]) + f"?after={after}")
    assert response.status_code == 400


@pytest.mark.parametrize("before", [f"{SUPERSCRIPT_TWO}.1", "9999999999999999999999999.1"])
def test_hostile_earlier_cursor_is_400(client, agent, conversation, before):
    client.force_login(agent)
    response = client.get(conv_url(conversation, "earlier") + f"?before={before}")
    assert response.status_code == 400
    assert b"not valid" in response.content


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "99999999999999999999999999"])
def test_hostile_live_conversation_is_refused(client, agent, line, conversation, value):
    client.force_login(agent)
    response = client.get(reverse("conversations:live", args=[line.pk]) + f"?c={value}")
    assert response.status_code in (400, 404)


# --- contacts and payments ------------------------------------------------------------------


@pytest.mark.parametrize("param", ["line", "group", "after"])
@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, "99999999999999999999999999"])
def test_contact_list_refuses_a_hostile_filter(client, admin_user, conversation, param, value):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:list") + f"?{param}={value}")
    # A form error shown with what was typed, and no contacts (never everyone); or, for a
    # page link no page of ours makes, a 400 saying why.
    if param == "after":
        assert response.status_code == 400
        assert b"Not a valid page link" in response.content
    else:
        assert response.status_code == 200
        body = response.content.decode()
        assert "Select a valid choice" in body
        assert conversation.contact.formatted_phone not in body


def test_contact_list_search_with_nul_says_why(client, admin_user, conversation):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:list") + "?q=Ca%00sey")
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def test_search_drops_nul_so_the_picker_still_finds(client, agent, line, conversation):
    """The new-conversation picker reads `q` without a form; the shared search copes."""
    client.force_login(agent)
    response = client.get(reverse("conversations:new", args=[line.pk]) + "?q=Ca%00sey")
    assert response.status_code == 200
    assert conversation.contact.phone_number[-4:] in response.content.decode()


def test_group_list_with_a_hostile_line_is_400(client, admin_user, line):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:groups") + f"?line={SUPERSCRIPT_TWO}")
    assert response.status_code == 400


def test_payment_list_with_a_hostile_line_is_a_form_error(client, admin_user, payment):
    client.force_login(admin_user)
    response = client.get(reverse("payments:list") + f"?line={SUPERSCRIPT_TWO}")
    assert response.status_code in (200, 400)
    assert "Select a valid choice" in response.content.decode()


def test_a_good_line_filter_still_filters(client, admin_user, line, other_line, payment):
    client.force_login(admin_user)
    shown = client.get(reverse("payments:list") + f"?line={line.pk}")
    hidden = client.get(reverse("payments:list") + f"?line={other_line.pk}")
    assert shown.status_code == hidden.status_code == 200
    assert "30.00" in shown.content.decode()
    assert "30.00" not in hidden.content.decode()


def test_contact_list_search_is_bounded(client, admin_user, conversation):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:list") + "?q=" + "a%20" * 50_000)
    assert response.status_code == 200
    assert "Ensure this value has at most" in response.content.decode()
