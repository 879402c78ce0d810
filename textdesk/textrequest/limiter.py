"""The shared rate limiter in front of every Text Request call.

Text Request allows a fixed number of calls (100) in any rolling window (60 s) per API key
("connection"); every call counts. The limiter keeps one log of granted calls per *bucket*
(the connection id) shared by every process that calls the API, and grants a call only while
fewer than ``limit`` calls were granted in the last ``window + headroom`` seconds. The headroom
(1 s by default) absorbs clock skew and the time between our grant and the request reaching the
service, so the provider's own rolling window never sees more than ``limit`` calls.

Two priorities share the window:

- ``interactive`` (an agent's action) may use the whole window;
- ``sync`` (background work) may take a call only while a reserve remains: at most
  ``limit - reserve`` calls in the window, the reserve being ``TEXTDESK_RATE_LIMIT_SYNC_RESERVE``
  (a fraction of the limit, default 0.10, at least one call). So even while a sync saturates its
  share, an agent finds free slots at once, and waits only if agents themselves use up the reserve.

A 429 from the service sets a shared cooldown for the bucket (from ``Retry-After``): no caller
is granted a call until it passes. 429s are counted per bucket; with a correct limiter there are
none.

Guarantees by backend (``get_limiter()`` chooses from Django settings):

- **Redis** (``REDIS_URL`` set): one atomic Lua script over a sorted set per bucket decides and
  records each grant, using the Redis server's clock, so the limit holds across every process on
  every machine that shares that Redis. If Redis cannot be reached, no call is granted (callers
  wait and then get ``LimiterBusy``): the limiter fails closed. Redis keeps the log in memory;
  after a Redis restart without persistence the last window's history is lost, and the first
  window afterwards may exceed the limit (the provider then answers 429, which sets the
  cooldown).
- **File** (no ``REDIS_URL``): a JSON file per bucket under ``TEXTDESK_STATE_DIR/ratelimit``,
  read and written under an exclusive ``fcntl.flock``, with the system-wide monotonic clock. The
  limit holds across every process on one machine (web server, Celery workers, management
  commands) but not across machines: run several hosts only with Redis.

The headroom covers latency jitter between our grant and the request's arrival of up to
``TEXTDESK_RATE_LIMIT_HEADROOM`` seconds; a request held up longer (say a retransmitted connect)
could in theory meet a full provider window, and the resulting 429 sets the cooldown. Calls the
provider refuses or that fail still count against our window: the error is on the safe side.

Why not the ``limits`` library: its moving window is exact but has no priorities, and checking a
sync share and the total as two separate limits is not atomic. The Redis backend therefore runs
one short Lua script (the approach ``limits`` itself uses for its moving window).

Neither backend makes calls wait in a fair queue: waiting callers poll in short steps, and a
``sync`` caller that would wait longer than its ``max_wait`` gets ``LimiterBusy`` so a Celery task
can re-schedule itself instead of holding a worker.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import random
import re
import threading
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

from .errors import LimiterBusy

logger = logging.getLogger(__name__)

PRIORITIES: tuple[str, ...] = ("interactive", "sync")

DEFAULT_SYNC_RESERVE = 0.10
DEFAULT_HEADROOM = 1.0
# Waiting callers re-check at most this often (plus jitter) so a freed slot is found promptly.
POLL_STEP = 0.25


class Limiter(Protocol):
    def try_acquire(self, bucket: str, limit: int, window: float, priority: str) -> float: ...

    def acquire(
        self, bucket: str, limit: int, window: float, priority: str, max_wait: float
    ) -> float: ...

    def cooldown(self, bucket: str, seconds: float) -> None: ...

    def usage(self, bucket: str, window: float) -> int: ...

    def count_429(self, bucket: str) -> None: ...

    def seen_429(self, bucket: str) -> int: ...

    def reset(self, bucket: str) -> None: ...


class BaseLimiter(ABC):
    """What both backends share: the priority rule and the waiting loop."""

    def __init__(
        self, *, sync_reserve: float = DEFAULT_SYNC_RESERVE, headroom: float = DEFAULT_HEADROOM
    ):
        if not 0 <= sync_reserve < 1:
            raise ValueError("sync_reserve is a fraction of the limit, from 0 up to (not incl.) 1")
        if headroom < 0:
            raise ValueError("headroom must not be negative")
        self.sync_reserve = sync_reserve
        self.headroom = headroom

    def allowance(self, limit: int, priority: str) -> int:
        """How many calls in the window a caller of this priority may see granted."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if priority == "interactive":
            return limit
        if priority == "sync":
            reserve = max(1, math.ceil(limit * self.sync_reserve)) if self.sync_reserve else 0
            return max(1, limit - reserve)
        raise ValueError(f"unknown priority {priority!r}; use one of {PRIORITIES}")

    def try_acquire(self, bucket: str, limit: int, window: float, priority: str) -> float:
        """Grant and record one call now (returns 0.0), or return the seconds until a slot of
        this priority may free up (nothing recorded)."""
        allowed = self.allowance(limit, priority)
        return self._try_acquire(str(bucket), allowed, window + self.headroom)

    def acquire(
        self, bucket: str, limit: int, window: float, priority: str, max_wait: float
    ) -> float:
        """Wait in short steps until a call is granted and return the seconds waited; raise
        ``LimiterBusy`` at once when the next slot is further away than what is left of
        ``max_wait``."""
        started = time.monotonic()
        while True:
            wait = self.try_acquire(bucket, limit, window, priority)
            waited = time.monotonic() - started
            if wait <= 0:
                return waited
            if waited + wait > max_wait:
                raise LimiterBusy(wait)
            time.sleep(min(wait, POLL_STEP) + random.uniform(0, 0.02))

    @abstractmethod
    def _try_acquire(self, bucket: str, allowed: int, span: float) -> float:
        """Grant and record one call if fewer than ``allowed`` were granted in the last
        ``span`` seconds (and no cooldown runs); else answer the seconds until a slot."""


