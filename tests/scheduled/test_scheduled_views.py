"""Send later from the composer, and Edit, Send now and Cancel until a text leaves: bad input
is a clear form error with what was typed kept, never a 500; every action is audited."""

import re
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_connection, make_conversation, make_line
from textdesk.audit.models import Entry
from textdesk.conversations import scheduled
from textdesk.conversations.models import Message, ScheduledText
from textdesk.dashboards.models import BusinessHours

HTMX = {"HTTP_HX_REQUEST": "true"}
ZONE = "America/Chicago"


@pytest.fixture
def chicago(line):
    """The line's business hours are kept in Chicago time: so are its scheduled texts."""
    BusinessHours.objects.create(dashboard=line, time_zone=ZONE)
    return ZoneInfo(ZONE)


@pytest.fixture
def conversation(line):
    return make_conversation(line, first_name="Casey", history_synced_at=timezone.now())


def send_url(conversation):
    return reverse("conversations:send", args=[conversation.dashboard_id, conversation.pk])


def local_input(moment: datetime, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def schedule(client, conversation, body, send_at, **extra):
    data = {"body": body, "send_at": send_at, "client_key": str(uuid.uuid4()), "when": "later"}
    data.update(extra)
    return client.post(send_url(conversation), data)


def next_local_day(zone, test) -> datetime:
    """The next day (within a year) on which ``test(day)`` holds, for DST edges whatever the
    date the suite runs on."""
    today = timezone.now().astimezone(zone).date()
    for offset in range(2, 366):
        day = today + timedelta(days=offset)
        if test(day):
            return day
    pytest.skip(f"no such day in {zone} within a year")


def is_gap(zone, day) -> bool:
    local = datetime.combine(day, time(2, 30))
    there = local.replace(tzinfo=zone)
    return there.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != local


def is_overlap(zone, day) -> bool:
    local = datetime.combine(day, time(1, 30))
    return (
        local.replace(tzinfo=zone, fold=0).utcoffset()
        != local.replace(tzinfo=zone, fold=1).utcoffset()
    )


def test_send_later_schedules_in_the_lines_zone(client, agent, conversation, chicago):
    client.force_login(agent)
    due = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    key = str(uuid.uuid4())
    data = {"body": "See you Tuesday", "send_at": local_input(due, chicago), "client_key": key}
    response = client.post(send_url(conversation), {**data, "when": "later"})
    assert response.status_code == 302
    again = client.post(send_url(conversation), {**data, "when": "later"})  # a double submit
    assert again.status_code == 302
    item = ScheduledText.objects.get()
    assert item.due_at == due and item.time_zone == ZONE and item.created_by == agent
    assert not Message.objects.exists()  # nothing leaves now
    page = client.get(response["Location"]).content.decode()
    assert "Scheduled for" in page  # the notice
    assert f'id="s-{item.pk}"' in page and "See you Tuesday" in page
    assert item.due_label in page and item.due_label.endswith(("CST", "CDT"))
    assert "America/Chicago (this line’s time zone)" in page
    entry = Entry.objects.get(kind="text_scheduled")
    assert entry.actor == agent and "See you Tuesday" in entry.summary


def test_htmx_schedule_answers_the_composer_and_the_thread(client, agent, conversation, chicago):
    client.force_login(agent)
    due = timezone.now() + timedelta(hours=3)
    response = client.post(
        send_url(conversation),
        {
            "body": "Reminder",
            "send_at": local_input(due, chicago),
            "client_key": str(uuid.uuid4()),
            "when": "later",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="composer"' in html
    assert 'id="thread-log"' in html and "Scheduled · leaves" in html


@pytest.mark.parametrize(
    "body, send_at, error",
    [
        (
            "Hi",
            lambda zone: local_input(timezone.now() - timedelta(hours=1), zone),
            "already passed",
        ),
        (
            "Hi",
            lambda zone: local_input(timezone.now() + timedelta(days=400), zone),
            "a year ahead",
        ),
        ("Hi", lambda zone: "", "Choose the date and time"),
        ("Hi", lambda zone: "next tuesday", "Enter a date and time"),
        (
            "   ",
            lambda zone: local_input(timezone.now() + timedelta(days=1), zone),
            "Write the text",
        ),
        ("x" * 1601, lambda zone: local_input(timezone.now() + timedelta(days=1), zone), "1600"),
        ("Hi", lambda zone: "9999-12-31T23:59", "within the next year"),
        ("Hi", lambda zone: "0001-01-01T00:00", "already passed"),
    ],
    ids=[
        "past",
        "beyond-a-year",
        "no-time",
        "not-a-time",
        "empty",
        "too-long",
        "year-9999",
        "year-1",
    ],
)
def test_bad_input_is_a_form_error_with_the_text_kept(
    client, agent, conversation, chicago, body, send_at, error
):
    client.force_login(agent)
    typed = send_at(chicago)
    response = schedule(client, conversation, body, typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert body.strip()[:50] in html  # the composer keeps the typed text
    assert f'value="{typed}"' in html or not typed
    assert '<details class="send-later" open>' in html
    assert not ScheduledText.objects.exists()


def test_a_nonexistent_local_time_is_refused_with_a_suggestion(
    client, agent, conversation, chicago
):
    day = next_local_day(chicago, lambda d: is_gap(chicago, d))
    client.force_login(agent)
    response = schedule(client, conversation, "Spring forward", f"{day:%Y-%m-%d}T02:30")
    assert response.status_code == 400
    html = response.content.decode()
    assert "2:30 AM does not exist" in html and "jump forward" in html
    assert "3:30 AM CDT" in html  # the time that would be meant
    assert "Spring forward" in html
    assert not ScheduledText.objects.exists()


def test_an_ambiguous_local_time_asks_which_one(client, agent, conversation, chicago):
    day = next_local_day(chicago, lambda d: is_overlap(chicago, d))
    client.force_login(agent)
    typed = f"{day:%Y-%m-%d}T01:30"
    response = schedule(client, conversation, "Fall back", typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "1:30 AM happens twice" in html
    assert 'name="fold" value="0"' in html and 'name="fold" value="1"' in html
    assert "CDT, before the clocks go back" in html and "CST, after the clocks go back" in html
    assert "Fall back" in html
    # The second 1:30 (standard time) is an hour after the first.
    assert schedule(client, conversation, "Fall back", typed, fold="1").status_code == 302
    assert schedule(client, conversation, "Fall back", typed, fold="0").status_code == 302
    first, second = ScheduledText.objects.order_by("due_at")
    assert second.due_at - first.due_at == timedelta(hours=1)
    assert first.due_label.endswith("CDT") and second.due_label.endswith("CST")


def test_local_to_utc_is_plain_outside_dst_edges():
    zone = "America/New_York"
    moment = scheduled.local_to_utc(datetime(2031, 1, 15, 9, 0), zone)
    assert moment == datetime(2031, 1, 15, 14, 0, tzinfo=ZoneInfo("UTC"))


def make_scheduled(conversation, user, body="Pending text", hours=5):
    return scheduled.schedule_text(
        conversation=conversation,
        user=user,
        body=body,
        due_at=timezone.now() + timedelta(hours=hours),
        zone=ZONE,
        client_key=uuid.uuid4(),
    )


def edit_url(item, name="scheduled_edit"):
    return reverse(f"conversations:{name}", args=[item.dashboard_id, item.pk])


def test_edit_changes_body_and_time(client, agent, conversation, chicago):
    item = make_scheduled(conversation, agent)
    client.force_login(agent)
    page = client.get(edit_url(item))
    assert page.status_code == 200 and item.due_input in page.content.decode()
    later = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(
        edit_url(item), {"body": "Changed words", "send_at": local_input(later, chicago)}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.body == "Changed words" and item.due_at == later
    assert Entry.objects.filter(kind="text_schedule_edited", actor=agent).count() == 1
    bad = client.post(edit_url(item), {"body": "Kept words", "send_at": "2001-01-01T10:00"})
    assert bad.status_code == 400
    assert "already passed" in bad.content.decode() and "Kept words" in bad.content.decode()


def test_editing_a_text_already_sending_is_refused(client, agent, conversation, chicago):
    item = make_scheduled(conversation, agent)
    # Beat released it between the page load and the save.
    ScheduledText.objects.filter(pk=item.pk).update(status=ScheduledText.Status.RELEASED)
    client.force_login(agent)
    later = timezone.now() + timedelta(days=1)
    response = client.post(
        edit_url(item), {"body": "Too late to change", "send_at": local_input(later, chicago)}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "already being sent" in html and "Too late to change" in html
    item.refresh_from_db()
    assert item.body == "Pending text"
    assert not Entry.objects.filter(kind="text_schedule_edited").exists()
    cancel = client.post(edit_url(item, "scheduled_cancel"))
    assert cancel.status_code == 302
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.RELEASED


def test_cancel_stops_the_text(client, agent, conversation, chicago):
    item = make_scheduled(conversation, agent)
    client.force_login(agent)
    response = client.post(edit_url(item, "scheduled_cancel"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.CANCELLED
    assert scheduled.release(item.pk, user=agent) is None
    assert Entry.objects.filter(kind="text_schedule_cancelled", actor=agent).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert f'id="s-{item.pk}"' not in page


def test_send_now_releases_at_once_and_only_once(client, agent, conversation, chicago):
    item = make_scheduled(conversation, agent, hours=30)
    client.force_login(agent)
    assert client.post(edit_url(item, "scheduled_send_now")).status_code == 302
    assert client.post(edit_url(item, "scheduled_send_now")).status_code == 302
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.RELEASED
    assert item.message.priority == "interactive" and item.message.sent_by == agent
    assert Message.objects.filter(body="Pending text").count() == 1
    assert Entry.objects.filter(kind="text_schedule_sent_now", actor=agent).count() == 1


def test_another_lines_scheduled_text_is_a_404(client, conversation, agent, other_agent):
    item = make_scheduled(conversation, agent)
    client.force_login(other_agent)
    assert client.get(edit_url(item)).status_code == 404
    assert client.post(edit_url(item, "scheduled_cancel")).status_code == 404
    assert client.post(edit_url(item, "scheduled_send_now")).status_code == 404
    assert (
        client.get(reverse("conversations:scheduled", args=[item.dashboard_id])).status_code == 404
    )
    item.refresh_from_db()
    assert item.status == ScheduledText.Status.SCHEDULED


def list_url(line, after=""):
    url = reverse("conversations:scheduled", args=[line.pk])
    return f"{url}?after={after}" if after else url


def fill(line, agent, count):
    now = timezone.now()
    for i in range(count):
        conversation = make_conversation(line, first_name=f"Person {i}")
        ScheduledText.objects.create(
            dashboard=line,
            conversation=conversation,
            contact_name=f"Person {i}",
            body=f"Text {i}",
            due_at=now + timedelta(hours=1 + i % 7, minutes=i),
            time_zone=ZONE,
            client_key=uuid.uuid4(),
            created_by=agent,
        )


def test_scheduled_view_pages_by_keyset_with_constant_queries(client, agent, line):
    client.force_login(agent)
    fill(line, agent, 1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(list_url(line)).status_code == 200
    fill(line, agent, 120)
    with CaptureQueriesContext(connection) as big:
        first = client.get(list_url(line))
    assert len(big.captured_queries) == len(small.captured_queries)
    html = first.content.decode()
    assert html.count('<tr id="s-') == 50 and "Later texts" in html
    seen = set()
    pages = 0
    url = list_url(line)
    while url:
        html = client.get(url).content.decode()
        ids = re.findall(r'<tr id="s-(\d+)"', html)
        assert not seen & set(ids)
        seen |= set(ids)
        pages += 1
        found = re.search(r'href="\?after=([^"]+)"', html)
        url = list_url(line, found.group(1)) if found else ""
    assert len(seen) == 121 and pages == 3
    assert client.get(list_url(line, "garbage")).status_code == 400


def test_scheduled_view_shows_skipped_texts_with_why(client, agent, line, conversation):
    item = make_scheduled(conversation, agent, body="Skipped one")
    ScheduledText.objects.filter(pk=item.pk).update(
        status=ScheduledText.Status.SKIPPED, skip_reason="Not sent: This contact is blocked."
    )
    client.force_login(agent)
    html = client.get(list_url(line)).content.decode()
    assert "Skipped one" in html and "Not sent: This contact is blocked." in html
    thread = client.get(
        reverse("conversations:conversation", args=[line.pk, conversation.pk])
    ).content.decode()
    assert "Scheduled text · not sent" in thread and "This contact is blocked." in thread


def test_inbox_links_to_the_scheduled_view(client, agent, line):
    client.force_login(agent)
    html = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert f'href="{list_url(line)}"' in html


def test_default_zone_without_business_hours(line, settings):
    assert scheduled.line_zone(line.pk) == settings.TIME_ZONE
    other = make_line(make_connection(), name="Elsewhere")
    BusinessHours.objects.create(dashboard=other, time_zone="America/Denver")
    assert scheduled.line_zone(other.pk) == "America/Denver"


def test_the_open_thread_redraws_when_a_scheduled_text_is_skipped(
    client, agent, conversation, chicago
):
    item = make_scheduled(conversation, agent, body="Skipped by beat")
    client.force_login(agent)
    page = client.get(
        reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])
    ).content.decode()
    live = re.search(r'id="live" class="live" hx-get="([^"]+)"', page).group(1)
    live = live.replace("&amp;", "&")
    assert client.get(live, **HTMX).status_code == 204
    ScheduledText.objects.filter(pk=item.pk).update(
        status=ScheduledText.Status.SKIPPED,
        skip_reason="Not sent: This contact is blocked.",
        due_at=timezone.now(),
    )
    response = client.get(live, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="thread-log"' in body and "Not sent: This contact is blocked." in body
    new_live = re.search(r'id="live" class="live" hx-get="([^"]+)"', body).group(1)
    assert client.get(new_live.replace("&amp;", "&"), **HTMX).status_code == 204


def test_opening_the_edit_page_of_a_text_that_left_says_so(client, agent, conversation, chicago):
    item = make_scheduled(conversation, agent)
    ScheduledText.objects.filter(pk=item.pk).update(status=ScheduledText.Status.CANCELLED)
    client.force_login(agent)
    response = client.get(edit_url(item) + "?back=list", follow=True)
    assert response.redirect_chain[-1][0] == list_url(conversation.dashboard)
    assert "This text was cancelled." in response.content.decode()


def test_a_forged_answer_to_which_time_is_a_form_error(client, agent, conversation, chicago):
    client.force_login(agent)
    due = local_input(timezone.now() + timedelta(days=1), chicago)
    response = schedule(client, conversation, "Forged", due, fold="7")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    response = schedule(client, conversation, "Forged", due, client_key="not-a-key")
    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()
    assert not ScheduledText.objects.exists()
