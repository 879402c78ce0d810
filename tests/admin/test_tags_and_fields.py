"""Admin → Tags and fields: a line's tags and custom fields with how much each is used; create,
rename, recolour and delete them through the outbox (Text Request is the sandbox)."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of, seeded_account
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact, CustomField, Tag
from textdesk.conversations.models import Conversation
from textdesk.outbox.models import Change
from textdesk.sync.engine import run_sync
from textdesk.textrequest.client import TextRequestClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def roles(db):
    from django.contrib.auth.models import Group as Role
    from django.contrib.auth.models import Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Role, Permission)


@pytest.fixture
def admin(roles):
    return make_user("avery", "Admin")


@pytest.fixture
def synced(sandbox_server):
    account = seeded_account(sandbox_server, contacts=30, messages=30, dashboards=2)
    connection = connect(account)
    line = lines_of(connection)[0]
    run_sync(line, full=True, wait=True)
    return account, line


def tr(account):
    return TextRequestClient(account.api_url, account.api_key, bucket="check")


def page(client, line):
    return client.get(reverse("contacts:labels"), {"line": line.pk})


def test_the_page_lists_tags_and_fields_with_their_use(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    tag = Tag.objects.filter(dashboard=line, contacts__isnull=False).distinct().first()
    contacts = Contact.objects.filter(dashboard=line, tags=tag, removed_at__isnull=True)
    conversations = Conversation.objects.filter(contact__in=contacts).count()
    response = page(client, line)
    assert response.status_code == 200
    row = next(t for t in response.context["tags"] if t.pk == tag.pk)
    assert (row.contact_count, row.conversation_count) == (contacts.count(), conversations)
    field = CustomField.objects.filter(dashboard=line).first()
    with_value = Contact.objects.filter(
        dashboard=line, custom_fields__has_key=field.field_id
    ).count()
    assert next(f for f in response.context["fields"] if f.pk == field.pk).contact_count == (
        with_value
    )
    html = response.content.decode()
    assert f'data-color="{tag.color}"' in html and "Tags &amp; fields" in html


def test_the_page_costs_the_same_queries_with_one_tag_or_many(
    client, admin, synced, django_assert_max_num_queries
):
    _, line = synced
    client.force_login(admin)
    page(client, line)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        page(client, line)
    for n in range(25):
        Tag.objects.create(dashboard=line, tag_id=f"extra-{n}", name=f"Extra {n}", color="#123456")
        CustomField.objects.create(dashboard=line, field_id=f"extra-{n}", name=f"Extra {n}")
    with CaptureQueriesContext(connection) as many:
        page(client, line)
    assert len(many) == len(few)


def test_create_rename_recolour_and_delete_a_tag(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    response = client.post(
        reverse("contacts:tag_new", args=[line.pk]), {"name": "Card on file", "color": "#0F766E"}
    )
    assert response.status_code == 302
    tag = Tag.objects.get(dashboard=line, name="Card on file")
    assert tag.color == "#0f766e"
    with tr(account) as api:
        assert api.get_tag(line.dashboard_id, tag.tag_id).tag == "Card on file"
    change = Change.objects.get(kind="create_tag")
    assert change.status == "done" and change.created_by == admin
    assert Entry.objects.filter(change=change, actor=admin).exists()

    edit = reverse("contacts:tag_edit", args=[line.pk, tag.pk])
    assert client.post(edit, {"name": "Card saved", "color": "#b91c1c"}).status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("Card saved", "#b91c1c")
    with tr(account) as api:
        upstream = api.get_tag(line.dashboard_id, tag.tag_id)
    assert (upstream.tag, upstream.tag_color) == ("Card saved", "#b91c1c")
    assert Entry.objects.get(kind="edit_tag").summary.endswith("“Card saved”")

    contact = Contact.objects.filter(dashboard=line).first()
    contact.tags.add(tag)
    confirm = client.get(reverse("contacts:tag_delete", args=[line.pk, tag.pk]))
    assert "It comes off <strong>1 contact</strong>" in confirm.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()  # asking deletes nothing
    done = client.post(reverse("contacts:tag_delete", args=[line.pk, tag.pk]))
    assert done.status_code == 302
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert not contact.tags.filter(pk=tag.pk).exists()
    with tr(account) as api:
        assert api.get_tag(line.dashboard_id, tag.tag_id) is None
    assert Change.objects.get(kind="delete_tag").status == "done"
    assert Entry.objects.filter(kind="delete_tag", actor=admin).exists()


def test_create_rename_and_delete_a_custom_field(client, admin, synced):
    account, line = synced
    client.force_login(admin)
    response = client.post(reverse("contacts:field_new", args=[line.pk]), {"field-name": "Plan"})
    assert response.status_code == 302
    field = CustomField.objects.get(dashboard=line, name="Plan")
    edit = reverse("contacts:field_edit", args=[line.pk, field.pk])
    assert client.post(edit, {"name": "Plan level"}).status_code == 302
    with tr(account) as api:
        assert api.get_custom_field(line.dashboard_id, field.field_id).name == "Plan level"
    holders = list(Contact.objects.filter(dashboard=line)[:2])
    for contact in holders:
        contact.custom_fields = {**contact.custom_fields, field.field_id: "Gold"}
        contact.save()
    confirm = client.get(reverse("contacts:field_delete", args=[line.pk, field.pk]))
    assert "<strong>2 contacts</strong>" in confirm.content.decode()
    client.post(reverse("contacts:field_delete", args=[line.pk, field.pk]))
    assert not CustomField.objects.filter(pk=field.pk).exists()
    for contact in holders:
        contact.refresh_from_db()
        assert field.field_id not in contact.custom_fields
    with tr(account) as api:
        assert api.get_custom_field(line.dashboard_id, field.field_id) is None


def test_a_sync_before_the_rename_is_written_does_not_undo_it(client, admin, synced, settings):
    account, line = synced
    tag = Tag.objects.filter(dashboard=line).first()
    from textdesk.celery import app
    from textdesk.contacts import services

    app.conf.task_always_eager = False  # the change stays queued
    services.update_tag(tag=tag, user=admin, name="Held", color="#111111")
    run_sync(line, full=True, wait=True)
    tag.refresh_from_db()
    assert tag.name == "Held"


@pytest.mark.parametrize(
    "data, error",
    [
        ({"name": "", "color": "#123456"}, "This field is required"),
        ({"name": "x" * 51, "color": "#123456"}, "at most 50 characters"),
        ({"name": "Fine", "color": "blue"}, "Pick a colour"),
        ({"name": "Fine", "color": "#12345g"}, "Pick a colour"),
    ],
)
def test_bad_tags_are_refused_with_a_reason_and_keep_what_was_typed(
    client, admin, synced, data, error
):
    _, line = synced
    client.force_login(admin)
    response = client.post(reverse("contacts:tag_new", args=[line.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    if data["name"]:
        assert f'value="{data["name"]}"' in html
    assert not Change.objects.filter(kind="create_tag").exists()


def test_a_duplicate_name_is_refused_ignoring_case(client, admin, synced):
    _, line = synced
    client.force_login(admin)
    taken = Tag.objects.filter(dashboard=line).first()
    response = client.post(
        reverse("contacts:tag_new", args=[line.pk]),
        {"name": taken.name.upper(), "color": "#123456"},
    )
    assert response.status_code == 400
    assert "already has a tag called" in response.content.decode()
    other = Tag.objects.filter(dashboard=line).exclude(pk=taken.pk).first()
    rename = client.post(
        reverse("contacts:tag_edit", args=[line.pk, other.pk]),
        {"name": taken.name, "color": "#123456"},
    )
    assert rename.status_code == 400
    field = CustomField.objects.filter(dashboard=line).first()
    dup = client.post(reverse("contacts:field_new", args=[line.pk]), {"field-name": field.name})
    assert dup.status_code == 400 and "already has a custom field called" in dup.content.decode()


def test_a_refusal_by_text_request_shows_as_failed(client, admin, synced):
    account, line = synced
    tag = Tag.objects.filter(dashboard=line).first()
    # Deleted in Text Request behind textdesk's back: the rename is refused (404) and shown.
    with tr(account) as api:
        api.delete_tag(line.dashboard_id, tag.tag_id)
    client.force_login(admin)
    client.post(
        reverse("contacts:tag_edit", args=[line.pk, tag.pk]), {"name": "Ghost", "color": "#222222"}
    )
    change = Change.objects.get(kind="edit_tag")
    assert change.status == "failed"
    assert "Not saved in Text Request" in page(client, line).content.decode()


def test_agents_and_finance_get_403_and_other_lines_ids_404(client, roles, admin, synced):
    _, line = synced
    other = lines_of(line.connection)[1]
    tag = Tag.objects.filter(dashboard=line).first()
    field = CustomField.objects.filter(dashboard=line).first()
    urls = [
        reverse("contacts:labels"),
        reverse("contacts:tag_new", args=[line.pk]),
        reverse("contacts:tag_edit", args=[line.pk, tag.pk]),
        reverse("contacts:tag_delete", args=[line.pk, tag.pk]),
        reverse("contacts:field_new", args=[line.pk]),
        reverse("contacts:field_edit", args=[line.pk, field.pk]),
        reverse("contacts:field_delete", args=[line.pk, field.pk]),
    ]
    for user in (make_user("sam", "Agent", lines=[line]), make_user("fran", "Finance")):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code in (403, 405), url
            assert client.post(url, {"name": "x"}).status_code == 403, url
    client.force_login(admin)
    for name, pk in (("tag_edit", tag.pk), ("tag_delete", tag.pk), ("field_edit", field.pk)):
        assert client.get(reverse(f"contacts:{name}", args=[other.pk, pk])).status_code == 404
    assert client.post(reverse("contacts:tag_delete", args=[other.pk, tag.pk])).status_code == 404
    assert Tag.objects.filter(pk=tag.pk).exists()
    assert client.get(reverse("contacts:labels"), {"line": "x"}).status_code == 400
    assert client.get(reverse("contacts:labels"), {"line": "999999"}).status_code == 404