# --- Redis ---------------------------------------------------------------------------------

# KEYS: calls (sorted set, score = grant time in µs), cooldown (string with a TTL)
# ARGV: allowed calls for this priority, span in µs, unique member suffix
# Returns 0 when granted, else the wait in µs.
_ACQUIRE_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cd = redis.call('PTTL', KEYS[2])
if cd > 0 then return cd * 1000 end
local allowed = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local count = redis.call('ZCARD', KEYS[1])
if count < allowed then
  redis.call('ZADD', KEYS[1], now, string.format('%d:%s', now, ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - allowed, count - allowed, 'WITHSCORES')
local wait = tonumber(oldest[2]) + span - now
if wait < 1000 then wait = 1000 end
return wait
"""

# Extend (never shorten) the cooldown. KEYS: cooldown; ARGV: milliseconds.
_COOLDOWN_LUA = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 0
"""

# Count calls granted within the last span. KEYS: calls; ARGV: span in µs.
_USAGE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZCOUNT', KEYS[1], string.format('(%d', now - tonumber(ARGV[1])), '+inf')
"""


class RedisLimiter(BaseLimiter):
    """Limiter shared through Redis; see the module docstring for its guarantees."""

    # How long to back off when Redis cannot be reached: fail closed, try again soon.
    UNAVAILABLE_WAIT = 0.5

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str = "textdesk:ratelimit",
        sync_reserve: float = DEFAULT_SYNC_RESERVE,
        headroom: float = DEFAULT_HEADROOM,
    ):
        import redis

        super().__init__(sync_reserve=sync_reserve, headroom=headroom)
        self._redis_errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self.redis = redis.Redis.from_url(
            redis_url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self.prefix = prefix
        self._acquire = self.redis.register_script(_ACQUIRE_LUA)
        self._cooldown = self.redis.register_script(_COOLDOWN_LUA)
        self._usage = self.redis.register_script(_USAGE_LUA)

    def _key(self, bucket: str, what: str) -> str:
        # The braces keep one bucket's keys in one Redis Cluster slot.
        return f"{self.prefix}:{{{bucket}}}:{what}"

    def _try_acquire(self, bucket: str, allowed: int, span: float) -> float:
        try:
            wait_us = self._acquire(
                keys=[self._key(bucket, "calls"), self._key(bucket, "cooldown")],
                args=[allowed, int(span * 1_000_000), uuid.uuid4().hex],
            )
        except self._redis_errors as exc:
            logger.warning("rate limiter: Redis unavailable (%s); not granting", type(exc).__name__)
            return self.UNAVAILABLE_WAIT
        return int(wait_us) / 1_000_000

    def cooldown(self, bucket: str, seconds: float) -> None:
        """Refuse every call for this bucket for ``seconds`` (extends, never shortens)."""
        ms = max(1, math.ceil(seconds * 1000))
        self._cooldown(keys=[self._key(str(bucket), "cooldown")], args=[ms])

    def usage(self, bucket: str, window: float) -> int:
        """Calls granted for this bucket within the last ``window`` seconds."""
        return int(
            self._usage(keys=[self._key(str(bucket), "calls")], args=[int(window * 1_000_000)])
        )

    def count_429(self, bucket: str) -> None:
        self.redis.incr(self._key(str(bucket), "seen_429"))

    def seen_429(self, bucket: str) -> int:
        return int(self.redis.get(self._key(str(bucket), "seen_429")) or 0)

    def reset(self, bucket: str) -> None:
        """Forget a bucket's calls, cooldown and 429 count (tests, a re-created connection)."""
        self.redis.delete(*(self._key(str(bucket), k) for k in ("calls", "cooldown", "seen_429")))


# --- File ----------------------------------------------------------------------------------


class FileLimiter(BaseLimiter):
    """Limiter shared through flock-guarded files on one machine; see the module docstring."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        sync_reserve: float = DEFAULT_SYNC_RESERVE,
        headroom: float = DEFAULT_HEADROOM,
    ):
        super().__init__(sync_reserve=sync_reserve, headroom=headroom)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, bucket: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", bucket)[:64]
        digest = hashlib.sha256(bucket.encode()).hexdigest()[:12]
        return self.directory / f"{safe}-{digest}.json"

    def _locked(self, bucket: str, update):
        """Run ``update(state, now)`` on the bucket's state under an exclusive lock; write the
        state back if ``update`` returns ``(result, True)``."""
        fd = os.open(self._path(bucket), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as fh:
                raw = fh.read()
                try:
                    state = json.loads(raw) if raw else {}
                except ValueError:
                    logger.warning("rate limiter: unreadable state for a bucket; starting afresh")
                    state = {}
                now = time.monotonic()
                # Entries from a previous boot (the monotonic clock restarted) are meaningless.
                state["calls"] = [t for t in state.get("calls", []) if t <= now]
                if state.get("cooldown_until", 0) > now + 86400:
                    state["cooldown_until"] = 0
                result, changed = update(state, now)
                if changed:
                    fh.seek(0)
                    fh.truncate()
                    json.dump(state, fh)
                    fh.flush()
            return result
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def _try_acquire(self, bucket: str, allowed: int, span: float) -> float:
        def update(state, now):
            cooldown_left = state.get("cooldown_until", 0) - now
            if cooldown_left > 0:
                return cooldown_left, False
            calls = [t for t in state["calls"] if t > now - span]
            state["calls"] = calls
            if len(calls) < allowed:
                calls.append(now)
                return 0.0, True
            calls.sort()
            return max(calls[len(calls) - allowed] + span - now, 0.001), True

        return self._locked(bucket, update)

    def cooldown(self, bucket: str, seconds: float) -> None:
        def update(state, now):
            state["cooldown_until"] = max(state.get("cooldown_until", 0), now + seconds)
            return None, True

        self._locked(str(bucket), update)

    def usage(self, bucket: str, window: float) -> int:
        return self._locked(
            str(bucket), lambda state, now: (sum(t > now - window for t in state["calls"]), False)
        )

    def count_429(self, bucket: str) -> None:
        def update(state, now):
            state["seen_429"] = state.get("seen_429", 0) + 1
            return None, True

        self._locked(str(bucket), update)

    def seen_429(self, bucket: str) -> int:
        return self._locked(str(bucket), lambda state, now: (state.get("seen_429", 0), False))

    def reset(self, bucket: str) -> None:
        """Forget a bucket's calls, cooldown and 429 count (tests, a re-created connection)."""
        self._locked(str(bucket), lambda state, now: (state.clear(), True))


# --- From settings -------------------------------------------------------------------------

_cache: dict[tuple, BaseLimiter] = {}
_cache_lock = threading.Lock()


def get_limiter() -> BaseLimiter:
    """The process's limiter, built from Django settings: ``REDIS_URL`` set → Redis, otherwise
    files under ``TEXTDESK_STATE_DIR`` (default ``BASE_DIR / "var"``). Also reads
    ``TEXTDESK_RATE_LIMIT_SYNC_RESERVE`` (default 0.10) and ``TEXTDESK_RATE_LIMIT_HEADROOM``
    (seconds, default 1.0). Cached per configuration, so overriding settings in tests works."""
    from django.conf import settings

    redis_url = getattr(settings, "REDIS_URL", None) or None
    reserve = float(getattr(settings, "TEXTDESK_RATE_LIMIT_SYNC_RESERVE", DEFAULT_SYNC_RESERVE))
    headroom = float(getattr(settings, "TEXTDESK_RATE_LIMIT_HEADROOM", DEFAULT_HEADROOM))
    if redis_url:
        key: tuple = ("redis", redis_url, reserve, headroom)
    else:
        state_dir = getattr(settings, "TEXTDESK_STATE_DIR", None)
        if state_dir is None:
            state_dir = Path(settings.BASE_DIR) / "var"
        key = ("file", str(Path(state_dir) / "ratelimit"), reserve, headroom)
    with _cache_lock:
        limiter = _cache.get(key)
        if limiter is None:
            if key[0] == "redis":
                limiter = RedisLimiter(redis_url, sync_reserve=reserve, headroom=headroom)
            else:
                limiter = FileLimiter(key[1], sync_reserve=reserve, headroom=headroom)
            _cache[key] = limiter
        return limiter
