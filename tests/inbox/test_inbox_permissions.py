"""Every inbox endpoint, full page and htmx partial, GET and POST, walked with foreign ids."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations.models import Message
from textdesk.payments.models import Payment

HTMX = {"HTTP_HX_REQUEST": "true"}


def _thread(line, first_name):
    conversation = make_conversation(line, first_name=first_name)
    message = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Failed hello",
        sent_at=timezone.now(),
        status="failed",
        failure_reason="Carrier refused",
    )
    payment = Payment.objects.create(
        dashboard=line,
        contact=conversation.contact,
        customer_phone=conversation.contact.phone_number,
        amount_requested=Decimal("25.00"),
        payment_id=77,
        status="sent",
        textrequest_payment_status="Sent",
    )
    return conversation, message, payment


@pytest.fixture
def mine(line):
    return _thread(line, "Mina")


@pytest.fixture
def foreign(other_line):
    return _thread(other_line, "Fotis")


def get_urls(line, conversation):
    c = (line.pk, conversation.pk)
    return [
        (reverse("conversations:line", args=[line.pk]), {}),
        (reverse("conversations:line", args=[line.pk]), {"HTTP_HX_TARGET": "conversation-list"}),
        (reverse("conversations:live", args=[line.pk]) + f"?c={conversation.pk}", {}),
        (reverse("conversations:new", args=[line.pk]), {}),
        (reverse("conversations:conversation", args=c), {}),
        (reverse("conversations:conversation", args=c), {"HTTP_HX_TARGET": "conversation"}),
        (reverse("conversations:earlier", args=c) + "?before=1700000000000000.999", {}),
    ]


def post_urls(line, conversation, message, payment):
    c = (line.pk, conversation.pk)
    return [
        (reverse("conversations:send", args=c), {"body": "hi"}),
        (reverse("conversations:retry", args=[*c, message.pk]), {}),
        (reverse("conversations:resolve", args=c), {"resolved": "1"}),
        (reverse("conversations:archive", args=c), {"archived": "1"}),
        (reverse("conversations:assign", args=c), {"assign": "me"}),
        (reverse("conversations:tags", args=c), {}),
        (reverse("conversations:contact", args=c), {"first_name": "X"}),
        (reverse("conversations:draft", args=c), {"body": "draft"}),
        (reverse("conversations:request_payment", args=c), {"amount": "5", "message": "Pay"}),
        (reverse("conversations:remind", args=[*c, payment.pk]), {}),
        (reverse("conversations:cancel_payment", args=[*c, payment.pk]), {}),
        (reverse("conversations:new", args=[line.pk]), {"phone_number": "4235550100"}),
    ]


def test_foreign_line_is_404_for_every_get(client, agent, mine, foreign, other_line):
    client.force_login(agent)
    conversation = foreign[0]
    for url, headers in get_urls(other_line, conversation):
        for extra in ({}, HTMX):
            response = client.get(url, **headers, **extra)
            assert response.status_code == 404, url


def test_foreign_conversation_on_own_line_is_404(client, agent, line, mine, foreign):
    client.force_login(agent)
    conversation = foreign[0]
    for url, headers in get_urls(line, conversation):
        if str(conversation.pk) not in url:
            continue
        for extra in ({}, HTMX):
            assert client.get(url, **headers, **extra).status_code == 404, url


def test_foreign_ids_are_404_for_every_post(client, agent, other_line, foreign):
    client.force_login(agent)
    for url, data in post_urls(other_line, *foreign):
        for extra in ({}, HTMX):
            assert client.post(url, data, **extra).status_code == 404, url


def test_foreign_message_or_payment_in_own_conversation_is_404(client, agent, line, mine, foreign):
    client.force_login(agent)
    conversation = mine[0]
    _, message, payment = foreign
    c = (line.pk, conversation.pk)
    urls = [
        reverse("conversations:retry", args=[*c, message.pk]),
        reverse("conversations:remind", args=[*c, payment.pk]),
        reverse("conversations:cancel_payment", args=[*c, payment.pk]),
    ]
    for url in urls:
        assert client.post(url, **HTMX).status_code == 404, url
    assert Message.objects.get(pk=message.pk).status == "failed"


def test_anonymous_is_sent_to_login(client, line, mine):
    login = reverse("accounts:login")
    for url, headers in get_urls(line, mine[0]):
        response = client.get(url, **headers)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    for url, data in post_urls(line, *mine):
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    assert client.get(reverse("conversations:inbox")).status_code == 302


def test_finance_reads_every_line_but_cannot_act(client, finance_user, line, mine):
    client.force_login(finance_user)
    for url, headers in get_urls(line, mine[0]):
        if "/new/" in url:
            continue
        response = client.get(url, **headers)
        assert response.status_code in (200, 204), url
    for url, data in post_urls(line, *mine):
        for extra in ({}, HTMX):
            assert client.post(url, data, **extra).status_code == 403, url
    assert client.get(reverse("conversations:new", args=[line.pk])).status_code == 403


def test_finance_sees_no_composer(client, finance_user, line, mine):
    client.force_login(finance_user)
    page = client.get(reverse("conversations:conversation", args=[line.pk, mine[0].pk]))
    assert b"replies come from the agents of this line" in page.content
    assert b"composer-readonly" in page.content
    assert b'name="body"' not in page.content
    assert Message.objects.filter(conversation=mine[0]).count() == 1


def test_finance_reading_does_not_mark_read(client, finance_user, line, mine):
    conversation = mine[0]
    conversation.is_unread = True
    conversation.save()
    client.force_login(finance_user)
    client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.is_unread


def test_post_without_csrf_token_is_403(agent, line, mine):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    for url, data in post_urls(line, *mine):
        assert client.post(url, data, **HTMX).status_code == 403, url
    assert Message.objects.filter(conversation=mine[0]).count() == 1


def test_get_is_refused_on_action_endpoints(client, agent, line, mine):
    client.force_login(agent)
    for url, _ in post_urls(line, *mine):
        if "/new/" in url:
            continue
        assert client.get(url).status_code == 405, url
