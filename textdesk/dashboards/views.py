from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.dashboards import services
from textdesk.dashboards.forms import LineAgentsForm, LineNameForm, NewLineForm, NumberSearchForm
from textdesk.dashboards.models import Dashboard


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
