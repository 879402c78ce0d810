"""Sending texts: the outbox rows of agents' replies, exactly once in effect.

Texts follow the lifecycle shared by every outbox row (``textdesk/outbox/delivery.py``):
``deliver_text`` claims a pending row, re-checks the contact's opt-out under a row lock,
commits, then calls Text Request once; an unknown outcome is settled by ``settle_text`` reading
the contact's recent messages (and a status callback or the ``msg_sent`` webhook naming the
text settles it too, through ``inbound.py``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.contacts import quiet
from textdesk.contacts.models import Contact
from textdesk.conversations import sla
from textdesk.conversations.models import (
    Attachment,
    Conversation,
    Message,
    ScheduledText,
    has_location_request,
)
from textdesk.dashboards.models import Dashboard
from textdesk.outbox import delivery
from textdesk.textrequest import errors
from textdesk.textrequest import types as tr

enqueue_send = delivery.enqueue_on_commit("textdesk.conversations.tasks.send_message")
enqueue_settle = delivery.enqueue_on_commit("textdesk.conversations.tasks.settle_message")


def status_callback_url(message: Message) -> str:
    """Where Text Request reports this text's delivery; the URL names our row."""
    connection = message.conversation.dashboard.connection
    path = reverse("hooks:status", args=[connection.webhook_token, message.pk])
    return f"{settings.TEXTDESK_PUBLIC_URL}{path}"


def location_callback_url(message: Message) -> str | None:
    """Where Text Request posts the location the customer shares (only for a text that asks
    for it: a callback without the tag is refused)."""
    if not has_location_request(message.body):
        return None
    connection = message.conversation.dashboard.connection
    path = reverse("hooks:location", args=[connection.webhook_token, message.pk])
    return f"{settings.TEXTDESK_PUBLIC_URL}{path}"


def deliver_text(message_pk: int) -> None:
    """Send one queued text (the body of the ``send_message`` task); safe to run twice."""
    message = (
        Message.objects.select_related("conversation")
        .filter(pk=message_pk)
        .only("id", "status", "conversation__contact_id")
        .first()
    )
    if message is None or message.status != Message.Status.PENDING:
        return
    with transaction.atomic():
        # Lock order everywhere: contact, then its messages (record_consent does the same).
        contact = Contact.objects.select_for_update().get(pk=message.conversation.contact_id)
        message = Message.objects.select_for_update().get(pk=message_pk)
        if message.status != Message.Status.PENDING:
            return
        if message.not_before and message.not_before > timezone.now():
            return  # a retry is scheduled; its task (or the sweeper) comes back then
        reason = contact.cannot_text_reason
        if (
            not reason
            and Dashboard.objects.filter(pk=contact.dashboard_id, removed_at__isnull=False).exists()
        ):
            reason = "This line was removed from Text Request."
        if reason:
            message.mark_failed(f"Not sent: {reason}")
            return
        if message.priority == "sync" and hold_for_quiet_hours(message, contact):
            return
        if not delivery.claim(Message, message_pk, status_from="pending", status_to="sending"):
            return
    # Committed: any retry from here on knows an attempt may have gone out.
    message = Message.objects.select_related(
        "conversation__contact", "conversation__dashboard__connection"
    ).get(pk=message_pk)
    dashboard = message.conversation.dashboard
    # An agent's reply may use the whole limit; a text textdesk sends by itself (scheduled)
    # keeps the reserve for people.
    client = dashboard.connection.client(message.priority)
    try:
        try:
            upload_attachments(client, message)
        except errors.TextRequestError as exc:
            # Nothing reached the customer yet: an upload is safe to make again.
            delivery.send_failed(
                message, exc, send=enqueue_send, settle=enqueue_settle, repeatable=True
            )
            note_on_schedule(message, "Text Request refused a file of this text: ")
            return
        result = client.send_message(
            dashboard.dashboard_id,
            message.conversation.contact.phone_number,
            body=message.body,
            sender_name=message.sender_name or None,
            status_callback=status_callback_url(message),
            location_callback=location_callback_url(message),
            mms_media=message.mms_media or None,
        )
    except errors.LimiterBusy as exc:
        if message.priority == "interactive":
            delivery.send_failed(message, exc, send=enqueue_send, settle=enqueue_settle)
        else:
            wait_for_slot(message, exc)
    except errors.TextRequestError as exc:
        delivery.send_failed(message, exc, send=enqueue_send, settle=enqueue_settle)
        note_on_schedule(message)
    else:
        attach(message, result)
    finally:
        client.close()


def note_on_schedule(message: Message, what: str = "") -> None:
    """A scheduled text that failed for good says why on the scheduled text too, where the
    person who scheduled it looks (the Scheduled view), not only in the thread."""
    reason = (
        Message.objects.filter(pk=message.pk, status=Message.Status.FAILED)
        .values_list("failure_reason", flat=True)
        .first()
    )
    if reason is not None:
        ScheduledText.objects.filter(message_id=message.pk).update(
            skip_reason=f"Not sent: {what}{reason.removeprefix('Not sent: ')}"[:500]
        )


def hold_for_quiet_hours(message: Message, contact: Contact) -> bool:
    """A text textdesk sends by itself (scheduled, away reply) never reaches the customer in
    quiet hours: it stays pending until the next allowed minute (``not_before``, which the
    sweeper honours) and the thread says why. Answers whether it was held. Checked here, at
    send time, so a text queued in the afternoon and delayed by the limiter still waits."""
    line = Dashboard.objects.get(pk=contact.dashboard_id)
    clock = quiet.clock_for(contact, line)
    until = clock.next_allowed()
    if until is None:
        if message.waiting_note:
            Message.objects.filter(pk=message.pk).update(waiting_note="")
        return False
    note = quiet.waiting_note(contact, clock)
    Message.objects.filter(pk=message.pk).update(not_before=until, waiting_note=note[:200])
    return True


