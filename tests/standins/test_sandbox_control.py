"""The control API: accounts and seeding, reset, faults, counters, the customer simulator."""

import time

import pytest
import requests

from standins.textrequest.backend import DEMO2_API_KEY, DEMO_API_KEY, Backend
from standins.textrequest.pytest_fixtures import make_account
from standins.textrequest.seeding import CustomerSimulator
from standins.textrequest.testing import SandboxControlError, SandboxServer


def tags(acct):
    return acct.get(f"/dashboards/{acct.dashboard_id}/tags", page=0, page_size=5)


def test_demo_seed_is_lived_in_and_reproducible():
    a, b = Backend(seed="demo"), Backend(seed="demo")
    for key in (DEMO_API_KEY, DEMO2_API_KEY):
        assert a.get_dashboards(key, {"page": "0", "page_size": "50"}) == b.get_dashboards(
            key, {"page": "0", "page_size": "50"}
        )
    q = {"page": "0", "page_size": "100"}

    def timeless(items):  # the demo is laid out relative to "now"
        return [
            {k: v for k, v in c.items() if not k.endswith("_utc") and k != "last_message"}
            for c in items
        ]

    assert timeless(a.get_contacts(DEMO_API_KEY, 121, q)["items"]) == timeless(
        b.get_contacts(DEMO_API_KEY, 121, q)["items"]
    )
    dashboards = a.get_dashboards(DEMO_API_KEY, q)["items"]
    assert len(dashboards) == 3 and all(d["name"] for d in dashboards)
    contacts = [c for d in dashboards for c in a.get_contacts(DEMO_API_KEY, d["id"], q)["items"]]
    assert len(contacts) == 60
    assert any(c["is_archived"] for c in contacts) and any(c["is_resolved"] for c in contacts)
    assert any(c["opted_out_utc"] for c in contacts) and any(c["contact_tags"] for c in contacts)
    assert any(c["custom_fields"] for c in contacts)
    messages = a.all_messages(DEMO_API_KEY)
    assert len(messages) == 600
    assert any(m["mms_media"] for m in messages)
    stamps = sorted(m["message_timestamp_utc"] for m in messages)
    assert stamps[0][:10] < stamps[-1][:10]  # weeks of back-and-forth
    groups = a.get_groups(DEMO_API_KEY, 121, q)["items"]
    assert any(g["is_keyword"] for g in groups)
    payments = [p for d in dashboards for p in a.get_payments(DEMO_API_KEY, d["id"], q)["items"]]
    assert {p["textrequest_payment_status"] for p in payments} == {"Sent", "Paid", "Canceled"}
    assert any(p["is_past_due"] for p in payments) and any(p["reminder_was_sent"] for p in payments)
    assert {p["transaction_status"] for p in payments} >= {"Unknown", "Approved", "Declined"}


def test_new_accounts_are_isolated_and_fast(sandbox_server):
    started = time.monotonic()
    accounts = [make_account(sandbox_server) for _ in range(20)]
    assert time.monotonic() - started < 2
    assert len({a.api_key for a in accounts}) == 20
    demo = make_account(sandbox_server, seed="demo", contacts=40, messages=300, dashboards=2)
    assert len(demo.dashboard_ids) == 2
    total = sum(
        demo.get(f"/dashboards/{d}/contacts", page=0, page_size=1).json()["meta"]["total_items"]
        for d in demo.dashboard_ids
    )
    assert total == 40
    assert len(demo.control.messages(demo.api_key)) == 300


def test_bad_account_requests(sandbox_server):
    for body in ({"seed": "huge"}, {"contacts": -1}, {"dashboards": "3"}, {"seed_value": 1.5}):
        with pytest.raises(SandboxControlError) as err:
            sandbox_server.control._call("POST", "/accounts", body)
        assert err.value.status == 400


def test_reset_returns_to_the_startup_state():
    with SandboxServer(seed="demo", delivery_delay=0) as server:
        headers = {"x-api-key": DEMO_API_KEY}
        url = f"{server.api_url}/dashboards"
        before = requests.get(
            url, params={"page": 0, "page_size": 50}, headers=headers, timeout=5
        ).json()
        key, _ = server.control.new_account()
        requests.put(f"{url}/121", json={"name": "Renamed"}, headers=headers, timeout=5)
        server.control.set_faults(outage=True)
        server.control.reset()
        assert (
            requests.get(
                url, params={"page": 0, "page_size": 50}, headers=headers, timeout=5
            ).json()
            == before
        )
        assert (
            requests.get(
                url, params={"page": 0, "page_size": 5}, headers={"x-api-key": key}, timeout=5
            ).status_code
            == 401
        )
        assert server.control.counters(DEMO_API_KEY)["calls_total"] == 1


