"""Celery tasks of webhook events: thin and idempotent."""

from celery import shared_task

from textdesk.webhooks import services


@shared_task
def process_event(event_pk: int) -> None:
    """Process one stored webhook event (interactive queue: a STOP must count at once)."""
    services.process_event(event_pk)


@shared_task(bind=True)
def read_hint(self, hint_pk: int) -> None:
    """The targeted read a verified event asked for (interactive queue: someone may be
    watching the payment or the contact)."""
    services.read_hint(hint_pk, eager=bool(self.request.is_eager))


@shared_task
def sweep_events() -> None:
    """Beat: events received but never processed (a lost task)."""
    services.sweep_events()
