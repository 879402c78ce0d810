"""Scheduled texts: written now, sent later by textdesk itself, exactly once.

A ``ScheduledText`` waits until its ``due_at``. Beat (``tasks.send_due_texts``) calls
``release_due``, which releases each due row with one conditional update compared with the
**database's** clock (``status='scheduled' AND due_at <= now()``): a duplicated beat, two
workers or a machine whose clock jumped cannot both win it. In the same transaction the winner
re-checks the contact (opted out, blocked, deleted), the conversation and the line, and either
records why the text was skipped or creates the outbound ``Message`` (the outbox row, at sync
priority so the limiter keeps its reserve for people) and enqueues its send on commit. From
there the text follows the outbox's lifecycle (``outbound.py``): a worker that dies mid-send
leaves it ``unknown`` for the sweeper to settle; it is never sent again by itself.

A scheduled text may carry files (MMS): they wait as ``Attachment`` rows of the scheduled text,
bytes and all, and the release hands them to the ``Message`` in the same transaction, so they
are uploaded and sent once, with the text, by the outbox's send task. A file Text Request
refuses then fails the text with Text Request's reason, which ``outbound.py`` also writes on
the scheduled text (the Scheduled view's "Not sent" list shows it).

``due_at`` is the only gate: something that must hold a due text back (quiet hours) moves it
forward with a conditional update on ``status='scheduled'``, and the text waits like any other.
Views check permissions (through ``ScheduledText.objects.for_user``); these functions do not.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from textdesk.audit import services as audit
from textdesk.celery import enqueue
from textdesk.contacts.models import Contact
from textdesk.conversations.models import Attachment, Conversation, Message, ScheduledText
from textdesk.conversations.services import MAX_BODY_LENGTH, sender_name
from textdesk.dashboards.models import BusinessHours, Dashboard
from textdesk.textrequest import errors, mms

# How far ahead a text may be scheduled.
MAX_AHEAD = timedelta(days=365)
# How many due texts one beat run releases (the rest wait for the next run).
RELEASE_BATCH = 500
SEND_TASK = "textdesk.conversations.tasks.send_message"


class CannotSchedule(Exception):
    """The text cannot be scheduled, edited, sent now or cancelled: ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class AmbiguousTime(CannotSchedule):
    """The local time happens twice (clocks go back): ``choices`` are the two moments."""

    def __init__(self, reason: str, choices: list[tuple[str, str]]):
        super().__init__(reason)
        self.choices = choices


def line_zone(dashboard_pk: int) -> str:
    """The line's time zone: its business hours' zone, else the site's ``TIME_ZONE``."""
    name = (
        BusinessHours.objects.filter(dashboard_id=dashboard_pk)
        .values_list("time_zone", flat=True)
        .first()
    )
    try:
        ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        name = None
    return name or settings.TIME_ZONE


def _clock(moment: datetime) -> str:
    return f"{moment:%-I:%M %p}"


def local_to_utc(local: datetime, zone_name: str, fold: int | None = None) -> datetime:
    """The moment a wall-clock time in ``zone_name`` names.

    A time that does not exist (the hour skipped when clocks go forward) is refused with the
    next valid time suggested; one that happens twice (clocks go back) raises ``AmbiguousTime``
    unless ``fold`` says which: 0 the first (daylight time), 1 the second."""
    zone = ZoneInfo(zone_name)
    local = local.replace(tzinfo=None, second=0, microsecond=0)
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    # A skipped wall time does not survive a round trip through UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        later = first.astimezone(UTC).astimezone(zone)
        raise CannotSchedule(
            f"{_clock(local)} does not exist on {local:%b %-d, %Y} in {zone_name}: the clocks "
            f"jump forward then. Choose another time, such as {_clock(later)} {later.tzname()}."
        )
    if first.utcoffset() != second.utcoffset():
        if fold in (0, 1):
            return (second if fold else first).astimezone(UTC)
        raise AmbiguousTime(
            f"{_clock(local)} happens twice on {local:%b %-d, %Y} in {zone_name}: the clocks go "
            "back an hour then. Choose which one.",
            [
                ("0", f"The first {_clock(local)} ({first.tzname()}, before the clocks go back)"),
                ("1", f"The second {_clock(local)} ({second.tzname()}, after the clocks go back)"),
            ],
        )
    return first.astimezone(UTC)


def check_due(due_at: datetime, zone_name: str, now: datetime | None = None) -> None:
    """Refuse a moment in the past or more than a year ahead."""
    now = now or timezone.now()
    zone = ZoneInfo(zone_name)
    if due_at <= now:
        shown = now.astimezone(zone)
        raise CannotSchedule(
            f"That time has already passed (it is {shown:%b %-d}, {_clock(shown)} "
            f"{shown.tzname()} now). Choose a later time."
        )
    if due_at > now + MAX_AHEAD:
        limit = (now + MAX_AHEAD).astimezone(zone)
        raise CannotSchedule(
            f"A text can be scheduled at most a year ahead (until {limit:%b %-d, %Y})."
        )


