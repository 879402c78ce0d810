"""Escalating conversations to ASMS cases: setting the service desk up, the form's first
draft, queueing a case or a note, linking an existing case, reading cases' progress back and
offering the solution as a reply. The writes themselves go through the case outbox
(``delivery.py``). Views check permissions; these functions do not.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from textdesk.asms import AsmsError, Filter, NotFound, check_note, instance_api_url
from textdesk.asms import Case as AsmsCase
from textdesk.audit import services as audit
from textdesk.cases.delivery import (
    apply_case,
    reason_of,
    reopen_case,
    send_case,
    send_note,
    text_line,
    ticket,
)
from textdesk.cases.delivery import retry_transcript as _retry_transcript
from textdesk.cases.models import Case, CaseNote, LineDefaults, ServiceDesk
from textdesk.conversations.models import Conversation, Draft, Message
from textdesk.dashboards.crypto import rotate
from textdesk.dashboards.models import Dashboard
from textdesk.transport import service_url_error

logger = logging.getLogger(__name__)

REFRESH_LOCK = "cases:refresh"
DESCRIPTION_MAX = 30_000  # ASMS instances differ; this leaves room for the marker line
REPLY_MAX = 1600  # the composer's limit


class CaseRefused(Exception):
    """The action cannot be taken; ``reason`` is a sentence to show."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# --- Setting up -------------------------------------------------------------------------------


def save_service_desk(
    *, instance_url: str, token: str | None, user, calls_per_minute: int, transcript_texts: int
) -> ServiceDesk:
    """Test the connection with TestConnection, then save. ``token`` None keeps the stored one.
    Raises ``CaseRefused`` with the reason when ASMS does not accept it."""
    desk = ServiceDesk.current() or ServiceDesk()
    url_error = service_url_error(instance_url)
    if url_error:
        raise CaseRefused(url_error)
    if not token and not desk.token_encrypted:
        raise CaseRefused("Enter the technician's API token.")
    if not token and not same_instance(instance_url, desk.instance_url):
        # the stored token goes only to the address it was entered for
        raise CaseRefused(TOKEN_FOR_NEW_URL)
    candidate = ServiceDesk(instance_url=instance_url)
    if token:
        candidate.set_token(token)
    else:
        candidate.token_encrypted, candidate.token_last4 = desk.token_encrypted, desk.token_last4
    try:
        with candidate.client() as client:
            client.test_connection()
    except AsmsError as exc:
        raise CaseRefused(f"ASMS did not accept the connection: {reason_of(exc)}") from None
    desk.instance_url = instance_url
    desk.token_encrypted, desk.token_last4 = candidate.token_encrypted, candidate.token_last4
    desk.calls_per_minute = calls_per_minute
    desk.transcript_texts = transcript_texts
    desk.tested_at = timezone.now()
    desk.updated_by = user if getattr(user, "pk", None) else None
    desk.save()
    cache.delete(_catalogue_key(desk))
    return desk


TOKEN_FOR_NEW_URL = (
    "Enter the technician's API token again: a new address gets the token only when you "
    "type it for that address."
)


def same_instance(url: str, other: str) -> bool:
    """Whether two instance URLs name the same connector (case and a trailing slash aside)."""
    return bool(other) and instance_api_url(url).casefold() == instance_api_url(other).casefold()


def rotate_token() -> int:
    """Re-encrypt the stored technician token with the newest key (run after putting a new
    key first in FIELD_ENCRYPTION_KEY, before dropping the old one)."""
    count = 0
    for desk in ServiceDesk.objects.all():
        desk.token_encrypted = rotate(desk.token_encrypted)
        desk.save(update_fields=["token_encrypted"])
        count += 1
    return count


def disconnect_service_desk() -> str | None:
    """Forget the instance and its token (a leaked token, a move to another instance). Cases
    keep their links and last known state; nothing is read from or sent to ASMS until a
    service desk is connected again (queued work then fails with "not set up"). The address
    that was disconnected, or None when none was set."""
    desk = ServiceDesk.current()
    if desk is None:
        return None
    cache.delete(_catalogue_key(desk))
    ServiceDesk.objects.all().delete()
    return desk.instance_url


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


