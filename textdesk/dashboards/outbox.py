"""The outbox of writes other than texts (archive, resolve, tags, contact, group and line edits,
payment reminders, cancels and mark-paid): ``Change`` rows, applied by interactive tasks.

Every change is applied locally by the service that queues it (so the inbox shows it at once),
recorded here as ``pending``, then written to Text Request exactly once in effect:

- a task claims the row with a conditional update that must change exactly one row, commits,
  then makes one call;
- nothing sent (connection refused, 429, our limiter busy) → back to ``pending`` with a
  ``not_before``; Text Request refused it (4xx) → ``failed`` with its message;
- the outcome is unknown (read timeout, reset, 5xx): every write here is safe to repeat (they
  set state, and a payment action repeated is refused with a 400 that we check against the
  payment's state), so the change goes back to ``pending`` and is written again;
- a newer change of the same subject supersedes one still queued or failed.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from textdesk.dashboards.models import Change, Dashboard
from textdesk.textrequest import errors

logger = logging.getLogger(__name__)

# After this many attempts that never reached Text Request, give up visibly.
MAX_ATTEMPTS = 12
# A claimed row older than this lost its worker (longer than the task's hard time limit).
STALE_SENDING = timedelta(seconds=200)


def backoff(attempts: int, minimum: float = 0.0) -> timedelta:
    """Exponential backoff with jitter, capped at a minute."""
    seconds = min(60.0, 2.0 ** max(0, attempts - 1)) + random.uniform(0, 1)
    return timedelta(seconds=max(seconds, minimum))


def queue_change(
    *,
    dashboard: Dashboard,
    kind: str,
    subject: str,
    payload: dict,
    user=None,
    conversation=None,
    contact=None,
    group=None,
    payment=None,
) -> Change:
    """Record a write for Text Request and enqueue it once the transaction commits.

    Call it inside the transaction that applies the change locally. A queued or failed change
    of the same subject (the same contact's tags, say) is superseded by this one."""
    with transaction.atomic():
        same = Change.objects.filter(
            dashboard=dashboard,
            subject=subject,
            contact=contact,
            group=group,
            payment=payment,
            status__in=[Change.Status.PENDING, Change.Status.FAILED],
        )
        if conversation is not None:
            same = same.filter(conversation=conversation)
        same.update(status=Change.Status.SUPERSEDED, done_at=timezone.now())
        change = Change.objects.create(
            dashboard=dashboard,
            kind=kind,
            subject=subject,
            payload=payload,
            created_by=user if getattr(user, "pk", None) else None,
            conversation=conversation,
            contact=contact,
            group=group,
            payment=payment,
        )
        enqueue_change(change.pk)
    return change


def enqueue_change(change_pk: int, countdown: float = 0) -> None:
    from textdesk.dashboards.tasks import apply_change

    transaction.on_commit(
        lambda: apply_change.apply_async((change_pk,), countdown=countdown or None)
    )


def claim(model, pk: int, *, status_from: str, status_to: str) -> bool:
    """The conditional update that makes one worker the owner of an outbox row."""
    now = timezone.now()
    return (
        model.objects.filter(pk=pk, status=status_from)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(status=status_to, claimed_at=now, attempts=F("attempts") + 1, not_before=None)
        == 1
    )


def apply_change(change_pk: int) -> None:
    """Write one queued change to Text Request (the body of the ``apply_change`` task)."""
    if not claim(Change, change_pk, status_from=Change.Status.PENDING, status_to="sending"):
        return
    change = Change.objects.select_related(
        "dashboard__connection", "contact", "group", "payment", "conversation"
    ).get(pk=change_pk)
    earlier = Change.objects.filter(
        dashboard_id=change.dashboard_id,
        subject=change.subject,
        contact_id=change.contact_id,
        group_id=change.group_id,
        payment_id=change.payment_id,
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
        enqueue_change(change.pk, countdown=wait.total_seconds())
        return
    handler = HANDLERS[change.kind]
    client = change.dashboard.connection.client("interactive")
    try:
        handler(change, client)
    except errors.BadRequest as exc:
        if change.payment_id and _payment_action_happened(change, client):
            _finish(change)
        else:
            _fail(change, exc.message)
    except (errors.Unauthorized, errors.NotFound) as exc:
        if change.kind == Change.Kind.DELETE_GROUP and isinstance(exc, errors.NotFound):
            _finish(change)  # already gone
        else:
            _fail(change, exc.message)
    except errors.TextRequestError as exc:
        if not exc.transient:
            _fail(change, exc.message)
        else:
            _retry_later(change, exc)
    except Exception:
        # A bug, not Text Request: record it so the row does not stay "sending", then raise.
        _fail(change, "textdesk could not apply this change; an administrator was notified")
        raise
    else:
        _finish(change)
    finally:
        client.close()


def _finish(change: Change) -> None:
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.DONE, failure_reason="", done_at=timezone.now()
    )
    if change.payment_id:
        from textdesk.payments.services import refresh_payment_after_action

        refresh_payment_after_action(change)


def _fail(change: Change, reason: str) -> None:
    logger.info("change %s (%s) failed: %s", change.pk, change.kind, reason)
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.FAILED, failure_reason=reason[:500], done_at=timezone.now()
    )
    if change.payment_id:
        from textdesk.payments.services import undo_payment_action

        undo_payment_action(change)


