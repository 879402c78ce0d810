"""Changes: every write to Text Request other than a text or a payment request (archive,
resolve, tags, contact, group and line edits, payment reminders, cancels and mark-paid).

Every change is applied locally by the domain service that queues it (so the inbox shows it at
once), recorded here as ``pending``, then written to Text Request exactly once in effect by the
handler its domain registered for the kind:

- a task claims the row with a conditional update that must change exactly one row, commits,
  then makes one call;
- nothing sent or not handled (connection refused, 429, 503, our limiter busy) → back to
  ``pending`` with a ``not_before``; Text Request refused it (4xx) → ``failed`` with its
  message, unless the handler finds the write had already happened;
- the outcome is unknown (read timeout, reset, a 500, 502 or 504): a change whose handler is
  idempotent (it sets state, or a repeat is refused with a 400 the handler checks) goes back to
  ``pending`` and is written again; any other becomes ``unknown`` and is never written again
  by itself: the person who made it sees that and decides (try again or dismiss);
- a newer change of the same subject supersedes one still queued or failed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.outbox import registry
from textdesk.outbox.delivery import STALE_SENDING, backoff, claim, retry_hint
from textdesk.outbox.models import Change, label_of
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)

# After this many attempts that never reached Text Request, give up visibly.
MAX_ATTEMPTS = 12
MAYBE_APPLIED = "Text Request may have applied this; check there before trying again."


def queue_change(
    *,
    dashboard,
    kind: str,
    subject: str,
    payload: dict,
    user=None,
    target=None,
    priority: str = "interactive",
) -> Change:
    """Record a write for Text Request and enqueue it once the transaction commits.

    Call it inside the transaction that applies the change locally. A queued or failed change
    of the same subject (the same contact's tags, say) is superseded by this one. Bulk work
    queues at ``priority="sync"``: its call then never takes the share the limiter keeps for
    people, and waiting for a free slot does not count as a failed attempt. ``target`` is the
    row the change writes (a contact, group or payment; None for a line-level change)."""
    registry.handler(kind)  # an unregistered kind is a bug: fail before anything is stored
    with transaction.atomic():
        same = Change.objects.filter(
            dashboard_id=dashboard.pk,
            subject=subject,
            target_model=label_of(target) if target is not None else "",
            target_id=target.pk if target is not None else None,
            status__in=[Change.Status.PENDING, Change.Status.FAILED],
        )
        same.update(status=Change.Status.SUPERSEDED, done_at=timezone.now())
        change = Change.objects.create(
            dashboard_id=dashboard.pk,
            kind=kind,
            subject=subject,
            payload=payload,
            created_by=user if getattr(user, "pk", None) else None,
            target=target,
            priority=priority,
        )
        enqueue_change(change.pk, queue=queue_for(priority))
    return change


def queue_for(priority: str) -> str | None:
    """Bulk work (sync priority) waits on the sync queue: hundreds of its tasks on the
    interactive queue would sit in front of an agent's next text. None: the task's route."""
    return "sync" if priority == "sync" else None


def enqueue_change(change_pk: int, countdown: float = 0, queue: str | None = None) -> None:
    enqueue("textdesk.outbox.tasks.apply_change", change_pk, countdown=countdown, queue=queue)


def apply_change(change_pk: int) -> None:
    """Write one queued change to Text Request (the body of the ``apply_change`` task)."""
    kind = Change.objects.filter(pk=change_pk).values_list("kind", flat=True).first()
    if kind is None:
        return
    handler = registry.handler(kind)
    with transaction.atomic():
        if (handler.refuse_at_send or handler.hold_at_send) and _refused_at_send(
            change_pk, handler
        ):
            return
        if not claim(Change, change_pk, status_from=Change.Status.PENDING, status_to="sending"):
            return
    change = Change.objects.get(pk=change_pk)
    earlier = Change.objects.filter(
        dashboard_id=change.dashboard_id,
        subject=change.subject,
        target_model=change.target_model,
        target_id=change.target_id,
        status__in=[Change.Status.SENDING, Change.Status.UNKNOWN],
        pk__lt=change.pk,
    )
    if earlier.exists():
        # An older write of the same thing is still in flight: keep the order (last wins).
        wait = timedelta(seconds=1)
        Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
            status=Change.Status.PENDING,
            not_before=timezone.now() + wait,
            attempts=F("attempts") - 1,
        )
        enqueue_change(change.pk, countdown=wait.total_seconds(), queue=queue_for(change.priority))
        return
    client = registry.client_for(change)
    try:
        handler.apply(change, client)
    except (errors.BadRequest, errors.Unauthorized, errors.NotFound) as exc:
        if handler.already_done and handler.already_done(change, client, exc):
            _finish(change, handler)
        else:
            _fail(change, handler, exc.message)
    except errors.TextRequestError as exc:
        if not exc.transient:
            _fail(change, handler, exc.message)
        else:
            _retry_later(change, handler, exc)
    except Exception:
        # A bug, not Text Request: record it so the row does not stay "sending", then raise
        # (the worker logs the traceback).
        _fail(change, handler, "textdesk could not apply this change (an error on our side)")
        raise
    else:
        _finish(change, handler)
    finally:
        client.close()


def _held(change: Change, handler: registry.Handler) -> bool:
    """A change textdesk sends by itself that must wait (quiet hours): pending until then."""
    if change.priority != "sync" or handler.hold_at_send is None:
        return False
    until = handler.hold_at_send(change)
    if until is None:
        return False
    Change.objects.filter(pk=change.pk, status=Change.Status.PENDING).update(not_before=until)
    logger.info("change %s (%s) waits for %s (quiet hours)", change.pk, change.kind, until)
    return True


def _refused_at_send(change_pk: int, handler: registry.Handler) -> bool:
    """The handler's check at send time, under its locks; a refused change fails (True)."""
    now = timezone.now()
    change = (
        Change.objects.filter(pk=change_pk, status=Change.Status.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .first()
    )
    if change is None:
        return True  # not due, or another worker has it: nothing to do
    reason = handler.refuse_at_send(change) if handler.refuse_at_send else ""
    if not reason:
        return _held(change, handler)
    if Change.objects.filter(pk=change.pk, status=Change.Status.PENDING).update(
        status=Change.Status.FAILED, failure_reason=f"Not sent: {reason}"[:500], done_at=now
    ):
        logger.info("change %s (%s) refused at send: %s", change.pk, change.kind, reason)
        if handler.on_failed:
            handler.on_failed(change)
    return True


def _finish(change: Change, handler: registry.Handler) -> None:
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.DONE, failure_reason="", done_at=timezone.now()
    )
    if handler.on_done:
        handler.on_done(change)


def _fail(change: Change, handler: registry.Handler, reason: str) -> None:
    logger.info("change %s (%s) failed: %s", change.pk, change.kind, reason)
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.FAILED, failure_reason=reason[:500], done_at=timezone.now()
    )
    if handler.on_failed:
        handler.on_failed(change)


