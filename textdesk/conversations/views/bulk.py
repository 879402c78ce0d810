"""Bulk actions from the conversation list: start one, watch its progress, undo it."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.conversations import bulk as bulks
from textdesk.conversations.forms import BulkForm, ListFilterForm, new_client_key
from textdesk.conversations.listing import line_conversations, list_query
from textdesk.conversations.models import Bulk
from textdesk.conversations.services import colleagues
from textdesk.conversations.views.rendering import line_or_404, line_url

TEMPLATE = "conversations/bulk.html"


def _filters(line, raw: str) -> ListFilterForm | None:
    form = ListFilterForm(QueryDict(raw), line=line)
    return form if form.is_valid() else None


def _matching(request, line, raw: str):
    filters = _filters(line, raw)
    if filters is None:
        return None
    return list_query(request.user, line, dict(filters.cleaned_data, after=None))


def _panel(request, bulk: Bulk, status: int = 200, error: str = "") -> HttpResponse:
    context = {
        "bulk": bulk,
        "line": bulk.dashboard,
        "progress": bulks.progress(bulk),
        "rows": bulks.item_rows(bulk),
        "can_undo": bulk.undo_of_id is None and not hasattr(bulk, "undone_by"),
        "undo_key": new_client_key(),
        "error": error,
    }
    html = render_to_string(f"{TEMPLATE}#bulk-progress", context, request)
    return HttpResponse(html, status=status)


@require_POST
@permission_required("work_inbox")
def bulk_start(request, line_pk):
    line = line_or_404(request.user, line_pk)
    form = BulkForm(request.POST)
    if not form.is_valid():
        reason = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(reason)
    data = form.cleaned_data
    if data["all"]:
        conversations = _matching(request, line, data["filter"])
        if conversations is None:
            return HttpResponseBadRequest("Unknown list filter; reload the inbox.")
    else:
        conversations = line_conversations(request.user, line).filter(pk__in=data["ids"])
    tag = None
    if data["tag"]:
        tag = line.tags.filter(pk=data["tag"]).first()
        if tag is None:
            return HttpResponseBadRequest("That tag is not one of this line's tags.")
    assignee = None
    if data["action"] == "assign" and data["assignee"] is not None:
        assignee = colleagues(line).filter(pk=data["assignee"]).first()
        if assignee is None:
            return HttpResponseBadRequest("That person does not work this line.")
    try:
        bulk = bulks.start_bulk(
            line=line,
            user=request.user,
            action=data["action"],
            conversations=conversations,
            client_key=data["client_key"],
            tag=tag,
            assignee=assignee,
        )
    except bulks.BulkRefused as exc:
        return HttpResponseBadRequest(exc.reason)
    if not request.htmx:
        flash.success(request, f"{bulk.get_action_display()}: {bulk.total} conversations queued.")
        return redirect(line_url(line, data["filter"]))
    response = _panel(request, bulk)
    response["HX-Trigger"] = "inbox:changed"
    return response


@require_GET
@permission_required("work_inbox")
def bulk_progress(request, line_pk, bulk_pk):
    line = line_or_404(request.user, line_pk)
    bulk = get_object_or_404(Bulk.objects.filter(dashboard=line, user=request.user), pk=bulk_pk)
    return _panel(request, bulk)


@require_POST
@permission_required("work_inbox")
def bulk_undo(request, line_pk, bulk_pk):
    line = line_or_404(request.user, line_pk)
    bulk = get_object_or_404(Bulk.objects.filter(dashboard=line, user=request.user), pk=bulk_pk)
    form = BulkForm(
        {"action": bulk.action, "all": "1", "client_key": request.POST.get("client_key", "")}
    )
    if not form.is_valid():
        return HttpResponseBadRequest("Undo from a current page.")
    try:
        undo = bulks.undo_bulk(
            bulk=bulk, user=request.user, client_key=form.cleaned_data["client_key"]
        )
    except bulks.BulkRefused as exc:
        return _panel(request, bulk, status=409, error=exc.reason)
    if not request.htmx:
        flash.success(request, "Undo queued.")
        return redirect(line_url(line))
    response = _panel(request, undo)
    response["HX-Trigger"] = "inbox:changed"
    return response


@require_GET
@permission_required("work_inbox")
def bulk_count(request, line_pk):
    """How many conversations match the list's filter (asked only when the agent selects all
    matching, so the list itself never counts)."""
    line = line_or_404(request.user, line_pk)
    matching = _matching(request, line, request.GET.get("filter", ""))
    if matching is None:
        return HttpResponseBadRequest("Unknown list filter; reload the inbox.")
    count = matching.order_by()[: bulks.BULK_MAX + 1].count()
    return HttpResponse(str(count), content_type="text/plain")
