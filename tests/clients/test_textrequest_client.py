"""Contract tests of the Text Request client, over HTTP, never with a mock.

By default everything runs against the sandbox. With TEXTREQUEST_CONTRACT_API_URL and
TEXTREQUEST_CONTRACT_API_KEY set, the read-only tests (those using the ``api`` fixture) run
against that service instead; a read-only test that fails there is a sandbox bug.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from standins.textrequest.pytest_fixtures import (  # noqa: F401
    SandboxAccount,
    sandbox_account,
    sandbox_server,
)
from textdesk.textrequest import (
    BadRequest,
    Contact,
    Conversation,
    CustomField,
    Dashboard,
    FileLimiter,
    Group,
    Hook,
    LimiterBusy,
    Message,
    NotFound,
    NotSent,
    OutcomeUnknown,
    Page,
    Payment,
    RateLimited,
    ServerError,
    StatusCallback,
    Tag,
    TextRequestClient,
    TextRequestError,
    Unauthorized,
    Unavailable,
    WebhookEvent,
    iter_items,
    iter_pages,
    parse_retry_after,
)
from textdesk.textrequest.client import FALLBACK_RETRY_AFTER

CONTRACT_URL = os.environ.get("TEXTREQUEST_CONTRACT_API_URL", "")
CONTRACT_KEY = os.environ.get("TEXTREQUEST_CONTRACT_API_KEY", "")
AGAINST_REAL_SERVICE = bool(CONTRACT_URL and CONTRACT_KEY)
# A fictional number (555-01xx) that is never anyone's contact.
NOBODY = "4235550199"


def make_client(account: SandboxAccount, limiter, **options) -> TextRequestClient:
    return TextRequestClient(
        account.api_url,
        account.api_key,
        bucket=f"test-{uuid.uuid4().hex[:12]}",
        limiter=limiter,
        **options,
    )


@pytest.fixture
def limiter(tmp_path) -> FileLimiter:
    return FileLimiter(tmp_path / "ratelimit")


@pytest.fixture
def demo_account(sandbox_account) -> SandboxAccount:  # noqa: F811
    """A fresh account seeded with realistic demo data (several lines, conversations, payments)."""
    control = sandbox_account.control
    key, dashboards = control.new_account(seed="demo", contacts=240, messages=1200)
    return SandboxAccount(
        api_key=key,
        api_url=sandbox_account.api_url,
        url=sandbox_account.url,
        dashboard_ids=dashboards,
        control=control,
    )


@pytest.fixture
def tr(sandbox_account, limiter) -> TextRequestClient:  # noqa: F811
    """A client of a fresh, empty sandbox account (one line with tags and custom fields)."""
    return make_client(sandbox_account, limiter)


@dataclass
class Target:
    client: TextRequestClient
    dashboard_id: int


@pytest.fixture(scope="session")
def contract_limiter(tmp_path_factory) -> FileLimiter:
    # One limiter for the whole run, so a real account's quota holds across tests.
    return FileLimiter(tmp_path_factory.mktemp("contract-ratelimit"))


@pytest.fixture
def api(request, contract_limiter, limiter) -> Target:
    """The read-only contract target: the real service when configured, else a demo account."""
    if AGAINST_REAL_SERVICE:
        client = TextRequestClient(
            CONTRACT_URL, CONTRACT_KEY, bucket="contract", limiter=contract_limiter, max_wait=65
        )
        dashboards = client.get_dashboards(page_size=1)
        assert dashboards.items, "the contract account needs at least one dashboard"
        return Target(client, dashboards.items[0].id)
    account = request.getfixturevalue("demo_account")
    return Target(make_client(account, limiter), account.dashboard_id)


def first_conversation(api: Target) -> Conversation:
    page = api.client.get_conversations(api.dashboard_id, include_archived=True, page_size=1)
    if not page.items:
        pytest.skip("the contract account has no conversation")
    return page.items[0]


class Receiver:
    """A tiny HTTP server on loopback collecting JSON POSTs (webhooks, status callbacks)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    receiver.posts.append((self.path, json.loads(body)))
                    receiver.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)
            return list(self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def assert_utc(value: datetime | None) -> None:
    assert value is not None and value.utcoffset() == timedelta(0)


# --- Read-only contract tests (sandbox by default, the real service when configured) ----------


def test_dashboards_list_and_one(api):
    page = api.client.get_dashboards()
    assert isinstance(page, Page) and page.total_items >= 1
    assert all(isinstance(d, Dashboard) and isinstance(d.id, int) for d in page.items)

    one = api.client.get_dashboard(api.dashboard_id)
    assert one == next(d for d in page.items if d.id == api.dashboard_id)
    assert one.phone and one.phone.isdigit() and len(one.phone) == 10


def test_conversations_come_newest_first_with_their_last_message(api):
    page = api.client.get_conversations(api.dashboard_id, page_size=20)
    assert page.page == 0 and page.page_size == len(page.items) <= 20
    assert page.total_items >= len(page.items)
    stamps = [c.last_message.message_timestamp_utc for c in page.items]
    for conversation, stamp in zip(page.items, stamps, strict=True):
        assert isinstance(conversation, Conversation) and isinstance(
            conversation.last_message, Message
        )
        assert_utc(stamp)
    assert stamps == sorted(stamps, reverse=True)


def test_a_conversations_messages_are_typed_and_newest_first(api):
    conversation = first_conversation(api)
    page = api.client.get_messages(api.dashboard_id, conversation.phone_number, page_size=50)
    assert page.items and all(isinstance(m, Message) for m in page.items)
    assert page.items[0].message_id == conversation.last_message.message_id
    for message in page.items:
        assert message.message_direction in ("R", "S")
        assert message.delivery_status in ("sending", "delivered", "error", "send")
        assert (message.delivery_error is not None) == (message.delivery_status == "error")
        assert_utc(message.message_timestamp_utc)
    stamps = [m.message_timestamp_utc for m in page.items]
    assert stamps == sorted(stamps, reverse=True)


def test_contact_by_phone_and_contact_filters(api):
    conversation = first_conversation(api)
    contact = api.client.get_contact(api.dashboard_id, conversation.phone_number)
    assert isinstance(contact, Contact) and contact.phone_number == conversation.phone_number
    assert_utc(contact.date_created_utc)
    assert contact.last_message and contact.last_message.message_id == (
        conversation.last_message.message_id
    )

    filtered = api.client.get_contacts(
        api.dashboard_id, contact_phone_number=conversation.phone_number
    )
    assert [c.phone_number for c in filtered.items] == [conversation.phone_number]

    future = datetime.now(UTC) + timedelta(days=3650)
    assert (
        api.client.get_contacts(api.dashboard_id, last_message_timestamp_after_utc=future).items
        == []
    )


def test_a_missing_contact_is_none_not_an_error(api):
    assert api.client.get_contact(api.dashboard_id, NOBODY) is None


def test_a_missing_contacts_messages_are_an_empty_page(api):
    page = api.client.get_messages(api.dashboard_id, NOBODY)
    assert page.items == [] and len(page) == 0


def test_groups_tags_and_custom_fields(api):
    groups = api.client.get_groups(api.dashboard_id)
    tags = api.client.get_tags(api.dashboard_id)
    fields = api.client.get_custom_fields(api.dashboard_id)
    assert all(isinstance(g, Group) and isinstance(g.id, int) for g in groups.items)
    assert all(isinstance(t, Tag) and t.id and t.name for t in tags.items)
    assert all(isinstance(f, CustomField) and f.id for f in fields)
    if groups.items:
        group = groups.items[0]
        assert api.client.get_group(api.dashboard_id, group.id) == group


def test_payments_list_and_one(api):
    page = api.client.get_payments(api.dashboard_id, page_size=10)
    if not page.items:
        pytest.skip("the contract account has no payment")
    payment = page.items[0]
    assert isinstance(payment, Payment) and isinstance(payment.amount_requested, Decimal)
    assert_utc(payment.request_date)
    assert api.client.get_payment(api.dashboard_id, payment.payment_id) == payment
    dates = [p.request_date for p in page.items]
    assert dates == sorted(dates, reverse=True)  # default order: date, desc


def test_paging_iterator_walks_every_page_with_no_extra_call(api):
    calls = []

    def get_contacts(*args, **kwargs):
        calls.append(kwargs["page"])
        return api.client.get_contacts(*args, **kwargs)

    total = api.client.get_contacts(api.dashboard_id, page_size=1).total_items
    size = max(1, total // 3 + 1)  # three pages, the last one short
    pages = list(iter_pages(get_contacts, api.dashboard_id, page_size=size))
    phones = [c.phone_number for page in pages for c in page.items]

    assert len(phones) == len(set(phones)) == total
    assert calls == list(range(len(pages)))
    assert len(calls) == -(-total // size)
    assert [c.phone_number for c in iter_items(api.client.get_contacts, api.dashboard_id)] == phones


def test_a_page_past_the_end_is_empty(api):
    total = api.client.get_conversations(api.dashboard_id, page_size=1).total_items
    page = api.client.get_conversations(api.dashboard_id, page=total + 1, page_size=100)
    assert page.items == []


def test_a_wrong_key_is_unauthorized_with_the_apis_message(api, limiter):
    client = TextRequestClient(
        api.client.api_url, "tr_wrong_key", bucket="wrong-key", limiter=limiter
    )
    with pytest.raises(Unauthorized) as error:
        client.get_dashboards()
    assert error.value.status == 401 and error.value.message
    assert not error.value.transient


# --- Writes (sandbox only) ------------------------------------------------------------------


def test_contact_create_update_read_and_delete(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    tag = tr.get_tags(dash).items[0]
    field = tr.get_custom_fields(dash)[0]

    created = tr.create_or_update_contact(
        dash,
        "+1 (615) 555-0142",
        first_name="Ada",
        last_name="Lovelace",
        display_name="Ada Lovelace",
        note="Prefers mornings",
        contact_tags=[tag.id],
        custom_fields={field.id: "CUST-1"},
    )
    assert created.phone_number == "6155550142"
    assert created.contact_tags == [tag.id]
    assert [(f.id, f.value) for f in created.custom_fields] == [(field.id, "CUST-1")]
    assert_utc(created.date_created_utc)

    updated = tr.create_or_update_contact(dash, "6155550142", is_resolved=True, contact_tags=[])
    assert updated.first_name == "Ada" and updated.is_resolved and updated.contact_tags == []
    assert tr.get_contact(dash, "615-555-0142") == updated

    assert tr.delete_contact(dash, "6155550142") is None
    assert tr.get_contact(dash, "6155550142") is None
    with pytest.raises(NotFound) as error:
        tr.delete_contact(dash, "6155550142")
    assert error.value.status == 404 and "6155550142" in error.value.message


def test_bulk_update_contacts(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    result = tr.bulk_update_contacts(
        dash,
        [
            {"phone_number": "6155550101", "first_name": "Bo"},
            {"phone_number": "6155550102", "display_name": "Cy Young", "note": None},
        ],
    )
    assert [c.phone_number for c in result] == ["6155550101", "6155550102"]
    assert all(isinstance(c, Contact) for c in result)
    assert tr.get_contacts(dash).total_items == 2
    with pytest.raises(ValueError):
        tr.bulk_update_contacts(dash, [{"first_name": "No number"}])


def test_send_message_then_delivery_reaches_the_status_callback(tr, sandbox_account, receiver):  # noqa: F811
    dash = sandbox_account.dashboard_id
    sent = tr.send_message(
        dash,
        "6155550123",
        body="Your order is ready.",
        sender_name="Front Desk",
        status_callback=f"{receiver.url}/status/42",
    )
    assert isinstance(sent, Message) and sent.message_id and sent.is_sent
    assert sent.body == "Your order is ready." and sent.delivery_status in ("sending", "delivered")

    posts = receiver.wait_for(1)
    path, payload = posts[-1]
    callback = StatusCallback.from_payload(payload)
    assert path == "/status/42"
    assert callback.message_id == sent.message_id and callback.delivery_status == "delivered"

    messages = tr.get_messages(dash, "6155550123")
    assert [m.message_id for m in messages.items] == [sent.message_id]


def test_a_text_in_reaches_the_webhook_and_parses(tr, sandbox_account, receiver):  # noqa: F811
    dash = sandbox_account.dashboard_id
    hook = tr.create_hook(dash, event="msg_received", target_url=f"{receiver.url}/hooks/tok")
    assert isinstance(hook, Hook) and hook.event == "msg_received"
    assert [h.id for h in tr.get_hooks(dash)] == [hook.id]

    sandbox_account.control.inbound(sandbox_account.api_key, dash, "6155550177", "Hello there")
    path, payload = receiver.wait_for(1)[0]
    event = WebhookEvent.from_payload(payload)
    assert path == "/hooks/tok"
    assert event.dashboard_id == dash and event.is_received and event.event == "msg_received"
    assert event.consumer_phone_number == "6155550177" and event.message == "Hello there"
    assert event.message_unique_identifier
    assert_utc(event.date)
    received = tr.get_messages(dash, "6155550177").items[0]
    assert received.is_received and received.body == "Hello there"

    tr.delete_hook(dash, hook.id)
    assert tr.get_hooks(dash) == []
    with pytest.raises(NotFound):
        tr.delete_hook(dash, hook.id)


def test_a_stopped_contact_cannot_be_texted(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    sandbox_account.control.inbound(sandbox_account.api_key, dash, "6155550188", "STOP")
    contact = tr.get_contact(dash, "6155550188")
    assert contact.has_opted_out and contact.is_archived

    with pytest.raises(BadRequest) as error:
        tr.send_message(dash, "6155550188", body="Are you still there?")
    assert error.value.status == 400 and "opted out" in error.value.message
    assert not error.value.transient and not error.value.safe_to_retry


def test_archive_and_unarchive_a_conversation(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    sandbox_account.control.inbound(sandbox_account.api_key, dash, "6155550111", "Hi")

    def listed(**filters):
        return [c.phone_number for c in tr.get_conversations(dash, **filters).items]

    assert listed() == ["6155550111"]
    assert tr.archive_conversation(dash, "6155550111") is None
    assert listed() == []
    assert listed(include_archived=True) == ["6155550111"]
    tr.unarchive_conversation(dash, "6155550111")
    assert listed() == ["6155550111"]


def test_group_lifecycle(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    group = tr.create_group(dash, name="Employees", notes="Current staff")
    assert isinstance(group, Group) and group.name == "Employees" and not group.is_keyword
    assert group.group_member_count == 0

    renamed = tr.update_group(dash, group.id, name="Staff", notes="Everyone")
    assert (renamed.name, renamed.notes) == ("Staff", "Everyone")
    assert tr.get_group(dash, group.id) == renamed
    assert renamed in tr.get_groups(dash).items

    assert tr.delete_group(dash, group.id) is None
    assert tr.get_group(dash, group.id) is None
    with pytest.raises(NotFound):
        tr.delete_group(dash, group.id)


def test_dashboard_lifecycle(tr):
    numbers = tr.get_provisioning_numbers(901)
    assert numbers and all(n.startswith("901") and len(n) == 10 for n in numbers)

    line = tr.create_dashboard(name="Night line", phone=numbers[0])
    assert isinstance(line, Dashboard) and line.phone == numbers[0]
    assert tr.update_dashboard_name(line.id, "After hours").name == "After hours"
    assert tr.get_dashboard(line.id).name == "After hours"
    with pytest.raises(BadRequest) as error:
        tr.create_dashboard(name="Twin", phone=numbers[0])
    assert "in use" in error.value.message

    assert tr.delete_dashboard(line.id) is None
    with pytest.raises(NotFound):
        tr.get_dashboard(line.id)


def test_payment_lifecycle(tr, sandbox_account):  # noqa: F811
    dash = sandbox_account.dashboard_id
    payment = tr.create_payment(
        dash,
        customer_phone="6155550155",
        amount_requested=Decimal("220.50"),
        message="Please pay for today's visit.",
        description="Water heater repair",
        reference_number="INV-1",
    )
    assert payment.amount_requested == Decimal("220.5")
    assert payment.textrequest_payment_status == "Sent" and payment.transaction_status == "Unknown"
    assert tr.get_payment(dash, payment.payment_id) == payment
    assert [p.payment_id for p in tr.get_payments(dash, reference_number="INV-1").items] == [
        payment.payment_id
    ]

    reminded = tr.send_payment_reminder(dash, payment.payment_id)
    assert reminded.reminder_was_sent
    with pytest.raises(BadRequest):
        tr.send_payment_reminder(dash, payment.payment_id)  # only one reminder per payment
    # The real service may spell it either way (docs/textrequest-api.md, payment status words).
    canceled = tr.cancel_payment(dash, payment.payment_id)
    assert canceled.textrequest_payment_status in ("Canceled", "Cancelled")
    assert tr.get_payment(dash, payment.payment_id).textrequest_payment_status in (
        "Canceled",
        "Cancelled",
    )

    other = tr.create_payment(
        dash, customer_phone="6155550155", amount_requested=10, message="Balance"
    )
    paid = tr.mark_payment_paid(dash, other.payment_id)
    assert paid.textrequest_payment_status in ("Paid", "MarkedAsPaid")
    assert tr.get_payment(dash, 999_999_999) is None


def test_an_invalid_request_is_a_bad_request_with_the_apis_message(tr, sandbox_account):  # noqa: F811
    with pytest.raises(BadRequest) as error:
        tr.get_contacts(sandbox_account.dashboard_id, page_size=500)
    assert error.value.status == 400 and "page_size" in error.value.message
    assert "page_size" in str(error.value) and "GetContacts" in str(error.value)


# --- Failures ---------------------------------------------------------------------------------


def test_a_429_sets_the_shared_cooldown_and_is_counted(sandbox_account, limiter):  # noqa: F811
    control, key = sandbox_account.control, sandbox_account.api_key
    control.configure(api_key=key, rate_limit=2, rate_window=30)
    # A client that believes in a bigger limit than the service's, so the service refuses.
    client = make_client(sandbox_account, limiter, limit=50)
    client.get_dashboards()
    client.get_dashboards()

    with pytest.raises(RateLimited) as error:
        client.get_dashboards()
    assert error.value.status == 429 and 1 <= error.value.retry_after <= 30
    assert error.value.transient and error.value.safe_to_retry
    assert limiter.seen_429(client.bucket) == 1
    # Every caller of this bucket now waits, and nothing more reaches the service.
    assert limiter.try_acquire(client.bucket, 50, 60.0, "interactive") > 0.5
    with pytest.raises(LimiterBusy):
        client.get_dashboards()
    assert control.counters(key)["rate_limited"] == 1


def test_a_429_storm_without_retry_after_uses_the_fallback(sandbox_account, limiter):  # noqa: F811
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, storm_429=True)
    client = make_client(sandbox_account, limiter)
    with pytest.raises(RateLimited) as error:
        client.get_dashboards()
    assert error.value.retry_after == FALLBACK_RETRY_AFTER


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Fri, 31 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Fri, 31 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_server_errors_are_transient_but_maybe_processed(sandbox_account, limiter):  # noqa: F811
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, error_rate=1.0)
    client = make_client(sandbox_account, limiter)
    with pytest.raises(ServerError) as error:
        client.get_dashboards()
    assert error.value.status == 500 and error.value.message
    assert error.value.transient and error.value.maybe_processed and not error.value.safe_to_retry


def test_a_503_was_not_handled_and_is_safe_to_retry(sandbox_account, limiter):  # noqa: F811
    """RFC 9110 §15.6.4: a 503 says the server did not handle the request (as for ASMS)."""
    sandbox_account.control.set_faults(api_key=sandbox_account.api_key, outage=True)
    client = make_client(sandbox_account, limiter)
    with pytest.raises(Unavailable) as error:
        client.get_dashboards()
    assert error.value.status == 503 and error.value.message
    assert error.value.transient and error.value.safe_to_retry and not error.value.maybe_processed
    assert isinstance(error.value, TextRequestError) and error.value.retry_after == 0.0


def test_a_closed_port_is_not_sent(limiter):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = TextRequestClient(
        f"http://127.0.0.1:{port}/api/v3", "tr_key", bucket="closed", limiter=limiter
    )
    with pytest.raises(NotSent) as error:
        client.send_message(1, "6155550100", body="hello")
    assert error.value.status is None and error.value.safe_to_retry


def test_a_read_timeout_after_processing_is_outcome_unknown(sandbox_account, limiter):  # noqa: F811
    control, key, dash = (
        sandbox_account.control,
        sandbox_account.api_key,
        sandbox_account.dashboard_id,
    )
    control.set_faults(api_key=key, timeout_rate=1.0, timeout_seconds=1.0)
    client = make_client(sandbox_account, limiter, timeout=(1.0, 0.3))

    with pytest.raises(OutcomeUnknown) as error:
        client.send_message(dash, "6155550166", body="Did this go out?")
    assert error.value.maybe_processed and not error.value.safe_to_retry

    control.clear_faults(api_key=key)
    # The service did process it: that is why the outbox must check before resending.
    assert [m.body for m in client.get_messages(dash, "6155550166").items] == ["Did this go out?"]


def test_a_busy_limiter_makes_no_call(sandbox_account, limiter):  # noqa: F811
    client = make_client(sandbox_account, limiter, limit=3, window=30.0, priority="sync")
    client.get_dashboards()
    client.get_dashboards()  # sync may take 2 of 3: the last one is the agents' reserve
    before = sandbox_account.control.counters(sandbox_account.api_key)["calls_total"]

    started = time.monotonic()
    with pytest.raises(LimiterBusy) as error:
        client.get_dashboards()
    assert time.monotonic() - started < 0.5
    assert error.value.retry_in > 1 and error.value.operation == "GetDashboards"
    assert sandbox_account.control.counters(sandbox_account.api_key)["calls_total"] == before


def test_the_api_key_never_appears_in_logs_or_errors(sandbox_account, limiter, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    control, key = sandbox_account.control, sandbox_account.api_key
    control.set_faults(api_key=key, storm_429=True)
    with pytest.raises(RateLimited) as limited:
        make_client(sandbox_account, limiter).get_dashboards()
    control.clear_faults(api_key=key)
    client = make_client(sandbox_account, limiter)
    with pytest.raises(NotFound) as missing:
        client.get_dashboard(999_999)

    assert "429" in caplog.text
    for text in (caplog.text, repr(client), str(limited.value), str(missing.value)):
        assert key not in text


# --- Parsing what Text Request POSTs to us ------------------------------------------------------

WEBHOOK = {
    "messageUniqueIdentifier": "7f1c2b9e-0d44-4f7a-9a51-0c1d2e3f4a5b",
    "account": {"id": 77},
    "yourPhoneNumber": {"id": 121, "description": "Front Desk", "phoneNumber": "4235550100"},
    "conversation": {
        "id": 9001,
        "date": "2025-01-31T14:05:09.120Z",
        "consumerPhoneNumber": "6155550123",
        "messageDirection": "R",
        "message": "Is my car ready?",
        "numSegments": 1,
        "status": "delivered",
        "claimedBy": None,
        "consumerFriendlyName": "Casey Jones",
    },
}


def test_webhook_payload_parses_to_a_typed_event():
    event = WebhookEvent.from_payload(WEBHOOK)
    assert event.message_unique_identifier == WEBHOOK["messageUniqueIdentifier"]
    assert (event.account_id, event.dashboard_id, event.conversation_id) == (77, 121, 9001)
    assert event.date == datetime(2025, 1, 31, 14, 5, 9, 120000, tzinfo=UTC)
    assert event.event == "msg_received" and event.num_segments == 1
    assert event.claimed_by is None and event.consumer_friendly_name == "Casey Jones"
    assert event.raw == WEBHOOK


def _without(path: str) -> dict:
    payload = json.loads(json.dumps(WEBHOOK))
    *parents, leaf = path.split(".")
    node = payload
    for parent in parents:
        node = node[parent]
    del node[leaf]
    return payload


def _with(path: str, value) -> dict:
    payload = json.loads(json.dumps(WEBHOOK))
    *parents, leaf = path.split(".")
    node = payload
    for parent in parents:
        node = node[parent]
    node[leaf] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "expected a JSON object"),
        (_without("messageUniqueIdentifier"), "messageUniqueIdentifier"),
        (_with("messageUniqueIdentifier", "  "), "messageUniqueIdentifier"),
        (_without("yourPhoneNumber"), "yourPhoneNumber"),
        (_with("yourPhoneNumber.id", "line-1"), "'id'"),
        (_with("yourPhoneNumber.id", True), "'id'"),
        (_without("conversation.consumerPhoneNumber"), "consumerPhoneNumber"),
        (_with("conversation.messageDirection", "X"), "R or S"),
        (_with("conversation.date", "yesterday"), "date"),
        (_with("conversation.numSegments", "two"), "integer"),
        (_with("conversation", "text"), "conversation"),
    ],
)
def test_malformed_webhook_payloads_raise_a_clear_value_error(payload, reason):
    with pytest.raises(ValueError, match=reason):
        WebhookEvent.from_payload(payload)


def test_status_callback_parses_and_rejects_malformed_input():
    callback = StatusCallback.from_payload(
        {"message_id": "m-1", "delivery_status": "error", "delivery_error": "Carrier rejected"}
    )
    assert (callback.message_id, callback.delivery_status, callback.delivery_error) == (
        "m-1",
        "error",
        "Carrier rejected",
    )
    for bad in ({}, {"message_id": "m-1"}, {"message_id": "", "delivery_status": "sent"}, "x"):
        with pytest.raises(ValueError):
            StatusCallback.from_payload(bad)


def test_api_timestamps_become_aware_utc_and_unknown_fields_are_kept():
    message = Message.from_api(
        {
            "message_id": "m-1",
            "body": "hi",
            "message_direction": "S",
            "message_timestamp_utc": "2025-01-31T09:05:09-05:00",
            "delivery_status": "delivered",
            "surprise": 1,
        }
    )
    assert message.message_timestamp_utc == datetime(2025, 1, 31, 14, 5, 9, tzinfo=UTC)
    assert message.raw["surprise"] == 1 and message.mms_media == []
    naive = Message.from_api({"message_id": "m-2", "message_timestamp_utc": "2025-01-31T14:05:09"})
    assert naive.message_timestamp_utc == datetime(2025, 1, 31, 14, 5, 9, tzinfo=UTC)
