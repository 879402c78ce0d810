from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.dashboards.models import Connection, Dashboard, SyncState
from textdesk.sync.tasks import sync_connection, sync_dashboard
from textdesk.textrequest.limiter import get_limiter
from textdesk.webhooks.models import WebhookEvent
from textdesk.webhooks.services import discard_event, retry_event

DEAD_SHOWN = 50


@permission_required("manage_connections")
def status(request):
    """Per line and resource: last success, first-sync progress, last error; per connection:
    calls used in the current window of the shared limiter."""
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
    dead = WebhookEvent.objects.filter(processed_at__isnull=True, dead_at__isnull=False)
    context = {
        "connections": connections,
        "dead_events": list(dead.select_related("connection").order_by("-dead_at")[:DEAD_SHOWN]),
        "admin_tab": "sync",
    }
    return render(request, "sync/status.html", context)


@permission_required("manage_connections")
@require_POST
def sync_now(request, pk):
    """Start a sync of every line of one connection now."""
    connection = get_object_or_404(Connection, pk=pk, is_active=True)
    sync_connection.delay(connection.pk)
    for line_pk in connection.dashboards.active().values_list("pk", flat=True):
        # "Sync now" reads what events would bring too (payments, new contacts) at once.
        sync_dashboard.delay(line_pk, manual=True)
    messages.success(request, f"Sync of {connection.name} started.")
    return redirect("sync:status")


@permission_required("manage_connections")
@require_POST
def dead_event(request, pk, action):
    """Retry or discard a webhook event that kept failing on our side."""
    event = get_object_or_404(WebhookEvent, pk=pk, processed_at__isnull=True, dead_at__isnull=False)
    if action == "retry":
        retry_event(event)
        messages.success(request, "Event queued again.")
    elif action == "discard":
        discard_event(event, user=request.user)
        messages.success(request, "Event discarded.")
    else:
        raise Http404("No such action.")
    return redirect("sync:status")
