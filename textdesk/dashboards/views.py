from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts import access
from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.conversations.segments import count_segments
from textdesk.dashboards import lines, services
from textdesk.dashboards.forms import (
    DeleteLineForm,
    LineAgentsForm,
    LineNameForm,
    NewLineForm,
    NumberSearchForm,
    SavedReplyForm,
)
from textdesk.dashboards.models import Change, Connection, Dashboard, SavedReply, SyncState


@permission_required("manage_lines")
def line_list(request):
    lines = (
        Dashboard.objects.active()
        .select_related("connection")
        .annotate(
            agent_count=Count("agents", distinct=True),
            open_count=Count(
                "conversations",
                filter=Q(conversations__is_archived=False, conversations__is_resolved=False),
                distinct=True,
            ),
            is_deleting=Exists(
                Change.objects.filter(
                    dashboard=OuterRef("pk"),
                    kind=Change.Kind.DELETE_DASHBOARD,
                    status__in=Change.ACTIVE,
                )
            ),
        )
    )
    return render(request, "dashboards/line_list.html", {"lines": lines, "admin_tab": "lines"})


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_new(request):
    """Pick an area code, then one of Text Request's free numbers, then name the line."""
    data = request.POST if request.method == "POST" else request.GET
    search = NumberSearchForm(data or None)
    numbers, form, problem = [], None, ""
    if search.is_valid():
        connection = search.cleaned_data["connection"]
        try:
            numbers = services.free_numbers(
                connection=connection, area_code=search.cleaned_data["area_code"]
            )
        except services.LineRefused as exc:
            problem = exc.reason
        form = NewLineForm(request.POST or None, numbers=numbers, initial=search.cleaned_data)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            line = services.create_line(
                connection=form.cleaned_data["connection"],
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
            )
        except services.LineRefused as exc:
            form.add_error(None, exc.reason)
            audit.record(
                actor=request.user,
                kind="line",
                summary=f"Add a line “{form.cleaned_data['name']}”",
                status="failed",
                reason=exc.reason,
            )
        else:
            audit.record(
                actor=request.user,
                kind="line",
                dashboard=line,
                summary=f"Added the line “{line.name}” ({line.formatted_phone})",
            )
            messages.success(request, f"Line “{line.name}” is ready: {line.formatted_phone}.")
            return redirect("dashboards:list")
    context = {
        "search": search,
        "form": form,
        "numbers": numbers,
        "problem": problem,
        "admin_tab": "lines",
    }
    return render(request, "dashboards/line_new.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_rename(request, pk):
    line = get_object_or_404(Dashboard.objects.active(), pk=pk)
    form = LineNameForm(request.POST or None, initial={"name": line.name})
    if request.method == "POST" and form.is_valid():
        services.rename_dashboard(dashboard=line, user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Renamed to “{line.name}”; syncing to Text Request.")
        return redirect("dashboards:list")
    return render(
        request, "dashboards/line_rename.html", {"line": line, "form": form, "admin_tab": "lines"}
    )


@permission_required("manage_staff")
@require_http_methods(["GET", "POST"])
def line_agents(request, pk):
    line = get_object_or_404(Dashboard.objects.active(), pk=pk)
    form = LineAgentsForm(request.POST or None, line=line)
    if request.method == "POST" and form.is_valid():
        before = set(line.agents.all())
        with transaction.atomic():
            line.agents.set(form.cleaned_data["agents"])
            now = set(form.cleaned_data["agents"])
            if now != before:
                audit.record(
                    actor=request.user,
                    kind="line_access",
                    dashboard=line,
                    summary=f"Agents of {line.name}: added "
                    f"{', '.join(sorted(map(str, now - before))) or 'none'}; removed "
                    f"{', '.join(sorted(map(str, before - now))) or 'none'}",
                )
        messages.success(request, f"Saved who works {line.name}.")
        return redirect("dashboards:list")
    return render(
        request, "dashboards/line_agents.html", {"line": line, "form": form, "admin_tab": "lines"}
    )


@permission_required("manage_connections")
def sync_status(request):
    """Per line and resource: last success, first-sync progress, last error; per connection:
    calls used in the current window of the shared limiter."""
    from textdesk.textrequest.limiter import get_limiter

    limiter = get_limiter()
    connections = list(Connection.objects.all())
    lines = list(
        Dashboard.objects.active()
        .select_related("connection")
        .order_by("connection__name", "name", "id")
    )
    states: dict[int, dict[str, SyncState]] = {}
    for state in SyncState.objects.filter(dashboard__in=[line.pk for line in lines]):
        states.setdefault(state.dashboard_id, {})[state.resource] = state
    for line in lines:
        line.states = [
            (label, states.get(line.pk, {}).get(resource))
            for resource, label in SyncState.Resource.choices
        ]
    for connection in connections:
        connection.calls_in_window = limiter.usage(connection.bucket, connection.rate_window)
        connection.lines = [line for line in lines if line.connection_id == connection.pk]
    return render(
        request,
        "dashboards/sync_status.html",
        {"connections": connections, "admin_tab": "sync"},
    )


@permission_required("manage_connections")
@require_POST
def sync_now(request, pk):
    """Start a sync of every line of one connection now."""
    from textdesk.dashboards.tasks import sync_connection, sync_dashboard

    connection = get_object_or_404(Connection, pk=pk, is_active=True)
    sync_connection.delay(connection.pk)
    for line_pk in connection.dashboards.active().values_list("pk", flat=True):
        sync_dashboard.delay(line_pk)
    messages.success(request, f"Sync of {connection.name} started.")
    return redirect("dashboards:sync_status")


# --- Saved replies ------------------------------------------------------------------------


@permission_required("manage_lines")
def reply_list(request):
    lines = access.lines_for(request.user)
    replies = SavedReply.objects.filter(
        Q(dashboard__isnull=True) | Q(dashboard__in=lines)
    ).select_related("dashboard", "created_by")
    line_id = request.GET.get("line", "")
    if line_id == "all":
        replies = replies.filter(dashboard__isnull=True)
    elif line_id.isdigit():
        replies = replies.filter(Q(dashboard_id=int(line_id)) | Q(dashboard__isnull=True))
    context = {
        # A few hundred at most: shortcuts must be memorable, so the list stays short.
        "replies": replies.order_by("shortcut", "dashboard__name")[:500],
        "lines": lines,
        "line_id": line_id,
        "admin_tab": "replies",
    }
    return render(request, "dashboards/reply_list.html", context)


def _reply_form_page(request, reply: SavedReply | None):
    lines = access.lines_for(request.user)
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
            return redirect("dashboards:replies")
    body = form["body"].value() or ""
    context = {
        "form": form,
        "reply": reply,
        "preview": body,
        "counter": count_segments(body),
        "admin_tab": "replies",
    }
    return render(request, "dashboards/reply_form.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def reply_new(request):
    return _reply_form_page(request, None)


def _reply_or_404(request, pk) -> SavedReply:
    lines = access.lines_for(request.user)
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
    return redirect("dashboards:replies")


@permission_required("manage_lines")
def reply_preview(request):
    """The preview region of the reply form, for the text typed so far (htmx, GET)."""
    body = request.GET.get("body", "")[:1600]
    return render(
        request,
        "dashboards/reply_form.html#reply-preview",
        {"preview": body, "counter": count_segments(body)},
    )


# --- A page per line ----------------------------------------------------------------------


@permission_required("manage_lines")
def line_detail(request, pk):
    """Number, name, agents, counts and sync state of one line."""
    from textdesk.contacts.models import Contact, Group
    from textdesk.conversations.models import Conversation

    line = get_object_or_404(Dashboard.objects.active().select_related("connection"), pk=pk)
    conversations = Conversation.objects.filter(dashboard=line)
    # Bounded counts: a line may hold hundreds of thousands of rows (see the inbox's 999+).
    counts = {
        "contacts": _bounded(Contact.objects.filter(dashboard=line, removed_at__isnull=True)),
        "conversations": _bounded(conversations),
        "open": _bounded(conversations.filter(is_archived=False, is_resolved=False)),
        "groups": Group.objects.filter(dashboard=line).count(),
        "replies": SavedReply.objects.filter(dashboard=line).count(),
    }
    deleting = line.changes.filter(kind=Change.Kind.DELETE_DASHBOARD).order_by("-id").first()
    context = {
        "line": line,
        "deleting": deleting,
        "agents": list(line.agents.filter(is_active=True).order_by("first_name", "username")),
        "counts": counts,
        "states": list(line.sync_states.order_by("resource")),
        "admin_tab": "lines",
    }
    return render(request, "dashboards/line_detail.html", context)


COUNT_CAP = 10_000


def _bounded(queryset) -> str:
    """A count that stops at COUNT_CAP ("10,000+"): never a full scan of a huge line."""
    found = queryset.order_by()[: COUNT_CAP + 1].count()
    return f"{COUNT_CAP:,}+" if found > COUNT_CAP else f"{found:,}"


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_delete(request, pk):
    """Delete a line in Text Request, behind a typed-name confirmation."""
    line = get_object_or_404(Dashboard.objects.active().select_related("connection"), pk=pk)
    form = DeleteLineForm(request.POST or None, line=line)
    if request.method == "POST" and form.is_valid():
        lines.delete_line(dashboard=line, user=request.user)
        messages.success(
            request,
            f"Deleting “{line.name}” in Text Request; it leaves this list once Text Request "
            "confirms. The audit log shows how it went.",
        )
        return redirect("dashboards:list")
    context = {"line": line, "form": form, "admin_tab": "lines"}
    return render(request, "dashboards/line_delete.html", context)
