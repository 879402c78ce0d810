"""The exact limit: 100 calls per rolling window per key, 429 + Retry-After, refusals are free."""

import time

import pytest
import requests

from standins.textrequest.pytest_fixtures import make_account

WINDOW = 2.0


@pytest.fixture
def limited(sandbox_server):
    """A new account whose window is 2 s instead of 60 s (the count stays at the real 100)."""
    acct = make_account(sandbox_server)
    acct.control.configure(api_key=acct.api_key, rate_limit=100, rate_window=WINDOW)
    return acct


def burst(acct, n, session=None):
    session = session or requests.Session()
    codes = []
    for _ in range(n):
        r = session.get(
            f"{acct.api_url}/dashboards/{acct.dashboard_id}/tags",
            params={"page": 0, "page_size": 10},
            headers=acct.headers,
            timeout=5,
        )
        codes.append(r.status_code)
        last = r
    return codes, last


def test_exactly_100_calls_pass_and_the_101st_gets_429_with_retry_after(limited):
    started = time.monotonic()
    codes, _ = burst(limited, 100)
    assert codes == [200] * 100
    _, refused = burst(limited, 1)
    assert refused.status_code == 429
    assert refused.json()["message"]
    retry_after = int(refused.headers["Retry-After"])
    elapsed = time.monotonic() - started
    assert 1 <= retry_after <= WINDOW
    assert retry_after >= int(WINDOW - elapsed)
    assert limited.control.counters(limited.api_key)["rate_limited"] == 1


def test_refused_calls_do_not_consume_the_budget(limited):
    assert burst(limited, 100)[0] == [200] * 100
    assert burst(limited, 25)[0] == [429] * 25
    time.sleep(WINDOW + 0.1)
    codes, _ = burst(limited, 101)
    assert codes == [200] * 100 + [429]


def test_the_window_rolls(limited):
    assert burst(limited, 50)[0] == [200] * 50
    time.sleep(WINDOW / 2)
    assert burst(limited, 50)[0] == [200] * 50
    assert burst(limited, 1)[0] == [429]
    time.sleep(WINDOW / 2 + 0.15)  # the first 50 have left the window, the last 50 have not
    codes, _ = burst(limited, 51)
    assert codes == [200] * 50 + [429]


def test_keys_are_independent(limited, sandbox_server):
    other = make_account(sandbox_server)
    other.control.configure(api_key=other.api_key, rate_window=WINDOW)
    assert burst(limited, 101)[0][-1] == 429
    assert burst(other, 100)[0] == [200] * 100
    assert burst(limited, 1)[0] == [429]


def test_every_operation_counts_writes_and_hooks_included(limited):
    d = f"/dashboards/{limited.dashboard_id}"
    for _ in range(25):
        assert limited.post(d + "/groups", json={"name": "g"}).status_code == 200
        assert limited.get(d + "/hooks").status_code == 200
        assert limited.get("/dashboards/provisioning", area_code="423").status_code == 200
        assert limited.get(d + "/fields").status_code == 200
    assert limited.get(d + "/hooks").status_code == 429
    counters = limited.control.counters(limited.api_key)
    assert counters["calls"]["CreateGroup"] == 25 and counters["calls"]["GetHooks"] == 26
    assert counters["calls_total"] == 101 and counters["rate_limited"] == 1


def test_the_control_api_is_never_limited(limited):
    assert burst(limited, 101)[0][-1] == 429
    for _ in range(120):
        limited.control.counters(limited.api_key)


def test_unknown_keys_are_401_and_not_counted(limited):
    r = requests.get(f"{limited.api_url}/dashboards", params={"page": 0, "page_size": 5}, timeout=5)
    assert r.status_code == 401 and "x-api-key" in r.json()["message"]
    assert burst(limited, 100)[0] == [200] * 100


def test_a_standalone_server_takes_limit_options():
    from standins.textrequest.testing import SandboxServer

    with SandboxServer(rate_limit=3, rate_window=30) as server:
        key, dashboards = server.control.new_account()
        codes = [
            requests.get(
                f"{server.api_url}/dashboards",
                params={"page": 0, "page_size": 5},
                headers={"x-api-key": key},
                timeout=5,
            )
            for _ in range(4)
        ]
        assert [r.status_code for r in codes] == [200, 200, 200, 429]
        assert 29 <= int(codes[-1].headers["Retry-After"]) <= 30
