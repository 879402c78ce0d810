from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts import access
from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.contacts import services
from textdesk.contacts.exports import csv_lines
from textdesk.contacts.filters import filtered_contacts
from textdesk.contacts.forms import ContactForm, GroupForm
from textdesk.contacts.models import Group

PAGE_SIZE = 50


@permission_required("view_conversations")
def contact_list(request):
    form, contacts = filtered_contacts(request.user, request.GET)
    contacts = contacts.select_related("dashboard").prefetch_related("tags")
    after = request.GET.get("after", "")
    if after.isdigit():
        contacts = contacts.filter(id__gt=int(after))
    page = list(contacts.order_by("id")[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "contacts": page,
        "filters": form,
        "query_string": query.urlencode(),
        "next_after": page[-1].id if has_more else None,
    }
    return render(request, "contacts/contact_list.html", context)


@permission_required("manage_lines")
def contact_export(request):
    """GET /contacts/export/?<the list's query string>: the filter's whole result as CSV."""
    form, contacts = filtered_contacts(request.user, request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        return HttpResponseBadRequest(f"Bad filter: {errors}", content_type="text/plain")
    described = request.GET.urlencode() or "every contact"
    audit.record(actor=request.user, kind="contact_export", summary=f"Exported {described}"[:300])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_lines(contacts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


@permission_required("view_conversations")
@require_http_methods(["GET", "POST"])
def contact_detail(request, pk):
    contact = get_object_or_404(
        access.contacts_for(request.user).select_related("dashboard"), pk=pk
    )
    may_edit = request.user.has_perm("accounts.work_inbox") or request.user.has_perm(
        "accounts.manage_lines"
    )
    custom_fields = list(contact.dashboard.custom_fields.order_by("name"))
    form = ContactForm(request.POST or None, contact=contact, custom_fields=custom_fields)
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
            if values := form.custom_fields_changed():
                services.set_custom_fields(contact=contact, user=request.user, values=values)
            messages.success(request, "Saved; syncing to Text Request.")
            return redirect("contacts:detail", pk=contact.pk)
    context = {
        "contact": contact,
        "form": form,
        "may_edit": may_edit,
        "conversation": getattr(contact, "conversation", None),
        "custom_values": [
            (field.name, contact.custom_fields.get(field.field_id, "")) for field in custom_fields
        ],
        "consent_events": contact.consent_events.all()[:20],
        "payments": contact.payments.order_by("-requested_at")[:10],
        "changes": contact.changes.exclude(status="superseded").order_by("-created_at")[:10],
    }
    return render(request, "contacts/contact_detail.html", context)


@permission_required("manage_lines")
def group_list(request):
    groups = Group.objects.filter(dashboard__in=access.lines_for(request.user)).select_related(
        "dashboard"
    )
    line_id = request.GET.get("line", "")
    if line_id.isdigit():
        groups = groups.filter(dashboard_id=int(line_id))
    context = {
        "groups": groups.order_by("dashboard__name", "name"),
        "lines": access.lines_for(request.user),
        "line_id": line_id,
    }
    return render(request, "contacts/group_list.html", context)


def _group_or_404(request, pk) -> Group:
    return get_object_or_404(
        Group.objects.filter(dashboard__in=access.lines_for(request.user)).select_related(
            "dashboard"
        ),
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
