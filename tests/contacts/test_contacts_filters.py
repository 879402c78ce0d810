"""The contact list's filters, custom field values on the contact page, and the CSV export."""

import csv
import io

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.contacts.exports import neutralise
from textdesk.contacts.models import Contact, CustomField, Group, Tag
from textdesk.outbox.models import Change
from textdesk.sync.engine import run_sync
from textdesk.textrequest.client import TextRequestClient


@pytest.fixture
def people(line, other_line):
    """Five contacts on two lines with tags, groups, fields, an opt-out and a block."""
    vip = Tag.objects.create(dashboard=line, tag_id="t-vip", name="VIP")
    group = Group.objects.create(dashboard=line, group_id=7, name="Newsletter")
    plan = CustomField.objects.create(dashboard=line, field_id="f-plan", name="Plan")

    def contact(each, phone, name, **extra):
        return Contact.objects.create(dashboard=each, phone_number=phone, first_name=name, **extra)

    casey = contact(line, "6155550101", "Casey", custom_fields={"f-plan": "Gold"})
    casey.tags.add(vip)
    casey.groups.add(group)
    riley = contact(line, "6155550102", "Riley", custom_fields={"f-plan": "Silver"})
    riley.tags.add(vip)
    jordan = contact(line, "6155550103", "Jordan", opted_out_at=timezone.now())
    blake = contact(line, "6155550104", "Blake", is_blocked=True)
    other = contact(other_line, "6155550105", "Other")
    return {"vip": vip, "group": group, "plan": plan, "casey": casey, "riley": riley,
            "jordan": jordan, "blake": blake, "other": other}  # fmt: skip


def names(response) -> list[str]:
    return sorted(c.first_name for c in response.context["contacts"])


def test_each_filter_narrows_the_list(client, admin_user, line, other_line, people):
    client.force_login(admin_user)
    url = reverse("contacts:list")
    assert names(client.get(url, {"line": other_line.pk})) == ["Other"]
    assert names(client.get(url, {"tag": people["vip"].pk})) == ["Casey", "Riley"]
    assert names(client.get(url, {"group": people["group"].pk})) == ["Casey"]
    assert names(client.get(url, {"opted_out": "yes"})) == ["Jordan"]
    assert "Jordan" not in names(client.get(url, {"opted_out": "no"}))
    assert names(client.get(url, {"blocked": "yes"})) == ["Blake"]
    field = {"field": people["plan"].pk}
    assert names(client.get(url, {**field, "value": "gol"})) == ["Casey"]
    assert names(client.get(url, field)) == ["Casey", "Riley"]  # any value
    both = client.get(url, {"line": line.pk, "tag": people["vip"].pk, "q": "ril"})
    assert names(both) == ["Riley"]


def test_bad_filters_are_explained_not_widened(client, admin_user, people):
    client.force_login(admin_user)
    for query in ({"tag": "999999"}, {"line": "abc"}, {"opted_out": "maybe"}, {"value": "Gold"}):
        response = client.get(reverse("contacts:list"), query)
        assert response.status_code == 200
        assert response.context["contacts"] == []
        assert 'class="errorlist"' in response.content.decode()


def test_agents_filters_offer_only_their_lines(client, other_agent, people):
    client.force_login(other_agent)
    response = client.get(reverse("contacts:list"), {"tag": people["vip"].pk})
    assert response.context["contacts"] == []  # another line's tag is not a choice
    assert "VIP" not in response.content.decode()


