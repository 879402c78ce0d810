"""One client base: both clients read every answer the same way (textdesk.transport).

The service here is a tiny loopback server that answers whatever status, headers and body a
test gives it, for answers neither sandbox plays (a 429 from ASMS, an HTTP-date Retry-After, a
service that echoes the secret back). The clients themselves are the real ones.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from textdesk import transport
from textdesk.asms import AsmsClient, AsmsError
from textdesk.textrequest import FileLimiter, LimiterBusy, TextRequestClient, TextRequestError

SECRET = "sk_live_0123456789abcdef"


class _Answer(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        status, headers, body = self.server.answer
        self.server.seen.append(dict(self.headers))
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.answer = (200, {}, {})
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(params=["textrequest", "asms"])
def call(request, service, tmp_path):
    """One call through either client: answers (what it raised, the client)."""
    limiter = FileLimiter(tmp_path / "limits")
    if request.param == "textrequest":
        client = TextRequestClient(url(service), SECRET, bucket="t", limiter=limiter)
        root, operation = TextRequestError, client.get_dashboards
    else:
        client = AsmsClient(url(service), SECRET)
        root, operation = AsmsError, lambda: client.get_case("IT-1")

    def run(status, headers=None, body=None):
        limiter.reset("t")  # a 429's cooldown would hold the next call back
        service.answer = (status, headers or {}, body)
        with pytest.raises(root) as caught:
            operation()
        return caught.value, client

    yield run
    client.close()


@pytest.mark.parametrize(
    ("status", "kind", "safe_to_retry", "maybe_processed"),
    [
        (400, transport.BadRequest, False, False),
        (401, transport.Unauthorized, False, False),
        (404, transport.NotFound, False, False),
        (409, transport.Refused, False, False),
        (413, transport.TooLarge, False, False),
        (429, transport.RateLimited, True, False),
        (503, transport.Unavailable, True, False),
        (500, transport.ServerError, False, True),
        (502, transport.ServerError, False, True),
        (504, transport.ServerError, False, True),
    ],
)
def test_both_clients_read_each_status_the_same_way(
    call, status, kind, safe_to_retry, maybe_processed
):
    error, _client = call(status, body={"message": "no"})
    if kind is transport.TooLarge and isinstance(error, TextRequestError):
        kind = transport.BadRequest  # Text Request's family has no TooLarge: a 413 is invalid
    assert isinstance(error, kind)
    assert error.status == status and error.message == "no"
    assert error.safe_to_retry is safe_to_retry
    assert error.maybe_processed is maybe_processed


def test_a_retry_after_date_is_read_by_both_clients(call):
    """RFC 9110 §10.2.3: Retry-After is delta-seconds or an HTTP date (ASMS read only seconds)."""
    when = datetime.now(UTC) + timedelta(seconds=40)
    date = email.utils.format_datetime(when, usegmt=True)
    limited, _client = call(429, {"Retry-After": date})
    assert 30 <= limited.retry_after <= 40
    unavailable, _client = call(503, {"Retry-After": "12"})
    assert unavailable.retry_after == 12.0
    missing, _client = call(429)
    assert missing.retry_after == transport.FALLBACK_RETRY_AFTER


def test_a_429_sets_text_requests_shared_cooldown(service, tmp_path):
    limiter = FileLimiter(tmp_path / "limits")
    client = TextRequestClient(url(service), SECRET, bucket="t", limiter=limiter, max_wait=0.1)
    service.answer = (429, {"Retry-After": "3"}, {"message": "slow down"})
    with pytest.raises(transport.RateLimited):
        client.get_dashboards()
    assert limiter.seen_429("t") == 1
    with pytest.raises(LimiterBusy):  # the hook before every call: no second request is made
        client.get_dashboards()
    assert len(service.seen) == 1


def test_the_secret_is_sent_in_its_header_and_never_shown(call, service, caplog):
    caplog.set_level(logging.DEBUG)
    error, client = call(401, {"Retry-After": SECRET}, {"message": f"key {SECRET} is unknown"})
    assert SECRET in service.seen[-1].values()
    assert error.message == f"key {transport.REDACTED} is unknown"
    limited, client = call(429, {"Retry-After": SECRET}, {"message": SECRET})
    for text in (str(error), str(limited), repr(error), repr(client), caplog.text):
        assert SECRET not in text
    assert "429" in caplog.text
