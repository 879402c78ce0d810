"""GET /healthz: is every part this process depends on reachable?

Anyone may ask (a load balancer is anonymous), but only signed-in admins and the logs learn
which part is down: component names and error classes help an attacker map the house. The
answer is kept for a few seconds per process, so a load balancer polling every second (or
anyone hammering the URL) opens at most one database, broker and Redis connection per window.
"""

import logging
import threading
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

CACHE_SECONDS = 5.0

clock = time.monotonic  # a seam for tests
_lock = threading.Lock()
_last: tuple[float, dict, dict] | None = None  # (monotonic time, checked, failing)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    from textdesk.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_redis() -> None:
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()


def run_checks() -> tuple[list[str], dict[str, str]]:
    """Every check, now: the parts checked and, for each failing part, the error's class."""
    checks = {"database": check_database, "broker": check_broker}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    failing = {}
    for part, check in checks.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means the part is down
            failing[part] = exc.__class__.__name__
    if failing:
        logger.warning("healthz: failing %s", ", ".join(f"{k} ({v})" for k, v in failing.items()))
    return list(checks), failing


def cached_checks() -> tuple[list[str], dict[str, str]]:
    """The last answer of `run_checks` while younger than CACHE_SECONDS; one caller refreshes
    it while the others wait for that answer."""
    global _last
    with _lock:
        now = clock()
        if _last is None or now - _last[0] >= CACHE_SECONDS:
            checked, failing = run_checks()
            _last = (clock(), checked, failing)
        return _last[1], _last[2]


def forget() -> None:
    """Drop the kept answer (tests, and after a deploy changes what is checked)."""
    global _last
    with _lock:
        _last = None


@login_not_required
@never_cache
def healthz(request):
    checked, failing = cached_checks()
    status = 503 if failing else 200
    body = {"status": "failing" if failing else "ok"}
    if request.user.is_authenticated and request.user.has_perm("accounts.manage_lines"):
        body.update(checked=checked, failing=failing)
    return JsonResponse(body, status=status)
