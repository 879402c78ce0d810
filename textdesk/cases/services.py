"""Escalating conversations to ASMS cases, through an outbox that creates each case once.

ASMS takes no idempotency key and a sender cannot tell a lost request from a lost answer, so
exactly-once *effect* comes from the ``Case`` row's state machine (like texts and payment
requests): the agent's form creates a ``pending`` row with a unique ``client_key`` (a double
submit finds the same row) and a unique ``marker`` that travels in the case's description.
An interactive task claims the row (a conditional update that must change one row), commits,
then calls CreateCase once:

- nothing sent (connection refused, 429) → ``pending`` again after a backoff, visibly retrying;
- refused (4xx) → ``failed`` with ASMS's message, the typed values kept for correction;
- a read timeout, a reset, a 5xx or a dead worker → ``unknown``, settled by searching the
  marker: found → ``created``; still absent after ``TEXTDESK_UNKNOWN_GRACE`` → ``pending`` (and
  the next attempt searches once more before creating).

The transcript file and notes are outbox writes of their own. Views check permissions; these
functions do not.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from textdesk.asms import AsmsError, Filter, NotFound, check_note
from textdesk.asms import Case as AsmsCase
from textdesk.cases.models import Case, CaseNote, LineDefaults, ServiceDesk
from textdesk.conversations.models import Conversation, Draft, Message
from textdesk.outbox.delivery import FIRST_CHECK, STALE_SENDING, backoff

logger = logging.getLogger(__name__)

REFRESH_LOCK = "cases:refresh"
DESCRIPTION_MAX = 30_000  # ASMS instances differ; this leaves room for the marker line
REPLY_MAX = 1600  # the composer's limit


class CaseRefused(Exception):
    """The action cannot be taken; ``reason`` is a sentence to show."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


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


def _on_commit(task_name: str, pk: int, countdown: float | None = None) -> None:
    from textdesk.cases import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.apply_async((pk,), countdown=countdown or None))


# --- Setting up -------------------------------------------------------------------------------


def save_service_desk(
    *, instance_url: str, token: str | None, user, calls_per_minute: int, transcript_texts: int
) -> ServiceDesk:
    """Test the connection with TestConnection, then save. ``token`` None keeps the stored one.
    Raises ``CaseRefused`` with the reason when ASMS does not accept it."""
    desk = ServiceDesk.current() or ServiceDesk()
    if not token and not desk.token_encrypted:
        raise CaseRefused("Enter the technician's API token.")
    candidate = ServiceDesk(instance_url=instance_url)
    if token:
        candidate.set_token(token)
    else:
        candidate.token_encrypted, candidate.token_last4 = desk.token_encrypted, desk.token_last4
    try:
        with candidate.client() as client:
            client.test_connection()
    except AsmsError as exc:
        raise CaseRefused(f"ASMS did not accept the connection: {_reason(exc)}") from None
    desk.instance_url = instance_url
    desk.token_encrypted, desk.token_last4 = candidate.token_encrypted, candidate.token_last4
    desk.calls_per_minute = calls_per_minute
    desk.transcript_texts = transcript_texts
    desk.tested_at = timezone.now()
    desk.updated_by = user if getattr(user, "pk", None) else None
    desk.save()
    cache.delete(_catalogue_key(desk))
    return desk


def _catalogue_key(desk: ServiceDesk) -> str:
    return f"cases:catalogue:{desk.pk}:{desk.instance_url}"


def catalogue(desk: ServiceDesk | None):
    """The instance's pick lists when it offers them (the sandbox does), cached five minutes;
    None otherwise (a real instance: ids are typed)."""
    if desk is None:
        return None
    key = _catalogue_key(desk)
    found = cache.get(key)
    if found is None:
        try:
            with desk.client() as client:
                found = client.catalogue() or False
        except AsmsError:
            return None  # not cached: ask again next time
        cache.set(key, found, 300)
    return found or None


def line_defaults(dashboard) -> LineDefaults:
    return LineDefaults.objects.filter(dashboard=dashboard).first() or LineDefaults(
        dashboard=dashboard
    )


# --- The form's first draft ------------------------------------------------------------------


def _sender(message: Message, contact_name: str) -> str:
    if message.direction == Message.Direction.RECEIVED:
        return contact_name
    return message.sender_name or "Us"


def _line(message: Message, contact_name: str) -> str:
    when = timezone.localtime(message.sent_at).strftime("%b %-d, %Y %-I:%M %p")
    body = message.body or ("[picture]" if message.mms_media else "")
    return f"[{when}] {_sender(message, contact_name)}: {body}"


