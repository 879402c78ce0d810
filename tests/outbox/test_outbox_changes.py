"""Changes the agent must decide on: a refused one can be dismissed, and one that may or may not
have reached Text Request (and is not safe to write twice) is never written again by itself."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.contacts.models import Contact
from textdesk.conversations import services
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import line_of
from textdesk.outbox import changes, registry
from textdesk.outbox.delivery import STALE_SENDING
from textdesk.outbox.models import Change

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def line(sandbox_account, settings):
    settings.TEXTREQUEST_READ_TIMEOUT = 0.5
    return lines_of(connect(sandbox_account))[0]


@pytest.fixture
def conversation(line):
    # A number Text Request has never seen: archiving it is refused.
    contact = Contact.objects.create(dashboard=line, phone_number="6155550160", first_name="Ada")
    return Conversation.objects.create(dashboard=line, contact=contact)


def url(conversation, change, action):
    return reverse(
        "conversations:change",
        args=[conversation.dashboard_id, conversation.pk, change.pk, action],
    )


def test_agent_dismisses_a_refused_change_from_the_conversation(client, line, conversation):
    agent = make_user("ines", "Agent", lines=[line])
    change = services.set_archived(conversation=conversation, user=agent, archived=True)
    change.refresh_from_db()
    assert change.status == Change.Status.FAILED
    client.force_login(agent)
    page = client.get(
        reverse("conversations:conversation", args=[line.pk, conversation.pk])
    ).content.decode()
    assert "Archive failed:" in page and "Dismiss" in page
    answer = client.post(url(conversation, change, "dismiss"), **HTMX)
    assert answer.status_code == 200
    assert "Archive failed:" not in answer.content.decode()
    change.refresh_from_db()
    assert change.dismissed_at is not None
    # Only people who work the line, and only known actions.
    outsider = make_user("otto", "Agent")
    client.force_login(outsider)
    assert client.post(url(conversation, change, "dismiss")).status_code == 404
    client.force_login(agent)
    assert client.post(url(conversation, change, "explode")).status_code == 404


CREATE = "test_create_group"


@pytest.fixture
def create_group_kind():
    """A change that creates something: writing it twice makes two."""

    def apply(change, client):
        client.create_group(line_of(change).dashboard_id, name=change.payload["name"])

    registry.register(CREATE, registry.Handler("Create group", apply, idempotent=False))
    yield CREATE


def groups_named(account, line, name):
    page = account.get(f"/dashboards/{line.dashboard_id}/groups", page=0, page_size=100).json()
    return [g for g in page["items"] if g["name"] == name]


def test_a_create_with_an_unknown_outcome_waits_for_a_person(
    client, sandbox_account, line, conversation, create_group_kind
):
    agent = make_user("ines", "Agent", lines=[line])
    sandbox_account.control.set_faults(
        api_key=sandbox_account.api_key, timeout_rate=1.0, timeout_seconds=1.0
    )
    change = changes.queue_change(
        dashboard=line, kind=CREATE, subject="group:new", payload={"name": "Night shift"},
        user=agent, target=conversation.contact,
    )  # fmt: skip
    change.refresh_from_db()
    sandbox_account.control.clear_faults(sandbox_account.api_key)
    sandbox_account.control.wait_idle()
    assert change.status == Change.Status.UNKNOWN
    assert change.failure_reason == changes.MAYBE_APPLIED
    assert len(groups_named(sandbox_account, line, "Night shift")) == 1  # it did go through
    # The sweeper leaves it alone.
    changes.sweep_changes(min_age=timedelta(0))
    change.refresh_from_db()
    assert change.status == Change.Status.UNKNOWN
    assert len(groups_named(sandbox_account, line, "Night shift")) == 1
    # The agent sees it and may choose to write it again; a second click is refused.
    client.force_login(agent)
    page = client.get(
        reverse("conversations:conversation", args=[line.pk, conversation.pk])
    ).content.decode()
    assert "Create group not confirmed:" in page and "Try again" in page
    assert client.post(url(conversation, change, "again"), **HTMX).status_code == 200
    assert client.post(url(conversation, change, "again"), **HTMX).status_code == 409
    change.refresh_from_db()
    assert change.status == Change.Status.DONE
    assert len(groups_named(sandbox_account, line, "Night shift")) == 2


def test_a_lost_worker_requeues_only_what_is_safe_to_write_twice(
    line, conversation, create_group_kind
):
    long_ago = timezone.now() - STALE_SENDING - timedelta(seconds=5)
    common = {"dashboard_id": line.pk, "status": Change.Status.SENDING, "claimed_at": long_ago}
    create = Change.objects.create(kind=CREATE, subject="g", payload={"name": "X"}, **common)
    archive = Change.objects.create(
        kind=services.ARCHIVE, subject="archived", target=conversation.contact, **common,
    )  # fmt: skip
    changes.sweep_changes(min_age=timedelta(days=1))  # requeue only; nothing is due to send
    create.refresh_from_db()
    archive.refresh_from_db()
    assert create.status == Change.Status.UNKNOWN
    assert archive.status == Change.Status.PENDING
