"""The inbox shows each clock in words, sorts by "SLA due" and filters "Breached" on the
stored due moments, with queries that do not grow with the rows."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from tests.inbox.test_inbox_queries import count_queries, rows_shown
from textdesk.conversations.models import Conversation
from textdesk.conversations.views import PAGE_SIZE

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "conversation-list"}


def with_clock(line, name, due, target="first", **extra):
    conversation = make_conversation(line, first_name=name, **extra)
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_due_at=due, sla_target=target, sla_reply_due_at=due, sla_reply_target=target
    )
    return conversation


def names_in_order(html: str) -> list[str]:
    return [part.split("<")[0] for part in html.split('<span class="row-name">')[1:]]


def test_sla_sort_puts_the_soonest_due_first_and_skips_rows_without_a_clock(client, agent, line):
    now = timezone.now()
    with_clock(line, "Later", now + timedelta(hours=2))
    with_clock(line, "Overdue", now - timedelta(minutes=5))
    with_clock(line, "Soon", now + timedelta(minutes=12))
    make_conversation(line, first_name="NoClock")
    client.force_login(agent)
    html = client.get(reverse("conversations:line", args=[line.pk]) + "?sort=sla").content
    assert names_in_order(html.decode()) == ["Overdue", "Soon", "Later"]


def test_the_clock_is_words_and_an_icon_not_colour_alone(client, agent, line):
    now = timezone.now()
    with_clock(line, "Soon", now + timedelta(minutes=12, seconds=30))
    late = with_clock(line, "Late", now - timedelta(minutes=5, seconds=10), target="next")
    client.force_login(agent)
    html = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert "First reply due in 12 min" in html
    assert "Reply overdue 5 min" in html
    thread = client.get(reverse("conversations:conversation", args=[line.pk, late.pk]))
    assert "Reply overdue 5 min" in thread.content.decode()


def test_breached_view_lists_only_clocks_that_ran_out(client, agent, line):
    now = timezone.now()
    with_clock(line, "Overdue", now - timedelta(minutes=5))
    with_clock(line, "Soon", now + timedelta(minutes=12))
    make_conversation(line, first_name="NoClock")
    client.force_login(agent)
    html = client.get(reverse("conversations:line", args=[line.pk]) + "?view=breached").content
    assert names_in_order(html.decode()) == ["Overdue"]


def fill(line, count, start=0):
    now = timezone.now()
    for i in range(start, start + count):
        with_clock(line, f"Person {i}", now + timedelta(minutes=i - count // 2))


def test_sla_sort_and_breached_view_are_constant_queries(
    client, agent, line, django_assert_num_queries
):
    client.force_login(agent)
    base = reverse("conversations:line", args=[line.pk])
    fill(line, 6)
    small_sort = count_queries(client, base + "?sort=sla")
    small_breached = count_queries(client, base + "?view=breached&sort=sla", **HTMX)
    fill(line, 90, start=6)
    with django_assert_num_queries(small_sort):
        response = client.get(base + "?sort=sla")
    assert rows_shown(response) == PAGE_SIZE
    with django_assert_num_queries(small_breached):
        response = client.get(base + "?view=breached&sort=sla", **HTMX)
    assert rows_shown(response) > 3


def test_sla_sort_pages_on_a_keyset(client, agent, line):
    fill(line, PAGE_SIZE + 5)
    client.force_login(agent)
    url = reverse("conversations:line", args=[line.pk]) + "?sort=sla"
    first = client.get(url).content.decode()
    after = first.split("after=")[1].split('"')[0]
    second = client.get(f"{url}&after={after}").content.decode()
    seen = names_in_order(first) + names_in_order(second)
    assert len(seen) == PAGE_SIZE + 5 == len(set(seen))
    assert seen[0] == "Person 0" and seen[-1] == f"Person {PAGE_SIZE + 4}"
