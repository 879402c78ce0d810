"""The inbox page's regions and how an answer is put together.

One template (``conversations/inbox.html``) with a named partial per region htmx swaps. A
full request gets the whole page; an htmx request gets the region its target names, plus the
regions that must follow out of band (``ANSWERS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse

from textdesk.contacts import quiet
from textdesk.conversations import presence, scheduled, services
from textdesk.conversations.forms import (
    ContactForm,
    ListFilterForm,
    NoteForm,
    PaymentRequestForm,
    ReplyForm,
    new_client_key,
)
from textdesk.conversations.guard import snapshot
from textdesk.conversations.listing import (
    COUNT_CAP,
    line_conversations,
    lines_with_counts,
    list_rows,
)
from textdesk.conversations.live import live_token
from textdesk.conversations.models import Conversation, Draft
from textdesk.conversations.segments import count_segments
from textdesk.conversations.templatetags.inbox import sla_clock
from textdesk.conversations.threads import Thread, load_thread
from textdesk.dashboards.connections import first_sync_context
from textdesk.dashboards.models import Dashboard, SavedReply
from textdesk.textrequest import mms
from textdesk.uploads import upload_limits

TEMPLATE = "conversations/inbox.html"
LIVE_EVERY_MS = 1500


def saved_replies(line: Dashboard) -> list[SavedReply]:
    """What the ``/`` picker offers: the line's saved replies and the shared ones."""
    replies = SavedReply.objects.filter(Q(dashboard=line) | Q(dashboard__isnull=True))
    return list(replies.order_by("shortcut")[:200])


def line_or_404(user, line_pk) -> Dashboard:
    return get_object_or_404(Dashboard.objects.for_user(user), pk=line_pk)


def conversation_or_404(user, line, pk) -> Conversation:
    return get_object_or_404(
        line_conversations(user, line).select_related("contact", "assigned_to"), pk=pk
    )


def filter_form(request, line) -> ListFilterForm:
    form = ListFilterForm(request.GET, line=line)
    form.is_valid()
    return form


def conversation_url(line, conversation, query: str = "") -> str:
    url = reverse("conversations:conversation", args=[line.pk, conversation.pk])
    return f"{url}?{query}" if query else url


def line_url(line, query: str = "") -> str:
    url = reverse("conversations:line", args=[line.pk])
    return f"{url}?{query}" if query else url


def conversation_context(request, line, conversation, thread: Thread, **extra) -> dict:
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
    context = {
        "conversation": conversation,
        "contact": contact,
        "thread": thread,
        "seen": snapshot(thread),
        "reply_form": reply_form,
        "counter": count_segments(body),
        "saved_replies": saved_replies(line),
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
        "note_form": extra.pop("note_form", None)
        or NoteForm(initial={"client_key": new_client_key()}, auto_id="note_%s"),
        # Resolved or archived: no clock, whatever the row held when it was loaded.
        "sla_clock": None
        if conversation.is_resolved or conversation.is_archived
        else sla_clock(conversation.sla_due_at, conversation.sla_target),
        "contact_tags": contact_tags,
        "contact_tag_ids": {t.pk for t in contact_tags},
        "line_tags": list(line.tags.all()),
        "payment_form": extra.pop("payment_form", None)
        or PaymentRequestForm(initial={"client_key": new_client_key()}, auto_id="pay_%s"),
        # Actions of this conversation still on their way to Text Request, or failed.
        "pending": list(services.pending_changes(conversation)),
        "sender_name": user.display_name,
        # "Send later" in the composer: a time in the line's zone.
        "schedule_form": extra.pop("schedule_form", None),
        "schedule_zone": scheduled.line_zone(line.pk),
        # The customer's clock, beside "Send later" (and asked about in quiet hours).
        "contact_clock": quiet.clock_for(contact, line),
    }
    context.update(extra)
    return context


def base_context(request, line, filters: ListFilterForm, conversation=None) -> dict:
    can_act = request.user.has_perm("accounts.work_inbox")
    query = filters.query_string() if filters.is_bound and filters.is_valid() else ""
    here = conversation_url(line, conversation) if conversation else line_url(line)
    return {
        "here": here,
        "line": line,
        "filters": filters,
        "query": query,
        "can_act": can_act,
        "can_pay": can_act and request.user.has_perm("accounts.request_payments"),
        # Admins undo a redaction (views/redaction.py checks the same permission).
        "can_unredact": request.user.has_perm("accounts.manage_lines"),
        "open_conversation": conversation,
        "live_every": LIVE_EVERY_MS,
        "count_cap": COUNT_CAP,
        # Read only when the bulk bar is drawn (full pages).
        "bulk_colleagues": lambda: list(services.colleagues(line).order_by("first_name", "id")),
        "bulk_key": new_client_key,
    }


def first_sync_notice(user, line, rows, filters) -> dict | None:
    """An empty first page of a line still on its first sync says "Syncing your lines…", not
    "All caught up". ``line`` from ``lines_with_counts`` knows (no read); otherwise one read,
    and only when the page is empty."""
    if rows or filters.cleaned_data.get("after") or not getattr(line, "is_syncing", True):
        return None
    return first_sync_context(user, "conversations", [line])


