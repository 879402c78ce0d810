"""The finance list: filters, search, sorts with keyset paging, the CSV export, the timeline,
who may open what, and constant query counts."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_line, make_user
from textdesk.outbox.models import Change
from textdesk.payments import listing
from textdesk.payments.models import Payment

_ids = iter(range(1, 100_000))


def pay(line, amount="10.00", *, days=1, contact=None, **extra):
    extra.setdefault("textrequest_payment_status", "Sent")
    return Payment.objects.create(
        dashboard=line,
        payment_id=next(_ids),
        contact=contact,
        customer_phone=contact.phone_number if contact else extra.pop("phone", "6155550100"),
        amount_requested=Decimal(amount),
        requested_at=timezone.now() - timedelta(days=days),
        status=Payment.Status.SENT,
        **extra,
    )


@pytest.fixture
def lines(db):
    a = make_line(name="Front desk")
    return a, make_line(a.connection, name="Billing")


@pytest.fixture
def fran(db):
    return make_user("fran", "Finance")


def ids(response) -> list[int]:
    return [p.pk for p in response.context["payments"]]


def test_filters_combine(client, lines, fran):
    a, b = lines
    casey = make_conversation(a, first_name="Casey", phone="6155551234").contact
    keep = pay(a, "120.00", days=10, contact=casey, reference_number="INV-77", created_by=fran)
    pay(a, "120.00", days=10, textrequest_payment_status="Paid")  # wrong state
    pay(b, "120.00", days=10, created_by=fran)  # wrong line
    pay(a, "120.00", days=40, created_by=fran)  # too old
    pay(a, "20.00", days=10, created_by=fran)  # too small
    client.force_login(fran)
    day = (timezone.localtime() - timedelta(days=10)).date().isoformat()
    query = {
        "state": "open",
        "line": a.pk,
        "requester": fran.pk,
        "requested_from": day,
        "requested_to": day,
        "amount_min": "100",
        "amount_max": "200",
    }
    response = client.get(reverse("payments:list"), query)
    assert ids(response) == [keep.pk]
    for q in ["casey", "555-1234", "inv-77", "Casey INV"]:
        found = client.get(reverse("payments:list"), {**query, "q": q})
        assert ids(found) == [keep.pk], q
    assert ids(client.get(reverse("payments:list"), {"q": "nobody"})) == []


def test_made_in_text_request_is_a_requester(client, lines, fran):
    a, _ = lines
    theirs = pay(a)
    pay(a, created_by=fran)
    client.force_login(fran)
    response = client.get(reverse("payments:list"), {"requester": "textrequest"})
    assert ids(response) == [theirs.pk]


def test_bad_filter_is_a_message_not_a_500(client, lines, fran):
    a, _ = lines
    pay(a)
    client.force_login(fran)
    response = client.get(
        reverse("payments:list"),
        {"amount_min": "abc", "requested_from": "2026-05-02", "requested_to": "2026-05-01"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a number." in page
    assert "The end date is before the start date." in page
    assert 'value="abc"' in page  # what was typed stays
    bad = client.get(reverse("payments:list"), {"after": "not-a-cursor"})
    assert bad.status_code == 400
    assert "no longer valid" in bad.content.decode()
    export = client.get(reverse("payments:export"), {"amount_min": "abc"})
    assert export.status_code == 400


@pytest.mark.parametrize("sort", ["date", "amount", "customer", "state"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_keyset_pages_walk_every_row_once_in_order(lines, sort, direction):
    a, _ = lines
    statuses = ["Sent", "Paid", "Canceled"]
    for i in range(23):
        pay(
            a,
            f"{10 + i % 4}.00",
            days=i % 5,
            recipient=["Ann", "Bo", "", "Cy"][i % 4],
            textrequest_payment_status=statuses[i % 3],
        )
    Payment.objects.filter(pk__in=Payment.objects.order_by("id").values("pk")[:2]).update(
        requested_at=None
    )
    everything = list(listing.order(Payment.objects.all(), sort, direction))
    walked, cursor = [], ""
    while True:
        rows, cursor = listing.page(
            Payment.objects.all(), sort=sort, direction=direction, cursor=cursor, size=4
        )
        walked += rows
        if not cursor:
            break
    assert [p.pk for p in walked] == [p.pk for p in everything]
    assert len(walked) == 23


def test_load_more_answers_the_next_rows(client, lines, fran):
    a, _ = lines
    for i in range(listing.PAGE_SIZE + 5):
        pay(a, days=i)
    client.force_login(fran)
    first = client.get(reverse("payments:list"))
    assert len(ids(first)) == listing.PAGE_SIZE
    more = first.context["next_url"]
    assert more
    second = client.get(reverse("payments:list") + more, HTTP_HX_REQUEST="true")
    fragment = second.content.decode()
    assert "<html" not in fragment
    shown = {int(pk) for pk in re.findall(r'href="/payments/(\d+)/"', fragment)}
    assert len(shown) == 5
    assert not set(ids(first)) & shown
    assert "Load more" not in fragment


def test_sort_links_and_the_filter_live_in_the_url(client, lines, fran):
    a, _ = lines
    pay(a)
    client.force_login(fran)
    page = client.get(reverse("payments:list"), {"state": "open", "sort": "amount", "dir": "desc"})
    html = page.content.decode()
    assert 'aria-sort="descending"' in html
    assert "sort=amount&amp;dir=asc" in html  # the same column again flips the order
    assert "state=open" in html  # the export and the panels carry the filter
    assert reverse("payments:export") + "?state=open&amp;sort=amount&amp;dir=desc" in html


def test_agents_get_403_on_finance_only_pages(client, lines):
    a, _ = lines
    pay(a)
    agent = make_user("sam", "Agent", lines=[a])
    client.force_login(agent)
    for name in ["summary", "charts", "export", "follow_up"]:
        assert client.get(reverse(f"payments:{name}")).status_code == 403, name
    assert client.post(reverse("payments:follow_up"), {"everything": "on"}).status_code == 403
    listing_page = client.get(reverse("payments:list"))
    assert listing_page.status_code == 200
    assert "Export CSV" not in listing_page.content.decode()


def test_agents_list_only_their_lines(client, lines):
    a, b = lines
    mine = pay(a)
    pay(b)
    client.force_login(make_user("sam", "Agent", lines=[a]))
    assert ids(client.get(reverse("payments:list"))) == [mine.pk]


def test_an_agent_cannot_filter_by_a_line_they_do_not_work(client, lines):
    a, b = lines
    pay(b)
    client.force_login(make_user("sam", "Agent", lines=[a]))
    response = client.get(reverse("payments:list"), {"line": b.pk})
    assert ids(response) == []  # the invalid filter is dropped; b's payment stays out of sight
    assert "Select a valid choice" in response.content.decode()


def test_list_queries_do_not_grow(client, lines, fran, django_assert_num_queries):
    a, b = lines
    contact = make_conversation(a).contact
    pay(a, contact=contact, created_by=fran)
    client.force_login(fran)
    query = {"state": "open", "line": a.pk, "requester": fran.pk, "q": "615"}
    # Session, user, two permission reads, role badge; the filter form's lines and
    # requesters; the contacts matching the search; the page of payments (line, contact and
    # requester joined).
    with django_assert_num_queries(9) as few:
        assert len(ids(client.get(reverse("payments:list"), query))) == 1
    for _ in range(60):
        pay(a, contact=make_conversation(a).contact, created_by=fran)
        pay(b, created_by=fran)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(ids(client.get(reverse("payments:list"), query))) == 50


def test_csv_export_streams_every_row_safely(client, lines, fran, monkeypatch):
    a, _ = lines
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    evil = pay(a, "1234.50", reference_number="=HYPERLINK(\"http://x\")", description="+1 call",
               recipient="@admin", textrequest_payment_status="Paid", created_by=fran)  # fmt: skip
    evil.closed_at = timezone.now()
    evil.save()
    for i in range(2500):  # more than two export chunks
        pay(a, "1.00", days=i % 30, reference_number=f"-{i}")
    client.force_login(fran)
    response = client.get(reverse("payments:export"), {"line": a.pk})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2501
    assert len({row["textdesk_id"] for row in rows}) == 2501
    row = next(r for r in rows if r["textdesk_id"] == str(evil.pk))
    assert row["reference"] == '\'=HYPERLINK("http://x")'
    assert row["description"] == "'+1 call"
    assert row["customer"] == "'@admin"
    assert row["amount"] == "1234.50"
    assert row["state"] == "paid"
    assert row["requested_by"] == "Fran"
    assert timezone.datetime.fromisoformat(row["requested_at"]).tzinfo is not None
    assert timezone.datetime.fromisoformat(row["closed_at"]) is not None
    assert all(not r["reference"].startswith("-") for r in rows)


def test_timeline_tells_who_did_what_and_when(client, lines, fran):
    a, _ = lines
    contact = make_conversation(a, first_name="Casey").contact
    payment = pay(a, contact=contact, created_by=fran, message="Your invoice")
    boss = make_user("avery", "Admin")
    when = timezone.now()
    done = {"dashboard_id": a.pk, "target": payment, "status": "done", "done_at": when}
    Change.objects.create(kind="remind_payment", subject="remind", created_by=fran, **done)
    Change.objects.create(kind="mark_paid", subject="mark_paid", created_by=boss, **done)
    Payment.objects.filter(pk=payment.pk).update(
        textrequest_payment_status="Paid", closed_at=when, synced_at=when
    )
    client.force_login(fran)
    page = client.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    timeline = page[page.index('class="timeline"') :]
    order = [timeline.index(s) for s in ["Requested</strong> by Fran", "Your invoice",
                                          "Reminder sent</strong> by Fran",
                                          "Marked paid</strong> by Avery"]]  # fmt: skip
    assert order == sorted(order)
    conversation_url = reverse("conversations:conversation", args=[a.pk, contact.conversation.pk])
    assert conversation_url in page


@pytest.mark.parametrize("many", [False, True])
def test_a_common_name_matches_like_a_rare_one(client, lines, fran, monkeypatch, many):
    """Past MAX_CONTACT_IDS contacts a word is matched by a semi-join, not a list of ids:
    the same payments either way, a word through the contact and another through the
    reference included."""
    a, _ = lines
    if many:
        monkeypatch.setattr(listing, "MAX_CONTACT_IDS", 1)
    caseys = [
        make_conversation(a, first_name="Casey", phone=f"61555512{n:02d}").contact for n in range(3)
    ]
    first = pay(a, contact=caseys[0], reference_number="INV-AB", days=3)
    second = pay(a, contact=caseys[2], reference_number="INV-CD", days=2)
    pay(a, reference_number="INV-EF", days=1)  # nobody's Casey
    client.force_login(fran)
    assert ids(client.get(reverse("payments:list"), {"q": "casey"})) == [second.pk, first.pk]
    assert ids(client.get(reverse("payments:list"), {"q": "Casey INV-AB"})) == [first.pk]
