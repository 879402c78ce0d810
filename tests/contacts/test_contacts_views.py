"""Contacts and groups: read by every role, edited by agents and admins through the outbox."""

import pytest
from django.urls import reverse

from tests.conftest import make_conversation, make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.contacts.models import Contact, Group
from textdesk.outbox.models import Change
from textdesk.sync.engine import run_sync
from textdesk.textrequest.client import TextRequestClient


def test_search_by_partial_number_or_name(client, agent, line):
    make_conversation(line, phone="6155550123", first_name="Casey")
    make_conversation(line, phone="6155559999", first_name="Jordan")
    client.force_login(agent)
    by_number = client.get(reverse("contacts:list"), {"q": "555-0123"})
    assert [c.first_name for c in by_number.context["contacts"]] == ["Casey"]
    by_name = client.get(reverse("contacts:list"), {"q": "jord"})
    assert [c.first_name for c in by_name.context["contacts"]] == ["Jordan"]


def test_another_lines_contact_is_404(client, other_agent, line):
    conversation = make_conversation(line)
    client.force_login(other_agent)
    url = reverse("contacts:detail", args=[conversation.contact.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"first_name": "X"}).status_code == 404
    assert client.get(reverse("contacts:list")).context["contacts"] == []


def test_finance_reads_contacts_but_cannot_edit(client, finance_user, line):
    conversation = make_conversation(line)
    client.force_login(finance_user)
    url = reverse("contacts:detail", args=[conversation.contact.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"first_name": "X"}).status_code == 403


def test_groups_are_for_admins(client, agent, admin_user):
    client.force_login(agent)
    assert client.get(reverse("contacts:groups")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("contacts:groups")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_edit_contact_and_groups_reach_text_request(client, sandbox_server):
    from tests.textrequest_helpers import seeded_account

    account = seeded_account(sandbox_server)
    connection = connect(account)
    line = lines_of(connection)[0]
    run_sync(line, full=True, wait=True)
    contact = Contact.objects.filter(dashboard=line).order_by("id").first()
    group = Group.objects.filter(dashboard=line).order_by("id").first()
    client.force_login(make_user("sam", "Agent", lines=[line]))
    response = client.post(
        reverse("contacts:detail", args=[contact.pk]),
        {"first_name": "Renamed", "last_name": "Person", "note": "Prefers mornings",
         "groups": [group.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    assert not Change.objects.exclude(status=Change.Status.DONE).exists()
    with TextRequestClient(account.api_url, account.api_key, bucket="check") as api:
        upstream = api.get_contact(line.dashboard_id, contact.phone_number)
    assert (upstream.first_name, upstream.last_name, upstream.note) == (
        "Renamed", "Person", "Prefers mornings",
    )  # fmt: skip
    assert group.group_id in [int(g) for g in upstream.groups]


@pytest.mark.django_db(transaction=True)
def test_rename_and_delete_a_group(client, sandbox_server):
    from tests.textrequest_helpers import seeded_account

    account = seeded_account(sandbox_server)
    connection = connect(account)
    line = lines_of(connection)[0]
    run_sync(line, full=True, wait=True)
    group = Group.objects.filter(dashboard=line).order_by("id").first()
    client.force_login(make_user("avery", "Admin"))
    edit = client.post(
        reverse("contacts:group_edit", args=[group.pk]), {"name": "VIP customers", "notes": ""}
    )
    assert edit.status_code == 302
    with TextRequestClient(account.api_url, account.api_key, bucket="check") as api:
        assert api.get_group(line.dashboard_id, group.group_id).name == "VIP customers"
        client.post(reverse("contacts:group_delete", args=[group.pk]))
        assert api.get_group(line.dashboard_id, group.group_id) is None
    assert not Group.objects.filter(pk=group.pk).exists()


def test_empty_group_name_is_a_form_error(client, admin_user, line):
    group = Group.objects.create(dashboard=line, group_id=5, name="Old")
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:group_edit", args=[group.pk]), {"name": "", "notes": "kept"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "kept" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_admin_renames_a_line_in_text_request(client, sandbox_account):
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    client.force_login(make_user("avery", "Admin"))
    blank = client.post(reverse("dashboards:rename", args=[line.pk]), {"name": ""})
    assert blank.status_code == 200
    assert "This field is required." in blank.content.decode()
    response = client.post(reverse("dashboards:rename", args=[line.pk]), {"name": "Front Desk"})
    assert response.status_code == 302
    with TextRequestClient(sandbox_account.api_url, sandbox_account.api_key, bucket="check") as api:
        assert api.get_dashboard(line.dashboard_id).name == "Front Desk"


@pytest.mark.django_db(transaction=True)
def test_admin_adds_a_line_with_a_provisioned_number(client, sandbox_account):
    connection = connect(sandbox_account)
    client.force_login(make_user("avery", "Admin"))
    bad = client.get(reverse("dashboards:new"), {"connection": connection.pk, "area_code": "12"})
    assert "Enter a 3-digit US area code" in bad.content.decode()
    page = client.get(reverse("dashboards:new"), {"connection": connection.pk, "area_code": "865"})
    numbers = page.context["numbers"]
    assert numbers and all(n.startswith("865") for n in numbers)
    data = {"connection": connection.pk, "area_code": "865", "phone": numbers[0]}
    unnamed = client.post(reverse("dashboards:new"), data)
    assert "This field is required." in unnamed.content.decode()
    created = client.post(reverse("dashboards:new"), {**data, "name": "Knoxville"})
    assert created.status_code == 302
    line = lines_of(connection)[-1]
    assert (line.name, line.phone) == ("Knoxville", numbers[0])
    with TextRequestClient(sandbox_account.api_url, sandbox_account.api_key, bucket="check") as api:
        assert numbers[0] not in api.get_provisioning_numbers("865")


@pytest.mark.django_db(transaction=True)
def test_a_name_text_request_would_refuse_is_a_form_error(client, sandbox_server):
    """First and last name make the display name, which Text Request caps at 100 characters:
    the longest name the form takes reaches Text Request; one character more stays a form
    error with what was typed kept, and queues nothing that would fail."""
    from tests.textrequest_helpers import seeded_account

    account = seeded_account(sandbox_server)
    line = lines_of(connect(account))[0]
    run_sync(line, full=True, wait=True)
    contact = Contact.objects.filter(dashboard=line).order_by("id").first()
    client.force_login(make_user("sam", "Agent", lines=[line]))
    url = reverse("contacts:detail", args=[contact.pk])

    too_long = {"first_name": "A" * 50, "last_name": "B" * 50, "note": "n" * 1001}
    response = client.post(url, too_long)
    assert response.status_code == 200
    page = response.content.decode()
    assert "First and last name together must be at most 100 characters" in page
    assert "at most 1000 characters" in page
    assert "A" * 50 in page
    assert not Change.objects.exists()

    inbox_url = reverse("conversations:contact", args=[line.pk, contact.conversation.pk])
    response = client.post(inbox_url, too_long, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()
    assert not Change.objects.exists()

    longest = {"first_name": "A" * 50, "last_name": "B" * 49, "note": "n" * 1000}
    assert client.post(url, longest).status_code == 302
    assert not Change.objects.exclude(status=Change.Status.DONE).exists()
    with TextRequestClient(account.api_url, account.api_key, bucket="check") as api:
        upstream = api.get_contact(line.dashboard_id, contact.phone_number)
    assert upstream.display_name == "A" * 50 + " " + "B" * 49