def render_region(request, name: str, context: dict, status: int = 200, **headers) -> HttpResponse:
    template = f"{TEMPLATE}#{name}" if name else TEMPLATE
    response = HttpResponse(render_to_string(template, context, request), status=status)
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def with_oob(request, response: HttpResponse, context: dict, *names: str) -> HttpResponse:
    """Append other regions to an htmx answer, each swapped in place by its id."""
    extra = "".join(
        render_to_string(f"{TEMPLATE}#{name}", {**context, "oob": True}, request) for name in names
    )
    response.content = response.content + extra.encode()
    return response


def live_url(line, conversation, query: str, token: str) -> str:
    params = QueryDict(query, mutable=True)
    if conversation is not None:
        params["c"] = conversation.pk
    params["token"] = token
    return f"{reverse('conversations:live', args=[line.pk])}?{params.urlencode()}"


def action_context(request, line, conversation, **extra) -> dict:
    """Everything the open conversation's regions show, read fresh (after an action)."""
    thread = load_thread(request.user, line, conversation)
    context = base_context(request, line, filter_form(request, line), conversation)
    context.update(conversation_context(request, line, conversation, thread, **extra))
    return context


@dataclass(frozen=True)
class Answer:
    """What one kind of request is answered with: the template region ("" is the whole page),
    the regions that follow out of band, and what must be read for them."""

    region: str
    oob: tuple[str, ...] = ()
    rows: bool = False
    lines: bool = False
    conversation: bool = False


# By htmx target (None: a full page load, or a target this view does not answer).
ANSWERS = {
    None: Answer("", rows=True, lines=True, conversation=True),
    "conversation-list": Answer("conversation-list", ("live",), rows=True),
    # The filters now act on this conversation's URL, so a search keeps it open.
    "conversation": Answer("conversation", ("live", "list-filters"), conversation=True),
}


def inbox_response(
    request, line, conversation=None, *, status=200, lines=None, around=None, jump_to="", **extra
) -> HttpResponse:
    """The whole page, or the region htmx asked for (by its target id)."""
    filters = filter_form(request, line)
    if not filters.is_valid():
        return HttpResponseBadRequest(
            " ".join(e for errors in filters.errors.values() for e in errors)
        )
    context = base_context(request, line, filters, conversation)
    target = request.htmx.target if request.htmx else None
    if target == "list-more":
        # Another page of the list: no live token, nothing else changes.
        rows, next_after = list_rows(request.user, line, filters.cleaned_data, context["query"])
        return render_region(
            request, "list-page", {**context, "rows": rows, "next_after": next_after}
        )
    answer = ANSWERS.get(target, ANSWERS[None])
    known = {}  # what this answer read also fingerprints it for the live token
    if lines is not None:
        known["lines"] = lines
    if answer.rows:
        rows, next_after = list_rows(request.user, line, filters.cleaned_data, context["query"])
        context.update(rows=rows, next_after=next_after)
        context["first_sync"] = first_sync_notice(request.user, line, rows, filters)
        if not filters.cleaned_data["after"]:
            known["rows"] = rows  # the first page: its fingerprint needs no second read
    if answer.lines:
        known["lines"] = context["lines"] = (
            lines if lines is not None else lines_with_counts(request.user)
        )
    if answer.conversation:
        if conversation is not None:
            known["present"] = context["present"] = presence.seen_and_others(
                conversation.pk, request.user
            )
            thread = load_thread(request.user, line, conversation, around=around)
            # The text or note a search opened the thread at is highlighted.
            for message in thread.messages:
                message.is_target = jump_to == f"m-{message.pk}"
            for note in thread.notes:
                note.is_target = jump_to == f"n-{note.pk}"
            context.update(conversation_context(request, line, conversation, thread, **extra))
            known.update(pending=context["pending"], tags=context["contact_tags"])
            if thread.newer is None:
                # Only the newest window fingerprints the live thread; a jump-to window that
                # stops before the newest texts lets the live read take the newest itself.
                known["thread"] = thread
        # The tag filter and the tag picker list the same tags of the line.
        context["filter_tags"] = context.get("line_tags")
        if context["filter_tags"] is None:
            context["filter_tags"] = list(line.tags.all())
    token = live_token(request, line, conversation, filters, **known)
    context["live_url"] = live_url(line, conversation, context["query"], token)
    response = render_region(request, answer.region, context, status=status)
    return with_oob(request, response, context, *answer.oob)


def _mms_limit(file_name: str) -> int:
    return mms.MAX_BYTES.get(mms.extension(file_name), mms.DEFAULT_MAX_BYTES)


def _mms_too_big(file_name: str, limit: int) -> str:
    return mms.problem(file_name, limit + 1) or f"“{file_name}” is too large."


# What Text Request takes as MMS, enforced while the body arrives (the composer, Edit).
mms_upload_limits = upload_limits(
    total=mms.MAX_ATTACHMENTS * mms.DEFAULT_MAX_BYTES, per_file=_mms_limit, too_big=_mms_too_big
)
