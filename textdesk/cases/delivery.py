"""The case outbox: creating each case in ASMS once, its transcript file and its notes.

ASMS takes no idempotency key and a sender cannot tell a lost request from a lost answer, so
exactly-once *effect* comes from the outbox's lifecycle (``outbox/delivery.py``: claim,
backoff, ``unknown``, settle, sweep), which ``Case``, ``CaseTranscript`` and ``CaseNote`` rows
follow like texts and payment requests. This module only says what ASMS is asked and how its
answers are recorded. The agent's form creates a ``pending`` case with a unique
``client_key`` (a double submit finds the same row) and a unique ``marker`` that travels in the
case's description; an interactive task claims the row and calls CreateCase once:

- nothing sent (connection refused, 429, 503) → ``pending`` again after a backoff, visibly
  retrying (the reason and the next try are shown; ASMS being down never fails the request);
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

from django.utils import timezone

from textdesk.asms import AsmsError, Filter
from textdesk.asms import Case as AsmsCase
from textdesk.cases.models import Case, CaseNote, CaseTranscript, ServiceDesk
from textdesk.conversations.models import Conversation, Message
from textdesk.outbox import delivery
from textdesk.outbox.delivery import reason

logger = logging.getLogger(__name__)

UNCONFIRMED = "ASMS has not confirmed the case yet; it may still appear."

# How each kind of ASMS write reads in the outbox's lifecycle.
CREATE = delivery.Service(
    name="ASMS",
    max_attempts=None,  # ASMS being down never fails a request: it waits, visibly retrying
    retrying="Not created yet, retrying",
    failed_prefix="",
    unconfirmed=UNCONFIRMED,
)
ATTACH = delivery.Service(
    name="ASMS", max_attempts=None, retrying="Not attached yet, retrying", failed_prefix=""
)
NOTE = delivery.Service(
    name="ASMS", max_attempts=None, retrying="Not added yet, retrying", failed_prefix=""
)

send_case = delivery.enqueue_on_commit("textdesk.cases.tasks.create_case")
settle_later = delivery.enqueue_on_commit("textdesk.cases.tasks.settle_case")
send_transcript = delivery.enqueue_on_commit("textdesk.cases.tasks.attach_transcript")
send_note = delivery.enqueue_on_commit("textdesk.cases.tasks.send_note")


def reason_of(exc: AsmsError) -> str:
    return reason(exc, "ASMS")


def _sender(message: Message, contact_name: str) -> str:
    if message.direction == Message.Direction.RECEIVED:
        return contact_name
    return message.sender_name or "Us"


def text_line(message: Message, contact_name: str) -> str:
    when = timezone.localtime(message.sent_at).strftime("%b %-d, %Y %-I:%M %p")
    if message.redacted_at is not None:
        body = "[redacted]"
    else:
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
        .only("direction", "body", "sender_name", "sent_at", "mms_media", "redacted_at")
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
    if not delivery.claim(Case, case_pk, status_from=Case.Status.PENDING, status_to="sending"):
        return
    case = Case.objects.get(pk=case_pk)
    desk = ServiceDesk.current()
    if desk is None:
        Case.objects.filter(pk=case.pk, status=Case.Status.SENDING).update(
            status=Case.Status.FAILED, failure_reason="The service desk is not set up."
        )
        return
    with desk.client() as client:
        found = None
        if case.attempts > 1:
            # An earlier attempt's outcome was unknown: ASMS may have processed it late. The
            # search is a read, so whatever its failure, trying again later is harmless.
            try:
                found = _find_by_marker(client, case)
            except AsmsError as exc:
                delivery.send_failed(
                    case, exc, send=send_case, settle=settle_later, repeatable=True, service=CREATE
                )
                return
        if found is None:
            try:
                found = client.create_case(
                    item_type=case.item_type_id,
                    project_id=case.project_id,
                    service_id=case.service_id,
                    category_id=case.category_id,
                    group_id=case.group_id,
                    subject=case.subject,
                    description=description_for_asms(case),
                )
            except AsmsError as exc:
                delivery.send_failed(case, exc, send=send_case, settle=settle_later, service=CREATE)
                return
        _record_created(case, found.id, found.code, client)


def _record_created(case: Case, case_id: int, code: str, client) -> bool:
    """Store ASMS's id the moment it is known, queue the transcript, then read the case once."""
    updated = Case.objects.filter(pk=case.pk, status__in=Case.IN_FLIGHT).update(
        status=Case.Status.CREATED, case_id=case_id, code=code, failure_reason="", not_before=None
    )
    if not updated:
        return False
    transcript, _ = CaseTranscript.objects.get_or_create(case_id=case.pk)
    send_transcript(transcript.pk)
    try:
        item = client.get_case(case_id)
    except AsmsError:
        return True  # the periodic refresh reads it later
    apply_case(Case.objects.get(pk=case.pk), item)
    return True


