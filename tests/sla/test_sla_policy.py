"""The SLA policy form: bad targets get a clear form error, never a 500; saving is audited and
recounts the line."""

import pytest
from django.urls import reverse

from tests.conftest import make_conversation
from textdesk.audit.models import Entry
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import BusinessHours, SlaPolicy


def post(client, line, **data):
    fields = {"first_response_minutes": "", "next_response_minutes": "", "resolution_minutes": ""}
    return client.post(reverse("dashboards:sla", args=[line.pk]), fields | data)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "at least 1 minute"),
        ("-5", "at least 1 minute"),
        ("525600", "at most 43,200 minutes"),
        ("soon", "whole minutes"),
        ("99999999999999999999", "at most 43,200 minutes"),
    ],
)
def test_bad_targets_are_form_errors(client, admin_user, line, value, message):
    client.force_login(admin_user)
    response = post(client, line, first_response_minutes=value, resolution_minutes="240")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="240"' in html  # what was typed is kept
    assert not SlaPolicy.objects.exists()


def test_hours_closed_every_day_refuse_a_target(client, admin_user, line):
    BusinessHours.objects.create(
        dashboard=line, is_always_open=False, time_zone="America/New_York", weekly=[None] * 7
    )
    client.force_login(admin_user)
    response = post(client, line, next_response_minutes="30")
    assert response.status_code == 200
    assert "never hold that much open time" in response.content.decode()
    # No target at all is fine on such a line.
    assert post(client, line).status_code == 302


def test_saving_applies_to_open_conversations_and_is_audited(
    client, admin_user, line, django_capture_on_commit_callbacks
):
    conversation = make_conversation(line)
    conversation.messages.create(direction="R", body="Hi", sent_at=conversation.last_message_at)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, line, first_response_minutes="15")
    assert response.status_code == 302
    row = Conversation.objects.get(pk=conversation.pk)
    assert row.sla_reply_target == "first" and row.sla_due_at is not None
    entry = Entry.objects.get(kind="sla_policy")
    assert "first response 15 min" in entry.summary and entry.actor == admin_user
    detail = client.get(reverse("dashboards:line", args=[line.pk])).content.decode()
    assert "15 min" in detail


def test_agents_cannot_change_targets(client, agent, line):
    client.force_login(agent)
    assert post(client, line, first_response_minutes="15").status_code == 403
    assert client.get(reverse("dashboards:sla", args=[line.pk])).status_code == 403
