"""Helpers shared by the sync, webhook, outbox and fault tests (imported, not a conftest)."""

from __future__ import annotations

import time

import pytest

from standins.textrequest.pytest_fixtures import make_account
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.dashboards.sync import sync_dashboards
from textdesk.textrequest.limiter import FileLimiter, RedisLimiter, get_limiter


def reset_all_limiters() -> None:
    """Forget every bucket's calls, cooldowns and 429 counts."""
    limiter = get_limiter()
    if isinstance(limiter, RedisLimiter):
        for key in limiter.redis.scan_iter(f"{limiter.prefix}:*"):
            limiter.redis.delete(key)
    elif isinstance(limiter, FileLimiter):
        for path in limiter.directory.glob("*.json"):
            path.unlink(missing_ok=True)


def reset_limiter(bucket: str) -> None:
    """Forget a bucket's calls, cooldown and 429 count (pks repeat between tests)."""
    limiter = get_limiter()
    if isinstance(limiter, RedisLimiter):
        for key in limiter.redis.scan_iter(f"{limiter.prefix}:{{{bucket}}}:*"):
            limiter.redis.delete(key)
    elif isinstance(limiter, FileLimiter):
        limiter._path(bucket).unlink(missing_ok=True)


def connect(account, *, name="Sandbox", rate_limit=100, rate_window=2) -> Connection:
    """A connection to a sandbox account, with its lines read (no webhooks). The account's
    window is shortened to ``rate_window`` seconds on both sides, so tests stay quick; calls
    and 429s do not depend on it."""
    account.control.configure(
        api_key=account.api_key, rate_limit=rate_limit, rate_window=rate_window
    )
    connection = Connection(
        name=name, api_url=account.api_url, rate_limit=rate_limit, rate_window=rate_window
    )
    connection.set_api_key(account.api_key)
    connection.save()
    reset_limiter(connection.bucket)
    sync_dashboards(connection)
    return connection


def lines_of(connection) -> list[Dashboard]:
    return list(Dashboard.objects.active().filter(connection=connection).order_by("dashboard_id"))


def seeded_account(sandbox_server, **sizes):
    return make_account(sandbox_server, seed="demo", **sizes)


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"condition not met within {timeout} s")


def calls(account) -> dict:
    return account.control.counters(account.api_key)["calls"]


@pytest.fixture(name="staff")
def staff_fixture(db):
    """Someone acting in the inbox (roles do not matter to services; views check them)."""
    from tests.conftest import make_user

    return make_user("sam", None)