def check_body(body: str, *, has_files: bool = False) -> str:
    """The body to keep; empty only for a text that carries files (as when sent now)."""
    body = (body or "").strip()
    if not body and not has_files:
        raise CannotSchedule("Write the text to send later.")
    if len(body) > MAX_BODY_LENGTH:
        raise CannotSchedule(
            f"A text can be at most {MAX_BODY_LENGTH} characters; this one has {len(body)}."
        )
    return body


def check_files(files, *, kept: int = 0) -> list:
    """Refuse what Text Request would refuse (``textrequest.mms``) before anything is stored:
    more than three files with those ``kept`` already, a type it does not take, a size over
    its limit."""
    files = list(files)
    if kept + len(files) > mms.MAX_ATTACHMENTS:
        raise CannotSchedule(
            f"A text can carry at most {mms.MAX_ATTACHMENTS} files; this one would have "
            f"{kept + len(files)}."
        )
    problems = [p for f in files if (p := mms.problem(f.name, f.size))]
    if problems:
        raise CannotSchedule(" ".join(problems))
    return files


def _store_files(scheduled: ScheduledText, files, start: int = 0) -> None:
    Attachment.objects.bulk_create(
        Attachment(
            scheduled=scheduled,
            position=start + i,
            name=upload.name[-200:],
            content_type=mms.content_type(upload.name),
            size=upload.size,
            content=upload.read(),
        )
        for i, upload in enumerate(files)
    )


def waiting_files(scheduled: ScheduledText):
    """The files a text not yet released carries, in the order they will be sent (no bytes)."""
    return (
        Attachment.objects.filter(scheduled=scheduled, message__isnull=True)
        .defer("content")
        .order_by("position")
    )


def _when(scheduled: ScheduledText) -> str:
    return scheduled.due_label


def _record(user, scheduled: ScheduledText, kind: str, summary: str) -> None:
    conversation = scheduled.conversation
    audit.record(
        actor=user,
        kind=kind,
        summary=summary,
        dashboard=scheduled.dashboard,
        contact=conversation.contact if conversation is not None else None,
        conversation=conversation,
    )


def _preview(body: str) -> str:
    return body if len(body) <= 60 else body[:59] + "…"


def schedule_text(
    *,
    conversation: Conversation,
    user,
    body: str,
    due_at: datetime,
    zone: str,
    client_key,
    attachments=(),
) -> ScheduledText:
    """Schedule a text for ``due_at``; ``client_key`` (the compose form's) dedupes a double
    submit. ``attachments`` are uploaded files (``name``, ``size``, ``read()``), kept until the
    text leaves. Raises ``CannotSchedule`` for an empty (without files) or too long body, a file
    Text Request would refuse, a time in the past or too far ahead, or a contact who may not be
    texted now."""
    existing = ScheduledText.objects.filter(client_key=client_key).first()
    if existing is not None:
        return existing
    attachments = check_files(attachments)
    body = check_body(body, has_files=bool(attachments))
    check_due(due_at, zone)
    contact = conversation.contact
    if contact.cannot_text_reason:
        raise CannotSchedule(contact.cannot_text_reason)
    try:
        with transaction.atomic():
            scheduled = ScheduledText.objects.create(
                dashboard=conversation.dashboard,
                conversation=conversation,
                contact_name=contact.name[:200],
                body=body,
                due_at=due_at,
                time_zone=zone,
                client_key=client_key,
                created_by=user if getattr(user, "pk", None) else None,
            )
            _store_files(scheduled, attachments)
            _record(
                user,
                scheduled,
                "text_scheduled",
                f"Scheduled a text to {contact.name} for {_when(scheduled)}: “{_preview(body)}”"
                + _files_note(attachments),
            )
    except IntegrityError:
        return ScheduledText.objects.get(client_key=client_key)
    return scheduled


def _files_note(files) -> str:
    names = [f.name for f in files]
    return f" with {', '.join(names)}" if names else ""