def test_faults_outage_storm_errors_latency(sandbox_account, sandbox_server):
    acct = sandbox_account
    bystander = make_account(sandbox_server)
    acct.control.set_faults(api_key=acct.api_key, outage=True)
    assert tags(acct).status_code == 503 and tags(bystander).status_code == 200
    acct.control.set_faults(api_key=acct.api_key, storm_429=True, storm_retry_after=True)
    r = tags(acct)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    acct.control.set_faults(api_key=acct.api_key, storm_429=True)
    r = tags(acct)
    assert r.status_code == 429 and "Retry-After" not in r.headers
    acct.control.set_faults(api_key=acct.api_key, error_rate=1.0)
    r = tags(acct)
    assert r.status_code == 500 and r.json()["message"]
    acct.control.set_faults(api_key=acct.api_key, latency_ms=150)
    started = time.monotonic()
    assert tags(acct).status_code == 200
    assert time.monotonic() - started >= 0.15
    acct.control.clear_faults(acct.api_key)
    assert tags(acct).status_code == 200
    assert acct.control.counters(acct.api_key)["rate_limited"] == 2


def test_global_faults_hit_every_key(sandbox_server):
    a, b = make_account(sandbox_server), make_account(sandbox_server)
    sandbox_server.control.set_faults(outage=True)
    try:
        assert tags(a).status_code == 503 and tags(b).status_code == 503
    finally:
        sandbox_server.control.clear_faults()
    assert tags(a).status_code == 200


def test_a_timeout_fault_processes_the_request_then_answers_too_late(sandbox_account):
    acct = sandbox_account
    acct.control.set_faults(api_key=acct.api_key, timeout_rate=1.0, timeout_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        acct.call(
            "POST",
            f"/dashboards/{acct.dashboard_id}/contacts/4235550199/messages",
            json={"body": "Are you there?"},
            timeout=0.3,
        )
    acct.control.clear_faults(acct.api_key)
    counters = acct.control.counters(acct.api_key)
    assert counters["delivered"] == [
        {
            "dashboard_id": acct.dashboard_id,
            "phone_number": "4235550199",
            "body": "Are you there?",
            "count": 1,
        }
    ]


def test_counters_count_duplicate_sends(sandbox_account):
    acct = sandbox_account
    path = f"/dashboards/{acct.dashboard_id}/contacts/4235550199/messages"
    for _ in range(2):
        acct.post(path, json={"body": "Your tech is on the way"})
    acct.post(path, json={"body": "Other"})
    counters = acct.control.counters(acct.api_key)
    by_body = {d["body"]: d["count"] for d in counters["delivered"]}
    assert by_body == {"Your tech is on the way": 2, "Other": 1}
    assert counters["calls"] == {"SendMessageByPhoneNumber": 3}


def test_bad_fault_and_config_requests_are_400(sandbox_server):
    for path, body in (
        ("/faults", {"error_rate": 2}),
        ("/faults", {"outage": "yes"}),
        ("/faults", {"explode": True}),
        ("/config", {"rate_limit": 0}),
        ("/config", {"webhook_retry_delays": "fast"}),
        ("/config", {"colour": "red"}),
    ):
        with pytest.raises(SandboxControlError) as err:
            sandbox_server.control._call("PUT", path, body)
        assert err.value.status == 400 and err.value.body["message"]


def test_the_customer_simulator_texts_in():
    backend = Backend(seed="demo", delivery_delay=0)
    seeded = [
        m for m in Backend(seed="demo").all_messages(DEMO_API_KEY) if m["message_direction"] == "R"
    ]

    def received():
        return [m for m in backend.all_messages(DEMO_API_KEY) if m["message_direction"] == "R"]

    # A loaded machine may run the simulator's thread late, so wait for three texts (not a
    # fixed sleep); a simulator that stopped after one would still fail at the deadline.
    sim = CustomerSimulator(backend, DEMO_API_KEY, every=0.05, seed=3).start()
    deadline = time.monotonic() + 30
    try:
        while len(received()) < len(seeded) + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sim.stop()
        sim.thread.join(timeout=30)  # a tick under way when stopped lands before we look
    assert not sim.thread.is_alive()
    everything = backend.all_messages(DEMO_API_KEY)
    received = [m for m in everything if m["message_direction"] == "R"]
    assert len(received) >= len(seeded) + 3
    newest = max(m["message_timestamp_utc"] for m in received)
    assert newest >= everything[-1]["message_timestamp_utc"]
    assert (
        CustomerSimulator(Backend(seed="demo"), DEMO_API_KEY, 1, seed=3).tick()["message_direction"]
        == "R"
    )