def _retry_later(change: Change, handler: registry.Handler, exc: errors.TextRequestError) -> None:
    if isinstance(exc, errors.LimiterBusy) and change.priority != "interactive":
        # Bulk work held back by our own limiter sent nothing: wait for a slot, never give up.
        wait = timedelta(seconds=max(1.0, exc.retry_in))
        Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
            status=Change.Status.PENDING,
            not_before=timezone.now() + wait,
            attempts=F("attempts") - 1,
        )
        enqueue_change(change.pk, countdown=wait.total_seconds(), queue=queue_for(change.priority))
        return
    if exc.maybe_processed and not handler.idempotent:
        Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
            status=Change.Status.UNKNOWN, failure_reason=MAYBE_APPLIED, not_before=None
        )
        return
    attempts = change.attempts + 1
    if attempts >= MAX_ATTEMPTS and not exc.maybe_processed:
        _fail(change, handler, f"Text Request could not be reached ({exc.message}); not applied")
        return
    if attempts >= 3 * MAX_ATTEMPTS:
        _fail(
            change,
            handler,
            f"Text Request kept failing ({exc.message}); it may not have been applied",
        )
        return
    wait = backoff(attempts, retry_hint(exc))
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.PENDING, not_before=timezone.now() + wait
    )
    enqueue_change(change.pk, countdown=wait.total_seconds(), queue=queue_for(change.priority))


def dismiss_change(*, change: Change, user) -> None:
    """Hide a failed or unconfirmed change from where it was shown (it stays on record)."""
    Change.objects.filter(
        pk=change.pk, status__in=[Change.Status.FAILED, Change.Status.UNKNOWN]
    ).update(dismissed_at=timezone.now())


def apply_again(*, change: Change, user) -> bool:
    """The person chose to write an unconfirmed change again. Answers False if it was not
    unconfirmed (already done, or another click got there first)."""
    with transaction.atomic():
        if not Change.objects.filter(pk=change.pk, status=Change.Status.UNKNOWN).update(
            status=Change.Status.PENDING, failure_reason="", not_before=None, attempts=0
        ):
            return False
        enqueue_change(change.pk)
    return True


def sweep_changes(*, min_age: timedelta = timedelta(seconds=5)) -> int:
    """Re-enqueue changes left pending (a lost broker message) or stuck sending (a lost
    worker: every change is safe to write again). Answers how many were re-enqueued."""
    now = timezone.now()
    stuck = Change.objects.filter(status=Change.Status.SENDING, claimed_at__lt=now - STALE_SENDING)
    kinds = set(stuck.values_list("kind", flat=True).distinct())
    repeatable = [kind for kind in kinds if registry.handler(kind).idempotent]
    # A lost worker may have written it: only what is safe to write twice goes again.
    again = stuck.filter(kind__in=repeatable).update(status=Change.Status.PENDING)
    unknown = stuck.exclude(kind__in=repeatable).update(
        status=Change.Status.UNKNOWN, failure_reason=MAYBE_APPLIED
    )
    if again or unknown:
        logger.warning(
            "outbox: %d change(s) lost their worker; %d queued again, %d left for a person",
            again + unknown,
            again,
            unknown,
        )
    due = list(
        Change.objects.filter(status=Change.Status.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(created_at__lte=now - min_age)
        .values_list("pk", "priority")[:500]
    )
    for pk, priority in due:
        # each row keeps its priority's queue: swept bulk work must not jump agents' texts
        enqueue_change(pk, queue=queue_for(priority))
    return len(due)
