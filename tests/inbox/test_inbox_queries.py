"""The inbox page and the thread cost the same number of queries whatever their size."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.contacts.models import Tag
from textdesk.conversations.models import Message
from textdesk.conversations.views import PAGE_SIZE, THREAD_SIZE
from textdesk.dashboards.models import SavedReply
from textdesk.payments.models import Payment

HTMX = {"HTTP_HX_REQUEST": "true"}


def fill_list(line, agent, count):
    tags = [
        Tag.objects.get_or_create(dashboard=line, tag_id=f"t{i}", defaults={"name": f"Tag {i}"})[0]
        for i in range(3)
    ]
    now = timezone.now()
    for i in range(count):
        conversation = make_conversation(
            line,
            first_name=f"Person {i}",
            last_message_at=now - timedelta(minutes=i),
            last_message_preview="Hello there",
            is_unread=i % 2 == 0,
            assigned_to=agent if i % 3 == 0 else None,
            waiting_since=now - timedelta(minutes=i),
        )
        conversation.contact.tags.set(tags[: i % 3 + 1])
    return tags


def fill_thread(line, count):
    conversation = make_conversation(line, first_name="Talker", history_synced_at=timezone.now())
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            direction="S" if i % 2 else "R",
            body=f"Message {i}",
            sender_name="Sam" if i % 2 else "",
            sent_at=now - timedelta(minutes=count - i),
            status="sent" if i % 2 else "received",
            delivery_status="delivered" if i % 2 else "",
            mms_media=["https://example.com/a.jpg"] if i % 7 == 0 else [],
        )
        for i in range(count)
    )
    for i in range(3):
        Payment.objects.create(
            dashboard=line,
            contact=conversation.contact,
            customer_phone=conversation.contact.phone_number,
            amount_requested=Decimal("10.00") + i,
            status="sent",
            textrequest_payment_status="Sent",
            payment_id=conversation.pk * 10 + i,
            requested_at=now - timedelta(minutes=i),
        )
    return conversation


def count_queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def rows_shown(response) -> int:
    assert response.status_code == 200
    return response.content.count(b'<span class="row-name">')


def is_fragment(response) -> bool:
    return response.status_code == 200 and b"<html" not in response.content


@pytest.fixture
def replies(line):
    SavedReply.objects.create(dashboard=line, shortcut="hours", body="We are open 9-5.")
    SavedReply.objects.create(shortcut="thanks", body="Thank you!")


# How many of fill_list's rows each view shows: every third is the agent's, none resolved.
IN_VIEW = {
    "unresolved": lambda i: True,
    "all": lambda i: True,
    "mine": lambda i: i % 3 == 0,
    "unassigned": lambda i: i % 3 != 0,
}


@pytest.mark.parametrize("view", ["unresolved", "all", "mine", "unassigned"])
def test_list_page_queries_do_not_grow_with_rows(
    client, agent, line, replies, view, django_assert_num_queries
):
    client.force_login(agent)
    url = reverse("conversations:line", args=[line.pk]) + f"?view={view}"
    fill_list(line, agent, 10)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    small = len(ctx.captured_queries)
    expected = sum(map(IN_VIEW[view], range(10)))
    assert rows_shown(response) == expected
    fill_list(line, agent, 90)
    with django_assert_num_queries(small):
        response = client.get(url)
    expected += sum(map(IN_VIEW[view], range(90)))
    assert rows_shown(response) == min(expected, PAGE_SIZE)


def test_inbox_page_with_open_thread_is_constant(
    client, agent, line, replies, django_assert_num_queries
):
    client.force_login(agent)
    fill_list(line, agent, 10)
    conversation = fill_thread(line, 10)
    url = reverse("conversations:conversation", args=[line.pk, conversation.pk])
    small = count_queries(client, url)
    fill_list(line, agent, 90)
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            direction="R",
            body=f"More {i}",
            sent_at=timezone.now() - timedelta(days=1, minutes=i),
        )
        for i in range(490)
    )
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'class="msg ') == THREAD_SIZE  # a window, "Show earlier"
    assert b"Show earlier messages" in response.content


def test_thread_partial_is_constant(client, agent, line, replies, django_assert_num_queries):
    client.force_login(agent)
    small_thread = fill_thread(line, 10)
    big_thread = fill_thread(line, 500)
    headers = {**HTMX, "HTTP_HX_TARGET": "conversation"}
    small = count_queries(
        client,
        reverse("conversations:conversation", args=[line.pk, small_thread.pk]),
        **headers,
    )
    with django_assert_num_queries(small):
        response = client.get(
            reverse("conversations:conversation", args=[line.pk, big_thread.pk]), **headers
        )
    assert is_fragment(response)
    assert b"Message 499" in response.content  # the newest text of the big thread
    assert response.content.count(b'class="msg ') == THREAD_SIZE


def test_list_partial_and_load_more_are_constant(client, agent, line, django_assert_num_queries):
    client.force_login(agent)
    fill_list(line, agent, 120)
    url = reverse("conversations:line", args=[line.pk])
    headers = {**HTMX, "HTTP_HX_TARGET": "conversation-list"}
    first = count_queries(client, url + "?q=Person", **headers)
    page = client.get(url, **headers).content.decode()
    after = page.split("after=")[1].split('"')[0]
    more = count_queries(client, f"{url}?after={after}", **HTMX, HTTP_HX_TARGET="list-more")
    fill_list(line, agent, 10)
    with django_assert_num_queries(first):
        response = client.get(url + "?q=Person", **headers)
    assert is_fragment(response)
    assert rows_shown(response) == PAGE_SIZE
    with django_assert_num_queries(more):
        response = client.get(f"{url}?after={after}", **HTMX, HTTP_HX_TARGET="list-more")
    assert is_fragment(response)
    assert rows_shown(response) == PAGE_SIZE  # the next page, of 130 rows


def test_idle_live_poll_is_a_few_queries_and_204(
    client, agent, line, django_assert_max_num_queries
):
    client.force_login(agent)
    fill_list(line, agent, 30)
    conversation = fill_thread(line, 50)
    page = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    live_url = page.content.decode().split('id="live" class="live" hx-get="')[1].split('"')[0]
    live_url = live_url.replace("&amp;", "&")
    # session, user, 2 permission reads, line, conversation + tags, the line's tags, line counts,
    # list + tags, newest messages, payments, scheduled texts, pending changes, the person's
    # unread SLA alerts (the top bar's count): all indexed, nothing rendered.
    with django_assert_max_num_queries(16):
        response = client.get(live_url, **HTMX)
    assert response.status_code == 204
