"""The outbox with a real Celery worker process (not eager): redelivery and crash safety.

Needs PostgreSQL (the worker must share the test database) and Redis (broker and limiter)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection as db
from django.utils import timezone

from tests.textrequest_helpers import connect, lines_of, staff_fixture, wait_until  # noqa: F401
from textdesk.celery import app
from textdesk.conversations import outbound, services
from textdesk.conversations.models import Message
from textdesk.outbox.delivery import STALE_SENDING

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def start_worker(settings, queues: str = "interactive") -> subprocess.Popen:
    d = db.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{d['USER']}:{d['PASSWORD'] or ''}@{d['HOST']}:{d['PORT']}/{d['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "TEXTDESK_UNKNOWN_GRACE": "60",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "textdesk",
            "worker",
            "-Q",
            queues,
            "--pool",
            "solo",
            "-n",
            f"outbox-test-{uuid.uuid4().hex[:6]}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> str:
    if worker.poll() is None:
        worker.send_signal(sig)
    try:
        out, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, _ = worker.communicate()
    return out.decode(errors="replace")


def kill_mid_send(worker: subprocess.Popen, is_sending) -> None:
    """SIGKILL ``worker`` once ``is_sending()`` says its request is at Text Request (the
    caller made the stand-in slow to answer)."""
    wait_until(is_sending, timeout=30)
    time.sleep(0.5)
    stop(worker, signal.SIGKILL)


def let_the_stand_in_finish(account) -> None:
    """Fast again, and the request the dead worker made is finished at the stand-in."""
    account.control.clear_faults(account.api_key)
    account.control.wait_idle()
    time.sleep(3)


def sweep_until(is_sent) -> None:
    """Beat's sweeper, as if the row outlived any worker: unknown, then settled by a read."""

    def settled():
        outbound.sweep_texts(now=timezone.now() + STALE_SENDING + timedelta(seconds=1))
        return is_sent()

    wait_until(settled, timeout=40, step=1.0)


@pytest.fixture
def real_worker_mode():
    app.conf.task_always_eager = False
    app.control.purge()
    yield
    app.conf.task_always_eager = True


def test_worker_killed_mid_send_the_text_is_still_sent_exactly_once(
    real_worker_mode, sandbox_account, settings, staff
):
    account = sandbox_account
    line = lines_of(connect(account))[0]
    worker = start_worker(settings)
    try:
        # A normal send through the broker and the worker.
        conversation = services.start_conversation(
            dashboard=line,
            phone_number="6155550100",
            user=staff,
            body="Through the worker",
            client_key=uuid.uuid4(),
        )
        first = conversation.messages.get()
        wait_until(lambda: Message.objects.get(pk=first.pk).status == "sent", timeout=30)

        # Now the worker dies while its request is at Text Request (slow to answer).
        account.control.set_faults(api_key=account.api_key, latency_ms=3000)
        doomed = services.send_text(
            conversation=conversation, user=staff, body="Worker dies now", client_key=uuid.uuid4()
        )
        kill_mid_send(worker, lambda: Message.objects.get(pk=doomed.pk).status == "sending")
    except BaseException:
        print(stop(worker))
        raise
    let_the_stand_in_finish(account)

    worker = start_worker(settings)
    try:
        # Settled by reading the conversation, where the text is found: not sent again.
        sweep_until(lambda: Message.objects.get(pk=doomed.pk).status == "sent")
    finally:
        log = stop(worker)
    doomed.refresh_from_db()
    assert doomed.message_id, log
    sent = {d["body"]: d["count"] for d in account.control.counters(account.api_key)["sent"]}
    assert sent == {"Through the worker": 1, "Worker dies now": 1}
    assert conversation.messages.count() == 2
