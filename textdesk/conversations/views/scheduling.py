"""Scheduled texts: "Send later" from the composer, a line's Scheduled view, and Edit, Send now
and Cancel until a text leaves (``scheduled.py`` does the work).

The composer's "Schedule" button posts to ``send`` (``actions.py``), which hands over to
``schedule``. Bad input answers the composer or the edit form again with what was typed and
the reason, never a 500. Reading needs ``view_conversations``; acting ``work_inbox``.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages as flash
from django.db.models import Prefetch, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import quiet
from textdesk.contacts.models import Contact
from textdesk.conversations import scheduled as schedules
from textdesk.conversations.forms import ReplyForm, ScheduleForm, new_client_key
from textdesk.conversations.models import Attachment, Draft, ScheduledText
from textdesk.conversations.views.rendering import (
    action_context,
    conversation_url,
    inbox_response,
    line_or_404,
    mms_upload_limits,
    render_region,
    saved_replies,
    with_oob,
)
from textdesk.phones import InvalidPhoneNumber, normalize_phone

PAGE_SIZE = 50
SKIPPED_SHOWN = 20


def _composer_refused(request, line, conversation, form: ScheduleForm, status: int = 400):
    """The composer again: the typed text kept, the time and the reason in "Send later" (a
    browser cannot be handed files back: the agent is told to choose them again)."""
    dropped = len(request.FILES.getlist("attachments"))
    if getattr(request, "upload_refused", ""):  # the upload stopped at a file over its limit
        dropped = max(dropped, 1)
    if dropped:
        form.add_error(
            None,
            f"Nothing was scheduled, so choose the {dropped} file{'s' if dropped > 1 else ''} "
            "again.",
        )
    reply_form = ReplyForm(
        initial={
            "body": request.POST.get("body", ""),
            "client_key": request.POST.get("client_key") or new_client_key(),
            "seen": request.POST.get("seen", ""),
        }
    )
    extra = {"reply_form": reply_form, "schedule_form": form}
    if request.htmx:
        context = action_context(request, line, conversation, **extra)
        return render_region(request, "composer", context, status=status)
    return inbox_response(request, line, conversation, status=status, **extra)


def schedule(request, line, conversation):
    """The composer's "Schedule": validate the time in the line's zone and the files as Text
    Request takes them, then schedule once (the composer's client_key), files and all."""
    zone = schedules.line_zone(line.pk)
    form = ScheduleForm(request.POST, request.FILES, zone=zone)
    valid = form.is_valid()
    if refused := getattr(request, "upload_refused", ""):  # stopped as it passed a limit
        form.errors.pop("attachments", None)
        form.add_error(None, refused)
        valid = False
    if valid and not form.cleaned_data["client_key"]:
        return HttpResponseBadRequest("Schedule from a current page (the form's key is missing).")
    if not valid:
        return _composer_refused(request, line, conversation, form)
    try:
        item = schedules.schedule_text(
            conversation=conversation,
            user=request.user,
            body=form.cleaned_data["body"],
            due_at=form.cleaned_data["due_at"],
            zone=zone,
            client_key=form.cleaned_data["client_key"],
            attachments=form.cleaned_data["attachments"],
        )
    except schedules.CannotSchedule as exc:
        form.add_error(None, exc.reason)
        return _composer_refused(request, line, conversation, form)
    Draft.objects.filter(user=request.user, conversation=conversation).delete()
    files = item.attachments.count()
    notice = f"Scheduled for {item.due_label}" + (
        f" with {files} file{'s' if files > 1 else ''}." if files else "."
    )
    if not request.htmx:
        flash.success(request, notice)
        return redirect(conversation_url(line, conversation, request.GET.urlencode()))
    conversation.refresh_from_db()
    context = action_context(request, line, conversation)
    response = render_region(request, "composer", context)
    return with_oob(request, response, context, "thread-log")


def _scheduled_or_404(request, line_pk, pk) -> tuple:
    line = line_or_404(request.user, line_pk)
    item = get_object_or_404(
        ScheduledText.objects.for_user(request.user).select_related(
            "dashboard", "conversation__contact"
        ),
        dashboard=line,
        pk=pk,
    )
    return line, item


def _back(request, line, item: ScheduledText) -> str:
    """Where an action returns: the Scheduled view it came from, else the thread."""
    back = request.POST.get("back") or request.GET.get("back")
    if back == "list" or item.conversation_id is None:
        return reverse("conversations:scheduled", args=[line.pk])
    return conversation_url(line, item.conversation)


@require_GET
@permission_required("view_conversations")
def scheduled_list(request, line_pk):
    """A line's texts still to leave, soonest first (keyset by due time and id), the ones that
    did not leave lately with why, and (first page) the messages scheduled in Text Request's own
    app, read only."""
    line = line_or_404(request.user, line_pk)
    pending = (
        ScheduledText.objects.filter(dashboard=line, status=ScheduledText.Status.SCHEDULED)
        .select_related("conversation", "created_by")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.defer("content")))
        .order_by("due_at", "id")
    )
    after = _cursor(request.GET.get("after", ""))
    if after is False:
        return HttpResponseBadRequest("That page link is not valid; start from the first page.")
    if after:
        moment, pk = after
        pending = pending.filter(Q(due_at__gt=moment) | Q(due_at=moment, id__gt=pk))
    rows = list(pending[: PAGE_SIZE + 1])
    next_after = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_after = f"{rows[-1].due_at.isoformat()}|{rows[-1].pk}"
    skipped, theirs = [], None
    if not after:
        skipped = _not_sent(line)
        theirs = _textrequest_scheduled(line)
    return render(
        request,
        "conversations/scheduled_list.html",
        {
            "line": line,
            "rows": rows,
            "skipped": skipped,
            "theirs": theirs,
            "next_after": next_after,
            "zone": schedules.line_zone(line.pk),
            "can_act": request.user.has_perm("accounts.work_inbox"),
        },
    )


