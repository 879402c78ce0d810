"""Shared fixtures: a few named people, small make_* helpers, the sandbox, service checks."""

import os
import uuid

import pytest
from django.contrib.auth.models import Group

# The ASMS sandbox, started once per test session; a fresh tenant per test.
from standins.asms.pytest_fixtures import asms_server, asms_tenant  # noqa: F401

# The Text Request sandbox, started once per test session on a free port.
from standins.textrequest.pytest_fixtures import sandbox_account, sandbox_server  # noqa: F401
from textdesk.accounts.models import User
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Connection, Dashboard

REQUIRE_SERVICES = os.environ.get("TEXTDESK_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _missing_services(item) -> list[str]:
    from django.conf import settings

    have = {
        "postgres": settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "redis": bool(settings.REDIS_URL),
        "browser": os.path.exists(CHROMIUM),
    }
    return [name for name, ok in have.items() if item.get_closest_marker(name) and not ok]


def pytest_runtest_setup(item):
    """Tests marked postgres/redis/browser run whenever the service (or Chromium) is there.

    Without it they are skipped, except under TEXTDESK_REQUIRE_SERVICES=1 (CI), where a
    missing service is a failure, never a silent skip.
    """
    missing = _missing_services(item)
    if missing and REQUIRE_SERVICES:
        pytest.fail(
            f"{', '.join(missing)} required (TEXTDESK_REQUIRE_SERVICES=1) but not configured"
        )
    if missing:
        pytest.skip(f"{', '.join(missing)} not configured")


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tasks run inline unless a test starts a real worker (then it turns this off)."""
    from textdesk.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _no_quiet_hours_by_default(request):
    """Lines made by tests let texts leave at any hour (00:00–00:00), so a test of something
    else passes whatever the hour it runs at; a test of quiet hours (``quiet_hours`` marker,
    tests/quiet/) sets the line's window itself."""
    if request.node.get_closest_marker("quiet_hours"):
        yield
        return
    from datetime import time

    from django.db.models.signals import pre_save

    def open_all_day(sender, instance, **kwargs):
        if instance._state.adding:
            instance.quiet_start = instance.quiet_end = time(0)

    pre_save.connect(open_all_day, sender=Dashboard, dispatch_uid="tests-open-all-day")
    yield
    pre_save.disconnect(sender=Dashboard, dispatch_uid="tests-open-all-day")


def make_user(username: str, role: str | None, *, lines=(), **extra) -> User:
    user = User.objects.create_user(
        username=username, password="correct horse battery", first_name=username.title(), **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if lines:
        user.dashboards.set(lines)
    return user


def make_connection(*, api_url="http://127.0.0.1:9/api/v3", api_key="tr_test_key", **extra):
    connection = Connection(name=extra.pop("name", "Test account"), api_url=api_url, **extra)
    connection.set_api_key(api_key)
    connection.save()
    return connection


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with no calls counted. Buckets are named by the connection's primary
    key, which repeats between tests, so an earlier test's calls (a demo's first sync, made
    by `demo_setup`) would otherwise make a later test's connection wait for a slot."""
    from tests.textrequest_helpers import reset_all_limiters

    reset_all_limiters()


_dashboard_ids = iter(range(1000, 10**9))


def make_line(
    connection=None, *, name="Front desk", phone=None, first_synced=True, **extra
) -> Dashboard:
    """A line whose lists were read once (``first_synced``), as the tests' rows assume; with
    ``first_synced=False`` a line never synced yet (its pages say "Syncing your lines…")."""
    from django.utils import timezone

    from textdesk.dashboards.models import SyncState

    dashboard_id = next(_dashboard_ids)
    line = Dashboard.objects.create(
        connection=connection or make_connection(),
        dashboard_id=extra.pop("dashboard_id", dashboard_id),
        name=name,
        phone=phone or f"423555{dashboard_id % 10000:04d}",
        **extra,
    )
    if first_synced:
        now = timezone.now()
        for resource in (SyncState.Resource.CONVERSATIONS, SyncState.Resource.PAYMENTS):
            SyncState.objects.create(
                dashboard=line, resource=resource, last_success_at=now, last_full_at=now
            )
    return line


def make_conversation(line: Dashboard, *, phone=None, first_name="Casey", **extra) -> Conversation:
    from django.utils import timezone

    contact = Contact.objects.create(
        dashboard=line,
        phone_number=phone or f"615{uuid.uuid4().int % 10**7:07d}",
        first_name=first_name,
    )
    extra.setdefault("last_message_at", timezone.now())
    return Conversation.objects.create(dashboard=line, contact=contact, **extra)


@pytest.fixture
def line(db):
    return make_line(name="Front desk")


@pytest.fixture
def other_line(db, line):
    return make_line(line.connection, name="Billing line")


@pytest.fixture
def admin_user(db):
    return make_user("avery", "Admin")


@pytest.fixture
def agent(db, line):
    return make_user("sam", "Agent", lines=[line])


@pytest.fixture
def other_agent(db, other_line):
    """An agent of another line: must never see `line`'s data."""
    return make_user("olive", "Agent", lines=[other_line])


@pytest.fixture
def finance_user(db):
    return make_user("fran", "Finance")


@pytest.fixture
def live_server(transactional_db):
    """pytest-django's live server, but one per test instead of one per session.

    When the test ends the server stops, so nothing the stand-ins still send (a late webhook, a
    status callback, a retry) can reach the database while the next test runs.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost")
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item, so a fixture's teardown knows the test failed
    (the browser fixture keeps the failed page)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
