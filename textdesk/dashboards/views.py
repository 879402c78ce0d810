from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.dashboards.forms import LineAgentsForm
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
