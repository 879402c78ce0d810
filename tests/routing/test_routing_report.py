"""Reports: the assignment distribution (per agent, automatic and by hand, time to
assignment) on the page, in its chart and in the CSV, scoped like the rest."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from textdesk.conversations.models import Assignment

URL = reverse("reports:show")
CSV = reverse("reports:export")

pytestmark = pytest.mark.django_db


def given(line, person, *, waited=None, by=None, hours_ago=1):
    at = timezone.now() - timedelta(hours=hours_ago)
    return Assignment.objects.create(
        conversation=make_conversation(line),
        dashboard=line,
        assignee=person,
        assigned_by=by,
        rule=Assignment.Rule.MANUAL if by else Assignment.Rule.ROUND_ROBIN,
        queued_at=at - timedelta(seconds=waited) if waited is not None else None,
        assigned_at=at,
    )


@pytest.fixture
def team(line, other_line, admin_user):
    ann = make_user("ann", "Agent", lines=[line])
    bob = make_user("bob", "Agent", lines=[line, other_line])
    given(line, ann, waited=10)
    given(line, ann, waited=50)
    given(line, ann, by=admin_user)
    given(line, bob, waited=30)
    given(other_line, bob, waited=600)
    given(line, bob, waited=5, hours_ago=24 * 40)  # before the period
    return ann, bob


def test_the_page_shows_assignments_per_agent_with_a_chart(client, admin_user, team):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    table = html[html.index('id="assignments-table"') :]
    table = table[: table.index("</table>")]
    ann_row = table[table.index(">Ann<") :]
    assert [cell for cell in ("3", "2", "1", "30s · 50s") if f">{cell}<" in ann_row[:400]] == [
        "3",
        "2",
        "1",
        "30s · 50s",
    ]
    assert 'id="chart-assignments"' in html


def test_the_csv_has_a_row_per_agent(client, admin_user, team):
    client.force_login(admin_user)
    rows = list(csv.reader(io.StringIO(b"".join(client.get(CSV).streaming_content).decode())))
    header = rows[0]
    at = header.index("assigned automatically")
    assert header[at : at + 4] == [
        "assigned automatically",
        "assigned by a person",
        "time to assignment mean (s)",
        "time to assignment longest (s)",
    ]
    found = {row[1]: row[at : at + 4] for row in rows if row[0] == "assignment"}
    assert found == {"Ann": ["2", "1", "30", "50"], "Bob": ["2", "0", "315", "600"]}
    assert all(len(row) == len(header) for row in rows)


def test_a_line_filter_narrows_it(client, admin_user, team, other_line):
    client.force_login(admin_user)
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get(CSV, {"line": other_line.pk}).streaming_content).decode()
            )
        )
    )
    at = rows[0].index("assigned automatically")
    assert {row[1]: row[at : at + 4] for row in rows if row[0] == "assignment"} == {
        "Bob": ["1", "0", "600", "600"]
    }


def test_an_agent_sees_only_their_own(client, team):
    ann, _ = team
    client.force_login(ann)
    html = client.get(URL).content.decode()
    table = html[html.index('id="assignments-table"') :]
    assert ">Ann<" in table[: table.index("</table>")]
    assert ">Bob<" not in table[: table.index("</table>")]


def test_nothing_assigned_says_so(client, admin_user, line):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert "No conversations were assigned in this period" in html
    assert 'id="chart-assignments"' not in html