# The ASMS stand-in's seeded catalogue: IT Service Desk / Incident, filed with the service desk
# group (standins/asms/catalogue.py). Only the demo uses it.
DEMO_DEFAULTS = {"project_id": 1, "item_type_id": 1, "service_id": 13, "category_id": 131,
                 "group_id": 31}  # fmt: skip


def set_demo_defaults() -> int:
    """File new cases of every line that has no defaults under the stand-in's seeded service;
    returns how many lines got them."""
    created = 0
    for line in Dashboard.objects.active():
        _, made = LineDefaults.objects.get_or_create(dashboard=line, defaults=DEMO_DEFAULTS)
        created += made
    return created


def line_defaults(dashboard) -> LineDefaults:
    return LineDefaults.objects.filter(dashboard=dashboard).first() or LineDefaults(
        dashboard=dashboard
    )


# --- The form's first draft ------------------------------------------------------------------


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
    lines = [text_line(m, name) for m in recent]
    description = header + ("\n\nLast texts:\n" + "\n".join(lines) if lines else "")
    return {"subject": subject[:250], "description": description[:DESCRIPTION_MAX]}


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
            _audit_case(user, case, f"Requested the case “{subject}”")
            send_case(case.pk)
    except IntegrityError:
        existing = Case.objects.filter(client_key=client_key).first()
        if existing is not None:
            return existing
        raise CaseRefused("A case is already being created for this conversation.") from None
    return case


def _audit_case(user, case: Case, summary: str) -> None:
    """The audit entry of a case a person asked for, in the transaction that makes the row
    (a double submit answers the first row and records nothing more)."""
    conversation = case.conversation
    audit.record(
        actor=user,
        kind="case",
        summary=summary,
        dashboard=conversation.dashboard,
        contact=conversation.contact,
        conversation=conversation,
    )


# --- The transcript file ----------------------------------------------------------------------


def create_again(case: Case) -> None:
    """A person chose to create a case ASMS never confirmed (its marker was not found after
    the grace). Raises ``CaseRefused`` when it is not (or no longer) unconfirmed."""
    if not reopen_case(case):
        raise CaseRefused("This case is not waiting for a decision any more.")


def retry_transcript(case: Case) -> None:
    """An agent asks to attach the transcript again (after a failure or an unconfirmed try)."""
    _retry_transcript(case)


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
    if case.identity_error:
        raise CaseRefused(
            "ASMS answers another case for this one (see the case); no note is added until "
            "it reads back as this case."
        )
    try:
        with transaction.atomic():
            note = CaseNote.objects.create(
                case=case,
                text=text,
                client_key=client_key,
                created_by=user if getattr(user, "pk", None) else None,
            )
            send_note(note.pk)
    except IntegrityError:
        return CaseNote.objects.get(client_key=client_key)
    return note


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
        raise CaseRefused(f"ASMS could not search: {reason_of(exc)}") from None
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
        raise CaseRefused(f"ASMS could not be read: {reason_of(exc)}") from None
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
            _audit_case(user, case, f"Linked the conversation to the case {case.code}")
    except IntegrityError:
        raise CaseRefused(f"This conversation is already linked to {item.code}.") from None
    apply_case(case, item)
    return case


# --- Progress coming back ---------------------------------------------------------------------


def refresh_case(case: Case) -> None:
    """Read one case now (an agent pressed Refresh). Raises ``CaseRefused``."""
    desk = ServiceDesk.current()
    if desk is None or case.status != Case.Status.CREATED:
        return
    try:
        with desk.client() as client:
            item = client.get_case(ticket(case))
    except AsmsError as exc:
        Case.objects.filter(pk=case.pk).update(check_error=reason_of(exc)[:500])
        raise CaseRefused(f"ASMS could not be read: {reason_of(exc)}") from None
    if not apply_case(case, item):
        raise CaseRefused(case.identity_error)


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
                item = client.get_case(ticket(case))
            except NotFound as exc:
                Case.objects.filter(pk=case.pk).update(
                    checked_at=now, check_error=f"Not found in ASMS: {exc.message}"[:500]
                )
                read += 1
                continue
            except AsmsError as exc:
                Case.objects.filter(pk=case.pk).update(check_error=reason_of(exc)[:500])
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