def edit_scheduled(
    *,
    scheduled: ScheduledText,
    user,
    body: str,
    due_at: datetime,
    remove=(),
    add=(),
) -> None:
    """Change a text that has not left yet: its body, its time, and its files (``remove``: ids
    of files it carries; ``add``: uploaded files). Refused once beat (or Send now) released it."""
    check_due(due_at, scheduled.time_zone)
    with transaction.atomic():
        changed = ScheduledText.objects.filter(
            pk=scheduled.pk, status=ScheduledText.Status.SCHEDULED
        ).update(due_at=due_at)
        if not changed:
            raise CannotSchedule(why_unchangeable(scheduled))
        # Held by the claim above: beat cannot release the text until this commits.
        files, remove = list(waiting_files(scheduled)), set(remove)
        removed = [f for f in files if f.pk in remove]
        kept = [f for f in files if f.pk not in remove]
        add = check_files(add, kept=len(kept))
        body = check_body(body, has_files=bool(kept or add))
        ScheduledText.objects.filter(pk=scheduled.pk).update(body=body)
        Attachment.objects.filter(pk__in=[f.pk for f in removed]).delete()
        _store_files(scheduled, add, start=max((f.position for f in files), default=-1) + 1)
        scheduled.body, scheduled.due_at = body, due_at
        change = ""
        if removed:
            change += f"; removed {', '.join(f.name for f in removed)}"
        if add:
            change += f"; added {', '.join(f.name for f in add)}"
        _record(
            user,
            scheduled,
            "text_schedule_edited",
            f"Edited a scheduled text to {scheduled.contact_name}, now for {_when(scheduled)}: "
            f"“{_preview(body)}”{change}",
        )


def cancel_scheduled(*, scheduled: ScheduledText, user) -> None:
    """Cancel a text that has not left yet."""
    with transaction.atomic():
        changed = ScheduledText.objects.filter(
            pk=scheduled.pk, status=ScheduledText.Status.SCHEDULED
        ).update(status=ScheduledText.Status.CANCELLED)
        if not changed:
            raise CannotSchedule(why_unchangeable(scheduled))
        _drop_bytes(scheduled.pk)
        _record(
            user,
            scheduled,
            "text_schedule_cancelled",
            f"Cancelled a text scheduled to {scheduled.contact_name} for {_when(scheduled)}",
        )


def send_scheduled_now(*, scheduled: ScheduledText, user) -> ScheduledText:
    """Release a scheduled text at once, because a person asked (interactive priority)."""
    with transaction.atomic():
        outcome = release(scheduled.pk, user=user)
        if outcome is None:
            raise CannotSchedule(why_unchangeable(scheduled))
        scheduled.refresh_from_db()
        _record(
            user,
            scheduled,
            "text_schedule_sent_now",
            f"Sent now a text scheduled to {scheduled.contact_name} for {_when(scheduled)}"
            + (f" (skipped: {scheduled.skip_reason})" if outcome == "skipped" else ""),
        )
    return scheduled


def why_unchangeable(scheduled: ScheduledText) -> str:
    """Why a text that is no longer scheduled cannot be edited, sent now or cancelled."""
    status = ScheduledText.objects.filter(pk=scheduled.pk).values_list("status", flat=True).first()
    if status == ScheduledText.Status.RELEASED:
        return "This text is already being sent; it can no longer be changed."
    if status == ScheduledText.Status.SKIPPED:
        return "This text was skipped; it can no longer be changed."
    return "This text was cancelled."


def _why_not(scheduled: ScheduledText, contact: Contact | None) -> str:
    """Why the text may not leave now, or ''."""
    if scheduled.conversation_id is None or contact is None:
        return "The conversation was deleted."
    if contact.removed_at is not None:
        return "The contact was deleted in Text Request."
    if contact.cannot_text_reason:
        return contact.cannot_text_reason
    line = Dashboard.objects.select_related("connection").get(pk=scheduled.dashboard_id)
    if line.removed_at is not None:
        return "This line was removed from Text Request."
    if not line.connection.is_active:
        return "This line's Text Request account was disconnected in textdesk."
    return ""


def _drop_bytes(scheduled_pk: int) -> None:
    """A text that will never leave keeps its files' names (shown with it), not their bytes."""
    Attachment.objects.filter(scheduled_id=scheduled_pk, message__isnull=True).update(content=b"")


