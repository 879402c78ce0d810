"""`manage.py demo_reset` starts the demo over on both sides together: the sandbox back to its
seed and textdesk's copy of it rebuilt, so neither shows texts the other does not have."""

import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from standins.asms.backend import DEMO_TOKEN
from standins.asms.testing import AsmsSandboxServer
from standins.textrequest.backend import DEMO_API_KEY
from standins.textrequest.testing import SandboxServer
from tests.textrequest_helpers import staff_fixture  # noqa: F401
from textdesk.accounts.models import User
from textdesk.cases.models import LineDefaults, ServiceDesk
from textdesk.conversations import services
from textdesk.conversations.models import Conversation, Message
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.sync.engine import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def development(settings):
    """The demo commands run only in development (pytest-django turns DEBUG off)."""
    settings.DEBUG = True


def test_demo_reset_refuses_in_production(settings):
    from tests.conftest import make_connection

    make_connection()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_reset", "--noinput")
    assert Connection.objects.count() == 1  # nothing was deleted


@pytest.fixture
def demo_sandbox(settings):
    with SandboxServer(seed="demo", contacts=20, messages=120, delivery_delay=0) as sandbox:
        settings.TEXTREQUEST_API_URL = sandbox.api_url
        settings.TEXTREQUEST_API_KEY = DEMO_API_KEY
        yield sandbox


def test_demo_reset_resets_the_sandbox_and_textdesk_together(demo_sandbox, staff):
    call_command("demo_setup", "--wait", "5")
    line = Dashboard.objects.active().order_by("id").first()
    run_sync(line, wait=True)
    conversation = Conversation.objects.filter(dashboard=line).order_by("-last_message_at")[0]
    ours = services.send_text(
        conversation=conversation, user=staff, body="Gone after the reset", client_key=uuid.uuid4()
    )
    ours.refresh_from_db()
    assert ours.message_id
    upstream_before = {m["message_id"] for m in demo_sandbox.control.messages(DEMO_API_KEY)}

    call_command("demo_reset", "--noinput")

    upstream = demo_sandbox.control.messages(DEMO_API_KEY)
    assert "Gone after the reset" not in {m["body"] for m in upstream}
    # the same seed again (seeding is reproducible), without our text
    assert {m["message_id"] for m in upstream} == upstream_before - {ours.message_id}
    # textdesk's copy went with it; the first sync of the fresh sandbox started at once
    # (inline here, tasks being eager), so what textdesk holds now is the fresh seed's
    assert not Message.objects.filter(pk=ours.pk).exists()
    assert not Message.objects.filter(body="Gone after the reset").exists()
    assert set(Message.objects.values_list("message_id", flat=True)) <= {
        m["message_id"] for m in upstream
    }
    assert Connection.objects.count() == 1
    lines = Dashboard.objects.active()
    assert sorted(lines.values_list("dashboard_id", flat=True)) == sorted(
        d["id"] for d in demo_sandbox.backend.get_dashboards(DEMO_API_KEY, {})["items"]
    )
    agent = User.objects.get(username="agent")
    assert agent.dashboards.count() == 2  # the demo users have their lines again
    staff.refresh_from_db()  # other staff are kept


def test_demo_reset_starts_the_service_desk_over_too(demo_sandbox):
    """A case left in the ASMS stand-in would point at a conversation that is gone, and the
    recreated lines would file new cases nowhere: both stand-ins go back to their seed."""
    call_command("demo_setup", "--wait", "5")
    with AsmsSandboxServer(seed="demo") as asms:
        desk = ServiceDesk(instance_url=asms.url)
        desk.set_token(DEMO_TOKEN)
        desk.save()
        seeded = [c["subject"] for c in asms.backend.sandbox_cases(DEMO_TOKEN)]
        asms.backend.create_case(
            DEMO_TOKEN,
            {"itemType": 1, "projectId": 1, "serviceId": 13, "categoryId": 131,
             "subject": "Left over from before the reset"},
        )  # fmt: skip
        call_command("demo_reset", "--noinput")

        assert [c["subject"] for c in asms.backend.sandbox_cases(DEMO_TOKEN)] == seeded
    assert ServiceDesk.objects.get().pk == desk.pk  # still connected, same token
    lines = Dashboard.objects.active()
    assert lines.exists()
    assert LineDefaults.objects.filter(dashboard__in=lines, service_id=13).count() == lines.count()


def test_stopped_stand_ins_lose_their_state_files(settings, tmp_path):
    settings.TEXTREQUEST_API_URL = "http://127.0.0.1:9/api/v3"  # nothing listens there
    desk = ServiceDesk(instance_url="http://127.0.0.1:9")
    desk.set_token(DEMO_TOKEN)
    desk.save()
    state, asms_state = tmp_path / "sandbox.state", tmp_path / "asms.state"
    state.write_bytes(b"old state")
    asms_state.write_bytes(b"old cases")
    call_command("demo_reset", "--noinput", "--state", str(state), "--asms-state", str(asms_state))
    assert not state.exists()
    assert not asms_state.exists()


def test_demo_reset_refuses_anything_but_a_local_sandbox(settings):
    settings.TEXTREQUEST_API_URL = "https://api.textrequest.com/api/v3"
    with pytest.raises(CommandError, match="local sandbox"):
        call_command("demo_reset", "--noinput")