def wait_for_slot(message: Message, exc: errors.LimiterBusy) -> None:
    """A sync-priority text our own limiter held back sent nothing: pending again once a slot
    frees, without counting an attempt (a batch of due texts waits its turn, never gives up)."""
    wait = timedelta(seconds=max(1.0, exc.retry_in))
    if Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.PENDING,
        not_before=timezone.now() + wait,
        attempts=F("attempts") - 1,
    ):
        enqueue(
            "textdesk.conversations.tasks.send_message",
            message.pk,
            countdown=wait.total_seconds(),
            queue="sync",
        )


def upload_attachments(client, message: Message) -> list[str]:
    """Upload the text's files that Text Request does not have yet, storing each URL the
    moment it answers (so a retry never uploads a file twice), and put the URLs, in the order
    the agent chose, in ``message.mms_media``."""
    files = list(Attachment.objects.filter(message_id=message.pk).defer("content"))
    for item in files:
        if item.url:
            continue
        content = Attachment.objects.values_list("content", flat=True).get(pk=item.pk)
        answer = client.upload_mms(item.name, bytes(content), item.content_type)
        item.url = answer.url
        # The bytes are no longer needed: Text Request keeps the file at its URL.
        Attachment.objects.filter(pk=item.pk).update(url=item.url, content=b"")
    urls = [item.url for item in files]
    if urls and urls != message.mms_media:
        Message.objects.filter(pk=message.pk).update(mms_media=urls)
        message.mms_media = urls
    return urls


def attach(row: Message, item: tr.Message) -> bool:
    """Record that our outbound row is Text Request's message ``item`` (answer, webhook,
    status callback or a read of the conversation). A copy recorded before the match is
    merged away. Answers False if another outbox row already owns that message."""
    with transaction.atomic():
        owner = Message.objects.filter(message_id=item.message_id).exclude(pk=row.pk).first()
        updates = {
            "message_id": item.message_id,
            "status": Message.Status.SENT,
            "failure_reason": "",
            "not_before": None,
        }
        if owner is not None:
            if owner.client_key is not None:
                return False
            if owner.redacted_at is not None:  # the copy was redacted: so is our row
                updates.update(
                    body="", redacted_at=owner.redacted_at, redacted_by_id=owner.redacted_by_id
                )
            owner.delete()
        if item.delivery_status:
            updates["delivery_status"] = item.delivery_status
            updates["delivery_error"] = (item.delivery_error or "")[:500]
        if item.message_timestamp_utc:
            updates["sent_at"] = item.message_timestamp_utc
        if item.mms_media:
            updates["mms_media"] = item.mms_media
        Message.objects.filter(pk=row.pk).update(**updates)
        row.refresh_from_db()
        Conversation.objects.touch(row.conversation_id, row, is_new=False)
        sla.recount([row.conversation_id])  # a person's reply ends the wait once it is sent
    return True


def settle_text(message_pk: int, *, now=None) -> None:
    """Decide an ``unknown`` text (the body of the ``settle_message`` task): look for it among
    the contact's recent messages."""
    now = now or timezone.now()
    message = (
        Message.objects.select_related(
            "conversation__contact", "conversation__dashboard__connection"
        )
        .filter(pk=message_pk, status=Message.Status.UNKNOWN)
        .first()
    )
    if message is None or (message.not_before and message.not_before > now):
        return
    dashboard = message.conversation.dashboard

    def read(client):
        return client.get_messages(
            dashboard.dashboard_id, message.conversation.contact.phone_number, page_size=50
        ).items

    delivery.settle_unknown(
        message,
        open_client=lambda: dashboard.connection.client("interactive"),
        read=read,
        adopt=lambda row, items: any(matches(row, i) and attach(row, i) for i in items),
        now=now,
    )


def matches(row: Message, item: tr.Message) -> bool:
    """Is ``item`` (read from Text Request) the text our row sent, and no other row's?

    The same words sent by a colleague from Text Request's own app are not ours: a message
    that names its sender must name ours, and one that does not (a ``msg_sent`` webhook) can
    only be the echo of a request still in flight."""
    if not item.is_sent or (item.body or "").strip() != row.body.strip():
        return False
    if row.mms_media and len(item.mms_media) != len(row.mms_media):
        return False  # our text carried files: a text with other files is not it
    if item.response_by_username is None:
        if row.status != Message.Status.SENDING:
            return False
    elif row.sender_name and item.response_by_username.strip() != row.sender_name.strip():
        return False
    if (
        Message.objects.filter(message_id=item.message_id, client_key__isnull=False)
        .exclude(pk=row.pk)
        .exists()
    ):
        return False
    stamp = item.message_timestamp_utc
    return stamp is None or stamp >= delivery.started_at(row)


def sweep_texts(*, now=None, min_age: timedelta = timedelta(seconds=5)) -> dict:
    """Beat's safety net: re-enqueue texts left ``pending`` (a lost broker message), turn texts
    stuck in ``sending`` (their worker died) into ``unknown``, and settle ``unknown`` ones."""
    return delivery.sweep_rows(
        Message,
        send=enqueue_send,
        settle=enqueue_settle,
        now=now or timezone.now(),
        min_age=min_age,
        limit=500,
        stuck_reason="The worker sending this text stopped; checking whether it went out.",
    )
