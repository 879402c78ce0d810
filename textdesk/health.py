"""GET /healthz: is every part this process depends on reachable?"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


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


@login_not_required
@never_cache
def healthz(request):
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
        return JsonResponse({"status": "failing", "failing": failing}, status=503)
    return JsonResponse({"status": "ok", "checked": list(checks)})
