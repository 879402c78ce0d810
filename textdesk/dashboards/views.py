from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.dashboards import connections, services
from textdesk.dashboards.forms import (
    DeleteLineForm,
    LineAgentsForm,
    LineAssignmentForm,
    LineNameForm,
    NewLineForm,
    NumberSearchForm,
    SlaPolicyForm,
    TextingRulesForm,
)
from textdesk.dashboards.lines import DELETE_DASHBOARD, delete_line
from textdesk.dashboards.models import Dashboard, SlaPolicy
from textdesk.dashboards.signals import assignment_changed
from textdesk.outbox.models import Change


@permission_required("manage_lines")
def line_list(request):
    lines = (
        Dashboard.objects.active()
        .select_related("connection")
        .annotate(
            agent_count=Count("agents", distinct=True),
            available_count=Count(
                "agents",
                filter=Q(agents__is_available=True, agents__is_active=True),
                distinct=True,
            ),
            open_count=Count(
                "conversations",
                filter=Q(conversations__is_archived=False, conversations__is_resolved=False),
                distinct=True,
            ),
            is_deleting=Exists(
                Change.objects.filter(
                    dashboard_id=OuterRef("pk"),
                    kind=DELETE_DASHBOARD,
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


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_assignment(request, pk):
    """Admin → Lines → the line → Automatic assignment: off, round-robin or least busy, and
    the capacity per agent."""
    line = get_object_or_404(Dashboard.objects.active(), pk=pk)
    before = (line.assignment_label, line.assignment_capacity)
    form = LineAssignmentForm(request.POST or None, instance=line)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            line = form.save()
            if form.changed_data:
                audit.record(
                    actor=request.user,
                    kind="assignment_rule",
                    dashboard=line,
                    summary=f"Automatic assignment of {line.name}: "
                    f"{line.assignment_label}, capacity {line.assignment_capacity} "
                    f"(was {before[0]}, {before[1]})",
                )
                assignment_changed.send(sender=Dashboard, dashboard=line)
        messages.success(request, f"Saved automatic assignment of {line.name}.")
        return redirect("dashboards:line", line.pk)
    context = {
        "line": line,
        "form": form,
        "agent_count": line.agents.filter(is_active=True).count(),
        "admin_tab": "lines",
    }
    status = 400 if form.is_bound else 200  # bound and not saved: the form says what is wrong
    return render(request, "dashboards/line_assignment.html", context, status=status)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_texting(request, pk):
    """A line's away reply and quiet hours."""
    line = get_object_or_404(Dashboard.objects.active(), pk=pk)
    initial = {
        "away_reply_enabled": line.away_reply_enabled,
        "away_reply_text": line.away_reply_text,
        "quiet_start": line.quiet_start,
        "quiet_end": line.quiet_end,
    }
    form = TextingRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if services.set_texting_rules(dashboard=line, user=request.user, **form.cleaned_data):
            messages.success(request, f"Saved the away reply and quiet hours of {line.name}.")
        return redirect("dashboards:line", line.pk)
    context = {"line": line, "form": form, "admin_tab": "lines"}
    return render(request, "dashboards/line_texting.html", context)


# --- A page per line ----------------------------------------------------------------------


@permission_required("manage_lines")
def line_detail(request, pk):
    """Number, name, agents, counts and sync state of one line."""
    line = get_object_or_404(Dashboard.objects.active().select_related("connection"), pk=pk)
    # Through the line's reverse relations (the domains above are never imported here), and
    # bounded: a line may hold hundreds of thousands of rows (see the inbox's 999+).
    counts = {
        "contacts": _bounded(line.contacts.filter(removed_at__isnull=True)),
        "conversations": _bounded(line.conversations.all()),
        "open": _bounded(line.conversations.filter(is_archived=False, is_resolved=False)),
        "groups": line.groups.count(),
        "replies": line.saved_replies.count(),
    }
    deleting = line.changes.filter(kind=DELETE_DASHBOARD).order_by("-id").first()
    context = {
        "line": line,
        "deleting": deleting,
        "agents": list(
            line.agents.filter(is_active=True)
            .annotate(
                held=Count(
                    "assigned_conversations",
                    filter=Q(
                        assigned_conversations__is_archived=False,
                        assigned_conversations__is_resolved=False,
                    ),
                )
            )
            .order_by("-is_available", "first_name", "username")
        ),
        "waiting": _bounded(
            line.conversations.filter(
                queued_at__isnull=False,
                assigned_to__isnull=True,
                is_archived=False,
                is_resolved=False,
            )
        ),
        "counts": counts,
        "states": list(line.sync_states.order_by("resource")),
        "sla": SlaPolicy.objects.filter(dashboard=line).first(),
        "admin_tab": "lines",
    }
    return render(request, "dashboards/line_detail.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def line_sla(request, pk):
    """The line's service-level targets; saving recounts its open conversations' clocks."""
    line = get_object_or_404(Dashboard.objects.active(), pk=pk)
    policy = SlaPolicy.objects.filter(dashboard=line).first()
    form = SlaPolicyForm(request.POST or None, instance=policy, line=line)
    if request.method == "POST" and form.is_valid():
        services.save_sla_policy(form=form, user=request.user)
        messages.success(
            request, f"Saved the targets of {line.name}; its open conversations are recounted."
        )
        return redirect("dashboards:line", pk=line.pk)
    return render(
        request, "dashboards/line_sla.html", {"line": line, "form": form, "admin_tab": "lines"}
    )


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
        delete_line(dashboard=line, user=request.user)
        messages.success(
            request,
            f"Deleting “{line.name}” in Text Request; it leaves this list once Text Request "
            "confirms. The audit log shows how it went.",
        )
        return redirect("dashboards:list")
    context = {"line": line, "form": form, "admin_tab": "lines"}
    return render(request, "dashboards/line_delete.html", context)


def first_sync(request):
    """The notice, polled by htmx every 2 s while it shows; once the lines are read it asks
    htmx to reload the page (``HX-Refresh``), which then shows the lists."""
    resource = request.GET.get("resource", "")
    if resource not in connections.FIRST_SYNC:
        return HttpResponseBadRequest("Unknown list.")
    if not request.user.has_perm(f"accounts.{connections.FIRST_SYNC[resource][0]}"):
        raise PermissionDenied
    only = request.GET.get("only", "")
    lines = None
    if only:
        pks = only.split(",")
        if not all(pk.isascii() and pk.isdigit() and len(pk) <= 18 for pk in pks):
            return HttpResponseBadRequest("Unknown line.")
        lines = list(Dashboard.objects.for_user(request.user).filter(pk__in=pks))
    context = connections.first_sync_context(request.user, resource, lines)
    if request.htmx:
        if context is None:
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "dashboards/first_sync.html#first-sync", context)
    if context is None:
        return redirect("payments:list" if resource == "payments" else "conversations:inbox")
    return render(request, "dashboards/first_sync.html", context)
