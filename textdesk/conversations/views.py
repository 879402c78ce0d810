"""The agent inbox: lines, conversation list, thread, contact panel, live updates.

Every view loads through `textdesk.accounts.access` (another line's ids are a 404, also for the
htmx partials), validates with a form, calls one service, and answers either the whole page
(`conversations/inbox.html`) or the named region htmx asked for. A no-JS POST ends in a redirect.
Reading needs `view_conversations`; every POST needs `work_inbox` (Finance reads, never acts).
"""

from __future__ import annotations

import json

from django.contrib import messages as flash
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from textdesk.accounts import access
from textdesk.accounts.decorators import permission_required
from textdesk.contacts import services as contact_services
from textdesk.conversations import services
from textdesk.conversations.forms import (
    ArchiveForm,
    AssignForm,
    ContactForm,
    DraftForm,
    ListFilterForm,
    NewConversationForm,
    PaymentRequestForm,
    ReplyForm,
    ResolveForm,
    SeenForm,
    TagsForm,
    new_client_key,
    parse_id,
)
from textdesk.conversations.guard import Changes, seen_parts, snapshot, what_changed
from textdesk.conversations.listing import (
    COUNT_CAP,
    PAGE_SIZE,
    line_conversations,
    lines_with_counts,
    list_rows,
)
from textdesk.conversations.live import live_parts, live_token
from textdesk.conversations.models import Conversation, Draft
from textdesk.conversations.segments import count_segments
from textdesk.conversations.threads import THREAD_SIZE, Thread, load_thread
from textdesk.dashboards.models import SavedReply
from textdesk.payments import services as payments
from textdesk.payments.models import Payment

__all__ = ["PAGE_SIZE", "THREAD_SIZE", "snapshot", "what_changed"]  # read by tests and forms

TEMPLATE = "conversations/inbox.html"
LIVE_EVERY_MS = 1500


# --- loading -------------------------------------------------------------------------------


def _conversation_or_404(user, line, pk) -> Conversation:
    return get_object_or_404(
        line_conversations(user, line).select_related("contact", "assigned_to"), pk=pk
    )


def _filter_form(request, line) -> ListFilterForm:
    form = ListFilterForm(request.GET, line=line)
    form.is_valid()
    return form


# --- rendering ------------------------------------------------------------------------------


def _conversation_url(line, conversation, query: str = "") -> str:
    url = reverse("conversations:conversation", args=[line.pk, conversation.pk])
    return f"{url}?{query}" if query else url


def _line_url(line, query: str = "") -> str:
    url = reverse("conversations:line", args=[line.pk])
    return f"{url}?{query}" if query else url


def _conversation_context(request, line, conversation, thread: Thread, **extra) -> dict:
    user = request.user
    contact = conversation.contact
    contact_tags = list(contact.tags.all())
    draft = Draft.objects.filter(user=user, conversation=conversation).first()
    reply_form = extra.pop("reply_form", None) or ReplyForm(
        initial={
            "body": draft.body if draft else "",
            "client_key": new_client_key(),
            "seen": snapshot(thread),
        }
    )
    body = reply_form["body"].value() or ""
    replies = SavedReply.objects.filter(Q(dashboard=line) | Q(dashboard__isnull=True))
    context = {
        "conversation": conversation,
        "contact": contact,
        "thread": thread,
        "seen": snapshot(thread),
        "reply_form": reply_form,
        "counter": count_segments(body),
        "saved_replies": list(replies.order_by("shortcut")[:200]),
        "contact_form": extra.pop("contact_form", None)
        or ContactForm(
            auto_id="contact_%s",
            initial={
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "note": contact.note,
            },
        ),
        "tags_form": extra.pop("tags_form", None),
        "contact_tags": contact_tags,
        "contact_tag_ids": {t.pk for t in contact_tags},
        "line_tags": list(line.tags.all()),
        "payment_form": extra.pop("payment_form", None)
        or PaymentRequestForm(initial={"client_key": new_client_key()}, auto_id="pay_%s"),
        "pending": _pending(conversation),
        "sender_name": user.display_name,
    }
    context.update(extra)
    return context


def _pending(conversation) -> list:
    """Actions of this conversation still on their way to Text Request, or failed."""
    return list(services.pending_changes(conversation))


def _base_context(request, line, filters: ListFilterForm, conversation=None) -> dict:
    can_act = request.user.has_perm("accounts.work_inbox")
    query = filters.query_string() if filters.is_bound and filters.is_valid() else ""
    here = _conversation_url(line, conversation) if conversation else _line_url(line)
    return {
        "here": here,
        "line": line,
        "filters": filters,
        "query": query,
        "can_act": can_act,
        "can_pay": can_act and request.user.has_perm("accounts.request_payments"),
        "open_conversation": conversation,
        "live_every": LIVE_EVERY_MS,
        "count_cap": COUNT_CAP,
    }


