"""Scheduled texts: "Send later" from the composer, a line's Scheduled view, and Edit, Send now
and Cancel until a text leaves (``scheduled.py`` does the work).

The composer's "Schedule" button posts to ``send`` (``actions.py``), which hands over to
``schedule``. Bad input answers the composer or the edit form again with what was typed and
the reason, never a 500. Reading needs ``view_conversations``; acting ``work_inbox``.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages as flash
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import quiet
from textdesk.conversations import scheduled as schedules
from textdesk.conversations.forms import ReplyForm, ScheduleForm, new_client_key
from textdesk.conversations.models import Draft, ScheduledText
from textdesk.conversations.views.rendering import (
    action_context,
    conversation_url,
    inbox_response,
    line_or_404,
    render_region,
    with_oob,
)

PAGE_SIZE = 50
SKIPPED_SHOWN = 20


def _composer_refused(request, line, conversation, form: ScheduleForm, status: int = 400):
    """The composer again: the typed text kept, the time and the reason in "Send later"."""
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
    """The composer's "Schedule": validate the time in the line's zone, then schedule once
    (the composer's client_key)."""
    zone = schedules.line_zone(line.pk)
    form = ScheduleForm(request.POST, zone=zone)
    valid = form.is_valid()
    if request.FILES.getlist("attachments"):
        form.add_error(None, "Files cannot be scheduled: send them now, or remove them.")
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
        )
    except schedules.CannotSchedule as exc:
        form.add_error(None, exc.reason)
        return _composer_refused(request, line, conversation, form)
    Draft.objects.filter(user=request.user, conversation=conversation).delete()
    notice = f"Scheduled for {item.due_label}."
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
    """A line's texts still to leave, soonest first (keyset by due time and id), and the ones
    skipped lately with why."""
    line = line_or_404(request.user, line_pk)
    pending = (
        ScheduledText.objects.filter(dashboard=line, status=ScheduledText.Status.SCHEDULED)
        .select_related("conversation", "created_by")
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
    skipped = []
    if not after:
        skipped = list(
            ScheduledText.objects.filter(dashboard=line, status=ScheduledText.Status.SKIPPED)
            .select_related("conversation")
            .order_by("-due_at", "-id")[:SKIPPED_SHOWN]
        )
    return render(
        request,
        "conversations/scheduled_list.html",
        {
            "line": line,
            "rows": rows,
            "skipped": skipped,
            "next_after": next_after,
            "zone": schedules.line_zone(line.pk),
            "can_act": request.user.has_perm("accounts.work_inbox"),
        },
    )


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


@require_http_methods(["GET", "POST"])
@permission_required("work_inbox")
def scheduled_edit(request, line_pk, pk):
    """Change the body or the time of a text that has not left."""
    line, item = _scheduled_or_404(request, line_pk, pk)
    status = 200
    if request.method == "GET" and item.status != ScheduledText.Status.SCHEDULED:
        flash.error(request, schedules.why_unchangeable(item))
        return redirect(_back(request, line, item))
    if request.method == "POST":
        form = ScheduleForm(request.POST, zone=item.time_zone)
        if form.is_valid():
            try:
                schedules.edit_scheduled(
                    scheduled=item,
                    user=request.user,
                    body=form.cleaned_data["body"],
                    due_at=form.cleaned_data["due_at"],
                )
            except schedules.CannotSchedule as exc:
                form.add_error(None, exc.reason)
                status = 409
            else:
                flash.success(request, f"Scheduled text changed: it leaves {item.due_label}.")
                return redirect(_back(request, line, item))
        else:
            status = 400
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
