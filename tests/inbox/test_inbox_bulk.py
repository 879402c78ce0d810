"""Bulk actions from the list: one outbox write per conversation, paced at sync priority, with
progress, per-row outcomes, undo, and no double writes (double click, worker killed mid-batch)."""

import re
import signal
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_user
from tests.outbox.test_outbox_worker import real_worker_mode, start_worker, stop  # noqa: F401
from tests.textrequest_helpers import connect, lines_of, wait_until
from textdesk.contacts.models import Tag
from textdesk.conversations import bulk as bulks
from textdesk.conversations.listing import PAGE_SIZE
from textdesk.conversations.models import Bulk, BulkItem, Conversation
from textdesk.dashboards.models import Connection
from textdesk.outbox import changes
from textdesk.outbox.delivery import STALE_SENDING
from textdesk.outbox.models import Change

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def line(sandbox_account):
    # A roomy window: these tests count writes, not pacing.
    return lines_of(connect(sandbox_account, rate_limit=2000, rate_window=2))[0]


@pytest.fixture
def agent(line):
    return make_user("sam", "Agent", lines=[line])


def writes(account) -> int:
    """Every call Text Request received (these tests make no other calls after setup)."""
    return account.control.counters(account.api_key)["calls_total"]


def bulk_url(line, *extra, name="bulk"):
    return reverse(f"conversations:{name}", args=[line.pk, *extra])


def many(line, n, **extra):
    return [
        make_conversation(line, phone=f"615555{i:04d}", first_name=f"Cust{i}", **extra)
        for i in range(n)
    ]


def test_bulk_resolve_writes_each_conversation_once_even_when_pressed_twice(
    client, sandbox_account, line, agent
):
    rows = many(line, 4)
    client.force_login(agent)
    before = writes(sandbox_account)
    form = {"action": "resolve", "ids": [c.pk for c in rows[:3]], "client_key": uuid.uuid4()}
    first = client.post(bulk_url(line), form, **HTMX)
    second = client.post(bulk_url(line), form, **HTMX)  # a double click: same key
    assert first.status_code == second.status_code == 200
    assert Bulk.objects.count() == 1
    assert writes(sandbox_account) - before == 3
    assert Change.objects.filter(kind="resolve", priority="sync").count() == 3
    assert set(Conversation.objects.filter(is_resolved=True).values_list("pk", flat=True)) == {
        c.pk for c in rows[:3]
    }
    html = client.get(bulk_url(line, Bulk.objects.get().pk, name="bulk_progress"), **HTMX)
    html = html.content.decode()
    assert "3 of 3 finished" in html and "3 written" in html
    assert "hx-trigger" not in html  # finished: it stops polling
    assert html.count("bulk-state") == 3


def test_select_all_matching_covers_every_page_of_the_filter(client, sandbox_account, line, agent):
    rows = many(line, PAGE_SIZE + 5)
    make_conversation(line, first_name="Archived", is_archived=True)
    client.force_login(agent)
    count = client.get(bulk_url(line, name="bulk_count") + "?filter=view%3Dall")
    assert count.content == str(PAGE_SIZE + 5).encode()
    before = writes(sandbox_account)
    response = client.post(
        bulk_url(line),
        {"action": "archive", "all": "1", "filter": "view=all", "client_key": uuid.uuid4()},
        **HTMX,
    )
    assert response.status_code == 200
    assert writes(sandbox_account) - before == len(rows)
    assert Conversation.objects.filter(is_archived=False).count() == 0
    bulk = Bulk.objects.get()
    assert bulk.total == len(rows)


def test_undo_reverses_only_what_the_batch_changed(client, sandbox_account, line, agent):
    rows = many(line, 3)
    Conversation.objects.filter(pk=rows[0].pk).update(is_resolved=True)  # already resolved
    client.force_login(agent)
    client.post(
        bulk_url(line),
        {"action": "resolve", "ids": [c.pk for c in rows], "client_key": uuid.uuid4()},
        **HTMX,
    )
    bulk = Bulk.objects.get()
    html = client.get(bulk_url(line, bulk.pk, name="bulk_progress"), **HTMX).content.decode()
    assert "Skipped: Already resolved." in html and "1 skipped" in html
    before = writes(sandbox_account)
    key = re.search(r'name="client_key" value="([^"]+)"', html).group(1)
    undo = client.post(bulk_url(line, bulk.pk, name="bulk_undo"), {"client_key": key}, **HTMX)
    assert undo.status_code == 200
    assert "Undo: Reopen" in undo.content.decode()
    assert writes(sandbox_account) - before == 2
    resolved = dict(Conversation.objects.values_list("pk", "is_resolved"))
    assert resolved == {rows[0].pk: True, rows[1].pk: False, rows[2].pk: False}
    again = client.post(bulk_url(line, bulk.pk, name="bulk_undo"), {"client_key": key}, **HTMX)
    assert Bulk.objects.count() == 2 and again.status_code == 200


