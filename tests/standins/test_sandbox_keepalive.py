"""HTTP/1.1 keep-alive: one connection serves many calls, every answer is framed, and the
connection closes exactly when it must (client asks, HTTP/1.0, oversized body, server stops)."""

import http.client
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from standins.textrequest.testing import SandboxServer


def connect(acct) -> http.client.HTTPConnection:
    parts = urlsplit(acct.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.connect()
    return conn


def call(conn, acct, method, path, body=None, headers=None):
    headers = {**acct.headers, **(headers or {})}
    conn.request(method, "/api/v3" + path, body=body, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def tags_path(acct) -> str:
    return f"/dashboards/{acct.dashboard_id}/tags?page=0&page_size=10"


def test_many_calls_share_one_connection(sandbox_account):
    acct = sandbox_account
    conn = connect(acct)
    sock = conn.sock
    for _ in range(5):
        response, body = call(conn, acct, "GET", tags_path(acct))
        assert response.status == 200
        assert response.version == 11
        assert response.getheader("Content-Length") == str(len(body))
        assert response.getheader("Connection") is None
        assert json.loads(body)["meta"]["total_items"] == 3
    assert conn.sock is sock  # never reconnected


def test_requests_session_never_resets_the_connection(sandbox_account, caplog):
    acct = sandbox_account
    session = requests.Session()
    session.trust_env = False
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        for _ in range(5):
            r = session.get(acct.api_url + tags_path(acct), headers=acct.headers, timeout=5)
            assert r.status_code == 200
    connects = [m for m in caplog.messages if "Starting new HTTP connection" in m]
    assert len(connects) == 1
    assert not [m for m in caplog.messages if "Resetting dropped connection" in m]


def test_a_204_has_no_body_and_keeps_the_connection(sandbox_account):
    acct = sandbox_account
    conn = connect(acct)
    sock = conn.sock
    response, body = call(conn, acct, "GET", f"/dashboards/{acct.dashboard_id}/contacts/4235550177")
    assert response.status == 204
    assert body == b""
    assert response.getheader("Content-Length") is None  # RFC 9110: never on a 204
    response, _ = call(conn, acct, "GET", tags_path(acct))
    assert response.status == 200
    assert conn.sock is sock


def test_errors_are_framed_and_an_unread_body_is_skipped(sandbox_account):
    acct = sandbox_account
    conn = connect(acct)
    sock = conn.sock
    payload = json.dumps({"name": "x" * 5000, "phone": "4235550150"})
    refused, body = call(conn, acct, "POST", "/dashboards", payload, {"x-api-key": "wrong"})
    assert refused.status == 401  # refused before the body was read
    assert refused.getheader("Content-Length") == str(len(body))
    missing, body = call(conn, acct, "POST", "/nowhere", payload)
    assert missing.status == 404
    assert json.loads(body)["message"]
    response, _ = call(conn, acct, "GET", tags_path(acct))
    assert response.status == 200
    assert conn.sock is sock


def test_a_body_over_the_limit_is_refused_and_the_connection_closes(sandbox_account):
    acct = sandbox_account
    conn = connect(acct)
    response, body = call(conn, acct, "POST", "/dashboards", b"x" * 1_000_001)
    assert response.status == 413
    assert response.getheader("Connection") == "close"
    assert json.loads(body) == {
        "status": 413,
        "message": "Request body too large",
        "errorCode": "PayloadTooLarge",
    }


def raw_exchange(acct, request: bytes) -> bytes:
    """Send ``request`` on a raw socket; answer everything read until the server closes."""
    parts = urlsplit(acct.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):  # returns b"" only when the server closes
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_line, extra",
    [("HTTP/1.1", "Connection: close\r\n"), ("HTTP/1.0", "")],
    ids=["connection-close", "http-1.0"],
)
def test_the_server_closes_when_the_client_asks_or_speaks_http_1_0(
    sandbox_account, request_line, extra
):
    acct = sandbox_account
    request = (
        f"GET /api/v3{tags_path(acct)} {request_line}\r\nHost: sandbox\r\n"
        f"x-api-key: {acct.api_key}\r\n{extra}\r\n"
    ).encode()
    answer = raw_exchange(acct, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close" in head
    assert json.loads(body)["meta"]["total_items"] == 3


def test_pipelined_requests_are_answered_in_order(sandbox_account):
    acct = sandbox_account
    one = (
        f"GET /api/v3{tags_path(acct)} HTTP/1.1\r\nHost: sandbox\r\n"
        f"x-api-key: {acct.api_key}\r\n\r\n"
    )
    last = (
        f"GET /api/v3/dashboards/{acct.dashboard_id}/fields HTTP/1.1\r\nHost: sandbox\r\n"
        f"x-api-key: {acct.api_key}\r\nConnection: close\r\n\r\n"
    )
    answer = raw_exchange(acct, (one + one + last).encode())
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.rstrip().endswith(b"]")  # the fields array comes last


def test_a_timeout_fault_drops_only_that_connection(sandbox_account):
    acct = sandbox_account
    acct.control.set_faults(api_key=acct.api_key, timeout_rate=1.0, timeout_seconds=0.5)
    session = requests.Session()
    session.trust_env = False
    url = acct.api_url + tags_path(acct)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(url, headers=acct.headers, timeout=0.2)
    acct.control.clear_faults(api_key=acct.api_key)
    time.sleep(0.5)  # the late answer goes to a closed connection
    r = session.get(url, headers=acct.headers, timeout=5)
    assert r.status_code == 200
    assert r.json()["meta"]["total_items"] == 3


def test_an_outage_answers_503_on_a_kept_alive_connection(sandbox_account):
    acct = sandbox_account
    conn = connect(acct)
    sock = conn.sock
    acct.control.set_faults(api_key=acct.api_key, outage=True)
    response, body = call(conn, acct, "GET", tags_path(acct))
    assert response.status == 503
    assert json.loads(body)["message"]
    acct.control.clear_faults(api_key=acct.api_key)
    response, _ = call(conn, acct, "GET", tags_path(acct))
    assert response.status == 200
    assert conn.sock is sock


def test_stopping_the_server_ends_kept_alive_connections():
    with SandboxServer() as server:
        key, dashboards = server.control.new_account()
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", "/api/v3/dashboards?page=0&page_size=5", headers={"x-api-key": key})
        assert conn.getresponse().read()
        sock = conn.sock
    assert sock.recv(1) == b""  # the server closed its end
    conn.close()
