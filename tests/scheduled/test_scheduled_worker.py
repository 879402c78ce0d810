"""Scheduled texts with a real Celery worker process (not eager): beat's task delivered twice
and a worker killed mid-send still give one text each. Needs PostgreSQL and Redis."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.outbox.test_outbox_worker import (  # noqa: F401
    kill_mid_send,
    let_the_stand_in_finish,
    real_worker_mode,
    start_worker,
    stop,
    sweep_until,
)
from tests.textrequest_helpers import connect, lines_of, staff_fixture, wait_until  # noqa: F401
from textdesk.celery import app
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Conversation, Message, ScheduledText

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

BEAT_TASK = "textdesk.conversations.tasks.send_due_texts"


def due_text(line, user, body, phone):
    contact = Contact.objects.create(dashboard=line, phone_number=phone, first_name="Casey")
    conversation = Conversation.objects.create(dashboard=line, contact=contact)
    return ScheduledText.objects.create(
        dashboard=line,
        conversation=conversation,
        contact_name="Casey",
        body=body,
        due_at=timezone.now() - timedelta(seconds=1),
        time_zone="America/New_York",
        client_key=uuid.uuid4(),
        created_by=user,
    )


def test_beat_twice_and_a_worker_killed_mid_send_send_each_text_once(
    real_worker_mode,  # noqa: F811
    sandbox_account,
    settings,
    staff,
):
    account = sandbox_account
    line = lines_of(connect(account))[0]
    worker = start_worker(settings, queues="sync")
    try:
        # Beat's task reaches the worker twice (a duplicated beat): one text each.
        texts = [due_text(line, staff, f"Due {i}", f"61555502{i:02d}") for i in range(3)]
        app.send_task(BEAT_TASK)
        app.send_task(BEAT_TASK)
        wait_until(
            lambda: Message.objects.filter(body__startswith="Due ", status="sent").count() == 3,
            timeout=40,
        )
        # The worker dies while its send is at Text Request (slow to answer).
        account.control.set_faults(api_key=account.api_key, latency_ms=3000)
        doomed = due_text(line, staff, "Worker dies now", "6155550299")
        app.send_task(BEAT_TASK)
        kill_mid_send(
            worker,
            lambda: Message.objects.filter(body="Worker dies now", status="sending").exists(),
        )
    except BaseException:
        print(stop(worker))
        raise
    let_the_stand_in_finish(account)

    worker = start_worker(settings, queues="sync,interactive")
    try:
        app.send_task(BEAT_TASK)  # beat keeps running: the text is not released again
        sweep_until(lambda: Message.objects.get(body="Worker dies now").status == "sent")
    finally:
        log = stop(worker)
    sent = {d["body"]: d["count"] for d in account.control.counters(account.api_key)["sent"]}
    assert sent == {"Due 0": 1, "Due 1": 1, "Due 2": 1, "Worker dies now": 1}, log
    assert Message.objects.filter(body="Worker dies now").count() == 1
    for item in [*texts, doomed]:
        item.refresh_from_db()
        assert item.status == ScheduledText.Status.RELEASED
