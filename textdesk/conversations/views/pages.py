"""The agent inbox, read: lines, conversation list, thread, contact panel, live updates.

Every view loads through the ``for_user`` querysets (another line's ids are a 404, also for the
htmx partials) and answers the whole page or the region htmx asked for (``rendering.py``).
Reading needs ``view_conversations``; the POST views (``actions.py``) need ``work_inbox``.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseLocation

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import quiet
from textdesk.contacts.models import Contact
from textdesk.conversations import presence, services
from textdesk.conversations.forms import ListFilterForm, NewConversationForm, new_client_key
from textdesk.conversations.listing import line_conversations, lines_with_counts, list_rows
from textdesk.conversations.live import live_parts
from textdesk.conversations.models import Conversation
from textdesk.conversations.segments import count_segments
from textdesk.conversations.threads import load_thread
from textdesk.conversations.views.rendering import (
    base_context,
    conversation_context,
    conversation_or_404,
    conversation_url,
    filter_form,
    first_sync_notice,
    inbox_response,
    line_or_404,
    line_url,
    live_url,
    render_region,
    with_oob,
)
from textdesk.dashboards.models import Dashboard

PEOPLE_SHOWN = 200  # a line's staff; the picker filters them as the name is typed


@require_GET
@permission_required("view_conversations")
def inbox(request):
    """The first line the user works; a page explaining what to do when there is none."""
    line = Dashboard.objects.for_user(request.user).first()
    if line is None:
        return render_region(request, "", {"lines": [], "line": None})
    return redirect(line_url(line, request.GET.urlencode()))


@require_GET
@permission_required("view_conversations")
def line_inbox(request, line_pk):
    if request.htmx and request.htmx.target == "list-more":
        return inbox_response(request, line_or_404(request.user, line_pk))
    # Every other answer shows or fingerprints the user's lines: the line comes from that read.
    lines = lines_with_counts(request.user)
    line = next((item for item in lines if item.pk == line_pk), None)
    if line is None:
        raise Http404("No such line.")
    presence.seen_inbox(request.user)
    return inbox_response(request, line, lines=lines)


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
    around, jump_to = _jump(request, conversation)
    return inbox_response(request, line, conversation, around=around, jump_to=jump_to)


def _jump(request, conversation):
    """``?at=<text id>`` or ``?note=<note id>`` (from search): open the thread at that text or
    note, with the texts around it. ``&newer=1`` pages on without highlighting. Another
    conversation's id is a 404."""
    for param, model in (("at", conversation.messages), ("note", conversation.notes)):
        raw = request.GET.get(param, "")
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise Http404("No such text in this conversation.")
        if param == "at":
            found = model.filter(pk=int(raw)).values_list("sent_at", "pk").first()
        else:
            found = model.filter(pk=int(raw)).values_list("created_at", "pk").first()
        if found is None:
            raise Http404("No such text in this conversation.")
        moment, pk = found
        if param == "note":
            return (moment, 0), f"n-{pk}"
        return (moment, pk), "" if request.GET.get("newer") else f"m-{pk}"
    return None, ""


@require_GET
@permission_required("work_inbox")
def people(request, line_pk):
    """The colleagues an ``@mention`` in a note of this line may name (those who may see the
    line, as ``services.add_note`` accepts them), as the options of the note form's picker."""
    line = line_or_404(request.user, line_pk)
    people = (
        services.colleagues(line)
        .exclude(pk=request.user.pk)
        .order_by("first_name", "last_name", "username")[:PEOPLE_SHOWN]
    )
    return render_region(request, "mention-options", {"people": people})


@require_GET
@permission_required("view_conversations")
def earlier_messages(request, line_pk, pk):
    """Older messages of a long thread, by keyset on (sent_at, id)."""
    line = line_or_404(request.user, line_pk)
    conversation = conversation_or_404(request.user, line, pk)
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
        return render_region(request, "thread-earlier", context)
    context.update(base_context(request, line, ListFilterForm(), conversation))
    context.update(conversation_context(request, line, conversation, thread))
    context.update(
        lines=lines_with_counts(request.user), rows=[], filter_tags=list(line.tags.all())
    )
    return render_region(request, "", context)


