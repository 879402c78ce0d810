"""HTTP like a real API server: every error the HTTP layer itself answers is the API's JSON
error (with a status line, framed, then the connection closes), chunked request bodies are
read, and a body declared as anything but JSON is a 415."""

import contextlib
import json
import socket
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from tests.standins.test_sandbox_conformance import ERROR_SCHEMA


def exchange(acct, request: bytes) -> bytes:
    """Send ``request`` on a raw socket; answer everything read until the server closes."""
    parts = urlsplit(acct.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        # the server may answer and close before reading everything: read the answer anyway
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def answers(raw: bytes) -> list[tuple[int, dict, bytes]]:
    """Split what came back into (status, headers, body) answers framed by Content-Length."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
        length = int(headers.get("content-length", 0))
        out.append((status, headers, rest[:length]))
        raw = rest[length:]
    return out


def json_error(raw: bytes, status: int) -> dict:
    [(code, headers, body)] = answers(raw)
    assert code == status, body
    assert headers["content-type"].startswith("application/json")
    assert headers["connection"] == "close"
    error = json.loads(body)
    jsonschema.Draft4Validator(ERROR_SCHEMA).validate(error)
    assert error["status"] == status
    return error


def get(acct, path: str, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return (
        f"GET {path} {version}\r\nHost: sandbox\r\nx-api-key: {acct.api_key}\r\n{extra}\r\n"
    ).encode()


def test_a_uri_over_the_limit_is_a_json_414(sandbox_account):
    path = "/api/v3/dashboards?search=" + "x" * 20_000
    error = json_error(exchange(sandbox_account, get(sandbox_account, path)), 414)
    assert error["errorCode"] == "UriTooLong"


def test_too_many_headers_is_a_json_431(sandbox_account):
    extra = "".join(f"X-Filler-{i}: {i}\r\n" for i in range(120))
    json_error(exchange(sandbox_account, get(sandbox_account, "/api/v3/dashboards", extra)), 431)


def test_a_header_line_over_the_limit_is_a_json_431(sandbox_account):
    extra = f"X-Big: {'y' * 70_000}\r\n"
    json_error(exchange(sandbox_account, get(sandbox_account, "/api/v3/dashboards", extra)), 431)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"THIS IS NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET /api/v3/dashboards HTTP/one\r\nHost: x\r\n\r\n", 400),
        (b"GET /api/v3/dashboards HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /api/v3/dashboards\r\n", 400),  # HTTP/0.9: would get no status line
    ],
    ids=["garbage", "bad-version", "http-2", "http-0.9"],
)
def test_a_malformed_request_line_is_a_json_error(sandbox_account, request_bytes, status):
    json_error(exchange(sandbox_account, request_bytes), status)


def chunked(data: bytes, size: int = 7) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
             for i in range(0, len(data), size)]  # fmt: skip
    return b"".join(parts) + b"0\r\n\r\n"


def post_chunked(acct, path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST /api/v3{path} HTTP/1.1\r\nHost: sandbox\r\nx-api-key: {acct.api_key}\r\n"
        f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n{extra}\r\n"
    ).encode() + body


def test_a_chunked_body_is_read_and_the_connection_kept(sandbox_account):
    acct = sandbox_account
    groups = f"/dashboards/{acct.dashboard_id}/groups"
    body = json.dumps({"name": "Chunked crew", "notes": "sent in pieces"}).encode()
    last = get(acct, f"/api/v3{groups}", "Connection: close\r\n")
    raw = exchange(acct, post_chunked(acct, groups, chunked(body)) + last)
    (created, _, one), (listed, _, two) = answers(raw)  # both on one connection
    assert created == 200 and json.loads(one)["name"] == "Chunked crew"
    assert listed == 200 and "Chunked crew" in {g["name"] for g in json.loads(two)["items"]}


def test_requests_streams_a_chunked_body_that_the_sandbox_reads(sandbox_account):
    acct = sandbox_account
    body = json.dumps({"name": "From a generator"}).encode()
    r = requests.post(
        f"{acct.api_url}/dashboards/{acct.dashboard_id}/groups",
        data=(body[i : i + 5] for i in range(0, len(body), 5)),  # no length: chunked
        headers={**acct.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["name"] == "From a generator"


def test_a_chunked_body_over_the_limit_is_a_json_413(sandbox_account):
    acct = sandbox_account
    big = chunked(b"x" * 1_100_000, size=65_536)
    raw = exchange(acct, post_chunked(acct, f"/dashboards/{acct.dashboard_id}/groups", big))
    assert json_error(raw, 413)["errorCode"] == "PayloadTooLarge"


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"10\r\n{}\r\n0\r\n\r\n", b"2\r\n{}\r\n0\r\nX-Trailer: 1\r\n"],
    ids=["bad-size", "short-chunk", "unended-trailers"],
)
def test_a_malformed_chunked_body_is_a_json_400(sandbox_account, body):
    acct = sandbox_account
    request = post_chunked(acct, f"/dashboards/{acct.dashboard_id}/groups", body)
    parts = urlsplit(acct.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # nothing more comes: the server must not wait for it
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    json_error(raw, 400)


@pytest.mark.parametrize(("coding", "status"), [("gzip", 400), ("gzip, chunked", 501)])
def test_other_transfer_codings_are_json_errors(sandbox_account, coding, status):
    acct = sandbox_account
    request = (
        f"POST /api/v3/dashboards/{acct.dashboard_id}/groups HTTP/1.1\r\nHost: sandbox\r\n"
        f"x-api-key: {acct.api_key}\r\nTransfer-Encoding: {coding}\r\n\r\n"
    ).encode()
    json_error(exchange(acct, request), status)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_that_is_not_json_is_a_415(sandbox_account, content_type):
    acct = sandbox_account
    r = acct.call(
        "POST",
        f"/dashboards/{acct.dashboard_id}/groups",
        data=b'{"name": "Typed wrong"}',
        headers={"Content-Type": content_type},
    )
    assert r.status_code == 415
    error = r.json()
    jsonschema.Draft4Validator(ERROR_SCHEMA).validate(error)
    assert error["errorCode"] == "UnsupportedMediaType" and content_type in error["message"]
    names = {g["name"] for g in acct.get(f"/dashboards/{acct.dashboard_id}/groups").json()["items"]}
    assert "Typed wrong" not in names  # refused, not processed


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json", None],
)
def test_json_bodies_are_read_whatever_the_json_spelling(sandbox_account, content_type):
    acct = sandbox_account
    headers = {"Content-Type": content_type} if content_type else {}
    r = acct.call(
        "POST",
        f"/dashboards/{acct.dashboard_id}/groups",
        data=b'{"name": "Typed right"}',
        headers=headers,
    )
    assert r.status_code == 200, r.text


def test_the_control_api_also_refuses_a_body_that_is_not_json(sandbox_account):
    r = requests.post(
        f"{sandbox_account.url}/_sandbox/accounts",
        data=b"seed=demo",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert r.status_code == 415 and r.json()["errorCode"] == "UnsupportedMediaType"