def _first_words(text: str, limit: int) -> str:
    """The first words of ``text`` within ``limit`` characters, never cutting a word."""
    out = ""
    for word in text.split():
        if len(out) + len(word) + 1 > limit:
            return out + "…"
        out = f"{out} {word}".strip()
    return out


def draft_case(conversation: Conversation, *, texts: int = 10) -> dict:
    """A subject (the contact's name and the first words of their latest text) and a
    description (the last ``texts`` texts with times and senders) for the form."""
    contact = conversation.contact
    name = contact.name or contact.formatted_phone
    recent = list(
        Message.objects.filter(conversation=conversation)
        .exclude(status=Message.Status.FAILED)
        .order_by("-sent_at", "-id")[:texts]
    )[::-1]
    latest_in = next(
        (m for m in reversed(recent) if m.direction == Message.Direction.RECEIVED), None
    )
    words = _first_words(latest_in.body if latest_in else "", 60)
    subject = f"{name}: {words}" if words else f"Text conversation with {name}"
    header = (
        f"Text conversation with {name} ({contact.formatted_phone}) "
        f"on the line {conversation.dashboard.name}."
    )
    lines = [_line(m, name) for m in recent]
    description = header + ("\n\nLast texts:\n" + "\n".join(lines) if lines else "")
    return {"subject": subject[:250], "description": description[:DESCRIPTION_MAX]}


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
    out.extend(_line(m, name) for m in messages.iterator(chunk_size=500))
    return "\n".join(out) + "\n"


# --- Creating a case --------------------------------------------------------------------------


def request_case(
    *,
    conversation: Conversation,
    user,
    subject: str,
    description: str,
    project_id: int,
    item_type_id: int,
    service_id: int,
    category_id: int,
    group_id: int | None,
    client_key,
) -> Case:
    """Queue the creation of a case for ``conversation``. A double submit (same
    ``client_key``) answers the same row. Raises ``CaseRefused``."""
    existing = Case.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    if ServiceDesk.current() is None:
        raise CaseRefused("The service desk is not set up yet (Admin → Service desk).")
    if Case.objects.filter(conversation=conversation, status__in=Case.IN_FLIGHT).exists():
        raise CaseRefused("A case is already being created for this conversation.")
    try:
        with transaction.atomic():
            # Earlier refused requests never reached ASMS; this one replaces them.
            Case.objects.filter(conversation=conversation, status=Case.Status.FAILED).delete()
            case = Case.objects.create(
                conversation=conversation,
                dashboard_id=conversation.dashboard_id,
                created_by=user if getattr(user, "pk", None) else None,
                client_key=client_key,
                marker=f"textdesk-{uuid.uuid4().hex[:24]}",
                subject=subject,
                description=description,
                project_id=project_id,
                item_type_id=item_type_id,
                service_id=service_id,
                category_id=category_id,
                group_id=group_id,
            )
            _on_commit("create_case", case.pk)
    except IntegrityError:
        existing = Case.objects.filter(client_key=client_key).first()
        if existing is not None:
            return existing
        raise CaseRefused("A case is already being created for this conversation.") from None
    return case


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


def _reason(exc: AsmsError) -> str:
    return exc.message if exc.status else f"ASMS could not be reached ({exc.message})"


def _retry_later(case: Case, exc: AsmsError, what: str) -> None:
    wait = backoff(case.attempts, getattr(exc, "retry_after", 0))
    if _still(case, Case.Status.SENDING).update(
        status=Case.Status.PENDING,
        not_before=timezone.now() + wait,
        failure_reason=f"{what}: {_reason(exc)}"[:500],
    ):
        _on_commit("create_case", case.pk, wait.total_seconds())