def test_list_queries_do_not_grow(client, admin_user, line, people):
    client.force_login(admin_user)
    url = reverse("contacts:list") + f"?tag={people['vip'].pk}"
    with CaptureQueriesContext(db_connection) as few:
        client.get(url)
    for n in range(40):
        Contact.objects.create(dashboard=line, phone_number=f"61555512{n:02d}").tags.add(
            people["vip"]
        )
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(url)
    assert len(response.context["contacts"]) == 42
    assert len(many) == len(few)


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_is_the_filtered_result_as_csv(client, admin_user, people):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:export"), {"tag": people["vip"].pk})
    assert response.status_code == 200
    assert response.streaming
    rows = read_csv(response)
    assert [r["First name"] for r in rows] == ["Casey", "Riley"]
    assert rows[0]["Phone"] == "6155550101"
    assert rows[0]["Plan"] == "Gold"
    assert rows[0]["Tags"] == "VIP"
    assert rows[0]["Groups"] == "Newsletter"
    everyone = read_csv(client.get(reverse("contacts:export")))
    assert len(everyone) == 5
    assert next(r for r in everyone if r["First name"] == "Jordan")["Opted out"] == "yes"


def test_export_neutralises_formulas(client, admin_user, line):
    Contact.objects.create(
        dashboard=line, phone_number="6155550199", first_name="=HYPERLINK(1)", last_name="+1",
        note="@SUM(A1)", display_name="x",
    )  # fmt: skip
    client.force_login(admin_user)
    row = read_csv(client.get(reverse("contacts:export")))[0]
    assert (row["First name"], row["Last name"], row["Note"]) == (
        "'=HYPERLINK(1)",
        "'+1",
        "'@SUM(A1)",
    )
    assert neutralise("-2") == "'-2"
    assert neutralise("Casey") == "Casey"


def test_export_with_a_bad_filter_is_a_400(client, admin_user, people):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:export"), {"group": "nope"})
    assert response.status_code == 400
    assert "group" in response.content.decode()


def test_export_queries_do_not_grow_with_rows(client, admin_user, line, people):
    client.force_login(admin_user)
    with CaptureQueriesContext(db_connection) as few:
        read_csv(client.get(reverse("contacts:export")))
    for n in range(60):
        c = Contact.objects.create(dashboard=line, phone_number=f"61555513{n:02d}")
        c.tags.add(people["vip"])
        c.groups.add(people["group"])
    with CaptureQueriesContext(db_connection) as many:
        assert len(read_csv(client.get(reverse("contacts:export")))) == 65
    assert len(many) == len(few)


@pytest.mark.parametrize("who", ["agent", "finance_user"])
def test_only_admins_export(client, request, who, people):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("contacts:export")).status_code == 403


def test_contact_page_shows_custom_field_values(client, finance_user, people):
    client.force_login(finance_user)
    page = client.get(reverse("contacts:detail", args=[people["casey"].pk])).content.decode()
    assert "<dt>Plan</dt><dd>Gold</dd>" in page


@pytest.mark.django_db(transaction=True)
def test_custom_field_edit_reaches_text_request(client, sandbox_server):
    from tests.textrequest_helpers import seeded_account

    account = seeded_account(sandbox_server)
    connection = connect(account)
    line = lines_of(connection)[0]
    run_sync(line, full=True, wait=True)
    contact = Contact.objects.filter(dashboard=line).order_by("id").first()
    field = CustomField.objects.filter(dashboard=line).order_by("name").first()
    client.force_login(make_user("sam", "Agent", lines=[line]))
    page = client.get(reverse("contacts:detail", args=[contact.pk]))
    form = page.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields if name != "groups"}
    data["groups"] = [g.pk for g in form.initial["groups"]]
    data[f"cf_{field.pk}"] = "Changed value"
    assert client.post(reverse("contacts:detail", args=[contact.pk]), data).status_code == 302
    change = Change.objects.get(subject="custom_fields")
    assert change.status == Change.Status.DONE
    contact.refresh_from_db()
    assert contact.custom_fields[field.field_id] == "Changed value"
    with TextRequestClient(account.api_url, account.api_key, bucket="check") as api:
        upstream = api.get_contact(line.dashboard_id, contact.phone_number)
    assert {f.id: f.value for f in upstream.custom_fields}[field.field_id] == "Changed value"
    # Nothing else was written: the name edit did not run.
    assert not Change.objects.exclude(subject="custom_fields").exists()
