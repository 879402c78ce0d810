"""Admin → Connections: Text Request accounts added, tested, watched and disconnected in the UI."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.dashboards import connections
from textdesk.dashboards.forms import ApiKeyForm, ConnectionForm, DisconnectForm, RateLimitForm
from textdesk.dashboards.models import Connection
from textdesk.dashboards.sync import register_hooks
from textdesk.textrequest import errors

TEMPLATE = "dashboards/connection_detail.html"


@permission_required("manage_connections")
def connection_list(request):
    items = Connection.objects.annotate(
        line_count=Count("dashboards", filter=Q(dashboards__removed_at__isnull=True))
    ).order_by("-is_active", "name")
    return render(
        request,
        "dashboards/connection_list.html",
        {"connections": items, "admin_tab": "connections"},
    )


@permission_required("manage_connections")
@require_http_methods(["GET", "POST"])
def connection_new(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connection = connections.add_connection(
                name=data["name"],
                api_url=data["api_url"],
                api_key=data["api_key"],
                rate_limit=data["rate_limit"],
                client_key=data["client_key"],
            )
        except connections.AlreadyConnected as exc:
            return redirect("dashboards:connection", pk=exc.connection.pk)
        except connections.ConnectionRefused as exc:
            form.add_error(None, exc.reason)
            audit.record(
                actor=request.user,
                kind="connection",
                summary=f"Connect the account “{data['name']}”",
                status="failed",
                reason=exc.reason,
            )
        except errors.TextRequestError as exc:  # the key worked, then reading the lines failed
            form.add_error(None, f"Connected, but reading its lines failed: {exc.message}")
        else:
            lines = connection.dashboards.active().count()
            audit.record(
                actor=request.user,
                kind="connection",
                summary=f"Connected the account “{connection.name}” (key "
                f"{connection.masked_api_key}, {lines} line{'s' if lines != 1 else ''})",
            )
            messages.success(
                request,
                f"Connected “{connection.name}”: {lines} line{'s' if lines != 1 else ''} found. "
                "The first sync has started.",
            )
            return redirect("dashboards:connection", pk=connection.pk)
    # A refused key is never put back into the form.
    if form.is_bound:
        form.data = form.data.copy()
        form.data["api_key"] = ""
    return render(
        request, "dashboards/connection_new.html", {"form": form, "admin_tab": "connections"}
    )


def _page(request, connection: Connection, **forms):
    context = {
        "connection": connection,
        "lines": list(connection.dashboards.active()),
        "progress": connections.first_sync_progress(connection),
        "key_form": forms.get("key_form") or ApiKeyForm(),
        "limit_form": forms.get("limit_form")
        or RateLimitForm(
            initial={"rate_limit": connection.rate_limit, "rate_window": connection.rate_window}
        ),
        "health": forms.get("health"),
        "signing": connections.signing_health(connection),
        "admin_tab": "connections",
    }
    return render(request, TEMPLATE, context)


@permission_required("manage_connections")
def connection_detail(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    return _page(request, connection)


@permission_required("manage_connections")
def connection_progress(request, pk):
    """The first-sync progress region (polled by htmx while the sync runs)."""
    connection = get_object_or_404(Connection, pk=pk)
    if not request.htmx:
        return redirect("dashboards:connection", pk=pk)
    context = {"connection": connection, "progress": connections.first_sync_progress(connection)}
    return render(request, f"{TEMPLATE}#sync-progress", context)


@permission_required("manage_connections")
def connection_webhooks(request, pk):
    """Webhook health per line: asks Text Request now (one GetHooks per line)."""
    connection = get_object_or_404(Connection, pk=pk)
    health = connections.webhook_health(connection) if connection.is_active else []
    if request.htmx:
        context = {"connection": connection, "health": health}
        return render(request, f"{TEMPLATE}#webhook-health", context)
    return _page(request, connection, health=health)


@permission_required("manage_connections")
@require_POST
def connection_register(request, pk):
    connection = get_object_or_404(Connection, pk=pk, is_active=True)
    try:
        created = register_hooks(connection)
    except errors.TextRequestError as exc:
        messages.error(request, f"Text Request refused: {exc.message}")
        status, reason = "failed", exc.message
    else:
        messages.success(request, f"Webhooks registered again ({created} new subscriptions).")
        status, reason = "done", ""
    audit.record(
        actor=request.user,
        kind="connection",
        summary=f"Registered the webhooks of “{connection.name}” again",
        status=status,
        reason=reason,
    )
    return redirect("dashboards:connection_webhooks", pk=pk)


@permission_required("manage_connections")
@require_POST
def connection_signatures_reset(request, pk):
    """Back to "verify when signed" (audited): unsigned callbacks are accepted again until the
    next validly signed one."""
    connection = get_object_or_404(Connection, pk=pk)
    if connection.requires_signatures:
        connections.reset_signatures(connection=connection)
        audit.record(
            actor=request.user,
            kind="connection",
            summary=f"Reset “{connection.name}” to accept unsigned webhooks until the next "
            "signed one",
        )
        messages.success(
            request,
            "Unsigned callbacks are accepted again until Text Request next signs one.",
        )
    return redirect("dashboards:connection", pk=pk)


@permission_required("manage_connections")
@require_POST
def connection_key(request, pk):
    connection = get_object_or_404(Connection, pk=pk, is_active=True)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            connections.replace_key(connection=connection, api_key=form.cleaned_data["api_key"])
        except connections.ConnectionRefused as exc:
            form.add_error("api_key", exc.reason)
            audit.record(
                actor=request.user,
                kind="connection",
                summary=f"Replace the API key of “{connection.name}”",
                status="failed",
                reason=exc.reason,
            )
        else:
            audit.record(
                actor=request.user,
                kind="connection",
                summary=f"Replaced the API key of “{connection.name}” (now "
                f"{connection.masked_api_key})",
            )
            messages.success(request, f"New key saved: {connection.masked_api_key}.")
            return redirect("dashboards:connection", pk=pk)
    form.data = form.data.copy()
    form.data["api_key"] = ""
    return _page(request, connection, key_form=form)


@permission_required("manage_connections")
@require_POST
def connection_limit(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    form = RateLimitForm(request.POST)
    if form.is_valid():
        before = f"{connection.rate_limit} per {connection.rate_window} s"
        connection.rate_limit = form.cleaned_data["rate_limit"]
        connection.rate_window = form.cleaned_data["rate_window"]
        connection.save(update_fields=["rate_limit", "rate_window"])
        after = f"{connection.rate_limit} per {connection.rate_window} s"
        audit.record(
            actor=request.user,
            kind="connection",
            summary=f"Set the limit of “{connection.name}” from {before} to {after}",
        )
        messages.success(request, f"Limit set to {after}.")
        return redirect("dashboards:connection", pk=pk)
    return _page(request, connection, limit_form=form)


@permission_required("manage_connections")
@require_http_methods(["GET", "POST"])
def connection_disconnect(request, pk):
    connection = get_object_or_404(Connection, pk=pk, is_active=True)
    form = DisconnectForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        delete = form.cleaned_data["mirror"] == "delete"
        name = connection.name
        removed = connections.disconnect(connection=connection, delete_mirror=delete)
        kept = "deleted textdesk's copy" if delete else "kept textdesk's copy read-only"
        audit.record(
            actor=request.user,
            kind="connection",
            summary=f"Disconnected “{name}”: removed {removed} webhook subscriptions, {kept}",
        )
        messages.success(request, f"Disconnected “{name}”; {kept}.")
        return redirect("dashboards:connections")
    context = {
        "connection": connection,
        "form": form,
        "lines": list(connection.dashboards.active()),
        "admin_tab": "connections",
    }
    return render(request, "dashboards/connection_disconnect.html", context)
