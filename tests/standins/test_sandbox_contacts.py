"""GetContacts: every documented query parameter filters, and contacts are written as documented."""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

A, B, C, D, E = "4235550111", "6155550122", "8655550133", "9015550144", "4045550155"


def phones(response):
    assert response.status_code == 200, response.text
    return {c["phone_number"] for c in response.json()["items"]}


@pytest.fixture
def world(sandbox_account):
    """Five contacts with distinct tags, groups, fields, flags and message history."""
    acct = sandbox_account
    d = f"/dashboards/{acct.dashboard_id}"
    tags = {t["tag"]: t["id"] for t in acct.get(d + "/tags", page=0, page_size=50).json()["items"]}
    fields = [f["id"] for f in acct.get(d + "/fields").json()]
    fields.append(acct.control.add_field(acct.api_key, acct.dashboard_id, "Plan")["id"])
    g1 = acct.post(d + "/groups", json={"name": "One"}).json()["id"]
    g2 = acct.post(d + "/groups", json={"name": "Two"}).json()["id"]

    def step():
        time.sleep(0.005)  # timestamps have millisecond resolution

    acct.post(f"{d}/contacts/{A}", json={
        "first_name": "Ada", "last_name": "Lovelace", "contact_tags": [tags["VIP"]], "groups": [g1],
        "custom_fields": [{"id": fields[0], "value": "alpha"}, {"id": fields[2], "value": "gold"}],
    })  # fmt: skip
    step()
    acct.post(f"{d}/contacts/{B}", json={
        "first_name": "Bob", "contact_tags": [tags["New lead"]], "groups": [g2],
        "custom_fields": [{"id": fields[1], "value": "beta"}],
    })  # fmt: skip
    step()
    acct.post(f"{d}/contacts/{C}", json={
        "first_name": "Cy", "is_archived": True, "is_suppressed": True, "suppressed_reason": "Spam",
        "contact_tags": [tags["VIP"], tags["Follow up"]], "groups": [g1, g2],
    })  # fmt: skip
    step()
    acct.control.inbound(acct.api_key, acct.dashboard_id, D, "STOP")
    step()
    acct.post(f"{d}/contacts/{E}", json={"first_name": "Eve", "is_resolved": True})
    step()
    acct.post(f"{d}/contacts/{A}/messages", json={"body": "Hi Ada"})
    step()
    acct.control.inbound(acct.api_key, acct.dashboard_id, B, "Hello there")
    step()
    acct.post(f"{d}/contacts/{B}", json={"is_blocked": True})
    step()
    acct.post(f"{d}/contacts/{E}/messages", json={"body": "Hi Eve"})
    step()
    contacts = {
        c["phone_number"]: c
        for c in acct.get(d + "/contacts", page=0, page_size=100).json()["items"]
    }
    return acct, d, tags, fields, (g1, g2), contacts


def query(world, **params):
    acct, d = world[0], world[1]
    return phones(acct.get(d + "/contacts", page=0, page_size=100, **params))


def test_contacts_come_oldest_first_with_paging(world):
    acct, d, *_ = world
    r = acct.get(d + "/contacts", page=0, page_size=2).json()
    assert [c["phone_number"] for c in r["items"]] == [A, B]
    assert r["meta"] == {"page": 0, "page_size": 2, "total_items": 5}
    r = acct.get(d + "/contacts", page=2, page_size=2).json()
    assert [c["phone_number"] for c in r["items"]] == [E]
    assert r["meta"] == {"page": 2, "page_size": 1, "total_items": 5}
    r = acct.get(d + "/contacts", page=9, page_size=2).json()
    assert r["items"] == [] and r["meta"]["total_items"] == 5


def test_contact_phone_number_filters_any_spelling(world):
    assert query(world, contact_phone_number="+1 (615) 555-0122") == {B}


def test_last_message_timestamp_before_and_after_utc(world):
    contacts = world[5]
    cut = contacts[A]["last_contact_date_utc"]  # order of last messages: D, A, B, E
    assert query(world, last_message_timestamp_before_utc=cut) == {D, A}
    assert query(world, last_message_timestamp_after_utc=cut) == {A, B, E}


def test_contact_created_before_and_after(world):
    contacts = world[5]
    cut = contacts[C]["date_created_utc"]
    assert query(world, contact_created_before=cut) == {A, B, C}
    assert query(world, contact_created_after=cut) == {C, D, E}


@pytest.mark.parametrize(
    ("name", "true_set"),
    [
        ("is_resolved", {E}),
        ("is_blocked", {B}),
        ("is_archived", {C, D}),
        ("is_suppressed", {C}),
        ("has_opted_out", {D}),
    ],
)
def test_boolean_filters(world, name, true_set):
    assert query(world, **{name: "true"}) == true_set
    assert query(world, **{name: "false"}) == {A, B, C, D, E} - true_set


def test_last_message_sent_before_and_after(world):
    contacts = world[5]
    cut = contacts[A]["last_msg_sent_utc"]  # sent: A then E
    assert query(world, last_message_sent_before=cut) == {A}
    assert query(world, last_message_sent_after=cut) == {A, E}


def test_last_message_received_before_and_after(world):
    contacts = world[5]
    cut = contacts[B]["last_msg_received_utc"]  # received: D then B
    assert query(world, last_message_received_before=cut) == {D, B}
    assert query(world, last_message_received_after=cut) == {B}
    earlier = contacts[D]["last_msg_received_utc"]
    assert query(world, last_message_received_before=earlier) == {D}


