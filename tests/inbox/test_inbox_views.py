"""The inbox without a browser: list views, search, paging, drafts, composer, guard, actions."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_connection, make_conversation, make_line, make_user
from textdesk.contacts.models import Tag
from textdesk.conversations.models import Conversation, Draft, Message
from textdesk.conversations.views import PAGE_SIZE, THREAD_SIZE
from textdesk.payments.models import Payment

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def tr_line(db, sandbox_account):
    """A line backed by a fresh sandbox account, so sends really reach Text Request."""
    connection = make_connection(api_url=sandbox_account.api_url, api_key=sandbox_account.api_key)
    return make_line(connection, name="Sandbox line", dashboard_id=sandbox_account.dashboard_id)


@pytest.fixture
def tr_agent(tr_line):
    return make_user("tess", "Agent", lines=[tr_line], last_name="Lane")


def page_url(line, **query):
    url = reverse("conversations:line", args=[line.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def conv_url(conversation, name="conversation", *extra):
    return reverse(
        f"conversations:{name}", args=[conversation.dashboard_id, conversation.pk, *extra]
    )


def names(response) -> list[str]:
    return re.findall(r'<span class="row-name">([^<]+)</span>', response.content.decode())


def seen_of(response) -> str:
    return re.search(r'name="seen" value="([^"]*)"', response.content.decode()).group(1)


def test_inbox_redirects_to_the_first_line(client, agent, line):
    client.force_login(agent)
    response = client.get(reverse("conversations:inbox"))
    assert response.status_code == 302
    assert response["Location"] == page_url(line)


def test_no_lines_explains_what_to_do(client, db):
    client.force_login(make_user("lonely", "Agent"))
    response = client.get(reverse("conversations:inbox"))
    assert response.status_code == 200
    assert b"No phone line is assigned to you" in response.content


def test_views_filter_the_list(client, agent, line, admin_user):
    make_conversation(line, first_name="Open")
    make_conversation(line, first_name="Done", is_resolved=True)
    make_conversation(line, first_name="Shelved", is_archived=True)
    make_conversation(line, first_name="Taken", assigned_to=agent)
    make_conversation(line, first_name="Theirs", assigned_to=admin_user)
    client.force_login(agent)
    assert set(names(client.get(page_url(line)))) == {"Open", "Taken", "Theirs"}
    assert set(names(client.get(page_url(line, view="all")))) == {
        "Open",
        "Done",
        "Taken",
        "Theirs",
    }
    assert names(client.get(page_url(line, view="archived"))) == ["Shelved"]
    assert names(client.get(page_url(line, view="mine"))) == ["Taken"]
    assert names(client.get(page_url(line, view="unassigned"))) == ["Open"]


def test_newest_first_and_longest_waiting_first(client, agent, line):
    now = timezone.now()
    make_conversation(line, first_name="Old", last_message_at=now - timedelta(hours=5),
                      waiting_since=now - timedelta(hours=5))  # fmt: skip
    make_conversation(line, first_name="New", last_message_at=now,
                      waiting_since=now - timedelta(minutes=1))  # fmt: skip
    make_conversation(line, first_name="Answered", last_message_at=now - timedelta(hours=1))
    client.force_login(agent)
    assert names(client.get(page_url(line))) == ["New", "Answered", "Old"]
    assert names(client.get(page_url(line, sort="waiting"))) == ["Old", "New"]


def test_tag_filter(client, agent, line):
    vip = Tag.objects.create(dashboard=line, tag_id="g1", name="VIP", color="#ff0000")
    tagged = make_conversation(line, first_name="Tagged")
    tagged.contact.tags.add(vip)
    make_conversation(line, first_name="Plain")
    client.force_login(agent)
    response = client.get(page_url(line, tag=vip.pk))
    assert names(response) == ["Tagged"]
    assert b'data-color="#ff0000"' in response.content


def test_search_by_partial_name_and_number(client, agent, line):
    make_conversation(line, first_name="Jordan", phone="4235551234")
    make_conversation(line, first_name="Riley", phone="6155559876")
    client.force_login(agent)
    assert names(client.get(page_url(line, q="jor"))) == ["Jordan"]
    assert names(client.get(page_url(line, q="555-98"))) == ["Riley"]
    assert names(client.get(page_url(line, q="(423)"))) == ["Jordan"]
    assert b"No match" in client.get(page_url(line, q="nobody")).content


def test_search_partial_is_a_fragment(client, agent, line):
    make_conversation(line, first_name="Jordan")
    client.force_login(agent)
    response = client.get(page_url(line, q="jor"), **HTMX, HTTP_HX_TARGET="conversation-list")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="conversation-list"' in response.content
    assert b'id="live"' in response.content  # the poller follows the new filters


def test_keyset_paging_walks_every_row_once(client, agent, line):
    now = timezone.now()
    same_moment = now - timedelta(hours=1)
    for i in range(120):  # three pages: 40 + 40 + 40
        # Ties on the timestamp must not lose or repeat rows at page edges.
        moment = same_moment if 35 <= i < 50 else now - timedelta(minutes=i)
        make_conversation(line, first_name=f"P{i:03d}", last_message_at=moment)
    client.force_login(agent)
    seen = []
    response = client.get(page_url(line))
    seen += names(response)
    assert len(seen) == PAGE_SIZE
    for _ in range(5):
        match = re.search(r'hx-get="[^"]*after=([0-9.]+)"', response.content.decode())
        if not match:
            break
        response = client.get(page_url(line, after=match.group(1)), **HTMX,
                              HTTP_HX_TARGET="list-more")  # fmt: skip
        assert b"<html" not in response.content
        seen += names(response)
    assert len(seen) == 120
    assert len(set(seen)) == 120


def test_bad_cursor_is_400_with_a_reason(client, agent, line):
    client.force_login(agent)
    response = client.get(page_url(line, after="nonsense"))
    assert response.status_code == 400
    assert b"not valid" in response.content


def test_row_shows_unread_opted_out_and_preview(client, agent, line):
    conversation = make_conversation(line, first_name="Quinn", is_unread=True,
                                     last_message_preview="See you soon")  # fmt: skip
    conversation.contact.opted_out_at = timezone.now()
    conversation.contact.save()
    client.force_login(agent)
    body = client.get(page_url(line)).content.decode()
    assert "See you soon" in body
    assert '<span class="badge badge-info">New</span>' in body  # unread: a word, not a colour
    assert "Opted out" in body


def test_opening_marks_read_and_renders_thread(client, agent, line):
    conversation = make_conversation(line, first_name="Quinn", is_unread=True,
                                     history_synced_at=timezone.now())  # fmt: skip
    Message.objects.create(
        conversation=conversation,
        direction="R",
        body="Hi there",
        sent_at=timezone.now(),
        mms_media=["https://cdn.example/p.jpg"],
    )
    Message.objects.create(conversation=conversation, direction="S", body="Hello!",
                           sender_name="Sam", sent_at=timezone.now(), status="failed",
                           failure_reason="Number unreachable")  # fmt: skip
    client.force_login(agent)
    response = client.get(conv_url(conversation))
    body = response.content.decode()
    assert 'id="thread-log" class="thread-log" aria-live="polite"' in body
    assert "Today" in body
    assert 'src="https://cdn.example/p.jpg"' in body
    assert "Not sent: Number unreachable" in body
    assert ">Retry</button>" in body
    conversation.refresh_from_db()
    assert not conversation.is_unread


def test_conversation_partial_is_a_fragment(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    response = client.get(conv_url(conversation), **HTMX, HTTP_HX_TARGET="conversation")
    assert b"<html" not in response.content
    assert b'id="conversation"' in response.content
    assert b'id="composer"' in response.content


def test_draft_survives_switching_and_reloading(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    response = client.post(conv_url(conversation, "draft"), {"body": "Half a thought"}, **HTMX)
    assert response.status_code == 204
    assert Draft.objects.get(user=agent, conversation=conversation).body == "Half a thought"
    assert b"Half a thought</textarea>" in client.get(conv_url(conversation)).content
    client.post(conv_url(conversation, "draft"), {"body": ""}, **HTMX)
    assert not Draft.objects.exists()


def test_drafts_are_per_agent(client, agent, line):
    conversation = make_conversation(line)
    colleague = make_user("cole", "Agent", lines=[line])
    Draft.objects.create(user=colleague, conversation=conversation, body="Cole's words")
    client.force_login(agent)
    assert b"Cole&#x27;s words" not in client.get(conv_url(conversation)).content


def test_reply_reaches_text_request_once(
    client, tr_agent, tr_line, sandbox_account, django_capture_on_commit_callbacks
):
    conversation = make_conversation(tr_line, phone="4235550199")
    client.force_login(tr_agent)
    page = client.get(conv_url(conversation))
    key = re.search(r'name="client_key" value="([^"]+)"', page.content.decode()).group(1)
    Draft.objects.create(user=tr_agent, conversation=conversation, body="Be right there")
    form = {"body": "Be right there", "client_key": key, "seen": seen_of(page)}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(conv_url(conversation, "send"), form)
        again = client.post(conv_url(conversation, "send"), form)  # a double submit
    assert first.status_code == again.status_code == 302
    message = Message.objects.get(conversation=conversation)
    assert message.sender_name == "Tess Lane"
    assert message.status == "sent"
    assert not Draft.objects.exists()
    sandbox_account.control.wait_idle()
    delivered = sandbox_account.control.counters(sandbox_account.api_key)["delivered"]
    assert [d["count"] for d in delivered if d["body"] == "Be right there"] == [1]


def test_htmx_reply_answers_a_fresh_composer_and_the_thread(client, tr_agent, tr_line):
    conversation = make_conversation(tr_line, phone="4235550198")
    client.force_login(tr_agent)
    page = client.get(conv_url(conversation))
    form = {"body": "On my way", "client_key": "7b4c1f1e-0000-4000-8000-000000000001",
            "seen": seen_of(page)}  # fmt: skip
    response = client.post(conv_url(conversation, "send"), form, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<textarea id="id_body" name="body"' in body and "On my way</textarea>" not in body
    assert 'id="thread-log"' in body and 'hx-swap-oob="true"' in body
    assert "On my way" in body
    assert "inbox:changed" in response["HX-Trigger"]


def test_empty_reply_is_400_and_keeps_the_form(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    page = client.get(conv_url(conversation))
    form = {"body": "   ", "client_key": "7b4c1f1e-0000-4000-8000-000000000002",
            "seen": seen_of(page)}  # fmt: skip
    response = client.post(conv_url(conversation, "send"), form, **HTMX)
    assert response.status_code == 400
    assert b"Write something to send." in response.content
    assert not Message.objects.exists()


def test_bad_seen_is_400_not_500(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    form = {"body": "Hi", "client_key": "7b4c1f1e-0000-4000-8000-000000000003", "seen": "r=x"}
    response = client.post(conv_url(conversation, "send"), form)
    assert response.status_code == 400
    assert b"Hi</textarea>" in response.content


def test_opted_out_contact_disables_the_composer(client, agent, line):
    conversation = make_conversation(line)
    conversation.contact.opted_out_at = timezone.now()
    conversation.contact.save()
    client.force_login(agent)
    page = client.get(conv_url(conversation))
    assert b"opted out (texted STOP)" in page.content
    assert b'disabled aria-disabled="true"' in page.content
    form = {"body": "Hello?", "client_key": "7b4c1f1e-0000-4000-8000-000000000004",
            "seen": "m=0;t=0;r=0;p="}  # fmt: skip
    response = client.post(conv_url(conversation, "send"), form, **HTMX)
    assert response.status_code == 400
    assert b"opted out" in response.content
    assert not Message.objects.exists()


def test_guard_pauses_a_reply_when_the_contact_texted(client, tr_agent, tr_line):
    conversation = make_conversation(tr_line, phone="4235550197")
    client.force_login(tr_agent)
    page = client.get(conv_url(conversation))
    old_seen = seen_of(page)
    Message.objects.create(conversation=conversation, direction="R", body="Actually, cancel",
                           sent_at=timezone.now())  # fmt: skip
    form = {"body": "See you at 3", "client_key": "7b4c1f1e-0000-4000-8000-000000000005",
            "seen": old_seen}  # fmt: skip
    response = client.post(conv_url(conversation, "send"), form, **HTMX)
    body = response.content.decode()
    assert response.status_code == 409
    assert "Changed since you opened this" in body and "Actually, cancel" in body
    assert "See you at 3</textarea>" in body  # what the agent typed stays
    assert "Send anyway" in body
    assert not Message.objects.filter(direction="S").exists()
    form["seen"] = seen_of(response)
    assert client.post(conv_url(conversation, "send"), form, **HTMX).status_code == 200
    assert Message.objects.filter(direction="S", body="See you at 3").count() == 1


def test_guard_pauses_resolve_when_someone_replied(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    page = client.get(conv_url(conversation))
    colleague = make_user("cole", "Agent", lines=[line])
    Message.objects.create(conversation=conversation, direction="S", body="I'll handle it",
                           sender_name="Cole", sent_by=colleague, sent_at=timezone.now(),
                           status="sent")  # fmt: skip
    response = client.post(conv_url(conversation, "resolve"),
                           {"resolved": "1", "seen": seen_of(page)}, **HTMX)  # fmt: skip
    assert response.status_code == 409
    assert b"I&#x27;ll handle it" in response.content
    conversation.refresh_from_db()
    assert not conversation.is_resolved
    response = client.post(conv_url(conversation, "resolve"),
                           {"resolved": "1", "seen": seen_of(response)}, **HTMX)  # fmt: skip
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.is_resolved


def test_actions_without_javascript_redirect_back(client, agent, line):
    conversation = make_conversation(line)
    tag = Tag.objects.create(dashboard=line, tag_id="g1", name="VIP")
    client.force_login(agent)
    seen = seen_of(client.get(conv_url(conversation)))
    back = conv_url(conversation)
    assert (
        client.post(conv_url(conversation, "resolve"), {"resolved": "1", "seen": seen})["Location"]
        == back
    )
    assert client.post(conv_url(conversation, "archive"), {"archived": "1"})["Location"] == back
    assert client.post(conv_url(conversation, "assign"), {"assign": "me"})["Location"] == back
    assert client.post(conv_url(conversation, "tags"), {"tags": [tag.pk]})["Location"] == back
    contact = {"first_name": "Robin", "last_name": "Hood", "note": "Gate 7"}
    response = client.post(conv_url(conversation, "contact"), contact)
    assert response["Location"] == back
    conversation = Conversation.objects.select_related("contact").get(pk=conversation.pk)
    assert conversation.is_resolved and conversation.is_archived
    assert conversation.assigned_to == agent
    assert list(conversation.contact.tags.all()) == [tag]
    assert conversation.contact.name == "Robin Hood" and conversation.contact.note == "Gate 7"
    page = client.get(back).content.decode()
    assert "Unarchive" in page and "Reopen" in page and "Unassign" in page


def test_tags_of_another_line_are_refused(client, agent, line, other_line):
    conversation = make_conversation(line)
    foreign = Tag.objects.create(dashboard=other_line, tag_id="x1", name="Theirs")
    client.force_login(agent)
    response = client.post(conv_url(conversation, "tags"), {"tags": [foreign.pk]}, **HTMX)
    assert response.status_code == 400
    assert not conversation.contact.tags.exists()


def test_bad_payment_request_keeps_what_was_typed(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    form = {
        "amount": "-3",
        "message": "Deposit for Friday",
        "client_key": "7b4c1f1e-0000-4000-8000-000000000006",
    }
    response = client.post(conv_url(conversation, "request_payment"), form, **HTMX)
    assert response.status_code == 400
    assert b"Deposit for Friday" in response.content
    assert not Payment.objects.exists()


def open_payment(line, conversation, **extra):
    return Payment.objects.create(
        dashboard=line,
        contact=conversation.contact,
        customer_phone=conversation.contact.phone_number,
        amount_requested=Decimal("30.00"),
        payment_id=501,
        status="sent",
        textrequest_payment_status="Sent",
        requested_at=timezone.now(),
        **extra,
    )


def test_reminder_is_disabled_once_sent_with_when(client, agent, line):
    conversation = make_conversation(line)
    payment = open_payment(line, conversation, reminder_was_sent=True,
                           reminder_sent_at=timezone.now())  # fmt: skip
    client.force_login(agent)
    page = client.get(conv_url(conversation)).content.decode()
    assert 'disabled title="Text Request allows one reminder per payment">Reminder sent' in page
    assert "Reminder sent " in page
    seen = seen_of(client.get(conv_url(conversation)))
    response = client.post(conv_url(conversation, "remind", payment.pk), {"seen": seen}, **HTMX)
    assert response.status_code == 409
    assert b"already sent" in response.content


def test_guard_pauses_a_reminder_when_the_payment_changed(client, agent, line):
    conversation = make_conversation(line)
    payment = open_payment(line, conversation)
    client.force_login(agent)
    seen = seen_of(client.get(conv_url(conversation)))
    Payment.objects.filter(pk=payment.pk).update(textrequest_payment_status="Paid")
    response = client.post(conv_url(conversation, "remind", payment.pk), {"seen": seen}, **HTMX)
    assert response.status_code == 409
    assert b"Changed since you opened this" in response.content
    payment.refresh_from_db()
    assert not payment.reminder_was_sent


def test_new_conversation_with_a_bad_number_keeps_the_text(client, agent, line):
    client.force_login(agent)
    form = {"phone_number": "12", "body": "Hello from the shop",
            "client_key": "7b4c1f1e-0000-4000-8000-000000000007"}  # fmt: skip
    response = client.post(reverse("conversations:new", args=[line.pk]), form)
    assert response.status_code == 400
    assert b"not a valid US phone number" in response.content or b"is not a phone number" in (
        response.content
    )
    assert b"Hello from the shop</textarea>" in response.content


def test_new_conversation_opens_the_thread(client, tr_agent, tr_line, sandbox_account):
    client.force_login(tr_agent)
    form = {"phone_number": "+1 (423) 555-0142", "body": "Your order is ready",
            "client_key": "7b4c1f1e-0000-4000-8000-000000000008"}  # fmt: skip
    response = client.post(reverse("conversations:new", args=[tr_line.pk]), form)
    conversation = Conversation.objects.get(contact__phone_number="4235550142")
    assert response.status_code == 302
    assert response["Location"] == conv_url(conversation)
    assert Message.objects.get(conversation=conversation).body == "Your order is ready"
    page = client.get(response["Location"]).content.decode()
    assert "You already had a conversation with this number" not in page
    # Texting the same number again from "New" says so.
    form["client_key"] = "7b4c1f1e-0000-4000-8000-000000000009"
    again = client.post(reverse("conversations:new", args=[tr_line.pk]), form, follow=True)
    assert "You already had a conversation with this number" in again.content.decode()


def test_live_answers_204_until_something_changes(client, agent, line):
    conversation = make_conversation(line, history_synced_at=timezone.now())
    client.force_login(agent)
    page = client.get(conv_url(conversation)).content.decode()
    live = re.search(r'id="live" class="live" hx-get="([^"]+)"', page).group(1)
    live = live.replace("&amp;", "&")
    assert client.get(live, **HTMX).status_code == 204
    Message.objects.create(conversation=conversation, direction="R", body="New text!",
                           sent_at=timezone.now())  # fmt: skip
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=timezone.now(), last_message_preview="New text!", is_unread=True
    )
    response = client.get(live, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="thread-log"' in body and "New text!" in body
    assert 'id="conversation-list"' in body
    assert 'id="composer"' not in body  # what the agent is typing is never replaced
    new_live = re.search(r'id="live" class="live" hx-get="([^"]+)"', body).group(1)
    assert client.get(new_live.replace("&amp;", "&"), **HTMX).status_code == 204


def test_earlier_messages_page_by_keyset(client, agent, line):
    conversation = make_conversation(line, history_synced_at=timezone.now())
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            direction="R",
            body=f"Text {i:03d}",
            sent_at=now - timedelta(minutes=300 - i),
        )  # fmt: skip
        for i in range(150)
    )
    client.force_login(agent)
    page = client.get(conv_url(conversation)).content.decode()
    newest = 150 - THREAD_SIZE
    assert "Text 149" in page and f"Text {newest:03d}" in page
    assert f"Text {newest - 1:03d}" not in page
    shown = []
    before = re.search(r"earlier/\?before=([0-9.]+)", page).group(1)
    while before:
        response = client.get(conv_url(conversation, "earlier") + f"?before={before}", **HTMX)
        body = response.content.decode()
        assert "<html" not in body
        shown += re.findall(r"Text (\d{3})", body)
        match = re.search(r"earlier/\?before=([0-9.]+)", body)
        before = match.group(1) if match else None
    assert sorted(shown) == [f"{i:03d}" for i in range(newest)]
    assert client.get(conv_url(conversation, "earlier") + "?before=zzz").status_code == 400


def test_retry_sends_a_failed_text_again_once(
    client, tr_agent, tr_line, sandbox_account, django_capture_on_commit_callbacks
):
    conversation = make_conversation(tr_line, phone="4235550196")
    failed = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Second try",
        sender_name="Tess Lane",
        sent_by=tr_agent,
        sent_at=timezone.now(),
        status="failed",
        failure_reason="Temporary carrier error",
    )
    client.force_login(tr_agent)
    url = conv_url(conversation, "retry", failed.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **HTMX)
    assert response.status_code == 200
    assert b'id="thread-log"' in response.content
    again = client.post(url, **HTMX)  # the button clicked twice
    assert again.status_code == 409
    assert b"Only a text that failed can be sent again." in again.content
    failed.refresh_from_db()
    assert failed.status == "sent"
    sandbox_account.control.wait_idle()
    delivered = sandbox_account.control.counters(sandbox_account.api_key)["delivered"]
    assert [d["count"] for d in delivered if d["body"] == "Second try"] == [1]


def test_actions_show_their_pending_state(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    response = client.post(conv_url(conversation, "archive"), {"archived": "1"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="conversation-status"' in body and "<html" not in body
    assert "Archive: queued" in body
    assert "Unarchive" in body


def test_cancel_payment_goes_through_the_outbox(client, agent, line):

    conversation = make_conversation(line)
    payment = open_payment(line, conversation)
    client.force_login(agent)
    response = client.post(conv_url(conversation, "cancel_payment", payment.pk), **HTMX)
    assert response.status_code == 200
    assert b"Cancel on its way." in response.content
    assert payment.changes.filter(kind="cancel_payment").count() == 1


def test_filters_survive_an_action(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    url = conv_url(conversation, "assign") + "?view=mine&q=cas"
    response = client.post(url, {"assign": "me"}, **HTMX)
    assert "?view=mine&amp;q=cas" in response.content.decode()


def test_opening_a_conversation_points_the_filters_and_poller_at_it(client, agent, line):
    conversation = make_conversation(line)
    client.force_login(agent)
    url = conv_url(conversation)
    body = client.get(url, **HTMX, HTTP_HX_TARGET="conversation").content.decode()
    assert f'id="list-filters" class="list-filters" method="get" action="{url}"' in body
    assert f"c={conversation.pk}" in body.split('id="live"')[1].split(">")[0]
    listed = client.get(url + "?q=cas", **HTMX, HTTP_HX_TARGET="conversation-list")
    live = listed.content.decode().split('id="live"')[1].split(">")[0]
    assert f"c={conversation.pk}" in live and "q=cas" in live
