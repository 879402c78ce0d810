"""The case outbox: creating each case in ASMS once, its transcript file and its notes.

ASMS takes no idempotency key and a sender cannot tell a lost request from a lost answer, so
exactly-once *effect* comes from the ``Case`` row's state machine (like texts and payment
requests, ``outbox/delivery.py``): the agent's form creates a ``pending`` row with a unique
``client_key`` (a double submit finds the same row) and a unique ``marker`` that travels in the
case's description. An interactive task claims the row (a conditional update that must change
one row), commits, then calls CreateCase once:

- nothing sent (connection refused, 429, 503) → ``pending`` again after a backoff, visibly retrying
  (the reason and the next try are shown; ASMS being down never fails the request);
- refused (4xx) → ``failed`` with ASMS's message, the typed values kept for correction;
- a read timeout, a reset, a 500/502/504 or a dead worker → ``unknown``, settled by searching
  the marker (backing off, until ``TEXTDESK_UNKNOWN_HORIZON``): found → ``created``. It is never
  created again by itself: after ``TEXTDESK_UNKNOWN_GRACE`` the panel says ASMS has not
  confirmed it and offers "Create again" (and that attempt searches for the marker first).

The transcript file and notes are writes of their own: ASMS cannot list a case's attachments
or notes, so an unknown outcome there is shown as "not confirmed" and repeated only when a
person asks.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from textdesk.asms import AsmsError, Filter
from textdesk.asms import Case as AsmsCase
from textdesk.cases.models import Case, CaseNote, ServiceDesk
from textdesk.conversations.models import Conversation, Message
from textdesk.outbox.delivery import (
    CHECK_EVERY_MAX,
    CHECK_EVERY_MIN,
    FIRST_CHECK,
    STALE_SENDING,
    backoff,
    horizon,
    is_unconfirmed,
)

logger = logging.getLogger(__name__)

UNCONFIRMED = "ASMS has not confirmed the case yet; it may still appear."


def _claim(queryset, pk: int, *, field: str = "status", frm: str, to: str, prefix: str = ""):
    """The conditional update that makes one worker the owner of an outbox row."""
    now = timezone.now()
    not_before = f"{prefix}not_before"
    return (
        queryset.filter(pk=pk, **{field: frm})
        .filter(Q(**{f"{not_before}__isnull": True}) | Q(**{f"{not_before}__lte": now}))
        .update(
            **{
                field: to,
                f"{prefix}claimed_at": now,
                f"{prefix}attempts": F(f"{prefix}attempts") + 1,
                not_before: None,
            }
        )
        == 1
    )


def enqueue(task_name: str, pk: int, countdown: float | None = None) -> None:
    from textdesk.cases import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.apply_async((pk,), countdown=countdown or None))


def _sender(message: Message, contact_name: str) -> str:
    if message.direction == Message.Direction.RECEIVED:
        return contact_name
    return message.sender_name or "Us"


def text_line(message: Message, contact_name: str) -> str:
    when = timezone.localtime(message.sent_at).strftime("%b %-d, %Y %-I:%M %p")
    body = message.body or ("[picture]" if message.mms_media else "")
    return f"[{when}] {_sender(message, contact_name)}: {body}"


def transcript(conversation: Conversation) -> str:
    """The whole conversation as text, oldest first."""
    contact = conversation.contact
    name = contact.name or contact.formatted_phone
    out = [f"Text conversation with {name} ({contact.formatted_phone})", ""]
    messages = (
        Message.objects.filter(conversation=conversation)
        .exclude(status=Message.Status.FAILED)
        .order_by("sent_at", "id")
        .only("direction", "body", "sender_name", "sent_at", "mms_media")
    )
    out.extend(text_line(m, name) for m in messages.iterator(chunk_size=500))
    return "\n".join(out) + "\n"


def description_for_asms(case: Case) -> str:
    """The description as sent: the agent's text and the marker that finds the case again."""
    return f"{case.description}\n\n[textdesk ref {case.marker}]"


