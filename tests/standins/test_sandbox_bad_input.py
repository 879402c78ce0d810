"""Every bad input is a 400 with a message, never a 500 (hand-picked cases and hypothesis)."""

import json
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standins.textrequest.pytest_fixtures import make_account


@pytest.fixture(scope="module")
def acct(sandbox_server):
    """A demo account with an effectively unlimited budget (hypothesis makes many calls)."""
    account = make_account(sandbox_server, seed="demo", contacts=10, messages=40, dashboards=1)
    account.control.configure(api_key=account.api_key, rate_limit=1_000_000)
    return account


def assert_400(response):
    assert response.status_code == 400, (response.status_code, response.text)
    message = response.json()["message"]
    assert isinstance(message, str) and message
    return message


def d(acct):
    return f"/dashboards/{acct.dashboard_id}"


def test_paging_errors(acct):
    for params in (
        {"page": 0, "page_size": 0},
        {"page": 0, "page_size": 101},
        {"page": -1, "page_size": 5},
        {"page": "x", "page_size": 5},
        {"page": 0, "page_size": "1.5"},
    ):
        assert_400(acct.call("GET", d(acct) + "/contacts", params=params))
    # absent is not invalid: the definition's defaults apply (page 0, 50 items)
    for params in ({"page_size": 5}, {"page": 0}, {}):
        assert acct.call("GET", d(acct) + "/contacts", params=params).status_code == 200
    assert "page_size" in assert_400(acct.get(d(acct) + "/conversations", page_size=500))


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("contact_tags", ["00000000-0000-4000-a000-000000000000"], "Unknown tag"),
        ("contact_tags", "VIP", "contact_tags"),
        ("groups", [999999], "Unknown group"),
        ("groups", ["1"], "groups"),
        ("custom_fields", [{"id": "nope", "value": "x"}], "Unknown custom field"),
        ("custom_fields", [{"value": "x"}], "custom_fields"),
        ("first_name", 42, "first_name"),
        ("is_blocked", "yes", "is_blocked"),
        ("is_resolved", None, "is_resolved"),
        ("note", "x" * 1001, "note"),
    ],
)
def test_contact_body_errors(acct, field, value, needle):
    message = assert_400(acct.post(d(acct) + "/contacts/4235550160", json={field: value}))
    assert needle in message


@pytest.mark.parametrize(
    ("amount", "needle"),
    [
        (None, "required"),
        ("220.50", "number"),
        (True, "number"),
        (0, "greater"),
        (-5, "greater"),
        (10.123, "decimal"),
        (1e9, "at most"),
    ],  # fmt: skip
)
def test_bad_amounts(acct, amount, needle):
    body = {"customer_phone": "4235550160", "message": "Pay", "amount_requested": amount}
    assert needle in assert_400(acct.post(d(acct) + "/payments", json=body))


def test_nan_amount(acct):
    raw = '{"customer_phone": "4235550160", "message": "Pay", "amount_requested": NaN}'
    assert_400(
        acct.call(
            "POST", d(acct) + "/payments", data=raw, headers={"Content-Type": "application/json"}
        )
    )


@pytest.mark.parametrize(
    "number",
    [
        "123",
        "42355501601",
        "+44 20 7946 0958",
        "423-555-01AB",
        "(123) 555-0160",
        "4231550160",
        "911",
    ],
)
def test_malformed_numbers_everywhere(acct, number):
    q = quote(number, safe="")
    assert_400(acct.get(f"{d(acct)}/contacts/{q}"))
    assert_400(acct.post(f"{d(acct)}/contacts/{q}/messages", json={"body": "hi"}))
    assert_400(acct.get(d(acct) + "/contacts", page=0, page_size=5, contact_phone_number=number))
    assert_400(
        acct.post(
            d(acct) + "/payments",
            json={"customer_phone": number, "amount_requested": 5, "message": "m"},
        )
    )
    assert_400(acct.post(d(acct) + "/contacts", json=[{"phone_number": number}]))


