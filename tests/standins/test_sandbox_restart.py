"""Stopping and starting the sandbox (as `make run` does) keeps it and textdesk's mirror
consistent: the sandbox runs as its own process with `--state`, textdesk sends texts through
it, the process is stopped with SIGTERM (what honcho sends), started again from its file, and
after an incremental sync every message is there exactly once on both sides."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from standins.textrequest.backend import DEMO_API_KEY
from standins.textrequest.pytest_fixtures import SandboxAccount
from standins.textrequest.testing import SandboxControl
from tests.textrequest_helpers import connect, lines_of, staff_fixture  # noqa: F401
from textdesk.conversations import services
from textdesk.conversations.models import Conversation, Message
from textdesk.sync.engine import run_sync

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """`manage.py sandbox serve --state PATH` in its own process."""

    def __init__(self, port: int, state: Path):
        self.port, self.state = port, state
        self.proc = None

    def start(self) -> "SandboxProcess":
        self.proc = subprocess.Popen(  # noqa: S603 - our own command
            [
                sys.executable, "manage.py", "sandbox", "serve", "--port", str(self.port),
                "--state", str(self.state), "--state-interval", "0.5",
                "--contacts", "30", "--messages", "200", "--delivery-delay", "0",
            ],
            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the sandbox did not start: {self.proc.communicate()[0]}")
                time.sleep(0.1)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        output, _ = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, output
        return output

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def sandbox_process(tmp_path):
    process = SandboxProcess(free_port(), tmp_path / "sandbox.state")
    yield process
    process.kill()


def account_at(port: int) -> SandboxAccount:
    url = f"http://127.0.0.1:{port}"
    return SandboxAccount(DEMO_API_KEY, url + "/api/v3", url, [], SandboxControl(url))


def send(conversation, staff, body):
    return services.send_text(
        conversation=conversation, user=staff, body=body, client_key=uuid.uuid4()
    )


def test_every_message_is_there_once_on_both_sides_after_a_restart(sandbox_process, staff):
    first = sandbox_process.start()
    assert "State: new" in "".join(first.proc.stdout.readline() for _ in range(2))
    account = account_at(sandbox_process.port)
    connection = connect(account)
    lines = lines_of(connection)
    assert len(lines) == 3
    for line in lines:
        run_sync(line, wait=True)
    line = lines[0]
    conversation = Conversation.objects.filter(dashboard=line, contact__opted_out_at=None)
    conversation = conversation.exclude(contact__is_blocked=True).order_by("-last_message_at")[0]
    phone = conversation.contact.phone_number
    ours = [send(conversation, staff, f"Before the restart {i}") for i in range(3)]
    assert all(
        m.status == Message.Status.SENT for m in Message.objects.filter(pk__in=[m.pk for m in ours])
    )
    account.control.inbound(DEMO_API_KEY, line.dashboard_id, phone, "Customer before the restart")
    before = account.control.messages(DEMO_API_KEY)
    thread_ids = {
        c["thread_id"]
        for c in account.get(f"/dashboards/{line.dashboard_id}/contacts", page_size=100).json()[
            "items"
        ]
    }

    assert "state saved" in sandbox_process.stop()
    sandbox_process.start()
    assert account.control.messages(DEMO_API_KEY) == before  # nothing vanished, nothing new

    send(conversation, staff, "After the restart")
    account.control.inbound(DEMO_API_KEY, line.dashboard_id, phone, "Customer after the restart")
    account.control.inbound(DEMO_API_KEY, line.dashboard_id, "6155550142", "A new customer")
    for each in lines:
        run_sync(each, wait=True)

    upstream = account.control.messages(DEMO_API_KEY)
    for each in lines:
        remote = Counter(
            m["message_id"] for m in upstream if m["dashboard_id"] == each.dashboard_id
        )
        local = Counter(
            Message.objects.filter(conversation__dashboard=each).values_list(
                "message_id", flat=True
            )
        )
        assert local == remote, each.name
        assert max(remote.values()) == 1
    bodies = Counter(m["body"] for m in upstream)
    for body in [*(f"Before the restart {i}" for i in range(3)), "After the restart",
                 "Customer before the restart", "Customer after the restart"]:  # fmt: skip
        assert bodies[body] == 1, body
        assert Message.objects.filter(body=body).count() == 1, body
    # the clock and the ids carried on
    stamps = [m["message_timestamp_utc"] for m in upstream if m["phone_number"] == phone]
    assert stamps == sorted(stamps)
    assert stamps[-1] > max(m["message_timestamp_utc"] for m in before)
    new = account.get(f"/dashboards/{line.dashboard_id}/contacts/6155550142").json()
    assert int(new["thread_id"]) > max(int(t) for t in thread_ids)