def _find_by_marker(client, case: Case) -> AsmsCase | None:
    found = client.search_cases([Filter("Description", "Like", case.marker)])
    found = [c for c in found if c.id is not None and case.marker in (c.description or "")]
    if len(found) > 1:
        logger.warning("cases: %d ASMS cases carry marker of case row %s", len(found), case.pk)
    return min(found, key=lambda c: c.id) if found else None


def deliver_case(case_pk: int) -> None:
    """Create one queued case in ASMS (the ``create_case`` task)."""
    if not _claim(Case.objects, case_pk, frm=Case.Status.PENDING, to=Case.Status.SENDING):
        return
    case = Case.objects.get(pk=case_pk)
    desk = ServiceDesk.current()
    if desk is None:
        _still(case, Case.Status.SENDING).update(
            status=Case.Status.FAILED, failure_reason="The service desk is not set up."
        )
        return
    with desk.client() as client:
        if case.attempts > 1:
            # An earlier attempt's outcome was unknown: ASMS may have processed it late.
            try:
                found = _find_by_marker(client, case)
            except AsmsError as exc:
                _retry_later(case, exc, "Checking ASMS before trying again failed")
                return
            if found is not None:
                _record_created(case, found.id, found.code, client)
                return
        try:
            created = client.create_case(
                item_type=case.item_type_id,
                project_id=case.project_id,
                service_id=case.service_id,
                category_id=case.category_id,
                group_id=case.group_id,
                subject=case.subject,
                description=description_for_asms(case),
            )
        except AsmsError as exc:
            _create_failed(case, exc)
            return
        _record_created(case, created.id, created.code, client)


def _still(case: Case, status: str):
    return Case.objects.filter(pk=case.pk, status=status)


def reason_of(exc: AsmsError) -> str:
    return exc.message if exc.status else f"ASMS could not be reached ({exc.message})"


def _retry_later(case: Case, exc: AsmsError, what: str) -> None:
    wait = backoff(case.attempts, getattr(exc, "retry_after", 0))
    if _still(case, Case.Status.SENDING).update(
        status=Case.Status.PENDING,
        not_before=timezone.now() + wait,
        failure_reason=f"{what}: {reason_of(exc)}"[:500],
    ):
        enqueue("create_case", case.pk, wait.total_seconds())


def _create_failed(case: Case, exc: AsmsError) -> None:
    if exc.maybe_processed:
        if _still(case, Case.Status.SENDING).update(
            status=Case.Status.UNKNOWN,
            failure_reason=reason_of(exc)[:500],
            not_before=timezone.now() + FIRST_CHECK,
        ):
            enqueue("settle_case", case.pk, FIRST_CHECK.total_seconds())
        return
    if exc.transient:
        _retry_later(case, exc, "Not created yet, retrying")
        return
    _still(case, Case.Status.SENDING).update(
        status=Case.Status.FAILED, failure_reason=reason_of(exc)[:500], not_before=None
    )


def _record_created(case: Case, case_id: int, code: str, client) -> None:
    """Store ASMS's id the moment it is known, then read the case once and queue the
    transcript."""
    updated = Case.objects.filter(pk=case.pk, status__in=Case.IN_FLIGHT).update(
        status=Case.Status.CREATED,
        case_id=case_id,
        code=code,
        failure_reason="",
        not_before=None,
        transcript_status=Case.Transcript.PENDING,
    )
    if not updated:
        return
    enqueue("attach_transcript", case.pk)
    try:
        item = client.get_case(code)
    except AsmsError:
        return  # the periodic refresh reads it later
    apply_case(Case.objects.get(pk=case.pk), item)


