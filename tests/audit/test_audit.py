"""The audit log: who did what, where, and how it ended; sign-ins and role changes; filters,
keyset paging, retention."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group as Role
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from textdesk.audit import services
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Message
from textdesk.dashboards.models import SavedReply
from textdesk.outbox.models import Change

URL = reverse("audit:list")


def login(client, user) -> None:
    """Signed in without the sign-in entry (tested on its own), so lists hold only the test's."""
    client.force_login(user)
    Entry.objects.filter(kind="sign_in").delete()


def rows(response) -> list[str]:
    return [entry.summary for entry in response.context["entries"]]


def test_sign_in_and_failed_sign_in_are_recorded(client, db):
    make_user("dana", "Agent")
    client.post(reverse("accounts:login"), {"username": "dana", "password": "wrong"})
    client.post(
        reverse("accounts:login"), {"username": "dana", "password": "correct horse battery"}
    )
    failed, signed_in = Entry.objects.order_by("id")
    assert (failed.kind, failed.status, failed.actor_name) == ("sign_in_failed", "failed", "dana")
    assert (signed_in.kind, signed_in.actor.username) == ("sign_in", "dana")
    assert signed_in.ip_address == "127.0.0.1"


def test_role_and_line_changes_are_recorded(client, admin_user, agent, line, other_line):
    login(client, admin_user)
    response = client.post(
        reverse("accounts:staff_edit", args=[agent.pk]),
        {"first_name": "Sam", "last_name": "", "email": "", "is_active": "on",
         "role": "Finance", "dashboards": [other_line.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    summaries = sorted(Entry.objects.values_list("kind", "summary"))
    assert summaries == [
        ("line_access", "Lines of Sam: added Billing line; removed Front desk"),
        ("role_change", "Changed Sam's role from Agent to Finance"),
    ]
    assert set(Entry.objects.values_list("actor", flat=True)) == {admin_user.pk}


def test_an_outbox_write_shows_its_outcome_as_it_changes(client, admin_user, agent, line):
    conversation = make_conversation(line)
    contact = conversation.contact
    login(client, agent)
    client.post(
        reverse("contacts:detail", args=[contact.pk]),
        {"first_name": "Renamed", "last_name": "", "note": ""},
    )
    change = Change.objects.get()
    entry = Entry.objects.get(change=change)
    assert (entry.actor, entry.dashboard_id, entry.contact_id, entry.conversation_id) == (
        agent, line.pk, contact.pk, conversation.pk,
    )  # fmt: skip
    assert (entry.dashboard_name, entry.contact_name) == ("Front desk", "Renamed")
    login(client, admin_user)
    assert "Pending" in client.get(URL).content.decode()
    Change.objects.filter(pk=change.pk).update(status="failed", failure_reason="Contact is blocked")
    page = client.get(URL).content.decode()
    assert "Failed" in page and "Contact is blocked" in page
    Change.objects.filter(pk=change.pk).update(status="done", failure_reason="")
    assert client.get(URL).context["entries"][0].outcome == ("done", "")


def test_texts_are_recorded_with_their_delivery_state(client, admin_user, agent, line):
    conversation = make_conversation(line, first_name="Casey")
    message = Message.objects.create(
        conversation=conversation, direction="S", body="Your order is ready", sent_by=agent,
        sent_at=timezone.now(), status=Message.Status.PENDING,
    )  # fmt: skip
    # A text read by sync (nobody's action) is not an entry.
    Message.objects.create(
        conversation=conversation, direction="S", body="x", sent_at=timezone.now()
    )
    entry = Entry.objects.get()
    assert (entry.kind, entry.message_id, entry.summary, entry.contact_name) == (
        "text", message.pk, "Texted Casey: “Your order is ready”", "Casey",
    )  # fmt: skip
    assert entry.outcome == ("pending", "")
    message.mark_failed("Landline")
    entry.refresh_from_db()
    assert entry.outcome == ("failed", "Landline")


def test_saved_replies_and_exports_are_recorded(client, admin_user, line):
    login(client, admin_user)
    client.post(reverse("replies:new"), {"dashboard": line.pk, "shortcut": "hi", "body": "Hi!"})
    client.post(reverse("replies:delete", args=[SavedReply.objects.get().pk]))
    b"".join(client.get(reverse("contacts:export"), {"opted_out": "yes"}).streaming_content)
    assert list(Entry.objects.order_by("id").values_list("kind", "summary")) == [
        ("saved_reply", "Created the saved reply /hi for Front desk"),
        ("saved_reply", "Deleted the saved reply /hi"),
        ("contact_export", "Exported contacts (opted out: yes)"),
    ]


def make_entries(count: int, **fields) -> None:
    now = timezone.now()
    Entry.objects.bulk_create(
        Entry(at=now - timedelta(minutes=n), kind="sign_in", summary=f"entry {n}", **fields)
        for n in range(count)
    )


def test_filters_by_person_line_kind_and_date(client, admin_user, agent, line, other_line):
    login(client, admin_user)
    services.record(actor=agent, kind="staff", summary="by sam", dashboard=line)
    services.record(actor=admin_user, kind="line", summary="by avery", dashboard=other_line)
    old = services.record(actor=admin_user, kind="staff", summary="last month")
    Entry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))
    assert rows(client.get(URL, {"person": agent.pk})) == ["by sam"]
    assert rows(client.get(URL, {"line": other_line.pk})) == ["by avery"]
    assert rows(client.get(URL, {"kind": "staff"})) == ["by sam", "last month"]
    today = timezone.localdate().isoformat()
    assert rows(client.get(URL, {"since": today})) == ["by avery", "by sam"]
    assert rows(
        client.get(URL, {"until": (timezone.localdate() - timedelta(days=2)).isoformat()})
    ) == ["last month"]
    bad = client.get(URL, {"since": today, "until": "2000-01-01"})
    assert bad.status_code == 200 and bad.context["entries"] == []
    assert "The end date is before the start date." in bad.content.decode()
    assert client.get(URL, {"person": "nobody", "after": "garbage"}).status_code == 200


def test_keyset_paging_walks_everything_once_in_constant_queries(client, admin_user):
    login(client, admin_user)
    make_entries(120)
    Entry.objects.filter(summary__in=["entry 5", "entry 6"]).update(at=timezone.now())  # a tie
    seen, url, queries = [], URL, []
    while url:
        with CaptureQueriesContext(db_connection) as captured:
            response = client.get(url)
        queries.append(len(captured))
        seen += [e.pk for e in response.context["entries"]]
        after = response.context["next_after"]
        url = f"{URL}?{urlencode({'after': after})}" if after else None
    assert len(seen) == len(set(seen)) == 120
    assert len(set(queries)) == 1


@pytest.mark.parametrize("who", ["agent", "finance_user"])
def test_only_admins_read_the_audit_log(client, request, who):
    login(client, request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_prune_keeps_the_configured_period(settings, db):
    settings.TEXTDESK_AUDIT_RETENTION_DAYS = 30
    make_entries(3)
    Entry.objects.filter(summary="entry 2").update(at=timezone.now() - timedelta(days=31))
    assert services.prune(batch=1) == 1
    assert sorted(Entry.objects.values_list("summary", flat=True)) == ["entry 0", "entry 1"]


def test_deleting_a_contact_keeps_its_entries_and_their_names(client, admin_user, agent, line):
    contact = Contact.objects.create(dashboard=line, phone_number="6155550111", first_name="Jo")
    entry = services.record(actor=agent, kind="staff", summary="x", contact=contact)
    contact_id = contact.pk
    contact.delete()
    entry.refresh_from_db()
    assert (entry.contact_id, entry.contact_name, entry.summary) == (contact_id, "Jo", "x")
    login(client, admin_user)
    assert ">Jo</a>" in client.get(URL).content.decode()
    assert Role.objects.filter(name="Admin").exists()


def test_page_queries_do_not_grow_with_linked_rows(client, admin_user, agent, line):
    login(client, admin_user)

    def add_entries(count: int) -> None:
        for n in range(count):
            conversation = make_conversation(line, first_name=f"P{n}")
            Message.objects.create(
                conversation=conversation, direction="S", body="hi", sent_by=agent,
                sent_at=timezone.now(), status=Message.Status.PENDING,
            )  # fmt: skip
            client.post(
                reverse("contacts:detail", args=[conversation.contact.pk]),
                {"first_name": f"Q{n}", "last_name": "", "note": ""},
            )

    add_entries(1)
    with CaptureQueriesContext(db_connection) as few:
        first = client.get(URL)
    add_entries(20)
    with CaptureQueriesContext(db_connection) as many:
        response = client.get(URL)
    assert len(first.context["entries"]) < len(response.context["entries"]) == 42
    assert len(many) == len(few)
    assert "Texted P19" in response.content.decode()


def test_deleting_a_line_deletes_its_changes_and_keeps_its_entries(client, admin_user, agent, line):
    conversation = make_conversation(line)
    login(client, agent)
    client.post(
        reverse("contacts:detail", args=[conversation.contact.pk]),
        {"first_name": "Renamed", "last_name": "", "note": ""},
    )
    change = Change.objects.get()
    line_id = line.pk
    line.connection.delete()  # a disconnect that deletes the mirror takes its lines with it
    assert not Change.objects.filter(pk=change.pk).exists()
    entry = Entry.objects.get()
    assert (entry.dashboard_id, entry.dashboard_name, entry.change_id) == (
        line_id,
        "Front desk",
        None,
    )
    login(client, admin_user)
    page = client.get(URL).content.decode()
    assert "Front desk" in page and "Unknown" in page
