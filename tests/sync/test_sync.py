"""The sync engine against the sandbox: a full sync mirrors the account exactly, a second run
changes nothing and costs only the incremental calls."""

import pytest
from django.utils import timezone

from tests.textrequest_helpers import calls, connect, lines_of, seeded_account
from textdesk.contacts.models import Contact, CustomField, Group, Tag
from textdesk.conversations.models import Conversation, Message
from textdesk.payments.models import Payment
from textdesk.payments.sync import awaits_payment_soon
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot():
    return {
        "contacts": sorted(
            Contact.objects.values_list(
                "dashboard__dashboard_id",
                "phone_number",
                "first_name",
                "last_name",
                "display_name",
                "note",
                "is_archived",
                "is_blocked",
                "is_resolved",
                "opted_out_at",
            )
        ),
        "messages": sorted(
            Message.objects.values_list(
                "message_id", "direction", "body", "delivery_status", "sent_at"
            )
        ),
        "tags": sorted(Tag.objects.values_list("tag_id", "name", "color")),
        "payments": sorted(
            Payment.objects.values_list(
                "payment_id", "amount_requested", "textrequest_payment_status"
            )
        ),
        "conversations": sorted(
            Conversation.objects.values_list(
                "contact__phone_number", "last_message_at", "last_message_preview", "is_archived"
            )
        ),
    }


