"""Admins' writes to Text Request: create a group and fill it by filter (BulkUpdateContacts in
batches of 1,000), create and delete contacts, delete a line."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import calls, connect, lines_of, seeded_account
from textdesk.contacts.models import Contact, Group, Tag
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change
from textdesk.sync.engine import run_sync
from textdesk.textrequest.client import TextRequestClient, iter_items

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(db):
    from django.contrib.auth.models import Group as Role
    from django.contrib.auth.models import Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Role, Permission)
    return make_user("avery", "Admin")


@pytest.fixture
def synced(sandbox_server):
    account = seeded_account(sandbox_server, contacts=40, messages=40)
    connection = connect(account)
    line = lines_of(connection)[0]
    run_sync(line, full=True, wait=True)
    return account, line


def api(account):
    return TextRequestClient(account.api_url, account.api_key, bucket="check")


def test_create_a_group_then_add_everyone_tagged(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    taken = Group.objects.filter(dashboard=line).first().name
    same = client.post(reverse("contacts:group_new"), {"line": line.pk, "name": taken})
    assert "already has a group called" in same.content.decode()
    response = client.post(
        reverse("contacts:group_new"), {"line": line.pk, "name": "Spring promo", "notes": ""}
    )
    assert response.status_code == 302
    group = Group.objects.get(dashboard=line, name="Spring promo")
    with api(account) as tr:
        assert tr.get_group(line.dashboard_id, group.group_id).name == "Spring promo"
    tag = Tag.objects.filter(dashboard=line, contacts__isnull=False).distinct().first()
    tagged = set(
        Contact.objects.filter(dashboard=line, tags=tag).values_list("phone_number", flat=True)
    )
    url = reverse("contacts:group_members", args=[group.pk])
    preview = client.get(url, {"tag": tag.pk})
    assert f"Add {len(tagged)} to “Spring promo”" in preview.content.decode()
    client.post(url, {"tag": tag.pk, "action": "add"})
    assert Change.objects.filter(kind="bulk_update_contacts").count() == 1
    assert not Change.objects.exclude(status="done").exists()
    with api(account) as tr:
        members = {
            c.phone_number
            for c in iter_items(tr.get_contacts, line.dashboard_id)
            if group.group_id in [int(g) for g in c.groups]
        }
    assert members == tagged
    group.refresh_from_db()
    assert group.member_count == len(tagged)
    # Remove one by hand.
    one = Contact.objects.filter(dashboard=line, groups=group).first()
    client.post(url, {"contact": [one.pk], "action": "remove_selected"})
    with api(account) as tr:
        assert group.group_id not in [
            int(g) for g in tr.get_contact(line.dashboard_id, one.phone_number).groups
        ]
    # Without a filter nothing is chosen: a 400, not "everyone".
    assert client.post(url, {"action": "add"}).status_code == 400


def test_membership_is_written_in_batches(admin, synced, monkeypatch):
    """Batches of at most BULK_BATCH contacts (1,000, the most one call takes; 5 here)."""
    from textdesk.contacts import services

    account, line = synced
    monkeypatch.setattr(services, "BULK_BATCH", 5)
    # The group with the most contacts left to add: how many the seed put in each group
    # depends on the shared stand-in's seed order, not on this test.
    group = max(
        Group.objects.filter(dashboard=line),
        key=lambda g: Contact.objects.filter(dashboard=line).exclude(groups=g).count(),
    )
    before = calls(account).get("BulkUpdateContacts", 0)
    everyone = Contact.objects.filter(dashboard=line).exclude(groups=group)
    count = everyone.count()
    assert count > 5  # at least two batches
    changes = services.change_membership(group=group, user=admin, contacts=everyone, add=True)
    sizes = [5] * (count // 5) + ([count % 5] if count % 5 else [])
    assert [c.payload["count"] for c in changes] == sizes
    assert calls(account)["BulkUpdateContacts"] - before == len(sizes)
    assert all(Change.objects.get(pk=c.pk).status == "done" for c in changes)
    with pytest.raises(ValueError):
        services.queue_bulk_update(dashboard=line, user=admin, contacts=[{}] * 6, source="x",
                                   label="x")  # fmt: skip


def test_create_and_delete_a_contact(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    bad = client.post(reverse("contacts:new"), {"line": line.pk, "phone_number": "12"})
    assert "not a valid US phone number" in bad.content.decode()
    response = client.post(
        reverse("contacts:new"),
        {
            "line": line.pk,
            "phone_number": "(615) 555-0177",
            "first_name": "New",
            "last_name": "Person",
        },
    )
    contact = Contact.objects.get(dashboard=line, phone_number="6155550177")
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    with api(account) as tr:
        assert tr.get_contact(line.dashboard_id, "6155550177").first_name == "New"
    again = client.post(reverse("contacts:new"), {"line": line.pk, "phone_number": "6155550177"})
    assert "already a contact on this line" in again.content.decode()
    page = client.get(reverse("contacts:delete", args=[contact.pk])).content.decode()
    assert "Delete New Person?" in page
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 302
    with api(account) as tr:
        assert tr.get_contact(line.dashboard_id, "6155550177") is None
    contact.refresh_from_db()
    assert contact.removed_at is not None
    assert client.get(reverse("contacts:detail", args=[contact.pk])).status_code == 404


def test_a_contact_with_history_cannot_be_deleted(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    talker = Contact.objects.filter(dashboard=line, total_messages_received__gt=0).first()
    page = client.get(reverse("contacts:delete", args=[talker.pk])).content.decode()
    assert "cannot be deleted" in page and "Archive the conversation" in page
    assert client.post(reverse("contacts:delete", args=[talker.pk])).status_code == 400
    # Text Request's own refusal, should our copy not know the history yet: failed, kept.
    from textdesk.contacts import services

    Contact.objects.filter(pk=talker.pk).update(total_messages_received=0, total_messages_sent=0)
    change = services.delete_contact(contact=talker, user=admin)
    change.refresh_from_db()
    assert change.status == "failed" and "message history" in change.failure_reason
    talker.refresh_from_db()
    assert talker.removed_at is None


def test_delete_a_line_behind_its_typed_name(client, admin, sandbox_account):
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    client.force_login(admin)
    url = reverse("dashboards:line_delete", args=[line.pk])
    page = client.get(url).content.decode()
    assert "This deletes the line in Text Request" in page
    wrong = client.post(url, {"confirm": "front desk"})
    assert f"Type “{line.name}” exactly" in wrong.content.decode()
    assert client.post(url, {"confirm": line.name}).status_code == 302
    with api(sandbox_account) as tr:
        remaining = [d.id for d in tr.get_dashboards(page=0, page_size=100).items]
    assert line.dashboard_id not in remaining
    assert not Dashboard.objects.active().filter(pk=line.pk).exists()


@pytest.mark.parametrize("role", ["Agent", "Finance"])
def test_agents_and_finance_cannot_write_here(client, admin, role):
    from tests.conftest import make_line

    line = make_line()
    group = Group.objects.create(dashboard=line, group_id=1, name="G")
    contact = Contact.objects.create(dashboard=line, phone_number="6155550100")
    client.force_login(make_user("pat", role, lines=[line]))
    for url in (
        reverse("contacts:new"),
        reverse("contacts:delete", args=[contact.pk]),
        reverse("contacts:group_new"),
        reverse("contacts:group_members", args=[group.pk]),
        reverse("dashboards:line_delete", args=[line.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert (
            client.post(url, {"action": "add", "q": "6", "confirm": line.name}).status_code == 403
        )
    assert not Change.objects.exists()
