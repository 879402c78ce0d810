"""Pictures (MMS) in replies: the composer's type/size refusals, upload-then-send exactly once,
the thread showing what was sent."""

import re
import uuid
from datetime import timedelta

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_connection, make_conversation, make_line, make_user
from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.conversations import outbound, services
from textdesk.conversations.models import Attachment, Conversation, Message
from textdesk.textrequest.mms import MB

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
HTMX = {"HTTP_HX_REQUEST": "true"}


def png(name="photo.png", size=None):
    content = PNG if size is None else b"\x89PNG" + b"\x00" * (size - 4)
    return SimpleUploadedFile(name, content, content_type="image/png")


def counters(account):
    return account.control.counters(account.api_key)


def sent_count(account, body):
    return sum(d["count"] for d in counters(account)["sent"] if d["body"] == body)


# --- the composer (view) ------------------------------------------------------------------------


@pytest.fixture
def tr_line(db, sandbox_account):
    connection = make_connection(api_url=sandbox_account.api_url, api_key=sandbox_account.api_key)
    return make_line(connection, name="Sandbox line", dashboard_id=sandbox_account.dashboard_id)


@pytest.fixture
def tr_agent(tr_line):
    return make_user("tess", "Agent", lines=[tr_line], last_name="Lane")


def conv_url(conversation, name="conversation"):
    return reverse(f"conversations:{name}", args=[conversation.dashboard_id, conversation.pk])