def release(scheduled_pk: int, *, user=None) -> str | None:
    """Release one scheduled text: ``"released"`` (its outbound ``Message`` is queued),
    ``"skipped"`` (the reason is recorded), or None when it is not ours to release (not due,
    already released, skipped or cancelled: another beat or worker won it).

    Beat releases a due text at sync priority; ``user`` (Send now) releases it whatever its
    time, at interactive priority. One transaction: the claim, the checks and the new row
    commit together, so a worker that dies here leaves the text scheduled and nothing sent."""
    found = (
        ScheduledText.objects.filter(pk=scheduled_pk)
        .values_list("conversation__contact_id", flat=True)
        .first()
    )
    with transaction.atomic():
        # Lock order everywhere: contact, then its rows (deliver_text and record_consent).
        contact = Contact.objects.select_for_update().filter(pk=found).first() if found else None
        claim = ScheduledText.objects.filter(pk=scheduled_pk, status=ScheduledText.Status.SCHEDULED)
        if user is None:
            claim = claim.filter(due_at__lte=Now())
        if claim.update(status=ScheduledText.Status.RELEASED, released_at=Now()) != 1:
            return None
        scheduled = ScheduledText.objects.select_related("created_by").get(pk=scheduled_pk)
        if reason := _why_not(scheduled, contact):
            ScheduledText.objects.filter(pk=scheduled_pk).update(
                status=ScheduledText.Status.SKIPPED, skip_reason=f"Not sent: {reason}"[:500]
            )
            _drop_bytes(scheduled_pk)
            return "skipped"
        author = user if getattr(user, "pk", None) else scheduled.created_by
        message = Message.objects.create(
            conversation_id=scheduled.conversation_id,
            direction=Message.Direction.SENT,
            body=scheduled.body,
            sender_name=sender_name(author),
            sent_by=author,
            sent_at=timezone.now(),
            status=Message.Status.PENDING,
            # Derived, not the compose form's own key: that one may already name a text the
            # agent sent now from the same form, and a clash would stop this release for good.
            client_key=uuid.uuid5(scheduled.client_key, "released"),
            priority="interactive" if user is not None else "sync",
        )
        ScheduledText.objects.filter(pk=scheduled_pk).update(message=message)
        # The files go with the text: the send task uploads and sends them once, with it.
        Attachment.objects.filter(scheduled_id=scheduled_pk, message__isnull=True).update(
            message=message
        )
        Conversation.objects.touch(scheduled.conversation_id, message, is_new=True)
        enqueue(SEND_TASK, message.pk, queue=None if user is not None else "sync")
    return "released"


def release_due(*, limit: int = RELEASE_BATCH) -> dict:
    """Beat's work: release every scheduled text due by the database's clock (the body of the
    ``send_due_texts`` task; safe to run twice, also in parallel)."""
    due = list(
        ScheduledText.objects.filter(status=ScheduledText.Status.SCHEDULED, due_at__lte=Now())
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    outcomes = {"released": 0, "skipped": 0, "lost": 0}
    for pk in due:
        outcomes[release(pk) or "lost"] += 1
    return outcomes


# -- Text Request's own scheduled messages (read only) ----------------------------------------

# A read is reused this long: opening the Scheduled view costs at most TR_PAGES calls per line
# per minute, and nothing while nobody looks (a sync step would spend calls on every line every
# cycle for a list few people open). Budget: 100 calls / 60 s per key.
TR_FRESH = 60
# An account that answers 403/404 does not offer them: asked again only after an hour.
TR_NOT_OFFERED = 3600
# A failed read (limiter busy, outage) is not retried on every reload.
TR_FAILED = 30
TR_PAGES = 3  # 300 messages at most (page_size 100); the view says when there are more


@dataclass(frozen=True)
class TextRequestScheduled:
    """What the Scheduled view shows of the line's messages scheduled in Text Request."""

    items: list = field(default_factory=list)  # textrequest.ScheduledMessage, soonest first
    more: bool = False  # more than TR_PAGES pages: the rest are only in Text Request
    problem: str = ""  # why they could not be read just now ('' when read, or not offered)


def _tr_key(line: Dashboard) -> str:
    # The service and account (a digest of its URL and key, never the key) and the line: a
    # new account, or one reconnected with another key or URL, never reads another's list.
    connection = line.connection
    digest = hashlib.sha256(f"{connection.api_url} {connection.api_key}".encode()).hexdigest()
    return f"tr-scheduled:{digest[:24]}:{line.dashboard_id}"


def textrequest_scheduled(line: Dashboard) -> TextRequestScheduled:
    """The line's messages scheduled in Text Request's own app, read at most once a minute
    (cached), at sync priority so the reserve stays for people's actions, and with the short
    timeouts of a page a person waits on. An account that answers 403 or 404 shows none, with
    no error; any other failure shows none with a short note."""
    if line.removed_at is not None or not line.connection.is_active:
        return TextRequestScheduled()
    key = _tr_key(line)
    cached = cache.get(key)
    if cached is not None:
        return cached
    items, more, problem, ttl = [], False, "", TR_FRESH
    client = line.connection.client("sync", quick=True)
    try:
        for page in range(TR_PAGES):
            answer = client.get_scheduled_messages(line.dashboard_id, page=page, page_size=100)
            items.extend(answer.items)
            if len(answer.items) < 100:
                break
        else:
            more = True
    except errors.TextRequestError as exc:
        if exc.status in (403, 404):
            items, ttl = [], TR_NOT_OFFERED
        else:
            items, ttl = [], TR_FAILED
            problem = "Text Request's own scheduled messages could not be read just now."
    finally:
        client.close()
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda m: (m.send_at or far, m.id or ""))
    result = TextRequestScheduled(items=items, more=more, problem=problem)
    cache.set(key, result, ttl)
    return result
