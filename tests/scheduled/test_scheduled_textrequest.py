"""Text Request's own scheduled messages (GetScheduledMessages) show read only in a line's
Scheduled view, labelled "created in Text Request", read at most once a minute; an account that
answers 403 or 404 shows none and no error (Text Request stand-in)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from standins.core.control import ControlError
from standins.textrequest.pytest_fixtures import make_account
from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.contacts.models import Contact
from textdesk.conversations import scheduled
from textdesk.conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)
HEADING = "Created in Text Request"


@pytest.fixture
def world(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 2
    line = lines_of(connect(sandbox_account))[0]
    # Sandbox keys repeat from one test session to the next; the cache outlives a session.
    cache.delete(scheduled._tr_key(line))
    agent = make_user("sam", "Agent", lines=[line])
    return sandbox_account, line, agent


def add(account, line, phone, body, days=1, **extra):
    send_at = (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return account.control.add_scheduled(
        account.api_key,
        line.dashboard_id,
        phone_number=phone,
        body=body,
        send_at=send_at,
        **extra,
    )


def reads(account) -> int:
    return account.control.counters(account.api_key)["calls"].get("GetScheduledMessages", 0)


def open_view(client, line):
    response = client.get(reverse("conversations:scheduled", args=[line.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_their_scheduled_messages_show_read_only_and_labelled(client, world):
    account, line, agent = world
    contact = Contact.objects.create(dashboard=line, phone_number="6155550142", first_name="Casey")
    conversation = Conversation.objects.create(dashboard=line, contact=contact)
    add(account, line, "615-555-0142", "Your filter change is due", days=2)
    add(account, line, "6155550999", "Weekly tips", days=1, recurrence="weekly")
    client.force_login(agent)
    html = open_view(client, line)
    assert HEADING in html and "created in Text Request" in html
    section = html[html.index(HEADING) :]
    assert section.index("Weekly tips") < section.index("Your filter change is due")  # soonest
    assert "Repeats weekly" in section and "6155550999" in section
    link = reverse("conversations:conversation", args=[line.pk, conversation.pk])
    assert f'href="{link}">Casey' in section
    assert "<form" not in section and "Edit</a>" not in section  # read only


def test_they_are_read_at_most_once_a_minute(client, world):
    account, line, agent = world
    add(account, line, "6155550142", "Hello from the app")
    client.force_login(agent)
    assert "Hello from the app" in open_view(client, line)
    assert "Hello from the app" in open_view(client, line)
    assert reads(account) == 1
    cache.delete(scheduled._tr_key(line))  # as a minute later
    open_view(client, line)
    assert reads(account) == 2


def test_later_pages_of_the_view_do_not_read_them(client, world):
    account, line, agent = world
    add(account, line, "6155550142", "Hello from the app")
    client.force_login(agent)
    url = reverse("conversations:scheduled", args=[line.pk])
    page = client.get(url, {"after": f"{timezone.now().isoformat()}|1"})
    assert page.status_code == 200 and HEADING not in page.content.decode()
    assert reads(account) == 0


@pytest.mark.parametrize("status", [403, 404])
def test_an_account_that_does_not_offer_them_shows_none_and_no_error(client, world, status):
    account, line, agent = world
    add(account, line, "6155550142", "Hidden from the API")
    account.control.configure(api_key=account.api_key, scheduled_messages_status=status)
    client.force_login(agent)
    html = open_view(client, line)
    assert HEADING not in html and "Hidden from the API" not in html
    assert "could not be read" not in html
    open_view(client, line)
    assert reads(account) == 1  # not asked again on every visit


def test_a_failed_read_is_a_short_note_not_an_error_page(client, world):
    account, line, agent = world
    account.control.set_faults(api_key=account.api_key, outage=True)
    client.force_login(agent)
    html = open_view(client, line)
    assert "Text Request’s own scheduled messages could not be read just now." in html.replace(
        "&#x27;", "’"
    ).replace("'", "’")


def test_a_disconnected_account_is_not_asked(client, world):
    account, line, agent = world
    add(account, line, "6155550142", "Hello from the app")
    line.connection.is_active = False
    line.connection.save()
    client.force_login(agent)
    html = open_view(client, line)
    assert HEADING not in html and reads(account) == 0


def test_the_demo_seed_has_scheduled_messages(sandbox_server):
    account = make_account(sandbox_server, seed="demo", contacts=20, messages=60, dashboards=1)
    line = lines_of(connect(account))[0]
    client = line.connection.client()
    try:
        items = client.get_scheduled_messages(line.dashboard_id).items
    finally:
        client.close()
    assert len(items) == 3 and sum(m.is_recurring for m in items) == 1
    assert all(m.body and m.phone_number and m.send_at for m in items)


def test_the_stand_in_refuses_an_unknown_scheduled_messages_status(sandbox_account):
    with pytest.raises(ControlError):
        sandbox_account.control.configure(
            api_key=sandbox_account.api_key, scheduled_messages_status=500
        )


def test_the_view_runs_as_many_queries_for_one_as_for_many(client, world):
    account, line, agent = world
    for i in range(3):
        Contact.objects.create(dashboard=line, phone_number=f"615555070{i}", first_name=f"C{i}")
    client.force_login(agent)
    add(account, line, "6155550700", "Only one")
    open_view(client, line)  # a first visit writes once (last seen)
    with CaptureQueriesContext(connection) as one:
        open_view(client, line)
    for i in range(40):
        add(account, line, f"615555070{i % 5}", f"Many {i}")
    cache.delete(scheduled._tr_key(line))
    with CaptureQueriesContext(connection) as many:
        html = open_view(client, line)
    assert html.count('class="tr-scheduled"') == 41
    assert len(many.captured_queries) == len(one.captured_queries)
