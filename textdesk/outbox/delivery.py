"""The lifecycle shared by every outbox row: texts, payment requests and changes.

Rows move ``pending → sending → sent | failed | unknown``, and ``unknown`` is settled later
(RELIABILITY.md, "Outbound texts"):

- a worker claims a row with a conditional update that must change exactly one row, commits,
  then makes one call (``claim``);
- nothing was sent or it was not handled (connection refused, 429, 503, our limiter busy) →
  ``pending`` again with a ``not_before``; refused (4xx) → ``failed`` with Text Request's
  reason (``send_failed``), by the error's flags (``textdesk.transport``);
- a read timeout, a reset or a 500, 502 or 504 → ``unknown``: it may have reached Text
  Request, which can process a held request minutes later, so it is **never sent again
  automatically**.
  ``settle_unknown`` keeps looking for its effect (backing off, for ``TEXTDESK_UNKNOWN_HORIZON``);
  after ``TEXTDESK_UNKNOWN_GRACE`` the row says Text Request has not confirmed it, and a person
  may choose to send it again (``reopen_for_resend``);
- beat's sweeper re-enqueues rows whose task was lost and turns rows whose worker died into
  ``unknown`` (``sweep_rows``).

Rows with a lifecycle of their own (``conversations.Message``, ``payments.Payment``, and the
service desk's ``cases.Case``, ``CaseNote`` and ``CaseTranscript``) have the fields ``status``
(with ``PENDING``, ``SENDING``, ``UNKNOWN``, ``FAILED``), ``failure_reason``, ``attempts``,
``claimed_at``, ``not_before`` and ``created_at``. A ``Service`` says which service the row's
call goes to (Text Request unless told) and how its outcomes read; both clients raise
``transport.ServiceError`` kinds, so one reading serves both. Enqueueing is by task name
(``enqueue_on_commit``), so a domain's services never import its tasks module.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from textdesk.celery import enqueue
from textdesk.transport import ServiceError

logger = logging.getLogger(__name__)

# Texts and payment requests that never reached Text Request are given up (visibly) after
# this many attempts.
MAX_SEND_ATTEMPTS = 10
# A claimed row older than this lost its worker (longer than the task's hard time limit).
STALE_SENDING = timedelta(seconds=200)
# How soon an unknown outcome is first checked.
FIRST_CHECK = timedelta(seconds=2)
# How far before our attempt a matching record may be stamped (clock skew between services).
MATCH_SKEW = timedelta(minutes=2)
# Read-backs of an unknown row back off with its age, between these bounds.
CHECK_EVERY_MIN = timedelta(seconds=5)
CHECK_EVERY_MAX = timedelta(minutes=30)
UNCONFIRMED = "Text Request has not confirmed this yet; it may still arrive."

Enqueue = Callable[..., None]


def retry_hint(exc: ServiceError) -> float:
    """The least wait the error asks for (a 429's or 503's Retry-After, our limiter's next
    slot)."""
    return getattr(exc, "retry_after", 0) or getattr(exc, "retry_in", 0) or 0


def reason(exc: ServiceError, service: str) -> str:
    """The service's own words, or that it could not be reached."""
    return exc.message if exc.status else f"{service} could not be reached ({exc.message})"


@dataclass(frozen=True)
class Service:
    """The service a row's call goes to, and how its outcomes read.

    ``max_attempts``: calls that never reached the service are given up (visibly) after this
    many attempts; None: keep retrying (a service-desk case waits out an ASMS outage).
    ``retrying``: while retrying, the reason is shown after these words; None clears it.
    ``failed_prefix`` starts a refusal's reason; ``unconfirmed`` is said of an ``unknown`` row
    past the grace."""

    name: str = "Text Request"
    max_attempts: int | None = MAX_SEND_ATTEMPTS
    retrying: str | None = None
    failed_prefix: str = "Not sent: "
    unconfirmed: str = UNCONFIRMED


TEXT_REQUEST = Service()


def backoff(attempts: int, minimum: float = 0.0) -> timedelta:
    """Exponential backoff with jitter, capped at a minute."""
    seconds = min(60.0, 2.0 ** max(0, attempts - 1)) + random.uniform(0, 1)
    return timedelta(seconds=max(seconds, minimum))


def claim(model, pk: int, *, status_from: str, status_to: str) -> bool:
    """The conditional update that makes one worker the owner of an outbox row."""
    now = timezone.now()
    return (
        model.objects.filter(pk=pk, status=status_from)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(status=status_to, claimed_at=now, attempts=F("attempts") + 1, not_before=None)
        == 1
    )


def started_at(row):
    """When the row's latest attempt began: a record made before it cannot be its effect."""
    return (row.claimed_at or row.created_at) - MATCH_SKEW


