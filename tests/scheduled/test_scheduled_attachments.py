"""A scheduled text may carry files (MMS): they are checked as Text Request takes them when the
text is scheduled or edited, wait with it, and leave once, with the text, when it is due; a file
Text Request refuses then is a clear reason on the scheduled text, never a 500 (Text Request
stand-in)."""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.audit.models import Entry
from textdesk.contacts.models import Contact
from textdesk.conversations import scheduled, services
from textdesk.conversations.models import Attachment, Conversation, Message, ScheduledText
from textdesk.dashboards.models import SavedReply

pytestmark = pytest.mark.django_db(transaction=True)
ZONE = "America/New_York"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def world(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 2
    line = lines_of(connect(sandbox_account))[0]
    contact = Contact.objects.create(dashboard=line, phone_number="6155550188", first_name="Casey")
    conversation = Conversation.objects.create(dashboard=line, contact=contact)
    agent = make_user("sam", "Agent", lines=[line])
    return sandbox_account, line, conversation, agent


def picture(name="plan.png", content=PNG):
    return SimpleUploadedFile(name, content, "image/png")


def later_input(hours=30) -> str:
    moment = timezone.now() + timedelta(hours=hours)
    return moment.astimezone(ZoneInfo(scheduled.line_zone(0))).strftime("%Y-%m-%dT%H:%M")


def send_later(client, conversation, body, files, **extra):
    data = {
        "body": body,
        "send_at": later_input(),
        "client_key": str(uuid.uuid4()),
        "when": "later",
        "attachments": files,
    }
    data.update(extra)
    url = reverse("conversations:send", args=[conversation.dashboard_id, conversation.pk])
    return client.post(url, data)


def schedule(conversation, agent, body, files=(), *, hours=5) -> ScheduledText:
    """A text with files scheduled ``hours`` ahead, as the composer's Send later does."""
    return scheduled.schedule_text(
        conversation=conversation,
        user=agent,
        body=body,
        due_at=timezone.now() + timedelta(hours=hours),
        zone=ZONE,
        client_key=uuid.uuid4(),
        attachments=list(files),
    )


def make_due(item: ScheduledText) -> None:
    """Its time has come (the service refuses a time in the past, so the row is moved)."""
    ScheduledText.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(minutes=1))


def test_send_later_keeps_the_files_until_the_text_leaves(client, world):
    account, line, conversation, agent = world
    client.force_login(agent)
    response = send_later(client, conversation, "Here is the plan", [picture()])
    assert response.status_code == 302
    item = ScheduledText.objects.get()
    files = list(item.attachments.all())
    assert [(f.name, f.message_id, bytes(f.content)) for f in files] == [("plan.png", None, PNG)]
    assert account.control.counters(account.api_key)["mms_uploads"] == 0  # nothing yet
    thread = client.get(reverse("conversations:conversation", args=[line.pk, conversation.pk]))
    assert "plan.png" in thread.content.decode()
    listing = client.get(reverse("conversations:scheduled", args=[line.pk]))
    assert "plan.png" in listing.content.decode()
    assert "with plan.png" in Entry.objects.get(kind="text_scheduled").summary


def test_a_due_text_uploads_and_sends_its_files_once_with_it(world):
    account, line, conversation, agent = world
    item = schedule(
        conversation,
        agent,
        "Your invoice and the photo",
        [picture("photo.png"), SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 x")],
        hours=1,
    )
    make_due(item)
    assert scheduled.release_due()["released"] == 1
    assert scheduled.release_due()["released"] == 0  # a second beat finds nothing
    item.refresh_from_db()
    message = item.message
    assert message.status == Message.Status.SENT
    assert len(message.mms_media) == 2
    files = list(Attachment.objects.filter(message=message).order_by("position"))
    assert [f.name for f in files] == ["photo.png", "invoice.pdf"]
    assert all(f.url and not f.content and f.scheduled_id == item.pk for f in files)
    counters = account.control.counters(account.api_key)
    assert counters["mms_uploads"] == 2
    sent = [d for d in counters["sent"] if d["body"] == "Your invoice and the photo"]
    assert [d["count"] for d in sent] == [1]
    upstream = account.control.messages(account.api_key, line.dashboard_id, "6155550188")
    mine = [m for m in upstream if m.get("body") == "Your invoice and the photo"]
    assert len(mine) == 1 and len(mine[0].get("mms_media") or []) == 2


def test_a_file_only_text_may_be_scheduled_but_not_an_empty_one(client, world):
    _account, _line, conversation, agent = world
    client.force_login(agent)
    assert send_later(client, conversation, "", [picture()]).status_code == 302
    assert ScheduledText.objects.get().body == ""
    empty = send_later(client, conversation, "  ", [])
    assert empty.status_code == 400
    assert "Write the text to send later." in empty.content.decode()


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([SimpleUploadedFile("notes.docx", b"word")], "cannot be sent: attach a"),
        ([SimpleUploadedFile("big.pdf", b"%" * (1024 * 1024 + 1))], "A PDF can be at most 1 MB"),
        ([picture(f"p{i}.png") for i in range(4)], "at most 3 files"),
    ],
)
def test_a_file_text_request_would_refuse_is_a_form_error(client, world, files, reason):
    _account, _line, conversation, agent = world
    client.force_login(agent)
    response = send_later(client, conversation, "Kept as typed", files)
    html = response.content.decode()
    assert response.status_code == 400
    assert reason in html
    assert "Kept as typed" in html and "choose the" in html  # the text kept, files asked again
    assert not ScheduledText.objects.exists() and not Attachment.objects.exists()