def test_body_problems(acct):
    url = d(acct) + "/contacts/4235550160/messages"
    assert "body is required" in assert_400(acct.post(url, json={"sender_name": "Bill"}))
    assert "body is required" in assert_400(acct.post(url, json={"body": "   "}))
    assert "string" in assert_400(acct.post(url, json={"body": 12}))
    assert "JSON body is required" in assert_400(acct.call("POST", url))
    assert "not valid JSON" in assert_400(acct.call("POST", url, data="{body: hi}"))
    assert "UTF-8" in assert_400(acct.call("POST", url, data=b'{"body": "\xff"}'))
    assert "JSON object" in assert_400(acct.post(url, json=["hi"]))
    assert "JSON array" in assert_400(
        acct.post(d(acct) + "/contacts", json={"phone_number": "4235550160"})
    )
    assert "status_callback" in assert_400(
        acct.post(url, json={"body": "x", "status_callback": "not a url"})
    )
    assert "at most" in assert_400(acct.post(url, json={"body": "x" * 1601}))


def test_query_problems(acct):
    base = d(acct) + "/contacts"
    for params in ({"is_blocked": "maybe"}, {"contact_created_after": "yesterday"},
                   {"tags": "no-such-tag"}, {"groups": "a,b"}, {"groups": "999999"},
                   {"custom_field_id_1": "nope", "custom_field_value_1": "x"},
                   {"custom_field_value_2": "x"}):  # fmt: skip
        assert_400(acct.get(base, page=0, page_size=5, **params))
    assert_400(acct.get(d(acct) + "/conversations", include_archived="perhaps"))
    assert_400(acct.get(d(acct) + "/conversations", tags="nope"))
    assert_400(acct.get(d(acct) + "/payments", page=0, page_size=5, phone_number="12"))


def test_path_and_dashboard_problems(acct):
    assert_400(acct.get("/dashboards/abc"))
    assert_400(acct.get(d(acct) + "/groups/1.5"))
    assert_400(acct.post(d(acct) + "/payments/xyz/cancel"))
    assert_400(acct.put(d(acct) + "/groups/999999", json={"name": "x"}))
    assert_400(acct.post(d(acct) + "/groups", json={"name": ""}))
    assert_400(acct.put(d(acct), json={}))
    assert acct.get("/dashboards/999999").status_code == 404
    assert acct.call("PATCH", "/dashboards").status_code == 405
    assert acct.get("/nothing/here").status_code == 404


def test_dashboard_numbers(acct):
    taken = acct.get(d(acct)).json()["phone"]
    assert "already in use" in assert_400(
        acct.post("/dashboards", json={"name": "x", "phone": taken})
    )
    free = acct.get("/dashboards/provisioning", area_code="704").json()[0]
    assert acct.post("/dashboards", json={"name": "x", "phone": free}).status_code == 200
    assert "already in use" in assert_400(
        acct.post("/dashboards", json={"name": "y", "phone": free})
    )
    assert "provisioned" in assert_400(
        acct.post("/dashboards", json={"name": "x", "phone": "7045551234"})
    )
    assert "phone" in assert_400(acct.post("/dashboards", json={"name": "x"}))
    assert_400(acct.get("/dashboards/provisioning", area_code="12"))
    assert_400(acct.get("/dashboards/provisioning", area_code="911"))
    assert_400(acct.get("/dashboards/provisioning"))


# -- property-based: bodies and phone numbers ------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)  # fmt: skip
KNOWN_KEYS = [
    "body", "sender_name", "status_callback", "location_callback", "mms_media", "first_name",
    "last_name", "display_name", "is_suppressed", "is_archived", "is_blocked", "suppressed_reason",
    "note", "groups", "contact_tags", "custom_fields", "is_resolved", "phone_number", "name",
    "notes", "phone", "description", "customer_phone", "amount_requested", "message",
    "reference_number", "event", "target_url", "http_verb",
]  # fmt: skip
bodies = st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values, max_size=6) | json_values
WRITES = [
    ("POST", "/dashboards"),
    ("PUT", "{d}"),
    ("POST", "{d}/contacts"),
    ("POST", "{d}/contacts/4235550160"),
    ("POST", "{d}/contacts/4235550160/messages"),
    ("POST", "{d}/groups"),
    ("POST", "{d}/payments"),
    ("POST", "{d}/hooks"),
]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize(("method", "path"), WRITES)
@FAST
@given(body=bodies)
def test_write_bodies_never_500(acct, method, path, body):
    url = acct.api_url + path.format(d=d(acct))
    data = json.dumps(body)  # Infinity allowed on purpose: the sandbox must refuse it cleanly
    headers = {**acct.headers, "Content-Type": "application/json"}
    r = requests.request(method, url, data=data, headers=headers, timeout=10)
    assert r.status_code in (200, 400), (r.status_code, r.text, body)
    if r.status_code == 400:
        assert isinstance(r.json()["message"], str)