def test_local_time_filters_read_naive_timestamps_in_the_account_zone(world):
    contacts = world[5]
    sent_a = datetime.fromisoformat(contacts[A]["last_msg_sent_utc"])
    local = sent_a.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    naive = (local + timedelta(milliseconds=1)).isoformat(timespec="milliseconds")
    assert query(world, last_message_sent_before=naive) == {A}
    naive_utc = (sent_a.replace(tzinfo=None) + timedelta(milliseconds=1)).isoformat()
    assert query(world, last_message_timestamp_before_utc=naive_utc) >= {A}


def test_tags_filter_any_of(world):
    tags = world[2]
    assert query(world, tags=tags["VIP"]) == {A, C}
    assert query(world, tags=f"{tags['New lead']},{tags['Follow up']}") == {B, C}


def test_groups_filter_any_of(world):
    g1, g2 = world[4]
    assert query(world, groups=str(g1)) == {A, C}
    assert query(world, groups=f"{g1},{g2}") == {A, B, C}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_custom_field_filters(world, n):
    fields = world[3]
    cases = [(fields[0], "ALPHA", {A}), (fields[1], "beta", {B}), (fields[2], "gold", {A})]
    field_id, value, expected = cases[n - 1]
    params = {f"custom_field_id_{n}": field_id, f"custom_field_value_{n}": value}
    assert query(world, **params) == expected


def test_custom_field_filters_combine(world):
    fields = world[3]
    both = {
        "custom_field_id_1": fields[0], "custom_field_value_1": "alpha",
        "custom_field_id_2": fields[2], "custom_field_value_2": "gold",
        "custom_field_id_3": fields[1], "custom_field_value_3": "beta",
    }  # fmt: skip
    assert query(world, **both) == set()
    del both["custom_field_id_3"], both["custom_field_value_3"]
    assert query(world, **both) == {A}


def test_filters_combine_with_and(world):
    tags = world[2]
    assert query(world, tags=tags["VIP"], is_archived="false") == {A}


def test_contact_fields_are_counted(world):
    c = world[5]
    assert c[A]["total_msgs_sent"] == 1 and c[A]["total_msgs_received"] == 0
    assert c[B]["total_msgs_received"] == 1 and c[B]["last_msg_sent_utc"] is None
    assert c[D]["opted_out_utc"] is not None and c[D]["is_archived"] is True
    assert c[C]["suppressed_reason"] == "Spam"
    assert c[A]["display_name"] == "Ada Lovelace"
    assert c[A]["last_message"]["body"] == "Hi Ada"
    assert c[E]["last_message"]["delivery_status"] == "delivered"  # delivery delay 0 here


def test_update_keeps_what_is_not_sent_and_merges_custom_fields(world):
    acct, d, tags, fields, _, _ = world
    r = acct.post(f"{d}/contacts/{A}", json={"note": "VIP since 2019", "custom_fields": [
        {"id": fields[1], "value": "new"}, {"id": fields[0], "value": None},
    ]})  # fmt: skip
    c = r.json()
    assert c["first_name"] == "Ada" and c["note"] == "VIP since 2019"
    assert c["contact_tags"] == [tags["VIP"]]
    assert {f["id"]: f["value"] for f in c["custom_fields"]} == {
        fields[1]: "new",
        fields[2]: "gold",
    }


def test_delete_contact_rules(world):
    acct, d, *_ = world
    assert acct.delete(f"{d}/contacts/{A}").status_code == 400  # has message history
    assert acct.delete(f"{d}/contacts/{C}").status_code == 200  # no history
    assert acct.get(f"{d}/contacts/{C}").status_code == 204
    assert acct.delete(f"{d}/contacts/{C}").status_code == 404
    assert query(world, groups=str(world[4][0])) == {A}


def test_bulk_update_is_all_or_nothing(world):
    acct, d, *_ = world
    r = acct.post(d + "/contacts", json=[
        {"phone_number": "3035550101", "first_name": "Ok"},
        {"phone_number": "3035550102", "contact_tags": ["not-a-tag"]},
    ])  # fmt: skip
    assert r.status_code == 400 and "item 1" in r.json()["message"]
    assert acct.get(f"{d}/contacts/3035550101").status_code == 204


def test_accounts_are_isolated(world, sandbox_server):
    from standins.textrequest.pytest_fixtures import make_account

    acct, d, *_ = world
    other = make_account(sandbox_server)
    assert other.get(d + "/contacts", page=0, page_size=10).status_code == 404
    assert other.get("/dashboards", page=0, page_size=10).json()["meta"]["total_items"] == 1


def test_repeated_queries_see_every_change(world):
    acct, d, tags, *_ = world
    assert query(world, is_resolved="true") == {E}
    acct.post(f"{d}/contacts/{A}", json={"is_resolved": True})
    assert query(world, is_resolved="true") == {A, E}
    acct.control.inbound(acct.api_key, acct.dashboard_id, A, "one more question")
    assert query(world, is_resolved="true") == {E}
    assert query(world, tags=tags["VIP"]) == {A, C}
    acct.post(f"{d}/contacts/{A}", json={"contact_tags": []})
    assert query(world, tags=tags["VIP"]) == {C}