def compose(client, conversation, body, files):
    page = client.get(conv_url(conversation))
    html = page.content.decode()
    key = re.search(r'name="client_key" value="([^"]+)"', html).group(1)
    seen = re.search(r'name="seen" value="([^"]*)"', html).group(1)
    return {"body": body, "client_key": key, "seen": seen, "attachments": files}


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([SimpleUploadedFile("setup.exe", b"MZ")], "cannot be sent: attach a JPEG, PNG"),
        ([SimpleUploadedFile("menu.pdf", b"%PDF" + b"0" * MB)], "A PDF can be at most 1 MB"),
        ([png("huge.png", 5 * MB + 1)], "A file can be at most 5 MB"),
        ([png(f"p{i}.png") for i in range(4)], "at most 3 files; you chose 4"),
        ([SimpleUploadedFile("empty.png", b"")], "empty"),
    ],
)
def test_mms_type_and_size_refusals_keep_the_text_and_send_nothing(
    client, tr_agent, tr_line, sandbox_account, files, reason
):
    conversation = make_conversation(tr_line, phone="4235550191")
    client.force_login(tr_agent)
    form = compose(client, conversation, "Here is the form", files)
    response = client.post(conv_url(conversation, "send"), form, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert reason in html and "Nothing was sent" in html
    assert "Here is the form</textarea>" in html  # what was typed is kept
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not Attachment.objects.exists()
    assert counters(sandbox_account)["calls"].get("UploadMms", 0) == 0


def test_composer_without_js_is_a_multipart_form(client, tr_agent, tr_line):
    conversation = make_conversation(tr_line, phone="4235550192")
    client.force_login(tr_agent)
    html = client.get(conv_url(conversation)).content.decode()
    composer = html[html.index('id="composer"') - 30 :]
    assert 'enctype="multipart/form-data"' in composer[:400]
    assert 'type="file" name="attachments"' in composer and "multiple" in composer
    assert 'accept=".csv,.jpeg,.jpg,.png,.pdf' in composer


def test_picture_reply_is_sent_once_and_shown_in_the_thread(
    client, tr_agent, tr_line, sandbox_account, django_capture_on_commit_callbacks
):
    conversation = make_conversation(tr_line, phone="4235550193")
    client.force_login(tr_agent)
    files = [png("receipt.png"), SimpleUploadedFile("terms.pdf", b"%PDF-1.4 terms")]
    form = compose(client, conversation, "", files)  # pictures alone are a text
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(conv_url(conversation, "send"), form)
        form["attachments"] = [png("receipt.png"), SimpleUploadedFile("terms.pdf", b"%PDF")]
        again = client.post(conv_url(conversation, "send"), form)  # a double submit
    assert first.status_code == again.status_code == 302
    message = Message.objects.get(conversation=conversation)
    assert message.status == Message.Status.SENT
    assert len(message.mms_media) == 2
    assert message.mms_media[0].endswith("/receipt.png")
    # each file went up once, and its bytes were let go once Text Request had it
    stored = list(Attachment.objects.filter(message=message))
    assert [a.url for a in stored] == message.mms_media
    assert all(bytes(a.content) == b"" for a in stored)
    numbers = counters(sandbox_account)
    assert numbers["calls"]["UploadMms"] == 2 and numbers["mms_uploads"] == 2
    assert numbers["calls"]["SendMessageByPhoneNumber"] == 1
    assert requests.get(message.mms_media[0], timeout=5).content == PNG
    html = client.get(conv_url(conversation)).content.decode()
    assert f'<img src="{message.mms_media[0]}"' in html
    assert '<span class="mms-file">terms.pdf</span>' in html  # not an image: a named link
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "[picture]"


# --- the send task: uploads, timeouts, exactly once ------------------------------------------

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 0.5
    settings.TEXTDESK_UNKNOWN_GRACE = 0
    connection = connect(sandbox_account)
    return sandbox_account, lines_of(connection)[0]


def new_conversation(line, phone="6155550123"):
    from textdesk.contacts.models import Contact

    contact = Contact.objects.create(dashboard=line, phone_number=phone, first_name="Casey")
    return Conversation.objects.create(dashboard=line, contact=contact)


def test_an_upload_that_times_out_is_repeated_and_the_text_goes_once(setup, staff):
    account, line = setup
    conversation = new_conversation(line)
    account.control.set_faults(api_key=account.api_key, timeout_rate=1.0, timeout_seconds=1.0)
    message = services.send_text(
        conversation=conversation,
        user=staff,
        body="Photo of the part",
        client_key=uuid.uuid4(),
        attachments=[png("part.png")],
    )
    message.refresh_from_db()
    # nothing reached the customer, so the text waits to be tried again (not "unknown")
    assert message.status == Message.Status.PENDING and message.not_before
    assert Attachment.objects.get(message=message).url == ""
    assert counters(account)["mms_uploads"] == 1  # the sandbox kept it: an orphan, harmless
    account.control.clear_faults(account.api_key)
    Message.objects.filter(pk=message.pk).update(not_before=timezone.now())
    outbound.deliver_text(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert sent_count(account, "Photo of the part") == 1
    assert counters(account)["mms_uploads"] == 2
    assert message.mms_media == [Attachment.objects.get(message=message).url]


def test_a_send_that_times_out_after_the_uploads_is_settled_never_resent(setup, staff, monkeypatch):
    account, line = setup
    conversation = new_conversation(line)
    monkeypatch.setattr(services, "enqueue_send", lambda *a, **k: None)  # the worker runs later
    message = services.send_text(
        conversation=conversation,
        user=staff,
        body="Two pictures",
        client_key=uuid.uuid4(),
        attachments=[png("a.png"), png("b.png")],
    )
    # A first attempt uploaded the files (their URLs are stored the moment Text Request answers)...
    with line.connection.client() as client:
        urls = outbound.upload_attachments(client, message)
    assert len(urls) == 2
    # ... and the text's own send times out: it may have gone out.
    account.control.set_faults(api_key=account.api_key, timeout_rate=1.0, timeout_seconds=1.0)
    outbound.deliver_text(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    account.control.clear_faults(account.api_key)
    outbound.settle_text(message.pk, now=timezone.now() + timedelta(minutes=5))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.mms_media == urls
    assert sent_count(account, "Two pictures") == 1
    assert counters(account)["mms_uploads"] == 2  # the stored URLs were reused, not re-uploaded


def test_a_file_text_request_refuses_fails_the_text_with_the_reason(setup, staff, monkeypatch):
    account, line = setup
    conversation = new_conversation(line)
    monkeypatch.setattr(services, "enqueue_send", lambda *a, **k: None)
    message = services.send_text(
        conversation=conversation,
        user=staff,
        body="Contract",
        client_key=uuid.uuid4(),
        attachments=[SimpleUploadedFile("contract.pdf", b"%PDF")],
    )
    # Text Request's own rule may differ from ours: its refusal is the reason shown
    Attachment.objects.filter(message=message).update(name="contract.docx")
    outbound.deliver_text(message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert "not supported" in message.failure_reason
    assert sent_count(account, "Contract") == 0


def test_service_refuses_bad_files_too(setup, staff):
    _, line = setup
    conversation = new_conversation(line)
    with pytest.raises(services.CannotText, match="at most 1 MB"):
        services.send_text(
            conversation=conversation,
            user=staff,
            body="x",
            client_key=uuid.uuid4(),
            attachments=[SimpleUploadedFile("big.pdf", b"0" * (MB + 1))],
        )
    assert not Message.objects.exists()
