"""Admin → Saved replies: what agents insert with `/` in the composer (here because the
composer counts segments; the model is the line's, in dashboards)."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.conversations.segments import count_segments
from textdesk.dashboards.forms import SavedReplyForm
from textdesk.dashboards.models import Dashboard, SavedReply


@permission_required("manage_lines")
def reply_list(request):
    lines = Dashboard.objects.for_user(request.user)
    replies = SavedReply.objects.filter(
        Q(dashboard__isnull=True) | Q(dashboard__in=lines)
    ).select_related("dashboard", "created_by")
    line_id = request.GET.get("line", "")
    if line_id == "all":
        replies = replies.filter(dashboard__isnull=True)
    elif line_id.isascii() and line_id.isdigit() and len(line_id) <= 18:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        replies = replies.filter(Q(dashboard_id=int(line_id)) | Q(dashboard__isnull=True))
    elif line_id:
        return HttpResponseBadRequest("Not a valid filter: line must be a line's id or 'all'.")
    context = {
        # A few hundred at most: shortcuts must be memorable, so the list stays short.
        "replies": replies.order_by("shortcut", "dashboard__name")[:500],
        "lines": lines,
        "line_id": line_id,
        "admin_tab": "replies",
    }
    return render(request, "conversations/reply_list.html", context)


def _reply_form_page(request, reply: SavedReply | None):
    lines = Dashboard.objects.for_user(request.user)
    form = SavedReplyForm(request.POST or None, instance=reply, lines=lines)
    if request.method == "POST" and form.is_valid():
        created = reply is None
        saved = form.save(commit=False)
        if created:
            saved.created_by = request.user
        try:
            with transaction.atomic():
                saved.save()
                where = saved.dashboard.name if saved.dashboard else "every line"
                audit.record(
                    actor=request.user,
                    kind="saved_reply",
                    dashboard=saved.dashboard,
                    summary=f"{'Created' if created else 'Edited'} the saved reply "
                    f"/{saved.shortcut} for {where}",
                )
        except IntegrityError:  # another admin took the shortcut a moment ago
            form.add_error("shortcut", f"/{saved.shortcut} was just taken; pick another.")
        else:
            verb = "Created" if created else "Saved"
            messages.success(request, f"{verb} /{saved.shortcut}: agents can use it now.")
            return redirect("replies:list")
    body = form["body"].value() or ""
    context = {
        "form": form,
        "reply": reply,
        "preview": body,
        "counter": count_segments(body),
        "admin_tab": "replies",
    }
    return render(request, "conversations/reply_form.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def reply_new(request):
    return _reply_form_page(request, None)


def _reply_or_404(request, pk) -> SavedReply:
    lines = Dashboard.objects.for_user(request.user)
    return get_object_or_404(
        SavedReply.objects.filter(Q(dashboard__isnull=True) | Q(dashboard__in=lines)), pk=pk
    )


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def reply_edit(request, pk):
    return _reply_form_page(request, _reply_or_404(request, pk))


@permission_required("manage_lines")
@require_POST
def reply_delete(request, pk):
    reply = _reply_or_404(request, pk)
    with transaction.atomic():
        audit.record(
            actor=request.user,
            kind="saved_reply",
            dashboard=reply.dashboard,
            summary=f"Deleted the saved reply /{reply.shortcut}",
        )
        reply.delete()
    messages.success(request, f"Deleted /{reply.shortcut}.")
    return redirect("replies:list")


@permission_required("manage_lines")
def reply_preview(request):
    """The preview region of the reply form, for the text typed so far (htmx, GET)."""
    body = request.GET.get("body", "")[:1600]
    return render(
        request,
        "conversations/reply_form.html#reply-preview",
        {"preview": body, "counter": count_segments(body)},
    )
