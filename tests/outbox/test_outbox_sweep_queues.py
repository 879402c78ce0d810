"""The sweeper re-enqueues each change on its priority's queue: a swept bulk (sync-priority)
change goes to the sync queue, never in front of agents' texts on the interactive one."""

from datetime import timedelta

from django.utils import timezone

from textdesk.outbox import changes
from textdesk.outbox.models import Change


def test_a_swept_change_keeps_its_prioritys_queue(line, monkeypatch):
    sent = []
    monkeypatch.setattr(
        changes, "enqueue", lambda name, pk, countdown=0, queue=None: sent.append((pk, queue))
    )
    bulk = Change.objects.create(
        dashboard_id=line.pk, kind="edit_contact", subject="tags", priority="sync"
    )
    agent = Change.objects.create(dashboard_id=line.pk, kind="edit_contact", subject="name")
    Change.objects.filter(pk__in=[bulk.pk, agent.pk]).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )

    assert changes.sweep_changes() == 2

    assert sorted(sent) == sorted([(bulk.pk, "sync"), (agent.pk, None)])