def _create_failed(case: Case, exc: AsmsError) -> None:
    if exc.maybe_processed:
        if _still(case, Case.Status.SENDING).update(
            status=Case.Status.UNKNOWN,
            failure_reason=_reason(exc)[:500],
            not_before=timezone.now() + FIRST_CHECK,
        ):
            _on_commit("settle_case", case.pk, FIRST_CHECK.total_seconds())
        return
    if exc.transient:
        _retry_later(case, exc, "Not created yet, retrying")
        return
    _still(case, Case.Status.SENDING).update(
        status=Case.Status.FAILED, failure_reason=_reason(exc)[:500], not_before=None
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
    _on_commit("attach_transcript", case.pk)
    try:
        item = client.get_case(code)
    except AsmsError:
        return  # the periodic refresh reads it later
    apply_case(Case.objects.get(pk=case.pk), item)


def settle_case(case_pk: int, *, now=None) -> None:
    """Decide a case whose creation has an unknown outcome: found by its marker → created;
    still absent after the grace window → queued again (the next attempt searches first)."""
    now = now or timezone.now()
    case = Case.objects.filter(pk=case_pk, status=Case.Status.UNKNOWN).first()
    if case is None or (case.not_before and case.not_before > now):
        return
    desk = ServiceDesk.current()
    if desk is None:
        return
    with desk.client() as client:
        try:
            found = _find_by_marker(client, case)
        except AsmsError as exc:
            _still(case, Case.Status.UNKNOWN).update(
                not_before=now + backoff(2, getattr(exc, "retry_after", 0)),
                failure_reason=f"Checking whether ASMS created it: {_reason(exc)}"[:500],
            )
            return
        if found is not None:
            _record_created(case, found.id, found.code, client)
            return
    grace = timedelta(seconds=settings.TEXTDESK_UNKNOWN_GRACE)
    if case.claimed_at and now - case.claimed_at >= grace:
        if _still(case, Case.Status.UNKNOWN).update(status=Case.Status.PENDING, not_before=None):
            _on_commit("create_case", case.pk)
        return
    _still(case, Case.Status.UNKNOWN).update(not_before=now + timedelta(seconds=5))


# --- The transcript file ----------------------------------------------------------------------


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
            still.update(transcript_status=Case.Transcript.UNKNOWN, transcript_error=_reason(exc))
        elif exc.transient:
            wait = backoff(case.transcript_attempts, getattr(exc, "retry_after", 0))
            if still.update(
                transcript_status=Case.Transcript.PENDING,
                transcript_not_before=timezone.now() + wait,
                transcript_error=_reason(exc)[:500],
            ):
                _on_commit("attach_transcript", case.pk, wait.total_seconds())
        else:
            still.update(transcript_status=Case.Transcript.FAILED, transcript_error=_reason(exc))
        return
    still.update(transcript_status=Case.Transcript.ATTACHED, transcript_error="")


def retry_transcript(case: Case) -> None:
    """An agent asks to attach the transcript again (after a failure or an unconfirmed try)."""
    if Case.objects.filter(
        pk=case.pk,
        status=Case.Status.CREATED,
        transcript_status__in=[Case.Transcript.FAILED, Case.Transcript.UNKNOWN],
    ).update(transcript_status=Case.Transcript.PENDING, transcript_not_before=None):
        _on_commit("attach_transcript", case.pk)


# --- Notes ------------------------------------------------------------------------------------


def add_note(*, case: Case, user, text: str, client_key) -> CaseNote:
    """Queue a note (1 to 254 characters, checked here before anything is stored or sent)."""
    existing = CaseNote.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    try:
        check_note(text)
    except ValueError as exc:
        raise CaseRefused(str(exc)) from None
    if case.status != Case.Status.CREATED:
        raise CaseRefused("The case is not created in ASMS yet.")
    try:
        with transaction.atomic():
            note = CaseNote.objects.create(
                case=case,
                text=text,
                client_key=client_key,
                created_by=user if getattr(user, "pk", None) else None,
            )
            _on_commit("send_note", note.pk)
    except IntegrityError:
        return CaseNote.objects.get(client_key=client_key)
    return note


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
            still.update(status=CaseNote.Status.UNKNOWN, failure_reason=_reason(exc)[:500])
        elif exc.transient:
            wait = backoff(note.attempts, getattr(exc, "retry_after", 0))
            if still.update(
                status=CaseNote.Status.PENDING,
                not_before=timezone.now() + wait,
                failure_reason=_reason(exc)[:500],
            ):
                _on_commit("send_note", note.pk, wait.total_seconds())
        else:
            still.update(status=CaseNote.Status.FAILED, failure_reason=_reason(exc)[:500])
        return
    still.update(status=CaseNote.Status.SENT, failure_reason="")


# --- Linking an existing case -----------------------------------------------------------------


def find_cases(query: str, *, limit: int = 20) -> list[AsmsCase]:
    """Cases whose code is ``query`` or whose subject contains it. Raises ``CaseRefused``."""
    query = query.strip()
    desk = ServiceDesk.current()
    if desk is None:
        raise CaseRefused("The service desk is not set up yet (Admin → Service desk).")
    if not query:
        return []
    found: dict[int | None, AsmsCase] = {}
    try:
        with desk.client() as client:
            if any(ch.isdigit() for ch in query) and " " not in query:
                try:
                    item = client.get_case(query)
                    found[item.id] = item
                except NotFound:
                    pass
            for item in client.search_cases([Filter("Subject", "Like", query)])[:limit]:
                found.setdefault(item.id, item)
    except AsmsError as exc:
        raise CaseRefused(f"ASMS could not search: {_reason(exc)}") from None
    return list(found.values())[:limit]


def link_case(*, conversation: Conversation, user, ticket: str) -> Case:
    """Link ``conversation`` to the existing case ``ticket`` (its code or id)."""
    desk = ServiceDesk.current()
    if desk is None:
        raise CaseRefused("The service desk is not set up yet (Admin → Service desk).")
    try:
        with desk.client() as client:
            item = client.get_case(ticket.strip())
    except NotFound:
        raise CaseRefused(f"ASMS has no case {ticket}.") from None
    except AsmsError as exc:
        raise CaseRefused(f"ASMS could not be read: {_reason(exc)}") from None
    try:
        with transaction.atomic():
            case = Case.objects.create(
                conversation=conversation,
                dashboard_id=conversation.dashboard_id,
                created_by=user if getattr(user, "pk", None) else None,
                is_linked=True,
                status=Case.Status.CREATED,
                subject=(item.subject or "")[:250],
                case_id=item.id,
                code=item.code or str(item.id),
                project_id=item.project_id,
                item_type_id=item.item_type_id,
                service_id=item.service_id,
                category_id=item.category_id,
                group_id=item.group_id,
            )
    except IntegrityError:
        raise CaseRefused(f"This conversation is already linked to {item.code}.") from None
    apply_case(case, item)
    return case


# --- Progress coming back ---------------------------------------------------------------------


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


def refresh_case(case: Case) -> None:
    """Read one case now (an agent pressed Refresh). Raises ``CaseRefused``."""
    desk = ServiceDesk.current()
    if desk is None or case.status != Case.Status.CREATED:
        return
    try:
        with desk.client() as client:
            apply_case(case, client.get_case(case.code or case.case_id))
    except AsmsError as exc:
        Case.objects.filter(pk=case.pk).update(check_error=_reason(exc)[:500])
        raise CaseRefused(f"ASMS could not be read: {_reason(exc)}") from None


def refresh_cases(*, now=None) -> dict:
    """Beat, every minute: read the open linked cases, least recently checked first, at most
    ``calls_per_minute`` of them. A lock held for the minute keeps two beats (or a slow run)
    from spending the budget twice."""
    now = now or timezone.now()
    desk = ServiceDesk.current()
    if desk is None or not desk.calls_per_minute:
        return {"read": 0}
    if not cache.add(REFRESH_LOCK, now.isoformat(), timeout=55):
        return {"read": 0, "skipped": True}
    rows = list(
        Case.objects.filter(status=Case.Status.CREATED, is_closed=False).order_by(
            F("checked_at").asc(nulls_first=True), "id"
        )[: desk.calls_per_minute]
    )
    read = 0
    with desk.client() as client:
        for case in rows:
            try:
                item = client.get_case(case.code or case.case_id)
            except NotFound as exc:
                Case.objects.filter(pk=case.pk).update(
                    checked_at=now, check_error=f"Not found in ASMS: {exc.message}"[:500]
                )
                read += 1
                continue
            except AsmsError as exc:
                Case.objects.filter(pk=case.pk).update(check_error=_reason(exc)[:500])
                read += 1
                if exc.transient:
                    break  # ASMS is down or slow: try again next minute
                continue
            apply_case(case, item, now=now)
            read += 1
    return {"read": read}


def reply_text(case: Case) -> str:
    """A reply to the customer offering the solution; the agent edits and sends it."""
    contact = case.conversation.contact
    hello = f"Hi {contact.first_name}," if contact.first_name else "Hi,"
    solution = " ".join(case.commentary.split())
    text = f"{hello} your request {case.code} is solved. {solution}".strip()
    return text[:REPLY_MAX]


def offer_reply(*, case: Case, user) -> Draft:
    """Put the prefilled reply in the agent's draft of the conversation (never sent by itself)."""
    draft, _ = Draft.objects.update_or_create(
        user=user, conversation=case.conversation, defaults={"body": reply_text(case)}
    )
    return draft


# --- The safety net ---------------------------------------------------------------------------


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
    unknown = list(
        Case.objects.filter(due, status=Case.Status.UNKNOWN).values_list("pk", flat=True)[:200]
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
            _on_commit("create_case", pk)
        for pk in unknown:
            _on_commit("settle_case", pk)
        for pk in transcripts:
            _on_commit("attach_transcript", pk)
        for pk in notes:
            _on_commit("send_note", pk)
    return {
        "stuck": lost,
        "pending": len(pending),
        "unknown": len(unknown),
        "transcripts": len(transcripts),
        "notes": len(notes),
    }