def settle_case(case_pk: int, *, now=None) -> None:
    """Look for the case an ``unknown`` creation may have made, by its marker (the outbox's
    ``settle_unknown``: found → ``created``; not found → looked for again later until the
    horizon, never created again by itself; after the grace the panel offers "Create
    again")."""
    now = now or timezone.now()
    case = Case.objects.filter(pk=case_pk, status=Case.Status.UNKNOWN).first()
    if case is None or (case.not_before and case.not_before > now):
        return
    desk = ServiceDesk.current()
    if desk is None:
        return

    def read(client):
        found = _find_by_marker(client, case)
        return [found] if found is not None else []

    def adopt(row: Case, items) -> bool:
        for found in items:
            with desk.client() as client:
                return _record_created(row, found.id, found.code, client)
        return False

    delivery.settle_unknown(
        case, open_client=desk.client, read=read, adopt=adopt, now=now, service=CREATE
    )


def reopen_case(case: Case) -> bool:
    """A person chose to create an unconfirmed case again: ``pending`` once more. The attempt
    count is kept, so the next attempt searches for the marker before it creates anything."""
    if not delivery.is_unconfirmed(case):
        return False
    if delivery.reopen_for_resend(case, keep_attempts=True):
        send_case(case.pk)
        return True
    return False


def retry_transcript(case: Case) -> bool:
    """A person asks to attach the transcript again (after a failure or an unconfirmed try)."""
    transcript = CaseTranscript.objects.filter(case=case, case__status=Case.Status.CREATED).first()
    if transcript is not None and delivery.reopen_for_resend(transcript):
        send_transcript(transcript.pk)
        return True
    return False


def attach_transcript(transcript_pk: int) -> None:
    """Attach the whole conversation as a text file (the ``attach_transcript`` task)."""
    if not delivery.claim(
        CaseTranscript,
        transcript_pk,
        status_from=CaseTranscript.Status.PENDING,
        status_to="sending",
    ):
        return
    transcript_row = CaseTranscript.objects.select_related(
        "case__conversation__contact", "case__conversation__dashboard"
    ).get(pk=transcript_pk)
    case = transcript_row.case
    still = CaseTranscript.objects.filter(pk=transcript_pk, status=CaseTranscript.Status.SENDING)
    desk = ServiceDesk.current()
    if desk is None:
        still.update(
            status=CaseTranscript.Status.FAILED, failure_reason="The service desk is not set up."
        )
        return
    content = transcript(case.conversation).encode("utf-8")
    try:
        with desk.client() as client:
            client.attach_file(ticket(case), file_name=transcript_row.file_name, content=content)
    except AsmsError as exc:
        delivery.send_failed(transcript_row, exc, send=send_transcript, settle=None, service=ATTACH)
        return
    still.update(status=CaseTranscript.Status.ATTACHED, failure_reason="")


def deliver_note(note_pk: int) -> None:
    """Add one queued note to its case in ASMS (the ``send_note`` task)."""
    if not delivery.claim(
        CaseNote, note_pk, status_from=CaseNote.Status.PENDING, status_to="sending"
    ):
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
            client.attach_note(ticket(note.case), note.text)
    except AsmsError as exc:
        # ASMS cannot list a case's notes: an unknown outcome waits for a person.
        delivery.send_failed(note, exc, send=send_note, settle=None, service=NOTE)
        return
    still.update(status=CaseNote.Status.SENT, failure_reason="")


