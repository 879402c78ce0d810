"""Reports: % within each target per line and agent, breaches per day, on the page, its
chart and the CSV; first and next responses told apart by the same clock as the inbox."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation
from textdesk.conversations.models import Message
from textdesk.dashboards.models import SlaPolicy
from textdesk.reports import rollups
from textdesk.reports.models import Reply


def talk(line, person, waits, *, name="Casey"):
    """Customer text, then `person` replies after each wait (seconds), in turn."""
    at = timezone.now() - timedelta(hours=3)
    conversation = make_conversation(line, first_name=name)
    for wait in waits:
        Message.objects.create(conversation=conversation, direction="R", sent_at=at)
        at += timedelta(seconds=wait)
        Message.objects.create(
            conversation=conversation,
            direction="S",
            sent_at=at,
            status="sent",
            sent_by=person,
            sender_name=person.display_name,
        )
        at += timedelta(minutes=1)
    return conversation


@pytest.fixture
def figures(db, line, other_line, agent, other_agent):
    cache.clear()
    SlaPolicy.objects.create(dashboard=line, first_response_minutes=5, next_response_minutes=10)
    talk(line, agent, [120, 900])  # first within 5 min; next missed 10 min
    talk(line, agent, [600], name="Robin")  # first missed
    talk(other_line, other_agent, [60], name="Olive's")  # a line with no targets
    rollups.refresh(now=timezone.now() + timedelta(hours=1))


def test_replies_know_first_from_next_response(figures, line):
    assert sorted(Reply.objects.filter(dashboard=line).values_list("is_first", "seconds")) == [
        (False, 900),
        (True, 120),
        (True, 600),
    ]


def test_page_shows_percent_within_targets_and_the_breach_chart(client, admin_user, figures):
    client.force_login(admin_user)
    html = client.get(reverse("reports:show")).content.decode()
    assert "Service-level targets" in html
    table = html.split('id="sla-table"')[1].split("</table>")[0]
    front_desk = table.split("Front desk")[1].split("</tr>")[0]
    assert "50%" in front_desk and "1 of 2" in front_desk  # first response
    assert "0%" in front_desk and "0 of 1" in front_desk  # next response
    assert "Billing line" not in table  # no targets: no row
    assert 'id="chart-sla"' in html


def test_csv_has_the_sla_columns(client, admin_user, figures, agent):
    client.force_login(admin_user)
    response = client.get(reverse("reports:export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    line = next(r for r in rows if r["table"] == "line" and r["row"] == "Front desk")
    assert line["first response within target (%)"] == "50.0"
    assert line["next response within target (%)"] == "0.0"
    assert line["resolution within target (%)"] == ""
    assert line["breaches"] == "2"
    person = next(r for r in rows if r["table"] == "agent" and r["row"] == agent.display_name)
    assert person["breaches"] == "2"
    other = next(r for r in rows if r["table"] == "line" and r["row"] == "Billing line")
    assert other["breaches"] == ""
    assert sum(int(r["breaches"] or 0) for r in rows if r["table"] == "day") == 2


def test_an_agent_sees_only_their_own_figures(client, agent, figures):
    client.force_login(agent)
    html = client.get(reverse("reports:show")).content.decode()
    assert "Billing line" not in html.split('id="sla-table"')[1].split("</table>")[0]
