from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.dashboards import services
from textdesk.dashboards.forms import LineAgentsForm, LineNameForm, NewLineForm, NumberSearchForm
from textdesk.dashboards.models import Connection, Dashboard, SyncState


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
        else:
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
        line.agents.set(form.cleaned_data["agents"])
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