def ticket(case: Case) -> str | int:
    """How the case is asked for: by ASMS's own id once known (a code can be issued twice)."""
    return case.case_id if case.case_id is not None else case.code


def identity_error(case: Case, item: AsmsCase) -> str:
    """Why ``item`` is not ``case`` ("" when it is). A code (``idByProject``) is no identity:
    an instance restored from a backup, a restarted stand-in or another instance behind the
    same URL issues the same code again. ASMS's own id must match, a case created here must
    carry our marker in its description, and a linked case must keep its opening date."""
    code = item.code or item.id
    if case.case_id is not None and item.id != case.case_id:
        return (
            f"ASMS answered case {code} (id {item.id}) for {case.code} (id {case.case_id}): "
            "a different case, so nothing was overwritten. Was the service desk restored or "
            "its address changed?"
        )
    if case.marker and not case.is_linked and case.marker not in (item.description or ""):
        return (
            f"ASMS's case {code} does not carry this case's textdesk reference ({case.marker}): "
            "a different case, so nothing was overwritten. Was the service desk restored or "
            "its address changed?"
        )
    if case.is_linked and case.opened_at and item.opened_at and item.opened_at != case.opened_at:
        return (
            f"ASMS's case {code} was opened {item.opened_at:%b %-d, %Y %H:%M} UTC, the linked "
            f"case {case.opened_at:%b %-d, %Y %H:%M} UTC: a different case, so nothing was "
            "overwritten."
        )
    return ""


def apply_case(case: Case, item: AsmsCase, *, now=None) -> bool:
    """Store what ASMS says about the case; note when it became solved. Answers False (and
    stores only the reason, shown on the case) when ``item`` is not this case."""
    now = now or timezone.now()
    mismatch = identity_error(case, item)
    if mismatch:
        logger.warning("cases: ASMS answered another case for case row %s", case.pk)
        Case.objects.filter(pk=case.pk).update(identity_error=mismatch[:500], checked_at=now)
        case.identity_error, case.checked_at = mismatch[:500], now
        return False
    case.state_name = (item.state_name or "")[:100]
    case.is_closed = item.is_closed
    case.responsible_name = (item.responsible_name or "")[:200]
    case.group_name = (item.group_name or "")[:200]
    case.commentary = item.commentary or ""
    case.opened_at = item.opened_at or case.opened_at
    case.code = item.code or case.code
    case.checked_at = now
    case.check_error = ""
    case.identity_error = ""
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
            "identity_error",
            "solved_at",
        ]
    )
    return True


def sweep_cases(*, now=None, min_age: timedelta = timedelta(seconds=5)) -> dict:
    """Beat, every 15 s (the outbox's ``sweep_rows``): creations stuck in ``sending`` (a dead
    worker) become ``unknown``; due ``pending`` creations are enqueued again (a lost broker
    message) and due ``unknown`` ones settled; the same for transcripts and notes, except
    that their unknown outcomes wait for a person."""
    now = now or timezone.now()
    swept = delivery.sweep_rows(
        Case,
        send=send_case,
        settle=settle_later,
        now=now,
        min_age=min_age,
        limit=200,
        stuck_reason="The worker creating this case stopped; checking whether ASMS has it.",
    )
    transcripts = delivery.sweep_rows(
        CaseTranscript,
        send=send_transcript,
        settle=None,
        now=now,
        min_age=timedelta(0),
        limit=200,
        stuck_reason="The worker attaching it stopped; ASMS has not confirmed it.",
    )
    notes = delivery.sweep_rows(
        CaseNote,
        send=send_note,
        settle=None,
        now=now,
        min_age=min_age,
        limit=200,
        stuck_reason="The worker adding it stopped; ASMS has not confirmed it.",
    )
    return {**swept, "transcripts": transcripts["pending"], "notes": notes["pending"]}