def _render(request, name: str, context: dict, status: int = 200, **headers) -> HttpResponse:
    template = f"{TEMPLATE}#{name}" if name else TEMPLATE
    response = HttpResponse(render_to_string(template, context, request), status=status)
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def _with_oob(request, response: HttpResponse, context: dict, *names: str) -> HttpResponse:
    """Append other regions to an htmx answer, each swapped in place by its id."""
    extra = "".join(
        render_to_string(f"{TEMPLATE}#{name}", {**context, "oob": True}, request) for name in names
    )
    response.content = response.content + extra.encode()
    return response


def _trigger(response: HttpResponse, **events) -> HttpResponse:
    response["HX-Trigger"] = json.dumps({"inbox:changed": True, **events})
    return response


def _live_url(line, conversation, query: str, token: str) -> str:
    params = QueryDict(query, mutable=True)
    if conversation is not None:
        params["c"] = conversation.pk
    params["token"] = token
    return f"{reverse('conversations:live', args=[line.pk])}?{params.urlencode()}"


def _inbox_response(
    request, line, conversation=None, *, status=200, lines=None, **extra
) -> HttpResponse:
    """The whole page, or the region htmx asked for (by its target id)."""
    filters = _filter_form(request, line)
    if not filters.is_valid():
        return HttpResponseBadRequest(
            " ".join(e for errors in filters.errors.values() for e in errors)
        )
    context = _base_context(request, line, filters, conversation)
    target = request.htmx.target if request.htmx else None
    if target == "list-more":
        rows, next_after = list_rows(request.user, line, filters.cleaned_data, context["query"])
        return _render(request, "list-page", {**context, "rows": rows, "next_after": next_after})
    known = {}
    if target in (None, "conversation-list"):
        rows, next_after = list_rows(request.user, line, filters.cleaned_data, context["query"])
        context.update(rows=rows, next_after=next_after)
        if not filters.cleaned_data["after"]:
            known["rows"] = rows  # the first page: its fingerprint needs no second read
    if lines is not None:
        known["lines"] = lines
    if target is None:
        known["lines"] = context["lines"] = (
            lines if lines is not None else lines_with_counts(request.user)
        )
    if conversation is not None and target in (None, "conversation"):
        thread = load_thread(request.user, line, conversation)
        context.update(_conversation_context(request, line, conversation, thread, **extra))
        # What the page just read also fingerprints it: no second read for the live token.
        known.update(pending=context["pending"], thread=thread, tags=context["contact_tags"])
    if target in (None, "conversation"):
        # The tag filter and the tag picker list the same tags of the line.
        context["filter_tags"] = context.get("line_tags")
        if context["filter_tags"] is None:
            context["filter_tags"] = list(line.tags.all())
    token = live_token(request, line, conversation, filters, **known)
    context["live_url"] = _live_url(line, conversation, context["query"], token)
    if target == "conversation-list":
        return _with_oob(request, _render(request, "conversation-list", context), context, "live")
    if target == "conversation":
        # The filters now act on this conversation's URL, so a search keeps it open.
        response = _render(request, "conversation", context, status=status)
        return _with_oob(request, response, context, "live", "list-filters")
    return _render(request, "", context, status=status)


# --- pages ----------------------------------------------------------------------------------


@require_GET
@permission_required("view_conversations")
def inbox(request):
    """The first line the user works; a page explaining what to do when there is none."""
    line = access.lines_for(request.user).first()
    if line is None:
        return _render(request, "", {"lines": [], "line": None})
    return redirect(_line_url(line, request.GET.urlencode()))


@require_GET
@permission_required("view_conversations")
def line_inbox(request, line_pk):
    if request.htmx and request.htmx.target == "list-more":
        return _inbox_response(request, access.line_or_404(request.user, line_pk))
    # Every other answer shows or fingerprints the user's lines: the line comes from that read.
    lines = lines_with_counts(request.user)
    line = next((item for item in lines if item.pk == line_pk), None)
    if line is None:
        raise Http404("No such line.")
    return _inbox_response(request, line, lines=lines)


@require_GET
@permission_required("view_conversations")
def conversation_page(request, line_pk, pk):
    # The conversation and its line in one read: a 404 unless the user may see both.
    conversation = get_object_or_404(
        line_conversations(request.user, line_pk).select_related(
            "contact", "assigned_to", "dashboard__connection"
        ),
        pk=pk,
    )
    line = conversation.dashboard
    if request.user.has_perm("accounts.work_inbox"):
        # Finance reading must not hide a new text from the agents.
        services.mark_read(conversation=conversation, user=request.user)
    # A thread never read from Text Request fills now, at interactive priority; the page shows
    # it loading and the live updates draw it when it lands.
    services.load_history(conversation=conversation)
    return _inbox_response(request, line, conversation)