def _not_sent(line) -> list[ScheduledText]:
    """The latest texts that did not leave: skipped at release, or released and then refused
    by Text Request (a file it would not take; ``outbound.note_on_schedule``). Two small
    queries on the line's index rather than one OR across statuses."""
    lately = ScheduledText.objects.filter(dashboard=line).select_related("conversation")
    skipped = lately.filter(status=ScheduledText.Status.SKIPPED)
    refused = lately.filter(status=ScheduledText.Status.RELEASED).exclude(skip_reason="")
    rows = [
        *skipped.order_by("-due_at", "-id")[:SKIPPED_SHOWN],
        *refused.order_by("-due_at", "-id")[:SKIPPED_SHOWN],
    ]
    rows.sort(key=lambda s: (s.due_at, s.pk), reverse=True)
    return rows[:SKIPPED_SHOWN]


def _textrequest_scheduled(line) -> dict:
    """Text Request's own scheduled messages (read at most once a minute), each with this
    line's contact of its number, when textdesk has one."""
    theirs = schedules.textrequest_scheduled(line)
    numbers = {m.phone_number: _ten_digits(m.phone_number) for m in theirs.items}
    known = {
        c.phone_number: c
        for c in Contact.objects.filter(
            dashboard=line, phone_number__in={n for n in numbers.values() if n}
        ).select_related("conversation")
    }
    return {
        "rows": [(m, known.get(numbers[m.phone_number])) for m in theirs.items],
        "more": theirs.more,
        "problem": theirs.problem,
    }


def _ten_digits(number: str | None) -> str | None:
    try:
        return normalize_phone(number or "")
    except InvalidPhoneNumber:
        return None


def _cursor(raw: str):
    """``(due_at, id)`` from a page link; None for the first page; False when it is not one."""
    if not raw:
        return None
    moment, _, pk = raw.partition("|")
    try:
        parsed = datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        return False
    if parsed.tzinfo is None or not 0 < number < 2**63:
        return False
    return parsed, number


@mms_upload_limits
@require_http_methods(["GET", "POST"])
@permission_required("work_inbox")
def scheduled_edit(request, line_pk, pk):
    """Change the body, the time or the files of a text that has not left."""
    line, item = _scheduled_or_404(request, line_pk, pk)
    status = 200
    if request.method == "GET" and item.status != ScheduledText.Status.SCHEDULED:
        flash.error(request, schedules.why_unchangeable(item))
        return redirect(_back(request, line, item))
    files = list(schedules.waiting_files(item))
    remove = {f.pk for f in files if str(f.pk) in request.POST.getlist("remove")}
    if request.method == "POST":
        form = ScheduleForm(
            request.POST, request.FILES, zone=item.time_zone, kept_files=len(files) - len(remove)
        )
        valid = form.is_valid()
        if refused := getattr(request, "upload_refused", ""):
            form.errors.pop("attachments", None)
            form.add_error("attachments", refused)
            valid = False
        if valid:
            try:
                schedules.edit_scheduled(
                    scheduled=item,
                    user=request.user,
                    body=form.cleaned_data["body"],
                    due_at=form.cleaned_data["due_at"],
                    remove=remove,
                    add=form.cleaned_data["attachments"],
                )
            except schedules.CannotSchedule as exc:
                form.add_error(None, exc.reason)
                status = 409
            else:
                flash.success(request, f"Scheduled text changed: it leaves {item.due_label}.")
                return redirect(_back(request, line, item))
        else:
            status = 400
        if request.FILES.getlist("attachments"):
            form.add_error("attachments", "Nothing was saved, so choose the new files again.")
    else:
        form = ScheduleForm(
            initial={"body": item.body, "send_at": item.due_input}, zone=item.time_zone
        )
    return render(
        request,
        "conversations/scheduled_edit.html",
        {
            "line": line,
            "item": item,
            "form": form,
            "files": files,
            "removing": remove,
            "saved_replies": saved_replies(line),
            "back": request.POST.get("back") or request.GET.get("back", ""),
        },
        status=status,
    )


@require_POST
@permission_required("work_inbox")
def scheduled_send_now(request, line_pk, pk):
    line, item = _scheduled_or_404(request, line_pk, pk)
    contact = item.conversation.contact if item.conversation_id else None
    clock = quiet.clock_for(contact, line) if contact is not None else None
    if clock is not None and clock.is_quiet and request.POST.get("quiet_ok") != "1":
        # A person sends it now: asked once, like a reply typed in quiet hours.
        context = {
            "line": line,
            "item": item,
            "question": quiet.ask_text(contact, clock),
            "back": request.POST.get("back", ""),
            "cancel_url": _back(request, line, item),
        }
        return render(request, "conversations/scheduled_send_now.html", context, status=409)
    try:
        item = schedules.send_scheduled_now(scheduled=item, user=request.user)
    except schedules.CannotSchedule as exc:
        flash.error(request, exc.reason)
    else:
        if item.status == ScheduledText.Status.SKIPPED:
            flash.error(request, item.skip_reason)
        else:
            flash.success(request, "Sending now.")
    return redirect(_back(request, line, item))


@require_POST
@permission_required("work_inbox")
def scheduled_cancel(request, line_pk, pk):
    line, item = _scheduled_or_404(request, line_pk, pk)
    try:
        schedules.cancel_scheduled(scheduled=item, user=request.user)
    except schedules.CannotSchedule as exc:
        flash.error(request, exc.reason)
    else:
        flash.success(request, "Scheduled text cancelled.")
    return redirect(_back(request, line, item))