@FAST
@given(raw=st.binary(max_size=60))
def test_raw_bytes_never_500(acct, raw):
    url = f"{acct.api_url}{d(acct)}/contacts/4235550160"
    r = requests.post(url, data=raw, headers=acct.headers, timeout=10)
    assert r.status_code in (200, 400), r.text


phoneish = st.text(alphabet="0123456789+-(). abcx#/%", max_size=20) | st.text(max_size=20)


@FAST
@given(number=phoneish)
def test_any_phone_text_is_204_200_or_400(acct, number):
    url = f"{acct.api_url}{d(acct)}/contacts/{quote(number, safe='')}"
    r = requests.get(url, headers=acct.headers, timeout=10)
    assert r.status_code in (200, 204, 400, 404), r.text
    if r.status_code == 400:
        assert r.json()["message"]
    r = requests.post(url + "/messages", json={"body": "hi"}, headers=acct.headers, timeout=10)
    assert r.status_code in (200, 400, 404), r.text


nanp = st.tuples(
    st.integers(2, 9),
    st.integers(0, 99),
    st.integers(2, 9),
    st.integers(0, 99),
    st.integers(1, 9999),
).filter(lambda t: t[1] != 11)
spellings = st.sampled_from(
    ["{a}{e}{l}", "{a}-{e}-{l}", "({a}) {e}-{l}", "+1 ({a}) {e}-{l}", "1{a}{e}{l}", "{a}.{e}.{l}"]
)


@FAST
@given(parts=nanp, spelling=spellings)
def test_every_common_spelling_answers_ten_digits(acct, parts, spelling):
    a = f"{parts[0]}{parts[1]:02d}"
    e = f"{parts[2]}{parts[3]:02d}"
    line = f"{parts[4]:04d}"
    number = spelling.format(a=a, e=e, l=line)
    r = requests.post(
        f"{acct.api_url}{d(acct)}/contacts/{quote(number, safe='')}",
        json={"note": "hypothesis"},
        headers=acct.headers,
        timeout=10,
    )
    assert r.status_code == 200, (number, r.text)
    assert r.json()["phone_number"] == a + e + line


def test_bad_writes_leave_a_fresh_account_readable(sandbox_server):
    """Its own account, so it holds whatever order the tests run in (or alone): after a
    batch of hostile writes every list still answers valid JSON."""
    account = make_account(sandbox_server, seed="demo", contacts=5, messages=10, dashboards=1)
    account.control.configure(api_key=account.api_key, rate_limit=1_000_000)
    headers = {**account.headers, "Content-Type": "application/json"}
    writes = []

    @FAST
    @given(write=st.sampled_from(WRITES), body=bodies)
    def hostile_write(write, body):
        method, path = write
        url = account.api_url + path.format(d=d(account))
        r = requests.request(method, url, data=json.dumps(body), headers=headers, timeout=10)
        assert r.status_code in (200, 400), (r.status_code, r.text, body)
        writes.append(r.status_code)

    hostile_write()
    assert len(writes) >= 50
    lists = [
        ("/dashboards", {"page": 0, "page_size": 100}),
        (d(account), {}),
        (d(account) + "/contacts", {"page": 0, "page_size": 100}),
        (d(account) + "/conversations", {"page": 0, "page_size": 100}),
        (d(account) + "/groups", {"page": 0, "page_size": 100}),
        (d(account) + "/payments", {"page": 0, "page_size": 100}),
        (d(account) + "/hooks", {}),
    ]
    for path, params in lists:
        r = account.get(path, **params)
        assert r.status_code == 200, (path, r.status_code, r.text)
        json.dumps(r.json())
