"""Celery tasks of the outbox: thin and idempotent."""

from celery import shared_task

from textdesk.outbox import changes, registry


@shared_task
def apply_change(change_pk: int) -> None:
    """Write one queued change to Text Request (interactive queue)."""
    changes.apply_change(change_pk)


@shared_task
def sweep_outbox() -> None:
    """Beat, every 15 s: re-enqueue lost pending rows, settle unknown outcomes (texts and
    payment requests through their domains' sweepers, then changes)."""
    for sweep in registry.sweepers().values():
        sweep()
    changes.sweep_changes()
