"""The trigger (msg_received / msg_sent hooks) with retries, and message status callbacks."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CUSTOMER = "4235550177"


class Receiver:
    """A tiny HTTP receiver on a free port: records every POST, can fail or stall on purpose."""

    def __init__(self, fail_first=0, stall_first=0, stall_seconds=0.0):
        self.calls = []
        self.fail_first = fail_first
        self.stall_first = stall_first
        self.stall_seconds = stall_seconds
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    receiver.calls.append((self.path, body))
                    n = len(receiver.calls)
                if n <= receiver.stall_first:
                    time.sleep(receiver.stall_seconds)
                code = 500 if n <= receiver.fail_first else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def wait_for(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.calls) >= n, self.calls
        return self.calls

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def subscribe(acct, event, url):
    r = acct.post(
        f"/dashboards/{acct.dashboard_id}/hooks",
        json={"event": event, "target_url": url, "http_verb": "POST"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_msg_received_payload(sandbox_account, receiver):
    acct = sandbox_account
    subscribe(acct, "msg_received", receiver.url + "/hooks/tok3n")
    acct.post(
        f"/dashboards/{acct.dashboard_id}/contacts/{CUSTOMER}", json={"display_name": "Ann Lee"}
    )
    msg = acct.control.inbound(
        acct.api_key, acct.dashboard_id, "(423) 555-0177", "Is it fixed? {ok}"
    )
    path, body = receiver.wait_for(1)[0]
    assert path == "/hooks/tok3n"
    dashboard = acct.get(f"/dashboards/{acct.dashboard_id}").json()
    assert body["messageUniqueIdentifier"] == msg["message_id"]
    assert isinstance(body["account"]["id"], int)
    assert body["yourPhoneNumber"] == {
        "id": acct.dashboard_id,
        "description": dashboard["name"],
        "phoneNumber": dashboard["phone"],
    }
    conv = body["conversation"]
    assert isinstance(conv["id"], int)
    assert conv["date"] == msg["message_timestamp_utc"]
    assert conv["consumerPhoneNumber"] == CUSTOMER
    assert conv["messageDirection"] == "R"
    assert conv["message"] == "Is it fixed? {ok}"
    assert conv["numSegments"] == 1
    assert conv["status"] == "delivered"
    assert conv["claimedBy"] is None
    assert conv["consumerFriendlyName"] == "Ann Lee"


def test_msg_sent_fires_for_our_own_texts_only(sandbox_account, receiver):
    acct = sandbox_account
    subscribe(acct, "msg_sent", receiver.url)
    acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hello")
    sent = acct.post(
        f"/dashboards/{acct.dashboard_id}/contacts/{CUSTOMER}/messages", json={"body": "x" * 161}
    ).json()
    body = receiver.wait_for(1)[0][1]
    assert acct.control.wait_idle()
    assert len(receiver.calls) == 1
    assert body["messageUniqueIdentifier"] == sent["message_id"]
    assert body["conversation"]["messageDirection"] == "S"
    assert body["conversation"]["status"] == "sending"
    assert body["conversation"]["numSegments"] == 2


def test_a_failed_delivery_is_retried_with_the_same_identifier(sandbox_account):
    acct = sandbox_account
    receiver = Receiver(fail_first=2)
    try:
        subscribe(acct, "msg_received", receiver.url)
        msg = acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hi")
        calls = receiver.wait_for(3)
        ids = [body["messageUniqueIdentifier"] for _, body in calls]
        assert ids == [msg["message_id"]] * 3
        assert acct.control.wait_idle()
        assert len(receiver.calls) == 3  # delivered on the third try, then no more
        counters = acct.control.counters(acct.api_key)
        assert counters["webhook_deliveries"] == 3 and counters["webhook_failures"] == 2
    finally:
        receiver.close()


def test_a_timeout_is_retried(sandbox_account):
    acct = sandbox_account
    acct.control.configure(api_key=acct.api_key, webhook_timeout=0.2)
    receiver = Receiver(stall_first=1, stall_seconds=0.6)
    try:
        subscribe(acct, "msg_received", receiver.url)
        acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hi")
        calls = receiver.wait_for(2)
        assert calls[0][1] == calls[1][1]
    finally:
        receiver.close()


def test_retries_give_up_after_the_configured_delays(sandbox_account):
    acct = sandbox_account
    acct.control.configure(api_key=acct.api_key, webhook_retry_delays=[0.01, 0.02])
    receiver = Receiver(fail_first=100)
    try:
        subscribe(acct, "msg_received", receiver.url)
        acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hi")
        receiver.wait_for(3)
        assert acct.control.wait_idle()
        assert len(receiver.calls) == 3
    finally:
        receiver.close()


def test_growing_delays_between_attempts(sandbox_account):
    acct = sandbox_account
    acct.control.configure(api_key=acct.api_key, webhook_retry_delays=[0.1, 0.3])
    receiver = Receiver(fail_first=100)
    stamps = []
    try:
        subscribe(acct, "msg_received", receiver.url)
        acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hi")
        for n in (1, 2, 3):
            receiver.wait_for(n)
            stamps.append(time.monotonic())
        assert stamps[2] - stamps[1] > stamps[1] - stamps[0]
    finally:
        receiver.close()


def test_unsubscribed_hooks_get_nothing(sandbox_account, receiver):
    acct = sandbox_account
    hook = subscribe(acct, "msg_received", receiver.url)
    assert acct.delete(f"/dashboards/{acct.dashboard_id}/hooks/{hook['id']}").status_code == 204
    assert acct.delete(f"/dashboards/{acct.dashboard_id}/hooks/{hook['id']}").status_code == 404
    acct.control.inbound(acct.api_key, acct.dashboard_id, CUSTOMER, "hi")
    assert acct.control.wait_idle()
    assert receiver.calls == []


def test_hooks_are_listed_per_dashboard(sandbox_account, receiver):
    acct = sandbox_account
    a = subscribe(acct, "msg_received", receiver.url + "/a")
    b = subscribe(acct, "msg_sent", receiver.url + "/b")
    assert acct.get(f"/dashboards/{acct.dashboard_id}/hooks").json() == [a, b]


def test_status_callback_on_delivery(sandbox_account, receiver):
    acct = sandbox_account
    sent = acct.post(
        f"/dashboards/{acct.dashboard_id}/contacts/{CUSTOMER}/messages",
        json={"body": "On our way", "status_callback": receiver.url + "/status/42"},
    ).json()
    path, body = receiver.wait_for(1)[0]
    assert path == "/status/42"
    assert body == {
        "message_id": sent["message_id"],
        "delivery_status": "delivered",
        "delivery_error": None,
    }


def test_status_callback_on_error_carries_the_reason(sandbox_account, receiver):
    acct = sandbox_account
    sent = acct.post(
        f"/dashboards/{acct.dashboard_id}/contacts/4235550000/messages",  # the sandbox's landline
        json={"body": "On our way", "status_callback": receiver.url},
    ).json()
    body = receiver.wait_for(1)[0][1]
    assert body["message_id"] == sent["message_id"]
    assert body["delivery_status"] == "error" and body["delivery_error"]
    msgs = acct.get(
        f"/dashboards/{acct.dashboard_id}/contacts/4235550000/messages", page=0, page_size=5
    )
    assert msgs.json()["items"][0]["delivery_error"] == body["delivery_error"]


def test_a_message_moves_from_sending_to_delivered_after_the_delay(sandbox_account, receiver):
    acct = sandbox_account
    acct.control.configure(api_key=acct.api_key, delivery_delay=0.3)
    d = f"/dashboards/{acct.dashboard_id}/contacts/{CUSTOMER}/messages"
    sent = acct.post(d, json={"body": "Hi", "status_callback": receiver.url}).json()
    assert sent["delivery_status"] == "sending"
    assert acct.get(d, page=0, page_size=5).json()["items"][0]["delivery_status"] == "sending"
    assert receiver.calls == []
    receiver.wait_for(1)
    item = acct.get(d, page=0, page_size=5).json()["items"][0]
    assert item["delivery_status"] == "delivered" and item["delivery_error"] is None


def test_delivery_error_rate_fault(sandbox_account):
    acct = sandbox_account
    acct.control.set_faults(api_key=acct.api_key, delivery_error_rate=1.0)
    d = f"/dashboards/{acct.dashboard_id}/contacts/{CUSTOMER}/messages"
    acct.post(d, json={"body": "Hi"})
    assert acct.get(d, page=0, page_size=5).json()["items"][0]["delivery_status"] == "error"
    assert acct.control.counters(acct.api_key)["delivered"] == []
    acct.control.clear_faults(acct.api_key)


def test_bad_hook_subscriptions_are_400(sandbox_account):
    acct = sandbox_account
    d = f"/dashboards/{acct.dashboard_id}/hooks"
    for body in (
        {"event": "msg_deleted", "target_url": "https://example.com/x"},
        {"event": "msg_sent", "target_url": "ftp://example.com/x"},
        {"event": "msg_sent"},
        {"event": "msg_sent", "target_url": "https://example.com/x", "http_verb": "GET"},
    ):
        r = acct.post(d, json=body)
        assert r.status_code == 400 and r.json()["message"], body
