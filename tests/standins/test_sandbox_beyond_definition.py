"""The stand-in's rules for the operations beyond the connector definition, where the evidence
is silent (standins/textrequest/COVERAGE.md): what a redaction hides and keeps, tag and field
names, what deleting takes with it, and state files from before these existed."""

import pytest

from standins.core.errors import StandinError
from standins.core.state import load, save
from standins.textrequest.backend import DEMO_API_KEY, Backend

PHONE = "4235550142"


@pytest.fixture
def backend():
    return Backend(seed="empty", delivery_delay=0)


@pytest.fixture
def line(backend):
    return next(iter(backend.accounts[DEMO_API_KEY].dashboards))


def test_a_redacted_body_survives_a_state_file_and_unredact_restores_it(backend, line, tmp_path):
    sent = backend.send_message(DEMO_API_KEY, line, PHONE, {"body": "pin 4321"})
    backend.set_redacted(DEMO_API_KEY, sent["message_id"], True)
    save(backend, tmp_path / "state")
    after = Backend(seed="none")
    assert load(after, tmp_path / "state") is True
    history = after.get_messages(DEMO_API_KEY, line, PHONE, {})
    assert history["items"][0]["body"] == ""
    assert after.all_messages(DEMO_API_KEY)[0]["body"] == ""
    after.set_redacted(DEMO_API_KEY, sent["message_id"], False)
    assert after.get_messages(DEMO_API_KEY, line, PHONE, {})["items"][0]["body"] == "pin 4321"


def test_state_from_before_redaction_and_scheduled_messages_still_reads(backend, line):
    sent = backend.send_message(DEMO_API_KEY, line, PHONE, {"body": "hello"})
    dash = backend.dashboards[line]
    msg = dash.contacts[PHONE].messages[0]
    del msg.redacted  # as a message pickled before the slot existed
    assert msg.as_json()["body"] == "hello"
    state = dash.__getstate__()
    del state["scheduled"]
    dash.__setstate__(state)
    assert backend.get_scheduled_messages(DEMO_API_KEY, line, {})["items"] == []
    backend.set_redacted(DEMO_API_KEY, sent["message_id"], True)
    assert msg.as_json()["body"] == ""


def test_deleting_a_field_drops_its_values_and_its_filter(backend, line):
    field = backend.create_field(DEMO_API_KEY, line, {"name": "Plan"})
    backend.create_contact(
        DEMO_API_KEY, line, PHONE, {"custom_fields": [{"id": field["id"], "value": "Gold"}]}
    )
    q = {"custom_field_id_1": field["id"], "custom_field_value_1": "Gold"}
    assert backend.get_contacts(DEMO_API_KEY, line, q)["meta"]["total_items"] == 1
    backend.delete_field(DEMO_API_KEY, line, field["id"])
    assert backend.get_contact(DEMO_API_KEY, line, PHONE)["custom_fields"] == []
    with pytest.raises(StandinError, match="Unknown custom field"):
        backend.get_contacts(DEMO_API_KEY, line, q)


@pytest.mark.parametrize(
    "body, reason",
    [
        ({}, "tag is required"),
        ({"tag": "   "}, "tag is required"),
        ({"tag": 5}, "tag is required"),
        ({"tag": "x" * 51}, "at most 50"),
        ({"tag": "Fine", "tag_color": "#12345"}, "hex colour"),
        ({"tag": "Fine", "tag_color": 7}, "hex colour"),
        ({"tag": "vip"}, "already exists"),  # the empty seed has "VIP"
    ],
)
def test_bad_tags_are_400_with_a_reason(backend, line, body, reason):
    with pytest.raises(StandinError, match=reason) as caught:
        backend.create_tag(DEMO_API_KEY, line, body)
    assert caught.value.status == 400


def test_renaming_a_tag_to_its_own_name_in_other_case_is_allowed(backend, line):
    tag = backend.create_tag(DEMO_API_KEY, line, {"tag": "Lead"})
    assert backend.update_tag(DEMO_API_KEY, line, tag["id"], {"tag": "LEAD"})["tag"] == "LEAD"


def test_the_line_messages_dates_are_checked(backend, line):
    with pytest.raises(StandinError, match="end_date must not be before"):
        backend.get_dashboard_messages(
            DEMO_API_KEY, line, {"start_date": "2026-02-01", "end_date": "2026-01-01"}
        )
