"""The sandbox's state file (state.py): a sandbox loaded from it answers exactly what the saved
one answered, and carries on: ids, clock, rate window, pending deliveries, simulated customers."""

import pickle
import time

import pytest

from standins.core.state import StateKeeper, load, save
from standins.textrequest.backend import DEMO_API_KEY, Backend
from standins.textrequest.seeding import CustomerSimulator

KEY = DEMO_API_KEY


def demo_backend(**options) -> Backend:
    return Backend(seed="demo", contacts=40, messages=300, **options)


def answers(b: Backend) -> dict:
    """Everything the API shows of the demo account."""
    out = {"dashboards": b.get_dashboards(KEY, {"page_size": "100"})}
    for dash in b.accounts[KEY].dashboards:
        out[dash] = {
            "contacts": [b.get_contacts(KEY, dash, {"page": str(p)}) for p in range(3)],
            "conversations": b.get_conversations(KEY, dash, {"include_archived": "true"}),
            "payments": b.get_payments(KEY, dash, {"page_size": "100"}),
            "groups": b.get_groups(KEY, dash, {}),
            "tags": b.get_tags(KEY, dash, {}),
            "fields": b.get_fields(KEY, dash),
            "hooks": b.get_hooks(KEY, dash),
            "messages": b.all_messages(KEY, dash),
        }
    return out


def test_a_loaded_sandbox_answers_what_the_saved_one_did(tmp_path):
    before = demo_backend(delivery_delay=0)
    dash = next(iter(before.accounts[KEY].dashboards))
    before.send_message(KEY, dash, "4235551234", {"body": "Before the restart"})
    before.inbound(KEY, dash, "4235551234", "Thanks!")
    before.create_hook(KEY, dash, {"event": "msg_received", "target_url": "http://127.0.0.1:9/h"})
    before.advance_clock(3600)
    save(before, tmp_path / "state")

    after = demo_backend(delivery_delay=0, seed_value=99)  # other seed: the file wins
    assert load(after, tmp_path / "state") is True
    assert answers(after) == answers(before)
    assert after.counters(KEY) == before.counters(KEY)
    assert after.clock_offset_ms == before.clock_offset_ms == 3_600_000


def test_ids_continue_after_a_load(tmp_path):
    before = demo_backend(delivery_delay=0)
    dash = next(iter(before.accounts[KEY].dashboards))
    body = {"customer_phone": "4235551234", "amount_requested": 10, "message": "Pay"}
    save(before, tmp_path / "state")
    expected = before.create_payment(KEY, dash, body)["payment_id"]
    expected_group = before.create_group(KEY, dash, {"name": "G"})["id"]
    after = demo_backend(delivery_delay=0)
    load(after, tmp_path / "state")
    assert after.create_payment(KEY, dash, body)["payment_id"] == expected
    assert after.create_group(KEY, dash, {"name": "G"})["id"] == expected_group
    new = after.create_contact(KEY, dash, "6155550199", {})
    assert int(new["thread_id"]) > max(
        int(c["thread_id"]) for c in before.get_contacts(KEY, dash, {"page_size": "100"})["items"]
    )


def test_texts_still_sending_settle_after_a_load_when_their_delay_is_over(tmp_path):
    before = demo_backend(delivery_delay=60)
    dash = next(iter(before.accounts[KEY].dashboards))
    sent = before.send_message(KEY, dash, "4235551234", {"body": "On its way"})
    landline = before.send_message(KEY, dash, "4235550000", {"body": "To a landline"})
    before.advance_clock(61)  # the delivery delay ends while the sandbox is stopped
    save(before, tmp_path / "state")
    before.dispatcher.clear()

    after = demo_backend()
    load(after, tmp_path / "state")
    assert after.dispatcher.wait_idle(5)
    by_id = {m["message_id"]: m for m in after.all_messages(KEY, dash)}
    assert by_id[sent["message_id"]]["delivery_status"] == "delivered"
    assert by_id[landline["message_id"]]["delivery_status"] == "error"


