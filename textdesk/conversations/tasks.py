"""Celery tasks of conversations: thin, idempotent, each calls one function."""

from celery import shared_task

from textdesk.conversations import bulk, outbound, routing, scheduled, sla, sla_alerts, sync


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


@shared_task
def run_bulk(bulk_pk: int) -> None:
    """Queue a bulk action's writes, one conversation at a time (sync queue)."""
    bulk.run_bulk(bulk_pk)


@shared_task
def send_due_texts() -> None:
    """Beat, every 15 s: release the scheduled texts that are due (each exactly once, by a
    conditional update on the database's clock; sync queue)."""
    scheduled.release_due()


@shared_task
def route_waiting() -> None:
    """Beat, every 15 s: agents idle past TEXTDESK_AWAY_AFTER go Away, then conversations
    still waiting for an agent are assigned, oldest first (catches a crash midway, a lost
    on-commit, an agent's own capacity raised; interactive queue)."""
    routing.route_waiting()


@shared_task
def recount_sla(dashboard_pk: int | None = None) -> None:
    """Recount a line's SLA clocks (its policy or hours were saved), or, from beat every
    5 minutes, every line whose policy or hours changed since its last recount."""
    if dashboard_pk is None:
        sla.recount_stale()
    else:
        sla.recount_line(dashboard_pk)


@shared_task
def raise_sla_alerts() -> None:
    """Beat, every minute: alert for SLA clocks due soon or just run out, each once."""
    sla_alerts.raise_alerts()