def test_tag_untag_and_assign_in_bulk(client, sandbox_account, line, agent):
    sandbox_account.control.add_tag(sandbox_account.api_key, line.dashboard_id, "VIP")
    tag = Tag.objects.create(dashboard=line, tag_id="vip-1", name="VIP")
    colleague = make_user("jo", "Agent", lines=[line])
    rows = many(line, 2)
    client.force_login(agent)
    client.post(
        bulk_url(line),
        {"action": "assign", "assignee": colleague.pk, "ids": [rows[0].pk, rows[1].pk],
         "client_key": uuid.uuid4()},
        **HTMX,
    )  # fmt: skip
    assert set(Conversation.objects.values_list("assigned_to", flat=True)) == {colleague.pk}
    response = client.post(
        bulk_url(line),
        {"action": "tag", "tag": tag.pk, "ids": [rows[0].pk], "client_key": uuid.uuid4()},
        **HTMX,
    )
    assert response.status_code == 200
    assert list(rows[0].contact.tags.all()) == [tag]
    assert Change.objects.filter(kind="set_tags", priority="sync").count() == 1


def test_bad_bulk_input_is_a_400_with_a_reason(client, line, agent, other_line):
    theirs = make_conversation(other_line)
    client.force_login(agent)
    nothing = client.post(bulk_url(line), {"action": "resolve", "client_key": uuid.uuid4()})
    assert nothing.status_code == 400 and b"Select at least one" in nothing.content
    no_tag = client.post(bulk_url(line), {"action": "tag", "ids": [1], "client_key": uuid.uuid4()})
    assert no_tag.status_code == 400 and b"Pick a tag" in no_tag.content
    # Another line's conversation is simply not there.
    other = client.post(
        bulk_url(line), {"action": "resolve", "ids": [theirs.pk], "client_key": uuid.uuid4()}
    )
    assert other.status_code == 400
    assert not Bulk.objects.exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_worker_killed_mid_batch_each_conversation_is_written_once(
    real_worker_mode,  # noqa: F811
    sandbox_account,
    line,
    agent,
    settings,
):
    rows = many(line, 300)
    before = writes(sandbox_account)
    # The batch's writes wait on the sync queue too; while the worker lives, the limiter grants
    # bulk work nothing (a window of one call is all reserve), so no write is in flight when
    # it dies and the count below is exact.
    Connection.objects.filter(pk=line.connection_id).update(rate_limit=1)
    worker = start_worker(settings, queues="sync")
    try:
        bulk = bulks.start_bulk(
            line=line,
            user=agent,
            action="resolve",
            conversations=Conversation.objects.filter(dashboard=line),
            client_key=uuid.uuid4(),
        )
        wait_until(
            lambda: BulkItem.objects.filter(bulk=bulk, queued_at__isnull=False).count() >= 20,
            timeout=60,
            step=0.02,
        )
        stop(worker, signal.SIGKILL)
    except BaseException:
        print(stop(worker))
        raise
    done = BulkItem.objects.filter(bulk=bulk, queued_at__isnull=False).count()
    assert done < len(rows), "the batch finished before the worker was killed"
    # Beat's sweepers resume the batch and write what is queued (here inline).
    from textdesk.celery import app

    app.control.purge()
    app.conf.task_always_eager = True
    Connection.objects.filter(pk=line.connection_id).update(rate_limit=2000)
    # Time passes: a change the dead worker held is stale, those it put back are due.
    stale = timezone.now() - STALE_SENDING - timedelta(seconds=1)
    Change.objects.filter(status="sending").update(claimed_at=stale)
    Change.objects.filter(status="pending").update(not_before=None)
    assert bulks.sweep_bulks(min_age=timedelta(0)) == 1
    changes.sweep_changes(min_age=timedelta(0))
    assert BulkItem.objects.filter(bulk=bulk, queued_at__isnull=True).count() == 0
    assert Change.objects.filter(kind="resolve").count() == len(rows)
    assert Change.objects.filter(kind="resolve", status="done").count() == len(rows)
    assert writes(sandbox_account) - before == len(rows)
    assert Conversation.objects.filter(is_resolved=False).count() == 0