@require_GET
@permission_required("view_conversations")
def earlier_messages(request, line_pk, pk):
    """Older messages of a long thread, by keyset on (sent_at, id)."""
    line = access.line_or_404(request.user, line_pk)
    conversation = _conversation_or_404(request.user, line, pk)
    filters = ListFilterForm({"after": request.GET.get("before", "")})
    if not filters.is_valid() or not filters.cleaned_data["after"]:
        return HttpResponseBadRequest("This page link is not valid; reload the conversation.")
    thread = load_thread(request.user, line, conversation, before=filters.cleaned_data["after"])
    context = {
        "line": line,
        "conversation": conversation,
        "contact": conversation.contact,
        "thread": thread,
        "query": "",
    }
    if request.htmx:
        return _render(request, "thread-earlier", context)
    context.update(_base_context(request, line, ListFilterForm(), conversation))
    context.update(_conversation_context(request, line, conversation, thread))
    context.update(
        lines=lines_with_counts(request.user), rows=[], filter_tags=list(line.tags.all())
    )
    return _render(request, "", context)


# --- live updates ---------------------------------------------------------------------------


@require_GET
@permission_required("view_conversations")
def live(request, line_pk):
    """Conditional polling: 204 when nothing the page shows has changed, else the changed
    regions as out-of-band swaps (never the composer's text unless texting became impossible)."""
    line = access.line_or_404(request.user, line_pk)
    conversation = None
    if request.GET.get("c"):
        conversation = get_object_or_404(
            line_conversations(request.user, line)
            .select_related("contact", "assigned_to")
            .prefetch_related("contact__tags"),
            pk=parse_id(request.GET["c"]),
        )
    filters = _filter_form(request, line)
    if not filters.is_valid():
        return HttpResponseBadRequest("Unknown list filter.")
    token = request.GET.get("token", "")
    seen = dict(item.split("-", 1) for item in token.split(".") if "-" in item)
    lines = lines_with_counts(request.user)
    parts = live_parts(request, line, conversation, filters, lines=lines)
    changed = [key for key, value in parts.items() if seen.get(key) != value]
    if not changed:
        return HttpResponse(status=204)
    context = _base_context(request, line, filters, conversation)
    context["lines"] = lines
    if "list" in changed:
        rows, next_after = list_rows(
            request.user, line, dict(filters.cleaned_data, after=None), context["query"]
        )
        context.update(rows=rows, next_after=next_after)
    token = ".".join(f"{key}-{value}" for key, value in sorted(parts.items()))
    context["live_url"] = _live_url(line, conversation, context["query"], token)
    regions = []
    if "lines" in changed:
        regions.append("lines")
    if "list" in changed:
        regions.append("conversation-list")
    if conversation is not None and {"thread", "status", "payments", "composer"} & set(changed):
        thread = load_thread(request.user, line, conversation)
        context.update(_conversation_context(request, line, conversation, thread))
        regions += [
            name
            for key, name in [
                ("thread", "thread-log"),
                ("status", "conversation-status"),
                ("payments", "payments"),
                ("composer", "composer"),
            ]
            if key in changed
        ]
    return _with_oob(request, _render(request, "live", context), context, *regions)


# --- acting ---------------------------------------------------------------------------------


def _load_for_action(request, line_pk, pk):
    line = access.line_or_404(request.user, line_pk)
    return line, _conversation_or_404(request.user, line, pk)


def _after_action(request, line, conversation, region: str, notice: str, **extra) -> HttpResponse:
    """No-JS: back to the conversation with a notice. htmx: the region, others by event."""
    if not request.htmx:
        flash.success(request, notice)
        return redirect(_conversation_url(line, conversation, request.GET.urlencode()))
    conversation.refresh_from_db()
    thread = load_thread(request.user, line, conversation)
    context = _base_context(request, line, _filter_form(request, line), conversation)
    context.update(_conversation_context(request, line, conversation, thread, **extra))
    context["notice"] = notice
    response = _render(request, region, context)
    return _trigger(response, **{"inbox:seen": seen_parts(thread)})


def _refused(request, line, conversation, region: str, status: int = 400, **extra):
    """Bad input or a refused action: the same region with the reason, what was typed kept."""
    if request.htmx:
        thread = load_thread(request.user, line, conversation)
        context = _base_context(request, line, _filter_form(request, line), conversation)
        context.update(_conversation_context(request, line, conversation, thread, **extra))
        return _render(request, region, context, status=status)
    return _inbox_response(request, line, conversation, status=status, **extra)