def test_a_file_text_request_refuses_at_send_time_is_shown_on_the_scheduled_text(client, world):
    account, line, conversation, agent = world
    item = schedule(conversation, agent, "The form you asked for", [picture("form.png")], hours=1)
    # Text Request refuses what textdesk accepted when it was scheduled (its rules changed).
    Attachment.objects.filter(scheduled=item).update(name="form.heic")
    make_due(item)
    scheduled.release_due()
    item.refresh_from_db()
    assert item.message.status == Message.Status.FAILED
    assert item.skip_reason.startswith("Not sent: Text Request refused a file of this text: ")
    assert "heic" in item.skip_reason
    assert account.control.counters(account.api_key)["sent"] == []  # the text never left
    client.force_login(agent)
    listing = client.get(reverse("conversations:scheduled", args=[line.pk]))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "The form you asked for" in html and "refused a file of this text" in html
    # Once the file is one Text Request takes, a person sends it again from the thread: it
    # leaves once and the note goes.
    Attachment.objects.filter(scheduled=item).update(name="form.png")
    services.retry_text(message=item.message, user=agent)
    item.refresh_from_db()
    assert item.message.status == Message.Status.SENT and item.skip_reason == ""
    sent = account.control.counters(account.api_key)["sent"]
    assert [d["count"] for d in sent if d["body"] == "The form you asked for"] == [1]


def test_edit_removes_and_adds_files(client, world):
    _account, line, conversation, agent = world
    item = schedule(
        conversation, agent, "Two pictures", [picture("old.png"), picture("keep.png")], hours=5
    )
    old = item.attachments.get(name="old.png")
    client.force_login(agent)
    url = reverse("conversations:scheduled_edit", args=[line.pk, item.pk])
    page = client.get(url).content.decode()
    assert "old.png" in page and "keep.png" in page and 'enctype="multipart/form-data"' in page
    response = client.post(
        url,
        {
            "body": "Still two pictures",
            "send_at": later_input(6),
            "remove": [str(old.pk)],
            "attachments": [picture("new.png")],
        },
    )
    assert response.status_code == 302
    names = list(scheduled.waiting_files(item).values_list("name", flat=True))
    assert names == ["keep.png", "new.png"]
    assert (
        "removed old.png; added new.png" in Entry.objects.get(kind="text_schedule_edited").summary
    )


def test_edit_refuses_a_fourth_file_and_keeps_what_was_typed(client, world):
    _account, line, conversation, agent = world
    item = schedule(
        conversation, agent, "Three already", [picture(f"p{i}.png") for i in range(3)], hours=5
    )
    client.force_login(agent)
    url = reverse("conversations:scheduled_edit", args=[line.pk, item.pk])
    response = client.post(
        url, {"body": "Typed again", "send_at": later_input(6), "attachments": [picture("x.png")]}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 3 files" in html and "Typed again" in html
    assert scheduled.waiting_files(item).count() == 3
    # Removing every file and the words leaves nothing to send.
    everything = [str(pk) for pk in item.attachments.values_list("pk", flat=True)]
    empty = client.post(url, {"body": "", "send_at": later_input(6), "remove": everything})
    assert empty.status_code == 400 and "Write the text to send later." in empty.content.decode()
    assert scheduled.waiting_files(item).count() == 3


def test_edit_offers_the_saved_replies_picker(client, world):
    _account, line, conversation, agent = world
    SavedReply.objects.create(dashboard=line, shortcut="hours", body="We're open 8 to 6.")
    item = schedule(conversation, agent, "Hello", hours=5)
    client.force_login(agent)
    page = client.get(reverse("conversations:scheduled_edit", args=[line.pk, item.pk]))
    html = page.content.decode()
    assert 'data-picker="saved-replies"' in html and 'data-insert="We&#x27;re open 8 to 6."' in html
    assert "js/inbox.js" in html


def test_a_skipped_or_cancelled_text_drops_its_files_bytes(world):
    _account, _line, conversation, agent = world
    items = [
        schedule(conversation, agent, body, [picture()], hours=5)
        for body in ("cancel me", "skip me")
    ]
    scheduled.cancel_scheduled(scheduled=items[0], user=agent)
    Contact.objects.filter(pk=conversation.contact_id).update(is_blocked=True)
    make_due(items[1])
    assert scheduled.release_due()["skipped"] == 1
    for item in items:
        (file,) = item.attachments.all()
        assert file.name == "plan.png" and bytes(file.content) == b""


def test_send_now_takes_the_files_along_once(world):
    account, _line, conversation, agent = world
    item = schedule(
        conversation, agent, "Sent early with its file", [picture("early.png")], hours=24 * 2
    )
    item = scheduled.send_scheduled_now(scheduled=item, user=agent)
    assert item.message.status == Message.Status.SENT and len(item.message.mms_media) == 1
    assert scheduled.release_due()["released"] == 0  # beat never sends it again
    counters = account.control.counters(account.api_key)
    assert counters["mms_uploads"] == 1
    assert [d["count"] for d in counters["sent"] if d["body"] == item.body] == [1]


def test_files_cost_one_query_whatever_the_number_of_texts(client, world):
    _account, line, conversation, agent = world

    def schedule_with_file(i):
        schedule(conversation, agent, f"Text {i}", [picture(f"file{i}.png")], hours=5 + i)

    client.force_login(agent)
    urls = [
        reverse("conversations:scheduled", args=[line.pk]),
        reverse("conversations:conversation", args=[line.pk, conversation.pk]),
    ]
    schedule_with_file(0)
    for url in urls:  # first visits write once (last seen, the thread's history read)
        client.get(url)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            for url in urls:
                assert client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
        for i in range(1, 12):
            schedule_with_file(i)
    html = client.get(urls[0]).content.decode()
    assert "file11.png" in html
    assert counts[0] == counts[1]