def test_the_rate_window_survives_a_load(tmp_path):
    before = demo_backend(rate_limit=3, rate_window=60)
    for _ in range(3):
        before.admit(KEY, "GetDashboards")
    save(before, tmp_path / "state")
    after = demo_backend(rate_limit=3, rate_window=60)
    load(after, tmp_path / "state")
    with pytest.raises(Exception) as refused:
        after.admit(KEY, "GetDashboards")
    assert refused.value.status == 429


def test_simulated_customers_carry_on_instead_of_repeating(tmp_path):
    straight = demo_backend(delivery_delay=0)
    sim = CustomerSimulator(straight, KEY, every=3600, seed=7)
    texts = [sim.tick()["body"] for _ in range(6)]

    first = demo_backend(delivery_delay=0)
    sim = CustomerSimulator(first, KEY, every=3600, seed=7)
    restarted = [sim.tick()["body"] for _ in range(3)]
    save(first, tmp_path / "state")
    second = demo_backend(delivery_delay=0)
    load(second, tmp_path / "state")
    sim = CustomerSimulator(second, KEY, every=3600, seed=7)
    restarted += [sim.tick()["body"] for _ in range(3)]
    assert restarted == texts


def test_the_keeper_saves_while_things_change_and_at_stop(tmp_path):
    path = tmp_path / "state"
    b = demo_backend(delivery_delay=0)
    dash = next(iter(b.accounts[KEY].dashboards))
    keeper = StateKeeper(b, path, interval=0.05).start()
    deadline = time.monotonic() + 5
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists()
    b.inbound(KEY, dash, "4235551234", "Saved at stop")
    keeper.stop()
    reloaded = Backend(seed="none")
    load(reloaded, path)
    assert reloaded.all_messages(KEY, dash)[-1]["body"] == "Saved at stop"
    assert not list(tmp_path.glob(".state.*"))  # no temporary file left behind


def test_without_a_file_nothing_is_loaded(tmp_path):
    b = demo_backend()
    before = answers(b)
    assert load(b, tmp_path / "missing") is False
    assert answers(b) == before


def test_a_state_file_from_before_the_move_to_standins_still_loads(tmp_path):
    # `make run` keeps var/sandbox.state across updates: a snapshot pickled when the sandbox
    # was the package textdesk.sandbox must load into standins.textrequest
    before = demo_backend(delivery_delay=0)
    state = {name: getattr(before, name) for name in before.STATE_ATTRS}
    state["version"] = 1
    old = pickle.dumps(state, protocol=2)  # protocol 2 names classes as plain "module\nname"
    old = old.replace(b"standins.textrequest.", b"textdesk.sandbox.")
    assert b"standins" not in old and b"textdesk.sandbox.records" in old
    (tmp_path / "state").write_bytes(old)

    after = demo_backend(delivery_delay=0, seed_value=99)
    assert load(after, tmp_path / "state") is True
    assert answers(after) == answers(before)


def test_saving_pickles_outside_the_server_process(tmp_path, monkeypatch):
    """The lock is held only to fork: the pickling (seconds at bench size) happens in the
    child, so requests are not held back by a save (issue 23)."""
    import os

    from standins.core import state

    if not hasattr(os, "fork"):
        pytest.skip("no fork here: the save pickles under the lock")
    pickled_here = []
    real = state.snapshot

    def watched(backend):
        pickled_here.append(os.getpid())
        return real(backend)

    monkeypatch.setattr(state, "snapshot", watched)
    before = demo_backend(delivery_delay=0)
    path = tmp_path / "sandbox.state"
    assert save(before, path) == before.changes
    assert pickled_here == []  # the child pickled; this process only forked and waited
    after = Backend(seed="none")
    assert load(after, path)
    assert answers(after) == answers(before)
