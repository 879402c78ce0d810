"""The sandbox's MMS upload (``POST /mms``, docs/textrequest-api.md) and ``mms_media``."""

import pickle

import pytest
import requests

from standins.textrequest.backend import Backend
from standins.textrequest.pytest_fixtures import make_account
from textdesk.textrequest import BadRequest, FileLimiter, TextRequestClient
from textdesk.textrequest.types import MmsUpload

P1 = "4235550181"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MB = 1024 * 1024


def upload(acct, name, content, content_type="application/octet-stream"):
    return acct.call("POST", "/mms", files={"file": (name, content, content_type)})


def send(acct, body, media):
    path = f"/dashboards/{acct.dashboard_id}/contacts/{P1}/messages"
    return acct.post(path, json={"body": body, "mms_media": media})


def test_upload_answers_a_url_that_serves_the_file_and_sends(sandbox_account):
    acct = sandbox_account
    r = upload(acct, "photo.png", PNG, "image/png")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["mime_type"] == "image/png"
    served = requests.get(answer["url"], timeout=5)
    assert served.status_code == 200
    assert served.content == PNG and served.headers["Content-Type"] == "image/png"
    sent = send(acct, "Your receipt", [answer["url"]])
    assert sent.status_code == 200, sent.text
    assert sent.json()["mms_media"] == [answer["url"]]
    counters = acct.control.counters(acct.api_key)
    assert counters["mms_uploads"] == 1 and counters["calls"]["UploadMms"] == 1


def test_types_and_sizes_are_refused_with_a_reason(sandbox_account):
    acct = sandbox_account
    r = upload(acct, "run.exe", b"MZ")
    assert r.status_code == 400 and "not supported" in r.json()["message"]
    r = upload(acct, "big.pdf", b"%PDF" + b"0" * MB)
    assert r.status_code == 400 and "1 MB" in r.json()["message"]
    r = upload(acct, "fine.pdf", b"%PDF" + b"0" * (MB - 10))
    assert r.status_code == 200
    r = upload(acct, "big.png", b"0" * (5 * MB + 1))
    assert r.status_code == 400 and "5 MB" in r.json()["message"]
    r = upload(acct, "ok.png", b"0" * (5 * MB))
    assert r.status_code == 200  # past the 1 MB limit of every other route
    r = upload(acct, "empty.png", b"")
    assert r.status_code == 400
    # other routes keep their 1 MB limit
    r = acct.post("/dashboards", json={"name": "x" * (MB + 10), "phone": "4235550100"})
    assert r.status_code == 413
    # not multipart, or no file field
    r = acct.call("POST", "/mms", json={"file": "x"})
    assert r.status_code == 415
    r = acct.call("POST", "/mms", files={"other": ("a.png", PNG)})
    assert r.status_code == 400 and "file field" in r.json()["message"]
    assert acct.control.counters(acct.api_key)["mms_uploads"] == 2


def test_mms_media_takes_only_issued_urls_and_at_most_three(sandbox_account, sandbox_server):
    acct = sandbox_account
    urls = [upload(acct, f"p{i}.jpg", PNG).json()["url"] for i in range(4)]
    assert send(acct, "x", ["https://mms.textrequest.com/made/up.jpg"]).status_code == 400
    assert send(acct, "x", [urls[0] + "x"]).status_code == 400
    r = send(acct, "x", urls)
    assert r.status_code == 400 and "at most 3" in r.json()["message"]
    other = upload(make_account(sandbox_server), "theirs.png", PNG)
    r = send(acct, "x", [other.json()["url"]])
    assert r.status_code == 400 and "this account" in r.json()["message"]
    assert send(acct, "", urls[:3]).status_code == 200  # pictures alone are a text


def test_unknown_file_is_404():
    backend = Backend(seed="empty")
    assert backend.mms_file("nope") is None


def test_uploads_survive_the_state_file():
    backend = Backend(seed="empty")
    key = backend.create_account(seed="empty")["api_key"]
    answer = backend.upload_mms(key, "http://sandbox", "a.gif", b"GIF89a")
    restored = pickle.loads(pickle.dumps(backend.accounts[key]))
    assert restored.mms[answer["url"].split("/")[-2]][3] == b"GIF89a"


# --- the client's upload_mms against the sandbox --------------------------------------------


def test_client_uploads_and_sends_with_mms_media(sandbox_account, tmp_path):
    client = TextRequestClient(
        sandbox_account.api_url,
        sandbox_account.api_key,
        bucket="test-mms",
        limiter=FileLimiter(tmp_path / "ratelimit"),
    )
    with client:
        upload_answer = client.upload_mms("menu.pdf", b"%PDF-1.4 menu", "application/pdf")
        assert isinstance(upload_answer, MmsUpload)
        assert upload_answer.mime_type == "application/pdf"
        sent = client.send_message(
            sandbox_account.dashboard_id, P1, body="Our menu", mms_media=[upload_answer.url]
        )
        assert sent.mms_media == [upload_answer.url]
        with pytest.raises(BadRequest, match="not supported"):
            client.upload_mms("virus.exe", b"MZ", "application/octet-stream")
    calls = sandbox_account.control.counters(sandbox_account.api_key)["calls"]
    assert calls["UploadMms"] == 2  # each took a slot of the limiter, like every call
