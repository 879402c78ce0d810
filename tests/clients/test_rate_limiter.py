"""The shared rate limiter: both backends, priorities, cooldown, and several OS processes
calling the sandbox through it without one 429."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
from django.conf import settings as django_settings

from standins.textrequest.pytest_fixtures import sandbox_account, sandbox_server  # noqa: F401
from textdesk.textrequest import (
    FileLimiter,
    LimiterBusy,
    RedisLimiter,
    TextRequestClient,
    get_limiter,
)


def make_limiter(spec: tuple[str, str], **options) -> FileLimiter | RedisLimiter:
    kind, where = spec
    if kind == "redis":
        return RedisLimiter(where, prefix="textdesk-test:ratelimit", **options)
    return FileLimiter(where, **options)


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request, tmp_path) -> tuple[str, str]:
    """A limiter backend as a picklable (kind, location) pair, so child processes can build it."""
    if request.param == "redis":
        # Marked redis: conftest skips (or, under TEXTDESK_REQUIRE_SERVICES=1, fails) the test
        # when REDIS_URL is not configured.
        return ("redis", django_settings.REDIS_URL)
    return ("file", str(tmp_path / "ratelimit"))


@pytest.fixture
def bucket() -> str:
    """A fresh bucket per test, so tests sharing one Redis never see each other's calls."""
    return f"conn-{uuid.uuid4().hex[:12]}"


def grants(limiter, bucket, limit, window, priority, attempts) -> int:
    return sum(limiter.try_acquire(bucket, limit, window, priority) == 0 for _ in range(attempts))


def test_exactly_limit_grants_per_window(backend, bucket):
    limiter = make_limiter(backend, headroom=0.0)

    assert grants(limiter, bucket, 10, 1.0, "interactive", 15) == 10
    wait = limiter.try_acquire(bucket, 10, 1.0, "interactive")
    assert 0 < wait <= 1.0
    assert limiter.usage(bucket, 1.0) == 10

    time.sleep(wait + 0.05)
    assert grants(limiter, bucket, 10, 1.0, "interactive", 15) == 10


def test_headroom_lengthens_the_window(backend, bucket):
    limiter = make_limiter(backend, headroom=0.5)

    assert grants(limiter, bucket, 3, 0.5, "interactive", 3) == 3
    time.sleep(0.6)  # past the provider's window, not past window + headroom
    wait = limiter.try_acquire(bucket, 3, 0.5, "interactive")
    assert 0 < wait <= 0.45


def test_buckets_are_independent(backend, bucket):
    limiter = make_limiter(backend)

    assert grants(limiter, bucket, 2, 5.0, "interactive", 3) == 2
    assert grants(limiter, bucket + "-other", 2, 5.0, "interactive", 3) == 2


def test_sync_leaves_the_reserve_to_interactive(backend, bucket):
    limiter = make_limiter(backend, sync_reserve=0.2)

    assert grants(limiter, bucket, 10, 5.0, "sync", 20) == 8
    assert limiter.try_acquire(bucket, 10, 5.0, "sync") > 0
    assert grants(limiter, bucket, 10, 5.0, "interactive", 5) == 2
    assert limiter.usage(bucket, 5.0) == 10


def test_reserve_is_at_least_one_call(backend, bucket):
    limiter = make_limiter(backend, sync_reserve=0.1)

    assert grants(limiter, bucket, 5, 5.0, "sync", 10) == 4


def test_interactive_gets_through_while_sync_saturates(backend, bucket):
    limiter = make_limiter(backend, headroom=0.0)
    for _ in range(9):  # sync has taken all it may (reserve 10% of 10 → 1)
        limiter.acquire(bucket, 10, 2.0, "sync", max_wait=0.0)
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire(bucket, 10, 2.0, "sync", max_wait=0.1)
    assert 0 < busy.value.retry_in <= 2.0

    started = time.monotonic()
    limiter.acquire(bucket, 10, 2.0, "interactive", max_wait=3.0)
    assert time.monotonic() - started < 0.1


def test_acquire_waits_for_a_slot_within_max_wait(backend, bucket):
    limiter = make_limiter(backend, headroom=0.0)
    assert grants(limiter, bucket, 2, 0.5, "interactive", 2) == 2

    waited = limiter.acquire(bucket, 2, 0.5, "interactive", max_wait=2.0)
    assert 0.3 < waited < 1.0


def test_acquire_refuses_at_once_when_the_wait_is_too_long(backend, bucket):
    limiter = make_limiter(backend, headroom=0.0)
    assert grants(limiter, bucket, 2, 10.0, "interactive", 2) == 2

    started = time.monotonic()
    with pytest.raises(LimiterBusy) as busy:
        limiter.acquire(bucket, 2, 10.0, "interactive", max_wait=1.0)
    assert time.monotonic() - started < 0.2
    assert 9.0 < busy.value.retry_in <= 10.0
    assert busy.value.transient and busy.value.safe_to_retry


