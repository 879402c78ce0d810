"""`make run`'s demo_setup gives the demo saved replies once (the composer's `/` has some),
and leaves them alone after an admin changed them."""

import pytest
from django.core.management import call_command

from standins.textrequest.backend import DEMO_API_KEY
from standins.textrequest.testing import SandboxServer
from textdesk.dashboards.models import SavedReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_sandbox(settings):
    settings.DEBUG = True
    with SandboxServer(seed="demo", contacts=12, messages=40, delivery_delay=0) as sandbox:
        settings.TEXTREQUEST_API_URL = sandbox.api_url
        settings.TEXTREQUEST_API_KEY = DEMO_API_KEY
        yield sandbox


def test_demo_setup_adds_saved_replies_once(demo_sandbox, capsys):
    call_command("demo_setup", "--wait", "5")
    replies = list(SavedReply.objects.order_by("shortcut"))
    assert len(replies) >= 3
    assert all(
        r.dashboard_id is None and r.body and r.created_by.username == "admin" for r in replies
    )
    SavedReply.objects.exclude(shortcut="booked").delete()
    call_command("demo_setup", "--wait", "5")
    assert list(SavedReply.objects.values_list("shortcut", flat=True)) == ["booked"]
