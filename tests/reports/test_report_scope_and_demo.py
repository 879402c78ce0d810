"""Each Reports figure says whose it is (an agent's own figures are not the team's, so they
cannot seem to contradict the inbox), and the demo seed gives Reports true, non-empty
figures: replies within minutes of business hours, resolves, a backlog."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, seeded_account
from textdesk.reports import metrics, rollups
from textdesk.sync.engine import sync_lines

URL = reverse("reports:show")
pytestmark = pytest.mark.django_db


def test_an_agent_reads_their_own_figures_named_as_theirs(client, agent):
    client.force_login(agent)
    html = client.get(URL).content.decode()
    assert "your own figures" in html
    assert "Assigned to you, unresolved now" in html
    assert "Your first response" in html
    assert "whole team" not in html


def test_the_team_figures_say_they_are_the_teams(client, admin_user, agent):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert "the whole team" in html
    assert "Unresolved now, whole team" in html
    html = client.get(URL, {"agent": agent.pk}).content.decode()
    assert f"Assigned to {agent.display_name}, unresolved now" in html
    assert "whole team" not in html


def test_the_demo_gives_reports_true_figures(sandbox_server):
    from django.core.cache import cache

    cache.clear()
    account = seeded_account(sandbox_server, contacts=60, messages=600, dashboards=3)
    lines = lines_of(connect(account, rate_window=1))
    sync_lines(lines)
    rollups.rebuild(now=timezone.now() + timedelta(hours=1))
    today = timezone.localdate()
    report = metrics.build(lines=lines, agent=None, start=today - timedelta(days=89), end=today)
    f = report.total
    assert f.received > 0 and f.sent > 0 and f.new_conversations > 0
    assert f.replies > 20
    # Staff answer within minutes in business hours; nights and weekends and a few slow
    # days stretch the median (counted 24/7 by default) but not to days.
    assert f.reply_median is not None and 60 <= f.reply_median < 6 * 3600
    assert f.reply_p90 >= f.reply_median
    assert f.backlog > 0


def test_never_counted_reports_count_now_and_poll(client, agent, monkeypatch):
    from textdesk.reports import views

    asked = []
    monkeypatch.setattr(views.refresh_reports, "delay", lambda: asked.append(1))
    client.force_login(agent)
    html = client.get(URL).content.decode()
    assert asked == [1]  # not at beat's first tick, a minute later
    assert "counting now" in html
    assert 'hx-trigger="every 3s"' in html
    rollups.refresh()
    asked.clear()
    html = client.get(URL).content.decode()
    assert asked == []
    assert "counting now" not in html and 'hx-trigger="every 3s"' not in html


def test_reports_say_when_lines_are_still_syncing(client, admin_user):
    from tests.conftest import make_line

    make_line(name="Front Desk", first_synced=False)
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert "Syncing your lines…" in html
