"""The client's operations beyond the connector definition (docs/textrequest-api.md, "Beyond the
definition (evidence)"): tags and custom fields written, redaction, a line's messages, sending
by numbers, scheduled messages. Over HTTP against the stand-in, never a mock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from standins.textrequest.pytest_fixtures import (  # noqa: F401
    SandboxAccount,
    sandbox_account,
    sandbox_server,
)
from textdesk.textrequest import (
    BadRequest,
    CustomField,
    FileLimiter,
    NotFound,
    ScheduledMessage,
    SentMessage,
    Tag,
    TextRequestClient,
)

CUSTOMER = "4235550142"


@pytest.fixture
def tr(sandbox_account, tmp_path) -> TextRequestClient:  # noqa: F811
    return TextRequestClient(
        sandbox_account.api_url,
        sandbox_account.api_key,
        bucket=f"test-{uuid.uuid4().hex[:12]}",
        limiter=FileLimiter(tmp_path / "ratelimit"),
    )


@pytest.fixture
def line(sandbox_account) -> int:  # noqa: F811
    return sandbox_account.dashboard_id


def test_a_tag_is_created_read_renamed_recoloured_and_deleted(tr, line):
    tag = tr.create_tag(line, tag="Card on file", tag_color="#0f766e")
    assert isinstance(tag, Tag) and tag.id and tag.name == "Card on file"
    assert tr.get_tag(line, tag.id) == tag
    renamed = tr.update_tag(line, tag.id, tag="Card saved", tag_color="#b91c1c")
    assert (renamed.id, renamed.tag, renamed.tag_color) == (tag.id, "Card saved", "#b91c1c")
    assert any(t.id == tag.id and t.tag == "Card saved" for t in tr.get_tags(line).items)
    tr.delete_tag(line, tag.id)
    assert tr.get_tag(line, tag.id) is None  # an unknown tag reads as 204
    assert all(t.id != tag.id for t in tr.get_tags(line).items)


def test_deleting_a_tag_takes_it_off_its_contacts(tr, line):
    tag = tr.create_tag(line, tag="Doomed")
    tr.create_or_update_contact(line, CUSTOMER, first_name="Ada", contact_tags=[tag.id])
    tr.delete_tag(line, tag.id)
    assert tr.get_contact(line, CUSTOMER).contact_tags == []
    assert tr.get_contacts(line, contact_phone_number=CUSTOMER).items[0].contact_tags == []


def test_bad_tag_writes_are_refused_with_a_reason(tr, line):
    with pytest.raises(BadRequest, match="colour"):
        tr.create_tag(line, tag="Red", tag_color="red")
    with pytest.raises(BadRequest, match="at most 50"):
        tr.create_tag(line, tag="x" * 51)
    tr.create_tag(line, tag="Twice")
    with pytest.raises(BadRequest, match="already exists"):
        tr.create_tag(line, tag="twice")
    with pytest.raises(NotFound):
        tr.update_tag(line, "no-such-tag", tag="Nope")
    with pytest.raises(NotFound):
        tr.delete_tag(line, "no-such-tag")


def test_a_custom_field_is_created_read_renamed_and_deleted(tr, line):
    made = tr.create_custom_field(line, name="Account number")
    assert isinstance(made, CustomField) and made.name == "Account number"
    assert tr.get_custom_field(line, made.id) == made
    assert tr.update_custom_field(line, made.id, name="Account no.").name == "Account no."
    assert any(f.id == made.id and f.name == "Account no." for f in tr.get_custom_fields(line))
    tr.create_or_update_contact(line, CUSTOMER, custom_fields={made.id: "A-1"})
    tr.delete_custom_field(line, made.id)
    assert tr.get_custom_field(line, made.id) is None
    assert tr.get_contact(line, CUSTOMER).custom_fields == []
    with pytest.raises(NotFound):
        tr.delete_custom_field(line, made.id)
    with pytest.raises(BadRequest, match="name is required"):
        tr.create_custom_field(line, name="  ")


def test_redaction_hides_the_body_in_every_read_and_unredact_restores_it(tr, line):
    sent = tr.send_message(line, CUSTOMER, body="my card is 4111 1111 1111 1111")
    tr.redact_message(sent.message_id)
    tr.redact_message(sent.message_id)  # twice: still fine
    history = tr.get_messages(line, CUSTOMER).items
    assert [(m.message_id, m.body) for m in history] == [(sent.message_id, "")]
    assert tr.get_conversations(line).items[0].last_message.body == ""
    assert tr.get_contact(line, CUSTOMER).last_message.body == ""
    assert tr.get_dashboard_messages(line).items[0].body == ""
    tr.unredact_message(sent.message_id)
    assert tr.get_messages(line, CUSTOMER).items[0].body == "my card is 4111 1111 1111 1111"
    with pytest.raises(NotFound):
        tr.redact_message("00000000-0000-4000-a000-000000000000")


def test_a_lines_messages_come_oldest_first_by_date_and_page(tr, line, sandbox_account):  # noqa: F811
    assert tr.get_dashboard_messages(line).items == []  # 204: none yet
    for n in range(3):
        tr.send_message(line, CUSTOMER, body=f"text {n}")
    sandbox_account.control.inbound(sandbox_account.api_key, line, CUSTOMER, "reply")
    everything = tr.get_dashboard_messages(line)
    assert [m.body for m in everything.items] == ["text 0", "text 1", "text 2", "reply"]
    assert everything.total_items == 4
    second = tr.get_dashboard_messages(line, page=1, page_size=3)
    assert [m.body for m in second.items] == ["reply"]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert tr.get_dashboard_messages(line, start_date=later).items == []
    assert len(tr.get_dashboard_messages(line, end_date=later).items) == 4
    with pytest.raises(BadRequest, match="start_date"):
        tr.get_dashboard_messages(line, start_date="yesterday")


def test_sending_by_numbers_answers_the_evidences_shape(tr, line, sandbox_account):  # noqa: F811
    number = tr.get_dashboard(line).phone
    sent = tr.send_message_by_numbers(
        from_number=number, to="(423) 555-0142", body="Hello from the line", sender_name="Sam"
    )
    assert isinstance(sent, SentMessage)
    assert (sent.from_number, sent.to, sent.segments_count, sent.status) == (
        number,
        CUSTOMER,
        1,
        "sending",
    )
    history = tr.get_messages(line, CUSTOMER).items
    assert history[0].message_id == sent.message_id
    assert history[0].response_by_username == "Sam"
    with pytest.raises(BadRequest, match="not the number of a line"):
        tr.send_message_by_numbers(from_number="4235550100", to=CUSTOMER, body="x")
    with pytest.raises(BadRequest, match="to is required"):
        tr._call("SendMessage", "POST", "/messages", json={"from": number, "body": "x"})


def test_geolocation_requested_asks_for_a_location_without_the_tag(tr, line):
    number = tr.get_dashboard(line).phone
    with pytest.raises(BadRequest, match="location request tag"):
        tr.send_message_by_numbers(
            from_number=number, to=CUSTOMER, body="Where?", location_callback="http://x.test/l"
        )
    sent = tr.send_message_by_numbers(
        from_number=number,
        to=CUSTOMER,
        body="Where are you?",
        location_callback="http://x.test/l",
        geolocation_requested=True,
    )
    assert sent.message_id


def test_scheduled_messages_are_read_defensively(tr, line, sandbox_account):  # noqa: F811
    assert tr.get_scheduled_messages(line).items == []
    control = sandbox_account.control
    control.add_scheduled(
        sandbox_account.api_key, line, phone_number=CUSTOMER, body="Reminder",
        send_at="2027-03-01T15:00:00Z", recurrence="weekly",
    )  # fmt: skip
    control.add_scheduled(
        sandbox_account.api_key, line, phone_number=CUSTOMER, body="Once",
        send_at="2027-02-01T15:00:00Z",
    )  # fmt: skip
    both = tr.get_scheduled_messages(line).items
    assert [s.body for s in both] == ["Once", "Reminder"]
    assert both[1].is_recurring and both[1].send_at == datetime(2027, 3, 1, 15, tzinfo=UTC)
    assert [s.body for s in tr.get_scheduled_messages(line, recurring_only=True)] == ["Reminder"]


def test_a_scheduled_message_of_unknown_shape_still_reads():
    odd = ScheduledMessage.from_api({"scheduled_message_id": 7, "message": "Hi", "to": "x"})
    assert (odd.id, odd.body, odd.phone_number, odd.send_at, odd.is_recurring) == (
        "7",
        "Hi",
        "x",
        None,
        False,
    )