def _guard(request, line, conversation, changes: Changes, action: dict) -> HttpResponse:
    """Pause: show what changed since the agent looked, and offer to go ahead anyway."""
    thread = load_thread(request.user, line, conversation)
    extra = {"changes": changes, "guarded_action": action}
    if action["region"] == "composer":
        form = ReplyForm(
            initial={
                "body": request.POST.get("body", ""),
                "client_key": request.POST.get("client_key") or new_client_key(),
                "seen": snapshot(thread),
            }
        )
        extra["reply_form"] = form
    if not request.htmx:
        return _inbox_response(request, line, conversation, status=409, **extra)
    context = _base_context(request, line, _filter_form(request, line), conversation)
    context.update(_conversation_context(request, line, conversation, thread, **extra))
    response = _render(request, action["region"], context, status=409)
    return _with_oob(request, response, context, "thread-log")


@require_POST
@permission_required("work_inbox")
def send(request, line_pk, pk):
    line, conversation = _load_for_action(request, line_pk, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _refused(request, line, conversation, "composer", reply_form=form)
    changes = what_changed(request.user, line, conversation, form.cleaned_data["seen"])
    if changes.messages or changes.resolved is not None:
        return _guard(request, line, conversation, changes, {"region": "composer"})
    try:
        services.send_text(
            conversation=conversation,
            user=request.user,
            body=form.cleaned_data["body"],
            client_key=form.cleaned_data["client_key"],
        )
    except services.CannotText as exc:
        form.add_error(None, exc.reason)
        return _refused(request, line, conversation, "composer", reply_form=form)
    Draft.objects.filter(user=request.user, conversation=conversation).delete()
    if not request.htmx:
        return redirect(_conversation_url(line, conversation, request.GET.urlencode()))
    conversation.refresh_from_db()
    thread = load_thread(request.user, line, conversation)
    context = _base_context(request, line, _filter_form(request, line), conversation)
    context.update(_conversation_context(request, line, conversation, thread))
    response = _with_oob(request, _render(request, "composer", context), context, "thread-log")
    return _trigger(response)


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
    if body.strip():
        Draft.objects.update_or_create(
            user=request.user, conversation=conversation, defaults={"body": body}
        )
    else:
        Draft.objects.filter(user=request.user, conversation=conversation).delete()
    if request.htmx or request.headers.get("X-Draft") == "1":
        return HttpResponse(status=204)
    return redirect(_conversation_url(line, conversation))


# --- payments -------------------------------------------------------------------------------


def _payment_or_404(request, line, conversation, payment_pk) -> Payment:
    return get_object_or_404(
        access.payments_for(request.user).filter(
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
        return _with_oob(
            request, response, _action_context(request, line, conversation), "payments"
        )
    return response


def _action_context(request, line, conversation) -> dict:
    thread = load_thread(request.user, line, conversation)
    context = _base_context(request, line, _filter_form(request, line), conversation)
    context.update(_conversation_context(request, line, conversation, thread))
    return context


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


# --- new conversation -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("work_inbox")
def new_conversation(request, line_pk):
    """Text a number with no thread yet; the send creates the thread, which opens at once."""
    line = access.line_or_404(request.user, line_pk)
    initial = {"client_key": new_client_key(), "phone_number": request.GET.get("to", "")}
    form = NewConversationForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            existing = line_conversations(request.user, line).filter(
                contact__phone_number=form.cleaned_data["phone_number"]
            )
            try:
                conversation = services.start_conversation(
                    dashboard=line,
                    phone_number=form.cleaned_data["phone_number"],
                    user=request.user,
                    body=form.cleaned_data["body"],
                    client_key=form.cleaned_data["client_key"],
                )
            except services.CannotText as exc:
                form.add_error(None, exc.reason)
            except services.InvalidPhoneNumber as exc:
                form.add_error("phone_number", str(exc))
            else:
                url = _conversation_url(line, conversation)
                if existing.exists():
                    flash.info(request, "You already had a conversation with this number.")
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Location"] = url
                    return response
                return redirect(url)
        status = 400
    query = " ".join(request.GET.get("q", "").split())[:100]
    contacts = []
    if query:
        contacts = list(
            access.contacts_for(request.user)
            .filter(dashboard=line)
            .matching(query)
            .annotate(conversation_pk=Subquery(_conversation_pk()))
            .order_by("first_name", "last_name", "id")[:10]
        )
    filters = ListFilterForm()
    context = _base_context(request, line, filters)
    context.update(
        lines=lines_with_counts(request.user),
        filter_tags=list(line.tags.all()),
        new_form=form,
        contact_query=query,
        contact_matches=contacts,
        counter=count_segments(form["body"].value() or ""),
        new_page=True,
    )
    return _render(request, "", context, status=status)


def _conversation_pk():
    return Conversation.objects.filter(contact=OuterRef("pk")).values("pk")[:1]