def test_cooldown_is_honoured_by_every_priority(backend, bucket):
    limiter = make_limiter(backend)
    limiter.cooldown(bucket, 0.5)

    for priority in ("interactive", "sync"):
        wait = limiter.try_acquire(bucket, 100, 60.0, priority)
        assert 0.3 < wait <= 0.5
    assert limiter.usage(bucket, 60.0) == 0

    limiter.cooldown(bucket, 0.1)  # a shorter cooldown never shortens the current one
    assert limiter.try_acquire(bucket, 100, 60.0, "interactive") > 0.2

    time.sleep(0.55)
    assert limiter.try_acquire(bucket, 100, 60.0, "interactive") == 0


def test_cooldown_is_shared_between_limiter_instances(backend, bucket):
    first, second = make_limiter(backend), make_limiter(backend)
    first.cooldown(bucket, 1.0)
    assert second.try_acquire(bucket, 100, 60.0, "interactive") > 0.5


def test_429s_are_counted_per_bucket(backend, bucket):
    limiter = make_limiter(backend)
    assert limiter.seen_429(bucket) == 0
    limiter.count_429(bucket)
    limiter.count_429(bucket)
    assert limiter.seen_429(bucket) == 2
    assert limiter.seen_429(bucket + "-other") == 0


def test_reset_forgets_calls_cooldown_and_429s(backend, bucket):
    limiter = make_limiter(backend)
    assert grants(limiter, bucket, 2, 60.0, "interactive", 2) == 2
    limiter.cooldown(bucket, 60.0)
    limiter.count_429(bucket)

    limiter.reset(bucket)
    assert limiter.usage(bucket, 60.0) == 0 and limiter.seen_429(bucket) == 0
    assert limiter.try_acquire(bucket, 2, 60.0, "interactive") == 0


def test_unknown_priority_is_refused(backend, bucket):
    with pytest.raises(ValueError):
        make_limiter(backend).try_acquire(bucket, 10, 1.0, "urgent")


def test_get_limiter_follows_settings(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.TEXTDESK_STATE_DIR = tmp_path
    settings.TEXTDESK_RATE_LIMIT_SYNC_RESERVE = 0.25
    limiter = get_limiter()
    assert isinstance(limiter, FileLimiter)
    assert limiter.directory == tmp_path / "ratelimit"
    assert limiter.sync_reserve == 0.25
    assert get_limiter() is limiter


@pytest.mark.redis
def test_get_limiter_uses_redis_when_configured():
    assert isinstance(get_limiter(), RedisLimiter)


def test_redis_down_fails_closed(bucket):
    # Nothing listens on port 1: no call is granted, and the caller learns it quickly.
    limiter = RedisLimiter("redis://127.0.0.1:1/0")
    assert limiter.try_acquire(bucket, 100, 60.0, "interactive") > 0
    with pytest.raises(LimiterBusy):
        limiter.acquire(bucket, 100, 60.0, "interactive", max_wait=0.3)


# --- Several OS processes against the sandbox ------------------------------------------------

LIMIT, WINDOW, HEADROOM, RUN_FOR = 20, 3.0, 0.3, 4.5


def _worker(spec, api_url, api_key, bucket, priority, barrier, results) -> None:
    """Runs in a child process: once every process is up, call the sandbox through the shared
    limiter for RUN_FOR seconds and report how many calls were made."""
    limiter = make_limiter(spec, headroom=HEADROOM)
    client = TextRequestClient(
        api_url,
        api_key,
        bucket=bucket,
        limit=LIMIT,
        window=WINDOW,
        limiter=limiter,
        priority=priority,
        max_wait=0.5,
    )
    barrier.wait(timeout=30)
    deadline = time.monotonic() + RUN_FOR
    made = 0
    while time.monotonic() < deadline:
        try:
            client.get_dashboards(page_size=1)
            made += 1
        except LimiterBusy as exc:  # what a Celery task would re-schedule on
            time.sleep(min(exc.retry_in, max(0.0, deadline - time.monotonic())))
    results.put(made)


@pytest.mark.slow
def test_processes_sharing_the_limiter_never_get_a_429(backend, sandbox_account):  # noqa: F811
    control, key = sandbox_account.control, sandbox_account.api_key
    control.configure(api_key=key, rate_limit=LIMIT, rate_window=WINDOW)  # this account only
    bucket = f"mp-{uuid.uuid4().hex[:12]}"
    context = multiprocessing.get_context("spawn")
    priorities = ("sync", "sync", "sync", "interactive")
    barrier, results = context.Barrier(len(priorities)), context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(backend, sandbox_account.api_url, key, bucket, priority, barrier, results),
        )
        for priority in priorities
    ]
    for process in processes:
        process.start()
    made_per_process = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=10)

    made = sum(made_per_process)
    assert control.counters(key)["rate_limited"] == 0
    assert control.counters(key)["calls_total"] == made
    # Bursts of LIMIT calls every WINDOW + HEADROOM seconds: at 0 s and at 3.3 s.
    best = LIMIT * (int(RUN_FOR // (WINDOW + HEADROOM)) + 1)
    assert best - 2 <= made <= best
    assert all(n > 0 for n in made_per_process)