def _retry_later(change: Change, exc: errors.TextRequestError) -> None:
    attempts = change.attempts + 1
    if attempts >= MAX_ATTEMPTS and not exc.maybe_processed:
        _fail(change, f"Text Request could not be reached ({exc.message}); not applied")
        return
    if attempts >= 3 * MAX_ATTEMPTS:
        _fail(change, f"Text Request kept failing ({exc.message}); it may not have been applied")
        return
    wait = backoff(attempts, getattr(exc, "retry_after", 0) or getattr(exc, "retry_in", 0))
    Change.objects.filter(pk=change.pk, status=Change.Status.SENDING).update(
        status=Change.Status.PENDING, not_before=timezone.now() + wait
    )
    enqueue_change(change.pk, countdown=wait.total_seconds())


def _payment_action_happened(change: Change, client) -> bool:
    """A repeated payment action is refused (400); it succeeded if the payment shows it."""
    payment = change.payment
    current = client.get_payment(change.dashboard.dashboard_id, payment.payment_id)
    if current is None:
        return False
    from textdesk.payments.sync import apply_payment

    apply_payment(change.dashboard, current)
    status = (current.textrequest_payment_status or "").lower()
    if change.kind == Change.Kind.REMIND_PAYMENT:
        return current.reminder_was_sent
    if change.kind == Change.Kind.CANCEL_PAYMENT:
        return status in {"canceled", "cancelled"}
    if change.kind == Change.Kind.MARK_PAID:
        return status == "paid"
    return False


# --- Handlers: one Text Request call per kind ----------------------------------------------


def _archive(change, client):
    client.archive_conversation(change.dashboard.dashboard_id, change.contact.phone_number)


def _unarchive(change, client):
    client.unarchive_conversation(change.dashboard.dashboard_id, change.contact.phone_number)


def _contact_write(change, client):
    from textdesk.contacts.sync import apply_contact

    contact = client.create_or_update_contact(
        change.dashboard.dashboard_id, change.contact.phone_number, **change.payload
    )
    apply_contact(change.dashboard, contact, respect_pending=False)


def _edit_group(change, client):
    client.update_group(
        change.dashboard.dashboard_id,
        change.payload["group_id"],
        **{k: v for k, v in change.payload.items() if k in ("name", "notes")},
    )


def _delete_group(change, client):
    client.delete_group(change.dashboard.dashboard_id, change.payload["group_id"])


def _rename_dashboard(change, client):
    client.update_dashboard_name(change.dashboard.dashboard_id, change.payload["name"])


def _remind(change, client):
    client.send_payment_reminder(change.dashboard.dashboard_id, change.payment.payment_id)


def _cancel(change, client):
    client.cancel_payment(change.dashboard.dashboard_id, change.payment.payment_id)


def _mark_paid(change, client):
    client.mark_payment_paid(change.dashboard.dashboard_id, change.payment.payment_id)


HANDLERS = {
    Change.Kind.ARCHIVE: _archive,
    Change.Kind.UNARCHIVE: _unarchive,
    Change.Kind.RESOLVE: _contact_write,
    Change.Kind.REOPEN: _contact_write,
    Change.Kind.SET_TAGS: _contact_write,
    Change.Kind.EDIT_CONTACT: _contact_write,
    Change.Kind.SET_GROUPS: _contact_write,
    Change.Kind.EDIT_GROUP: _edit_group,
    Change.Kind.DELETE_GROUP: _delete_group,
    Change.Kind.RENAME_DASHBOARD: _rename_dashboard,
    Change.Kind.REMIND_PAYMENT: _remind,
    Change.Kind.CANCEL_PAYMENT: _cancel,
    Change.Kind.MARK_PAID: _mark_paid,
}


def sweep_changes(*, min_age: timedelta = timedelta(seconds=5)) -> int:
    """Re-enqueue changes left pending (a lost broker message) or stuck sending (a lost
    worker: every change is safe to write again). Answers how many were re-enqueued."""
    now = timezone.now()
    stuck = Change.objects.filter(
        status=Change.Status.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(status=Change.Status.PENDING)
    if stuck:
        logger.warning("outbox: %d change(s) lost their worker; queued again", stuck)
    due = list(
        Change.objects.filter(status=Change.Status.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(created_at__lte=now - min_age)
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        enqueue_change(pk)
    return len(due)


def sweep_rows(model, *, send, settle, now, min_age: timedelta, limit: int, stuck_reason: str):
    """Beat's safety net for outbox rows with their own lifecycle (texts, payment requests):
    rows stuck in ``sending`` (their worker died) become ``unknown``; due ``pending`` rows (a
    lost broker message) are sent again and due ``unknown`` ones settled, by ``send(pk)`` and
    ``settle(pk)`` (which enqueue on commit)."""
    status = model.Status
    lost = model.objects.filter(status=status.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=status.UNKNOWN, not_before=None, failure_reason=stuck_reason
    )
    if lost:
        logger.warning(
            "outbox: %d %s row(s) lost their worker; checking them", lost, model.__name__
        )
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    rows = model.objects.filter(due)
    pending = list(
        rows.filter(status=status.PENDING, created_at__lte=now - min_age).values_list(
            "pk", flat=True
        )[:limit]
    )
    unknown = list(rows.filter(status=status.UNKNOWN).values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        for pk in pending:
            send(pk)
        for pk in unknown:
            settle(pk)
    return {"stuck": lost, "pending": len(pending), "unknown": len(unknown)}