@require_GET
@permission_required("view_conversations")
def live(request, line_pk):
    """Conditional polling: 204 when nothing the page shows has changed, else the changed
    regions as out-of-band swaps (never the composer's text unless texting became impossible)."""
    line = line_or_404(request.user, line_pk)
    presence.seen_inbox(request.user)  # an inbox is open: not idle (routing.send_idle_away)
    conversation = None
    open_pk = request.GET.get("c", "")
    if open_pk:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        if not (open_pk.isascii() and open_pk.isdigit() and len(open_pk) <= 18):
            return HttpResponseBadRequest("Unknown conversation.")
        conversation = get_object_or_404(
            line_conversations(request.user, line)
            .select_related("contact", "assigned_to")
            .prefetch_related("contact__tags"),
            pk=int(open_pk),
        )
    filters = filter_form(request, line)
    if not filters.is_valid():
        return HttpResponseBadRequest("Unknown list filter.")
    token = request.GET.get("token", "")
    seen = dict(item.split("-", 1) for item in token.split(".") if "-" in item)
    lines = lines_with_counts(request.user)
    present = presence.seen_and_others(conversation.pk, request.user) if conversation else None
    parts = live_parts(request, line, conversation, filters, lines=lines, present=present)
    changed = [key for key, value in parts.items() if seen.get(key) != value]
    if not changed:
        return HttpResponse(status=204)
    context = base_context(request, line, filters, conversation)
    context["lines"] = lines
    context["present"] = present
    if "list" in changed:
        rows, next_after = list_rows(
            request.user, line, dict(filters.cleaned_data, after=None), context["query"]
        )
        context.update(rows=rows, next_after=next_after)
        known_line = next((item for item in lines if item.pk == line.pk), line)
        context["first_sync"] = first_sync_notice(request.user, known_line, rows, filters)
    token = ".".join(f"{key}-{value}" for key, value in sorted(parts.items()))
    context["live_url"] = live_url(line, conversation, context["query"], token)
    regions = []
    if "lines" in changed:
        regions.append("lines")
    if "list" in changed:
        regions.append("conversation-list")
    if "presence" in changed:
        regions.append("presence")
    if "alerts" in changed:
        regions.append("notification-badge")
    if conversation is not None and {"thread", "status", "payments", "composer"} & set(changed):
        thread = load_thread(request.user, line, conversation)
        context.update(conversation_context(request, line, conversation, thread))
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
    return with_oob(request, render_region(request, "live", context), context, *regions)


def _quiet_question(line, phone_number: str) -> str:
    """The quiet-hours question for a first text to ``phone_number``, or '' when allowed."""
    contact = Contact.objects.filter(dashboard=line, phone_number=phone_number).first()
    contact = contact or Contact(dashboard=line, phone_number=phone_number)
    clock = quiet.clock_for(contact, line)
    return quiet.ask_text(contact, clock) if clock.is_quiet else ""


@require_http_methods(["GET", "POST"])
@permission_required("work_inbox")
def new_conversation(request, line_pk):
    """Text a number with no thread yet; the send creates the thread, which opens at once."""
    line = line_or_404(request.user, line_pk)
    initial = {"client_key": new_client_key(), "phone_number": request.GET.get("to", "")}
    form = NewConversationForm(request.POST or None, initial=initial)
    status = 200
    quiet_ask = ""
    if request.method == "POST":
        if form.is_valid() and not form.cleaned_data["quiet_ok"]:
            quiet_ask = _quiet_question(line, form.cleaned_data["phone_number"])
        if quiet_ask:
            status = 409  # asked once; the answer posts the same text with quiet_ok
        elif form.is_valid():
            # Asked before the send, which creates the conversation when there was none.
            had_conversation = (
                line_conversations(request.user, line)
                .filter(contact__phone_number=form.cleaned_data["phone_number"])
                .exists()
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
                url = conversation_url(line, conversation)
                if had_conversation:
                    flash.info(request, "You already had a conversation with this number.")
                if request.htmx:
                    return HttpResponseLocation(url)
                return redirect(url)
            status = 400
        else:
            status = 400
    query = " ".join(request.GET.get("q", "").split())[:100]
    contacts = []
    if query:
        contacts = list(
            Contact.objects.for_user(request.user)
            .filter(dashboard=line)
            .matching(query)
            .annotate(conversation_pk=Subquery(_conversation_pk()))
            .order_by("first_name", "last_name", "id")[:10]
        )
    filters = ListFilterForm()
    context = base_context(request, line, filters)
    context.update(
        lines=lines_with_counts(request.user),
        filter_tags=list(line.tags.all()),
        new_form=form,
        quiet_ask=quiet_ask,
        contact_query=query,
        contact_matches=contacts,
        counter=count_segments(form["body"].value() or ""),
        new_page=True,
    )
    return render_region(request, "", context, status=status)


def _conversation_pk():
    return Conversation.objects.filter(contact=OuterRef("pk")).values("pk")[:1]
