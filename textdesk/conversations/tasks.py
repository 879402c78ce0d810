"""Celery tasks of conversations: thin, idempotent, each calls one function."""

from celery import shared_task

from textdesk.conversations import outbound, sync


@shared_task
def send_message(message_pk: int) -> None:
    """Send one queued outbound text (interactive queue)."""
    outbound.deliver_text(message_pk)


@shared_task
def settle_message(message_pk: int) -> None:
    """Decide whether a text whose send outcome is unknown went out (interactive queue)."""
    outbound.settle_text(message_pk)


@shared_task(bind=True)
def fill_history(self, conversation_pk: int, priority: str = "sync") -> None:
    """Read one conversation's message history now (an agent opened it: interactive)."""
    retry_in = sync.fill_history_now(conversation_pk, priority=priority)
    if retry_in is not None and not self.request.is_eager:
        queue = "interactive" if priority == "interactive" else "sync"
        self.apply_async((conversation_pk, priority), countdown=retry_in, queue=queue)
