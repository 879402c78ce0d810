"""The agent inbox, acting: every POST of the conversation page.

Order inside each view: load (through ``for_user``, 404 otherwise) → validate (a form) → act (one
service call) → respond: a no-JS POST ends in a redirect with a notice; an htmx POST answers
the region it acted on and tells the page by event what else to refresh. Each needs
``work_inbox``; payment actions also ``request_payments``.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import quiet
from textdesk.contacts import services as contact_services
from textdesk.conversations import presence, services
from textdesk.conversations.forms import (
    ArchiveForm,
    AssignForm,
    ContactForm,
    DraftForm,
    NoteForm,
    PaymentRequestForm,
    ReplyForm,
    ResolveForm,
    SeenForm,
    TagsForm,
    new_client_key,
)
from textdesk.conversations.guard import Changes, seen_parts, snapshot, what_changed
from textdesk.conversations.models import Draft
from textdesk.conversations.threads import load_thread
from textdesk.conversations.views.rendering import (
    action_context,
    conversation_or_404,
    conversation_url,
    inbox_response,
    line_or_404,
    mms_upload_limits,
    render_region,
    with_oob,
)
from textdesk.conversations.views.scheduling import schedule as schedule_later
from textdesk.outbox import changes as outbox
from textdesk.payments import services as payments
from textdesk.payments.models import Payment


def _load_for_action(request, line_pk, pk):
    line = line_or_404(request.user, line_pk)
    return line, conversation_or_404(request.user, line, pk)


def _changed(response: HttpResponse, seen: dict | None = None) -> HttpResponse:
    """Tell the page something changed (the live region refreshes) and, with ``seen``, what
    the agent has now seen (the stale-state guard's snapshot in every form)."""
    trigger_client_event(response, "inbox:changed")
    if seen is not None:
        trigger_client_event(response, "inbox:seen", seen)
    return response


def _after_action(request, line, conversation, region: str, notice: str, **extra) -> HttpResponse:
    """No-JS: back to the conversation with a notice. htmx: the region, others by event."""
    if not request.htmx:
        flash.success(request, notice)
        return redirect(conversation_url(line, conversation, request.GET.urlencode()))
    conversation.refresh_from_db()
    context = action_context(request, line, conversation, notice=notice, **extra)
    response = render_region(request, region, context)
    return _changed(response, seen_parts(context["thread"]))


def _refused(request, line, conversation, region: str, status: int = 400, **extra):
    """Bad input or a refused action: the same region with the reason, what was typed kept."""
    if request.htmx:
        context = action_context(request, line, conversation, **extra)
        return render_region(request, region, context, status=status)
    return inbox_response(request, line, conversation, status=status, **extra)


def _guard(request, line, conversation, changes: Changes, action: dict) -> HttpResponse:
    """Pause: show what changed since the agent looked, and offer to go ahead anyway."""
    thread = load_thread(request.user, line, conversation)
    extra = {"changes": changes, "guarded_action": action}
    if action["region"] == "composer":
        extra["files_dropped"] = len(request.FILES.getlist("attachments"))
        form = ReplyForm(
            initial={
                "body": request.POST.get("body", ""),
                "client_key": request.POST.get("client_key") or new_client_key(),
                "seen": snapshot(thread),
            }
        )
        extra["reply_form"] = form
    if not request.htmx:
        return inbox_response(request, line, conversation, status=409, **extra)
    context = action_context(request, line, conversation, **extra)
    response = render_region(request, action["region"], context, status=409)
    return with_oob(request, response, context, "thread-log")


def _ask_quiet(request, line, conversation, clock) -> HttpResponse:
    """Outside quiet hours in the customer's clock: ask once, keeping what was typed; the
    answer ("Send anyway") posts the same text with ``quiet_ok``."""
    thread = load_thread(request.user, line, conversation)
    extra = {
        "quiet_ask": quiet.ask_text(conversation.contact, clock),
        "files_dropped": len(request.FILES.getlist("attachments")),
        "reply_form": ReplyForm(
            initial={
                "body": request.POST.get("body", ""),
                "client_key": request.POST.get("client_key") or new_client_key(),
                "seen": snapshot(thread),
            }
        ),
    }
    if not request.htmx:
        return inbox_response(request, line, conversation, status=409, **extra)
    context = action_context(request, line, conversation, **extra)
    return render_region(request, "composer", context, status=409)


@mms_upload_limits
@require_POST
@permission_required("work_inbox")
def send(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    if request.POST.get("when") == "later":
        return schedule_later(request, line, conversation)
    form = ReplyForm(request.POST, request.FILES)
    refused = getattr(request, "upload_refused", "")  # the upload stopped as it passed a limit
    if not form.is_valid() or refused:
        if refused:
            form.errors.pop("attachments", None)
            form.add_error("attachments", refused)
        return _refused(request, line, conversation, "composer", reply_form=form)
    changes = what_changed(request.user, line, conversation, form.cleaned_data["seen"])
    if changes.messages or changes.resolved is not None:
        return _guard(request, line, conversation, changes, {"region": "composer"})
    clock = quiet.clock_for(conversation.contact, line)
    if clock.is_quiet and not form.cleaned_data["quiet_ok"]:
        return _ask_quiet(request, line, conversation, clock)
    try:
        services.send_text(
            conversation=conversation,
            user=request.user,
            body=form.cleaned_data["body"],
            client_key=form.cleaned_data["client_key"],
            attachments=form.cleaned_data["attachments"],
        )
    except services.CannotText as exc:
        form.add_error(None, exc.reason)
        return _refused(request, line, conversation, "composer", reply_form=form)
    Draft.objects.filter(user=request.user, conversation=conversation).delete()
    presence.touch(conversation.pk, request.user, typing=False)
    if not request.htmx:
        return redirect(conversation_url(line, conversation, request.GET.urlencode()))
    conversation.refresh_from_db()
    context = action_context(request, line, conversation)
    response = with_oob(request, render_region(request, "composer", context), context, "thread-log")
    return _changed(response)


@require_POST
@permission_required("work_inbox")
def retry(request, line_pk, pk, message_pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    message = get_object_or_404(conversation.messages, pk=message_pk)
    try:
        services.retry_text(message=message, user=request.user)
    except services.CannotText as exc:
        return _refused(request, line, conversation, "thread-log", status=409, notice=exc.reason)
    return _after_action(request, line, conversation, "thread-log", "Sending again.")


@require_POST
@permission_required("work_inbox")
def resolve(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Say whether to resolve or reopen, from a current page.")
    resolved = form.cleaned_data["resolved"]
    changes = what_changed(request.user, line, conversation, form.cleaned_data["seen"])
    if resolved and (changes.messages or changes.resolved is not None):
        return _guard(
            request,
            line,
            conversation,
            changes,
            {"region": "conversation-status", "url": "resolve", "fields": {"resolved": "1"}},
        )
    services.set_resolved(conversation=conversation, user=request.user, resolved=resolved)
    notice = "Resolved." if resolved else "Reopened."
    return _after_action(request, line, conversation, "conversation-status", notice)


@require_POST
@permission_required("work_inbox")
def archive(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Say whether to archive or unarchive.")
    archived = form.cleaned_data["archived"]
    services.set_archived(conversation=conversation, user=request.user, archived=archived)
    notice = "Archived." if archived else "Back in the inbox."
    return _after_action(request, line, conversation, "conversation-status", notice)


@require_POST
@permission_required("work_inbox")
def assign(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Say whether to assign to you or unassign.")
    assignee = request.user if form.cleaned_data["assign"] == "me" else None
    services.assign(conversation=conversation, user=request.user, assignee=assignee)
    notice = "Assigned to you." if assignee else "Unassigned."
    return _after_action(request, line, conversation, "conversation-status", notice)


@require_POST
@permission_required("work_inbox")
def tags(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = TagsForm(request.POST, line=line, auto_id="tags_%s")
    if not form.is_valid():
        return _refused(request, line, conversation, "tag-picker", tags_form=form)
    services.set_tags(
        conversation=conversation, user=request.user, tags=list(form.cleaned_data["tags"])
    )
    return _after_action(request, line, conversation, "conversation-status", "Tags saved.")


@require_POST
@permission_required("work_inbox")
def edit_contact(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = ContactForm(request.POST, auto_id="contact_%s")
    if not form.is_valid():
        return _refused(request, line, conversation, "contact-card", contact_form=form)
    contact_services.update_contact(
        contact=conversation.contact, user=request.user, **form.cleaned_data
    )
    conversation.contact.refresh_from_db()
    response = _after_action(request, line, conversation, "contact-card", "Contact saved.")
    return response


@require_POST
@permission_required("work_inbox")
def save_draft(request, line_pk, pk):
    """Autosaved by the composer; an empty body removes the draft."""
    line, conversation = _load_for_action(request, line_pk, pk)
    form = DraftForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("A draft is at most 1600 characters.")
    body = form.cleaned_data["body"]
    # Colleagues with the conversation open see that this agent is typing a reply.
    presence.touch(conversation.pk, request.user, typing=bool(body.strip()))
    if body.strip():
        Draft.objects.update_or_create(
            user=request.user, conversation=conversation, defaults={"body": body}
        )
    else:
        Draft.objects.filter(user=request.user, conversation=conversation).delete()
    if request.htmx or request.headers.get("X-Draft") == "1":
        return HttpResponse(status=204)
    return redirect(conversation_url(line, conversation))


def _payment_or_404(request, line, conversation, payment_pk) -> Payment:
    return get_object_or_404(
        Payment.objects.for_user(request.user).filter(
            dashboard=line, customer_phone=conversation.contact.phone_number
        ),
        pk=payment_pk,
    )


@require_POST
@permission_required("work_inbox")
@permission_required("request_payments")
def request_payment(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = PaymentRequestForm(request.POST, auto_id="pay_%s")
    if not form.is_valid():
        return _refused(request, line, conversation, "payment-form", payment_form=form)
    data = form.cleaned_data
    try:
        payments.request_payment(
            dashboard=line,
            phone_number=conversation.contact.phone_number,
            user=request.user,
            amount=data["amount"],
            message=data["message"],
            description=data["description"],
            reference_number=data["reference_number"],
            client_key=data["client_key"],
        )
    except payments.PaymentActionRefused as exc:
        form.add_error(None, exc.reason)
        return _refused(request, line, conversation, "payment-form", payment_form=form)
    response = _after_action(request, line, conversation, "payment-form", "Payment requested.")
    if request.htmx:
        return with_oob(request, response, action_context(request, line, conversation), "payments")
    return response


@require_POST
@permission_required("work_inbox")
@permission_required("request_payments")
def remind(request, line_pk, pk, payment_pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    payment = _payment_or_404(request, line, conversation, payment_pk)
    form = SeenForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Send the reminder from a current page.")
    changes = what_changed(request.user, line, conversation, form.cleaned_data["seen"])
    if changes:
        return _guard(
            request,
            line,
            conversation,
            changes,
            {"region": "payments", "url": "remind", "payment": payment},
        )
    try:
        payments.send_reminder(payment=payment, user=request.user)
    except payments.PaymentActionRefused as exc:
        return _refused(
            request, line, conversation, "payments", status=409, payment_error=exc.reason
        )
    return _after_action(request, line, conversation, "payments", "Reminder on its way.")


@require_POST
@permission_required("work_inbox")
@permission_required("request_payments")
def cancel_payment(request, line_pk, pk, payment_pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    payment = _payment_or_404(request, line, conversation, payment_pk)
    try:
        payments.cancel_payment(payment=payment, user=request.user)
    except payments.PaymentActionRefused as exc:
        return _refused(
            request, line, conversation, "payments", status=409, payment_error=exc.reason
        )
    return _after_action(request, line, conversation, "payments", "Cancel on its way.")


@require_POST
@permission_required("work_inbox")
def change(request, line_pk, pk, change_pk, action):
    """Dismiss a change Text Request refused or has not confirmed, or write an unconfirmed one
    again (the agent's choice: it may have gone through)."""
    line, conversation = _load_for_action(request, line_pk, pk)
    row = get_object_or_404(conversation.changes, pk=change_pk)
    if action == "dismiss":
        outbox.dismiss_change(change=row, user=request.user)
        notice = "Dismissed."
    elif action == "again":
        if not outbox.apply_again(change=row, user=request.user):
            return _refused(
                request, line, conversation, "conversation-status", status=409,
                notice="That change is no longer waiting for you.",
            )  # fmt: skip
        notice = "Writing it again."
    else:
        raise Http404("No such action.")
    return _after_action(request, line, conversation, "conversation-status", notice)


@require_POST
@permission_required("work_inbox")
def note(request, line_pk, pk):
    """An internal note: kept here, shown to staff only, never sent to Text Request."""
    line, conversation = _load_for_action(request, line_pk, pk)
    form = NoteForm(request.POST, auto_id="note_%s")
    if not form.is_valid():
        return _refused(request, line, conversation, "note-form", note_form=form)
    added = services.add_note(
        conversation=conversation,
        user=request.user,
        body=form.cleaned_data["note"],
        client_key=form.cleaned_data["client_key"],
    )
    names = ", ".join(u.display_name for u in added.mentions.all())
    notice = f"Note added; {names} will see it in Mentions." if names else "Note added."
    if not request.htmx:
        flash.success(request, notice)
        return redirect(conversation_url(line, conversation, request.GET.urlencode()))
    context = action_context(request, line, conversation, notice=notice)
    response = render_region(request, "note-form", context)
    return _changed(with_oob(request, response, context, "thread-log"))