def settle_case(case_pk: int, *, now=None) -> None:
    """Look once for the case an ``unknown`` creation may have made, by its marker: found →
    ``created``. Not found: look again later, less often as the row ages, until the horizon;
    never create it again by itself (ASMS may process a held request later). After the grace
    the panel says ASMS has not confirmed it and offers "Create again": a person decides."""
    now = now or timezone.now()
    case = Case.objects.filter(pk=case_pk, status=Case.Status.UNKNOWN).first()
    if case is None or (case.not_before and case.not_before > now):
        return
    age = now - (case.claimed_at or case.created_at)
    desk = ServiceDesk.current()
    if desk is None or age >= horizon():
        return
    with desk.client() as client:
        try:
            found = _find_by_marker(client, case)
        except AsmsError as exc:
            _still(case, Case.Status.UNKNOWN).update(
                not_before=now + backoff(2, getattr(exc, "retry_after", 0)),
                failure_reason=f"Checking whether ASMS created it: {reason_of(exc)}"[:500],
            )
            return
        if found is not None:
            _record_created(case, found.id, found.code, client)
            return
    updates = {"not_before": now + min(CHECK_EVERY_MAX, max(CHECK_EVERY_MIN, age / 10))}
    if is_unconfirmed(case, now):
        updates["failure_reason"] = UNCONFIRMED
    _still(case, Case.Status.UNKNOWN).update(**updates)


def reopen_case(case: Case) -> bool:
    """A person chose to create an unconfirmed case again: ``pending`` once more. The attempt
    count is kept, so the next attempt searches for the marker before it creates anything."""
    if not is_unconfirmed(case):
        return False
    if Case.objects.filter(pk=case.pk, status=Case.Status.UNKNOWN).update(
        status=Case.Status.PENDING, failure_reason="", not_before=None
    ):
        enqueue("create_case", case.pk)
        return True
    return False


def attach_transcript(case_pk: int) -> None:
    """Attach the whole conversation as a text file (the ``attach_transcript`` task)."""
    if not _claim(
        Case.objects.filter(status=Case.Status.CREATED),
        case_pk,
        field="transcript_status",
        frm=Case.Transcript.PENDING,
        to=Case.Transcript.SENDING,
        prefix="transcript_",
    ):
        return
    case = Case.objects.select_related("conversation__contact", "conversation__dashboard").get(
        pk=case_pk
    )
    desk = ServiceDesk.current()
    if desk is None:
        return
    content = transcript(case.conversation).encode("utf-8")
    still = Case.objects.filter(pk=case.pk, transcript_status=Case.Transcript.SENDING)
    try:
        with desk.client() as client:
            client.attach_file(
                case.code, file_name=f"textdesk-transcript-{case.code}.txt", content=content
            )
    except AsmsError as exc:
        if exc.maybe_processed:
            still.update(transcript_status=Case.Transcript.UNKNOWN, transcript_error=reason_of(exc))
        elif exc.transient:
            wait = backoff(case.transcript_attempts, getattr(exc, "retry_after", 0))
            if still.update(
                transcript_status=Case.Transcript.PENDING,
                transcript_not_before=timezone.now() + wait,
                transcript_error=reason_of(exc)[:500],
            ):
                enqueue("attach_transcript", case.pk, wait.total_seconds())
        else:
            still.update(transcript_status=Case.Transcript.FAILED, transcript_error=reason_of(exc))
        return
    still.update(transcript_status=Case.Transcript.ATTACHED, transcript_error="")


