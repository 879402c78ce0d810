"""The follow-up queue: open requests old enough to chase that never had their one reminder,
and sending those reminders in bulk without crowding out agents.

Each reminder is an ordinary ``remind_payment`` change queued by ``services.send_reminder``
(the unique constraint ``one_payment_action`` holds one reminder per payment, so pressing the
button twice, or two people pressing it, queues each reminder once). Two things keep a batch
from starving agents:

- **pace**: each change gets a ``not_before`` a few seconds after the previous bulk reminder
  of the same account, so its task does nothing until then and the outbox sweeper (every
  15 s) sends the changes that came due; at the default ``TEXTDESK_BULK_REMINDERS_PER_MINUTE``
  (20) a batch uses at most a fifth of the account's 100 calls a minute;
- **priority**: the changes are queued at ``priority="sync"``, so their calls never take the
  share of the window the limiter keeps for people, and a reminder held back by the limiter
  waits for a slot instead of failing.

A worker that dies mid-batch loses nothing: the rows are in the database and the sweeper picks
them up; a reminder repeated after an unknown outcome is answered "already sent", which counts
as done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change
from textdesk.payments import services
from textdesk.payments.models import Payment

BATCH_KEY = "bulk"
# Rows the queue page shows (oldest first); "send to all" covers the whole queue.
SHOWN = 100


def follow_up_days() -> int:
    return int(getattr(settings, "TEXTDESK_FOLLOW_UP_DAYS", 3))


def pace() -> timedelta:
    per_minute = max(1, int(getattr(settings, "TEXTDESK_BULK_REMINDERS_PER_MINUTE", 20)))
    return timedelta(seconds=60 / per_minute)


def _reminders(status: list[str]):
    return Change.objects.of_model(Payment).filter(
        target_id=OuterRef("pk"), kind=services.REMIND_PAYMENT, status__in=status
    )


def queue(payments: QuerySet[Payment], *, now=None) -> QuerySet[Payment]:
    """Open requests older than the follow-up age that have not had their reminder: those
    still to send, and those queued or sending (shown until they are done)."""
    now = now or timezone.now()
    return (
        payments.filter(Payment.OPEN)
        .filter(
            payment_id__isnull=False,
            status=Payment.Status.SENT,
            requested_at__lte=now - timedelta(days=follow_up_days()),
            reminder_sent_at__isnull=True,
        )
        # a reminder texts the customer: never offered for a contact who may not be texted
        .exclude(contact__opted_out_at__isnull=False)
        .exclude(contact__is_blocked=True)
        .annotate(
            reminder_queued=Exists(_reminders(list(Change.ACTIVE))),
            reminder_done=Exists(_reminders([Change.Status.DONE])),
        )
        .filter(reminder_done=False)
        .filter(Q(reminder_was_sent=False) | Q(reminder_queued=True))
    )


@dataclass
class Outcome:
    queued: int = 0
    skipped: int = 0  # already reminded, closed meanwhile, or gone from the queue


def send_reminders(payments: QuerySet[Payment], *, user, now=None) -> Outcome:
    """Queue one reminder for each payment still waiting for one, spread at the bulk pace."""
    now = now or timezone.now()
    outcome = Outcome()
    step = pace()
    rows = list(
        payments.filter(reminder_queued=False, reminder_was_sent=False)
        .select_related("dashboard")
        .order_by("requested_at", "id")
    )
    slots: dict[int, object] = {}
    for payment in rows:
        connection_id = payment.dashboard.connection_id
        with transaction.atomic():
            if connection_id not in slots:
                # After the last bulk reminder of this account still waiting, or now.
                latest = Change.objects.filter(
                    dashboard_id__in=Dashboard.objects.filter(connection_id=connection_id).values(
                        "pk"
                    ),
                    kind=services.REMIND_PAYMENT,
                    status=Change.Status.PENDING,
                    payload__batch=BATCH_KEY,
                ).aggregate(at=Max("not_before"))["at"]
                slots[connection_id] = max(now, latest + step) if latest else now
            try:
                change = services.send_reminder(payment=payment, user=user, priority="sync")
            except services.PaymentActionRefused:
                outcome.skipped += 1
                continue
            # Same transaction as the change: its task, run at commit, finds it not yet due.
            Change.objects.filter(pk=change.pk).update(
                not_before=slots[connection_id], payload={"batch": BATCH_KEY}
            )
            slots[connection_id] += step
        outcome.queued += 1
    return outcome


@dataclass
class Progress:
    waiting: int
    sending: int
    done: int
    failed: int

    @property
    def total(self) -> int:
        return self.waiting + self.sending + self.done + self.failed

    @property
    def active(self) -> bool:
        return bool(self.waiting or self.sending)

    @property
    def percent(self) -> int:
        return round(100 * (self.done + self.failed) / self.total) if self.total else 100


def progress(payments: QuerySet[Payment], *, since) -> Progress:
    """Bulk reminders on ``payments`` queued since ``since`` (one query)."""
    S = Change.Status
    counts = (
        Change.objects.of_model(Payment, payments.values("pk"))
        .filter(
            kind=services.REMIND_PAYMENT,
            payload__batch=BATCH_KEY,
            created_at__gte=since,
        )
        .aggregate(
            waiting=Count("id", filter=Q(status=S.PENDING)),
            sending=Count("id", filter=Q(status__in=[S.SENDING, S.UNKNOWN])),
            done=Count("id", filter=Q(status=S.DONE)),
            failed=Count("id", filter=Q(status=S.FAILED)),
        )
    )
    return Progress(**counts)