def test_full_sync_mirrors_the_sandbox_exactly(sandbox_server):
    account = seeded_account(sandbox_server, contacts=150, messages=900, dashboards=2)
    connection = connect(account)
    lines = lines_of(connection)
    assert [line.dashboard_id for line in lines] == sorted(account.dashboard_ids)

    for line in lines:
        run_sync(line, wait=True)

    for line in lines:
        remote_contacts = account.get(
            f"/dashboards/{line.dashboard_id}/contacts", page=0, page_size=100
        ).json()
        assert (
            Contact.objects.filter(dashboard=line).count() == remote_contacts["meta"]["total_items"]
        )
        remote_messages = account.control.messages(account.api_key, line.dashboard_id)
        assert Message.objects.filter(conversation__dashboard=line).count() == len(remote_messages)
        assert set(
            Message.objects.filter(conversation__dashboard=line).values_list(
                "message_id", flat=True
            )
        ) == {m["message_id"] for m in remote_messages}
        tags = account.get(f"/dashboards/{line.dashboard_id}/tags", page=0, page_size=100).json()
        assert Tag.objects.filter(dashboard=line).count() == tags["meta"]["total_items"]
        fields = account.get(f"/dashboards/{line.dashboard_id}/fields").json()
        assert CustomField.objects.filter(dashboard=line).count() == len(fields)
        groups = account.get(
            f"/dashboards/{line.dashboard_id}/groups", page=0, page_size=100
        ).json()
        assert Group.objects.filter(dashboard=line).count() == groups["meta"]["total_items"]
        payments = account.get(
            f"/dashboards/{line.dashboard_id}/payments", page=0, page_size=100
        ).json()
        assert Payment.objects.filter(dashboard=line).count() == payments["meta"]["total_items"]
        # Field by field: one contact, its conversation's newest message, one payment.
        sample = remote_contacts["items"][len(remote_contacts["items"]) // 2]
        local = Contact.objects.get(dashboard=line, phone_number=sample["phone_number"])
        assert local.first_name == (sample["first_name"] or "")
        assert local.last_name == (sample["last_name"] or "")
        assert local.display_name == (sample["display_name"] or "")
        assert local.note == (sample["note"] or "")
        assert local.is_blocked == sample["is_blocked"]
        assert sorted(local.tags.values_list("tag_id", flat=True)) == sorted(sample["contact_tags"])
        assert sorted(local.groups.values_list("group_id", flat=True)) == sorted(sample["groups"])
        assert local.custom_fields == {f["id"]: f["value"] for f in sample["custom_fields"]}
        assert local.total_messages_sent == sample["total_msgs_sent"]
        if sample["last_message"]:
            newest = Message.objects.get(message_id=sample["last_message"]["message_id"])
            assert newest.body == sample["last_message"]["body"]
            assert newest.direction == sample["last_message"]["message_direction"]
            assert newest.conversation.last_message_at == newest.sent_at
        if payments["items"]:
            remote = payments["items"][0]
            payment = Payment.objects.get(dashboard=line, payment_id=remote["payment_id"])
            assert str(payment.amount_requested) == f"{remote['amount_requested']:.2f}"
            assert payment.textrequest_payment_status == remote["textrequest_payment_status"]
            assert payment.reminder_was_sent == remote["reminder_was_sent"]
        assert (
            Conversation.objects.filter(dashboard=line, history_synced_at__isnull=True).count() == 0
        )

    before = snapshot()
    calls_before = calls(account)
    for line in lines:
        run_sync(line, wait=True)
    assert snapshot() == before
    spent = {
        op: n - calls_before.get(op, 0)
        for op, n in calls(account).items()
        if n != calls_before.get(op, 0)
    }
    # Nothing changed: one page of the conversation list per line, and one page of open
    # payments (sorted by status) per line with one requested or reminded in the last 15
    # minutes (payments/sync.py); nothing else.
    awaiting = sum(awaits_payment_soon(line, timezone.now()) for line in lines)
    expected = {"GetConversations": len(lines), "GetPayments": awaiting}
    assert spent == {op: n for op, n in expected.items() if n}


def test_opening_a_conversation_without_history_fills_it_at_once(sandbox_server):
    from textdesk.conversations.services import load_history
    from textdesk.sync.engine import FIRST_PASS

    account = seeded_account(sandbox_server, contacts=20, messages=300, dashboards=1)
    line = lines_of(connect(account))[0]
    run_sync(line, wait=True, resources=FIRST_PASS)  # the inbox, no histories yet
    conversation = Conversation.objects.filter(dashboard=line).order_by("-last_message_at")[5]
    assert conversation.history_synced_at is None
    assert load_history(conversation=conversation) is True
    conversation.refresh_from_db()
    assert conversation.history_synced_at is not None
    remote = account.control.messages(
        account.api_key, line.dashboard_id, conversation.contact.phone_number
    )
    assert conversation.messages.count() == len(remote)
    assert load_history(conversation=conversation) is False


def test_new_activity_is_read_incrementally(sandbox_server):
    account = seeded_account(sandbox_server, contacts=20, messages=100, dashboards=1)
    line = lines_of(connect(account))[0]
    run_sync(line, wait=True)
    # The seed depends on the account's id (how many accounts the session's sandbox made
    # before): it may block a contact, and the sandbox drops a blocked contact's texts.
    phone = (
        Contact.objects.filter(dashboard=line, is_blocked=False)
        .exclude(conversation=None)
        .order_by("phone_number")
        .first()
        .phone_number
    )
    account.control.inbound(account.api_key, line.dashboard_id, phone, "First new")
    account.control.inbound(account.api_key, line.dashboard_id, phone, "Second new")
    account.control.inbound(account.api_key, line.dashboard_id, "6155550111", "Brand new person")
    before = calls(account)
    run_sync(line, wait=True)
    spent = {
        op: n - before.get(op, 0) for op, n in calls(account).items() if n != before.get(op, 0)
    }
    expected = {
        "GetConversations": 1,
        "GetContacts": 1,
        "GetMessagesByContactPhone": 2,
        # the open payments' states, every cycle while one was requested lately
        "GetPayments": int(awaits_payment_soon(line, timezone.now())),
    }
    assert spent == {op: n for op, n in expected.items() if n}
    conversation = Conversation.objects.get(contact__phone_number=phone, dashboard=line)
    assert conversation.last_message_preview == "Second new"
    assert conversation.is_unread
    assert conversation.messages.filter(body="First new").exists()
    assert Conversation.objects.filter(contact__phone_number="6155550111").exists()
