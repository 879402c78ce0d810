"""Breach alerts: once per conversation, target, stage and episode; to the assignee or the
line's agents; listed only for lines the person may see."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from textdesk.conversations import sla_alerts
from textdesk.conversations.models import Conversation, Notification, SlaAlert


def clock(conversation, *, due, target="first", started=None):
    """Set a reply clock as sla.py keeps it (the arithmetic is tested elsewhere)."""
    started = started or due - timedelta(minutes=15)
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_due_at=due,
        sla_target=target,
        sla_reply_due_at=due,
        sla_reply_target=target,
        sla_reply_from=started,
    )


@pytest.fixture
def now():
    return timezone.now()


def test_running_the_task_twice_makes_one_alert(line, agent, now):
    conversation = make_conversation(line)
    clock(conversation, due=now - timedelta(minutes=1))
    assert sla_alerts.raise_alerts(now=now) == 1
    assert sla_alerts.raise_alerts(now=now) == 0
    assert sla_alerts.raise_alerts(now=now + timedelta(minutes=1)) == 0
    assert SlaAlert.objects.get().stage == "breached"
    assert Notification.objects.filter(user=agent).count() == 1


def test_due_soon_then_breached_each_once(line, agent, now):
    conversation = make_conversation(line, assigned_to=agent)
    due = now + timedelta(minutes=5)
    clock(conversation, due=due)
    assert sla_alerts.raise_alerts(now=now) == 1  # due soon (within 10 minutes)
    assert sla_alerts.raise_alerts(now=due + timedelta(seconds=1)) == 1  # breached
    assert sla_alerts.raise_alerts(now=due + timedelta(minutes=2)) == 0
    assert sorted(SlaAlert.objects.values_list("stage", flat=True)) == ["breached", "soon"]


def test_a_new_wait_is_a_new_episode(line, agent, now):
    conversation = make_conversation(line)
    clock(conversation, due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    # Replied, then the customer wrote again: the next response clock runs out too.
    clock(conversation, due=now + timedelta(minutes=20), target="next")
    later = now + timedelta(minutes=21)
    assert sla_alerts.raise_alerts(now=later) == 1
    assert SlaAlert.objects.count() == 2


def test_old_breaches_alert_nobody(line, agent, now):
    """A policy set on a line of old waits: the list shows them Breached, no storm."""
    for i in range(5):
        clock(make_conversation(line, first_name=f"Old {i}"), due=now - timedelta(days=3))
    assert sla_alerts.raise_alerts(now=now) == 0


def test_resolved_conversations_alert_nobody(line, agent, now):
    conversation = make_conversation(line, is_resolved=True)
    clock(conversation, due=now - timedelta(minutes=1))
    assert sla_alerts.raise_alerts(now=now) == 0


def test_the_assignee_is_told_else_the_lines_agents(line, agent, now):
    colleague = make_user("colleague", "Agent", lines=[line])
    make_user("elsewhere", "Agent")
    mine = make_conversation(line, first_name="Mine", assigned_to=agent)
    nobodys = make_conversation(line, first_name="Nobody's")
    clock(mine, due=now - timedelta(minutes=1))
    clock(nobodys, due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    told = sorted(
        (n.alert.conversation.contact.first_name, n.user.username)
        for n in Notification.objects.select_related("alert__conversation__contact", "user")
    )
    assert told == [
        ("Mine", agent.username),
        ("Nobody's", "colleague"),
        ("Nobody's", agent.username),
    ]
    assert colleague.notifications.count() == 1


def test_an_agent_sees_only_their_lines_alerts(client, line, other_line, agent, now):
    theirs = make_conversation(line, first_name="Theirs")
    foreign = make_conversation(other_line, first_name="Foreign")
    clock(theirs, due=now - timedelta(minutes=1))
    clock(foreign, due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    # Even a notification row on a line they lost is not shown.
    alert = SlaAlert.objects.get(conversation=foreign)
    Notification.objects.create(user=agent, alert=alert)
    client.force_login(agent)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert "Theirs" in page and "Foreign" not in page
    assert sla_alerts.unread_count(agent) == 1
    inbox = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert 'hx-get="/inbox/notifications/badge/"' in inbox  # each page fetches the count once
    badge = client.get(reverse("conversations:notification_badge")).content.decode()
    assert 'data-unread="1"' in badge and ">1</span>" in badge


def test_mark_all_read_clears_the_count(client, line, agent, now):
    clock(make_conversation(line), due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    client.force_login(agent)
    response = client.post(reverse("conversations:notifications_read"))
    assert response.status_code == 302
    assert sla_alerts.unread_count(agent) == 0


def test_admins_see_the_daily_breach_count_agents_do_not(client, line, agent, admin_user, now):
    clock(make_conversation(line), due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    client.force_login(admin_user)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert "Breaches per day" in page and "Front desk: 1" in page
    client.force_login(agent)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert "Breaches per day" not in page


def test_the_live_poll_carries_the_count(client, line, agent, now):
    conversation = make_conversation(line)
    client.force_login(agent)
    page = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    live_url = page.split('id="live" class="live" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert client.get(live_url, HTTP_HX_REQUEST="true").status_code == 204
    clock(conversation, due=now - timedelta(minutes=1))
    sla_alerts.raise_alerts(now=now)
    response = client.get(live_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="notification-badge"' in response.content.decode()
    assert 'data-unread="1"' in response.content.decode()
