"""Celery tasks of service-desk cases: thin, idempotent, each calls one service."""

from celery import shared_task

from textdesk.cases import delivery, services


@shared_task
def create_case(case_pk: int) -> None:
    """Create one queued case in ASMS (interactive queue)."""
    delivery.deliver_case(case_pk)


@shared_task
def settle_case(case_pk: int) -> None:
    """Decide whether a case whose creation has an unknown outcome exists in ASMS."""
    delivery.settle_case(case_pk)


@shared_task
def attach_transcript(transcript_pk: int) -> None:
    """Attach a created case's transcript file in ASMS."""
    delivery.attach_transcript(transcript_pk)


@shared_task
def send_note(note_pk: int) -> None:
    """Add one queued note to its case in ASMS."""
    delivery.deliver_note(note_pk)


@shared_task
def refresh_cases() -> None:
    """Beat, every minute: read open cases' progress within the per-minute budget."""
    services.refresh_cases()
