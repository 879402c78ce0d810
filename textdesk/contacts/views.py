from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import services
from textdesk.contacts.forms import (
    ContactFilterForm,
    ContactForm,
    GroupFilterForm,
    GroupForm,
    filter_errors,
)
from textdesk.contacts.models import Contact, Group
from textdesk.dashboards.models import Dashboard

PAGE_SIZE = 50


@permission_required("view_conversations")
def contact_list(request):
    lines = Dashboard.objects.for_user(request.user)
    contacts = (
        Contact.objects.for_user(request.user).select_related("dashboard").prefetch_related("tags")
    )
    filters = ContactFilterForm(request.GET)
    if not filters.is_valid():
        return HttpResponseBadRequest(filter_errors(filters))
    query, line_id, group_id, after = (
        filters.cleaned_data[name] for name in ("q", "line", "group", "after")
    )
    if query:
        contacts = contacts.matching(query)
    if line_id is not None:
        contacts = contacts.filter(dashboard_id=line_id)
    if group_id is not None:
        contacts = contacts.filter(groups__id=group_id)
    if after is not None:
        contacts = contacts.filter(id__gt=after)
    page = list(contacts.order_by("id")[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    context = {
        "contacts": page,
        "lines": lines,
        "query": query,
        "line_id": "" if line_id is None else str(line_id),
        "group_id": "" if group_id is None else str(group_id),
        "next_after": page[-1].id if has_more else None,
    }
    return render(request, "contacts/contact_list.html", context)


@permission_required("view_conversations")
@require_http_methods(["GET", "POST"])
def contact_detail(request, pk):
    contact = get_object_or_404(
        Contact.objects.for_user(request.user).select_related("dashboard"), pk=pk
    )
    may_edit = request.user.has_perm("accounts.work_inbox") or request.user.has_perm(
        "accounts.manage_lines"
    )
    form = ContactForm(request.POST or None, contact=contact)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            if form.details_changed():
                services.update_contact(
                    contact=contact,
                    user=request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    note=data["note"],
                )
            if form.groups_changed():
                services.set_groups(contact=contact, user=request.user, groups=data["groups"])
            messages.success(request, "Saved; syncing to Text Request.")
            return redirect("contacts:detail", pk=contact.pk)
    context = {
        "contact": contact,
        "form": form,
        "may_edit": may_edit,
        "conversation": getattr(contact, "conversation", None),
        "consent_events": contact.consent_events.all()[:20],
        "payments": contact.payments.order_by("-requested_at")[:10],
        "changes": contact.changes.exclude(status="superseded").order_by("-created_at")[:10],
    }
    return render(request, "contacts/contact_detail.html", context)


@permission_required("manage_lines")
def group_list(request):
    groups = Group.objects.for_user(request.user).select_related("dashboard")
    filters = GroupFilterForm(request.GET)
    if not filters.is_valid():
        return HttpResponseBadRequest(filter_errors(filters))
    line_id = filters.cleaned_data["line"]
    if line_id is not None:
        groups = groups.filter(dashboard_id=line_id)
    context = {
        "groups": groups.order_by("dashboard__name", "name"),
        "lines": Dashboard.objects.for_user(request.user),
        "line_id": "" if line_id is None else str(line_id),
    }
    return render(request, "contacts/group_list.html", context)


def _group_or_404(request, pk) -> Group:
    return get_object_or_404(
        Group.objects.for_user(request.user).select_related("dashboard"),
        pk=pk,
    )


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def group_edit(request, pk):
    group = _group_or_404(request, pk)
    form = GroupForm(request.POST or None, initial={"name": group.name, "notes": group.notes})
    if request.method == "POST" and form.is_valid():
        services.update_group(
            group=group,
            user=request.user,
            name=form.cleaned_data["name"],
            notes=form.cleaned_data["notes"],
        )
        messages.success(request, f"Saved group “{group.name}”; syncing to Text Request.")
        return redirect("contacts:groups")
    return render(request, "contacts/group_edit.html", {"group": group, "form": form})


@permission_required("manage_lines")
@require_POST
def group_delete(request, pk):
    group = _group_or_404(request, pk)
    name = group.name
    services.delete_group(group=group, user=request.user)
    messages.success(request, f"Deleted group “{name}”. Its contacts stay.")
    return redirect("contacts:groups")
