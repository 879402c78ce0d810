"""The refresh task sums the first views' histograms, so nobody's first look after a refresh
waits for them (issue 23: the first view after each refresh was the slowest)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations.models import Message
from textdesk.reports import metrics
from textdesk.reports.tasks import refresh_reports

URL = reverse("reports:show")


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def answered(db, line, other_line, agent, other_agent):
    """One text answered on each line, long enough ago to be settled for the refresh."""
    when = timezone.now() - timedelta(hours=2)
    for dashboard, person in ((line, agent), (other_line, other_agent)):
        c = make_conversation(dashboard, first_name="Casey")
        Message.objects.create(conversation=c, direction="R", sent_at=when, status="received")
        Message.objects.create(
            conversation=c,
            direction="S",
            sent_at=when + timedelta(minutes=2),
            status="sent",
            sent_by=person,
            sender_name=person.display_name,
        )
    for message in Message.objects.all():
        Message.objects.filter(pk=message.pk).update(created_at=when)


def _histogram_sums(client, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params or {})
    assert response.status_code == 200
    return sum("json_each" in q["sql"] or "jsonb_each" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("period", ["today", "7", "30"])
def test_admin_first_view_after_the_refresh_task_sums_nothing(client, admin_user, answered, period):
    refresh_reports()
    client.force_login(admin_user)
    assert _histogram_sums(client, {"period": period}) == 0
    report = client.get(URL, {"period": period}).context["report"]
    assert report.total.replies == 2  # warmed figures are the real ones


def test_agent_first_view_of_own_figures_sums_nothing(client, agent, answered):
    refresh_reports()
    client.force_login(agent)
    assert _histogram_sums(client) == 0
    assert client.get(URL).context["report"].total.reply_median == pytest.approx(120, rel=0.025)


def test_a_view_the_refresh_did_not_warm_sums_then_caches(client, admin_user, line, answered):
    refresh_reports()
    client.force_login(admin_user)
    assert _histogram_sums(client, {"line": line.pk}) == 2  # per line and per agent
    assert _histogram_sums(client, {"line": line.pk}) == 0  # then cached


def test_warm_without_rollups_does_nothing(db):
    assert metrics.warm_spans() == 0


def test_each_scope_keeps_one_cache_entry_across_refreshes(
    client, admin_user, answered, monkeypatch
):
    """A refresh replaces a scope's sums under the same key: entries do not pile up per
    refresh (the file cache culls a random third of its files past 300, warmed ones too)."""
    written = []
    real_set = metrics.cache.set

    def set_(key, value, timeout=None):
        written.append(key)
        return real_set(key, value, timeout)

    monkeypatch.setattr(metrics.cache, "set", set_)
    refresh_reports()
    first = set(written)
    assert first
    for _ in range(3):
        refresh_reports()
    assert set(written) == first
    client.force_login(admin_user)
    assert _histogram_sums(client) == 0  # the newest refresh's sums, not a stale entry