def deliver_note(note_pk: int) -> None:
    """Add one queued note to its case in ASMS (the ``send_note`` task)."""
    if not _claim(CaseNote.objects, note_pk, frm=CaseNote.Status.PENDING, to="sending"):
        return
    note = CaseNote.objects.select_related("case").get(pk=note_pk)
    still = CaseNote.objects.filter(pk=note.pk, status=CaseNote.Status.SENDING)
    desk = ServiceDesk.current()
    if desk is None:
        still.update(
            status=CaseNote.Status.FAILED, failure_reason="The service desk is not set up."
        )
        return
    try:
        with desk.client() as client:
            client.attach_note(note.case.code, note.text)
    except AsmsError as exc:
        if exc.maybe_processed:
            # ASMS cannot list a case's notes: say so rather than risk adding it twice.
            still.update(status=CaseNote.Status.UNKNOWN, failure_reason=reason_of(exc)[:500])
        elif exc.transient:
            wait = backoff(note.attempts, getattr(exc, "retry_after", 0))
            if still.update(
                status=CaseNote.Status.PENDING,
                not_before=timezone.now() + wait,
                failure_reason=reason_of(exc)[:500],
            ):
                enqueue("send_note", note.pk, wait.total_seconds())
        else:
            still.update(status=CaseNote.Status.FAILED, failure_reason=reason_of(exc)[:500])
        return
    still.update(status=CaseNote.Status.SENT, failure_reason="")


def apply_case(case: Case, item: AsmsCase, *, now=None) -> None:
    """Store what ASMS says about the case; note when it became solved."""
    now = now or timezone.now()
    case.state_name = (item.state_name or "")[:100]
    case.is_closed = item.is_closed
    case.responsible_name = (item.responsible_name or "")[:200]
    case.group_name = (item.group_name or "")[:200]
    case.commentary = item.commentary or ""
    case.opened_at = item.opened_at or case.opened_at
    case.code = item.code or case.code
    case.checked_at = now
    case.check_error = ""
    if case.is_solved:
        case.solved_at = case.solved_at or now
    else:
        case.solved_at = None  # reopened
    case.save(
        update_fields=[
            "state_name",
            "is_closed",
            "responsible_name",
            "group_name",
            "commentary",
            "opened_at",
            "code",
            "checked_at",
            "check_error",
            "solved_at",
        ]
    )


def sweep_cases(*, now=None, min_age: timedelta = timedelta(seconds=5)) -> dict:
    """Beat, every 15 s: creations stuck in ``sending`` (a dead worker) become ``unknown``;
    due ``pending`` creations are enqueued again (a lost broker message) and due ``unknown``
    ones settled; the same for transcripts and notes."""
    now = now or timezone.now()
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    lost = Case.objects.filter(
        status=Case.Status.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(
        status=Case.Status.UNKNOWN,
        not_before=None,
        failure_reason="The worker creating this case stopped; checking whether ASMS has it.",
    )
    Case.objects.filter(
        transcript_status=Case.Transcript.SENDING, transcript_claimed_at__lt=now - STALE_SENDING
    ).update(transcript_status=Case.Transcript.UNKNOWN)
    CaseNote.objects.filter(
        status=CaseNote.Status.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(status=CaseNote.Status.UNKNOWN)
    pending = list(
        Case.objects.filter(
            due, status=Case.Status.PENDING, created_at__lte=now - min_age
        ).values_list("pk", flat=True)[:200]
    )
    # Past the horizon an unknown creation is no longer looked for: it waits for a person.
    unknown = list(
        Case.objects.filter(
            due, status=Case.Status.UNKNOWN, claimed_at__gte=now - horizon()
        ).values_list("pk", flat=True)[:200]
    )
    transcripts = list(
        Case.objects.filter(
            Q(transcript_not_before__isnull=True) | Q(transcript_not_before__lte=now),
            status=Case.Status.CREATED,
            transcript_status=Case.Transcript.PENDING,
        ).values_list("pk", flat=True)[:200]
    )
    notes = list(
        CaseNote.objects.filter(
            due, status=CaseNote.Status.PENDING, created_at__lte=now - min_age
        ).values_list("pk", flat=True)[:200]
    )
    with transaction.atomic():
        for pk in pending:
            enqueue("create_case", pk)
        for pk in unknown:
            enqueue("settle_case", pk)
        for pk in transcripts:
            enqueue("attach_transcript", pk)
        for pk in notes:
            enqueue("send_note", pk)
    return {
        "stuck": lost,
        "pending": len(pending),
        "unknown": len(unknown),
        "transcripts": len(transcripts),
        "notes": len(notes),
    }
