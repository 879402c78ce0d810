"""Celery tasks of payments: thin, idempotent, each calls one service."""

from celery import shared_task

from textdesk.payments import services


@shared_task
def create_payment(payment_pk: int) -> None:
    """Create one queued payment request at Text Request (interactive queue)."""
    services.deliver_payment(payment_pk)


@shared_task
def settle_payment(payment_pk: int) -> None:
    """Decide whether a payment request whose outcome is unknown reached Text Request."""
    services.settle_payment(payment_pk)