def send_failed(
    row,
    exc: ServiceError,
    *,
    send: Enqueue,
    settle: Enqueue | None,
    repeatable: bool = False,
    service: Service = TEXT_REQUEST,
) -> None:
    """Record the outcome of a call that raised, for a row in ``sending``. ``repeatable``: the
    call that raised is harmless to make again (an MMS upload before the text itself, a search
    before a creation), so an unknown outcome of it is retried like a transient error.
    ``settle`` None: the row's effect cannot be looked for (ASMS cannot list a case's notes),
    so an unknown row waits for a person."""
    model = type(row)
    status = model.Status
    still_sending = model.objects.filter(pk=row.pk, status=status.SENDING)
    if exc.maybe_processed and not repeatable:
        # It may have gone out: check before ever sending again.
        logger.info("%s %s: outcome unknown (%s); settling", model.__name__, row.pk, exc)
        if (
            still_sending.update(
                status=status.UNKNOWN,
                failure_reason=exc.message[:500],
                not_before=timezone.now() + FIRST_CHECK if settle else None,
            )
            and settle
        ):
            settle(row.pk, FIRST_CHECK.total_seconds())
        return
    why = reason(exc, service.name)
    if exc.transient and (service.max_attempts is None or row.attempts < service.max_attempts):
        wait = backoff(row.attempts, retry_hint(exc))
        shown = "" if service.retrying is None else f"{service.retrying}: {why}"
        if still_sending.update(
            status=status.PENDING, failure_reason=shown[:500], not_before=timezone.now() + wait
        ):
            send(row.pk, wait.total_seconds())
        return
    still_sending.update(
        status=status.FAILED, failure_reason=f"{service.failed_prefix}{why}"[:500], not_before=None
    )


def horizon() -> timedelta:
    return timedelta(seconds=settings.TEXTDESK_UNKNOWN_HORIZON)


def is_unconfirmed(row, now=None) -> bool:
    """An ``unknown`` row past the grace: a person may now choose to send it again."""
    if row.status != row.Status.UNKNOWN:
        return False
    age = (now or timezone.now()) - (row.claimed_at or row.created_at)
    return age >= timedelta(seconds=settings.TEXTDESK_UNKNOWN_GRACE)


def settle_unknown(
    row,
    *,
    open_client: Callable[[], object],
    read: Callable[[object], Iterable],
    adopt: Callable[[object, Iterable], bool],
    now,
    service: Service = TEXT_REQUEST,
) -> None:
    """Look once for the effect of an ``unknown`` row: ``read(client)`` fetches what the
    service has (one interactive call, on the client ``open_client()`` opens) and
    ``adopt(row, items)`` attaches the row to the record it made, if one is there. Nothing
    found: look again later, less often as the row ages, until the horizon; never send it
    again (a person decides)."""
    model = type(row)
    status = model.Status
    unknown = model.objects.filter(pk=row.pk, status=status.UNKNOWN)
    age = now - (row.claimed_at or row.created_at)
    if age >= horizon():
        return
    client = open_client()
    try:
        items = read(client)
    except ServiceError as exc:
        logger.info("%s %s: cannot check yet (%s)", model.__name__, row.pk, exc)
        unknown.update(not_before=now + backoff(2, getattr(exc, "retry_after", 0)))
        return
    finally:
        client.close()
    if adopt(row, items):
        return
    updates = {"not_before": now + min(CHECK_EVERY_MAX, max(CHECK_EVERY_MIN, age / 10))}
    if is_unconfirmed(row, now) and row.failure_reason != service.unconfirmed:
        # Said once, when the grace runs out: the thread redraws and offers "send again".
        logger.warning(
            "%s %s: not confirmed by %s after %s", model.__name__, row.pk, service.name, age
        )
        updates["failure_reason"] = service.unconfirmed
    unknown.update(**updates)


def reopen_for_resend(row, *, keep_attempts: bool = False) -> bool:
    """A person chose to send a failed or unconfirmed row again: ``pending`` once more, as a
    new attempt (answers False if another click already did). The caller enqueues the send.
    ``keep_attempts``: the send sees that earlier attempts were made (a case creation then
    searches for its marker before creating anything)."""
    model = type(row)
    status = model.Status
    fresh = {} if keep_attempts else {"attempts": 0, "claimed_at": None}
    return (
        model.objects.filter(pk=row.pk, status__in=[status.FAILED, status.UNKNOWN]).update(
            status=status.PENDING, failure_reason="", not_before=None, **fresh
        )
        == 1
    )


def sweep_rows(
    model,
    *,
    send: Enqueue,
    settle: Enqueue | None,
    now,
    min_age: timedelta,
    limit: int,
    stuck_reason: str,
):
    """Beat's safety net for rows with their own lifecycle: rows stuck in ``sending`` (their
    worker died) become ``unknown``; due ``pending`` rows (a lost broker message) are sent
    again and due ``unknown`` ones settled, by ``send(pk)`` and ``settle(pk)`` (which enqueue
    on commit; ``settle`` None: unknown rows wait for a person)."""
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
    # Past the horizon an unknown row is no longer looked for: it waits for a person.
    unknown = (
        list(
            rows.filter(status=status.UNKNOWN, claimed_at__gte=now - horizon()).values_list(
                "pk", flat=True
            )[:limit]
        )
        if settle
        else []
    )
    with transaction.atomic():
        for pk in pending:
            send(pk)
        for pk in unknown:
            settle(pk)
    return {"stuck": lost, "pending": len(pending), "unknown": len(unknown)}


def enqueue_on_commit(task_name: str) -> Enqueue:
    """``send``/``settle`` callables for the row task named ``task_name``:
    ``(pk, countdown=None)``, sent on commit (by name: the service never imports its tasks)."""

    def send(pk: int, countdown: float | None = None) -> None:
        enqueue(task_name, pk, countdown=countdown)

    return send
