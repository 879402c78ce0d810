from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.contacts import services
from textdesk.contacts.area_codes import ZONES_BY_AREA_CODE
from textdesk.contacts.exports import csv_lines
from textdesk.contacts.filters import ContactFilterForm, filtered_contacts
from textdesk.contacts.forms import (
    ContactForm,
    GroupFilterForm,
    GroupForm,
    NewContactForm,
    NewGroupForm,
    filter_errors,
    parse_cursor,
)
from textdesk.contacts.models import Contact, Group
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change

PAGE_SIZE = 50
# Offered while typing a contact's time zone (any IANA name is accepted).
US_ZONES = sorted(set(ZONES_BY_AREA_CODE.values()))


@permission_required("view_conversations")
def contact_list(request):
    form, contacts = filtered_contacts(request.user, request.GET)
    total = contacts.count()
    contacts = contacts.select_related("dashboard").prefetch_related("tags")
    # Keyset pages in id order, both ways: `after` the last id shown, or `before` the first.
    after = parse_cursor(request.GET.get("after", ""))
    before = parse_cursor(request.GET.get("before", ""))
    if after is False or before is False:
        return HttpResponseBadRequest("Not a valid page link: the cursor must be a contact id.")
    if before is not None:
        page = list(contacts.filter(id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
        has_earlier, has_more = len(page) > PAGE_SIZE, True
        page = page[:PAGE_SIZE][::-1]
    else:
        if after is not None:
            contacts = contacts.filter(id__gt=after)
        page = list(contacts.order_by("id")[: PAGE_SIZE + 1])
        has_earlier, has_more = after is not None, len(page) > PAGE_SIZE
        page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    context = {
        "contacts": page,
        "filters": form,
        "total": total,
        "query_string": query.urlencode(),
        "next_after": page[-1].id if has_more and page else None,
        "previous_before": page[0].id if has_earlier and page else None,
    }
    return render(request, "contacts/contact_list.html", context)


@permission_required("manage_lines")
def contact_export(request):
    """GET /contacts/export/?<the list's query string>: the filter's whole result as CSV."""
    form, contacts = filtered_contacts(request.user, request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        return HttpResponseBadRequest(f"Bad filter: {errors}", content_type="text/plain")
    chosen = [
        f"{form[name].label.lower()}: {value}" for name, value in form.cleaned_data.items() if value
    ]
    described = f"contacts ({'; '.join(chosen)})" if chosen else "every contact"
    audit.record(actor=request.user, kind="contact_export", summary=f"Exported {described}"[:300])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_lines(contacts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


@permission_required("view_conversations")
@require_http_methods(["GET", "POST"])
def contact_detail(request, pk):
    contact = get_object_or_404(
        Contact.objects.for_user(request.user).select_related("dashboard"), pk=pk
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
            if form.time_zone_changed():
                services.set_time_zone(
                    contact=contact, user=request.user, time_zone=data["time_zone"]
                )
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
        "us_zones": US_ZONES,
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
    # Creations still on their way (or refused in the last hour): shown above the list.
    recent = timezone.now() - timedelta(hours=1)
    lines = {line.pk: line for line in Dashboard.objects.for_user(request.user)}
    creating = list(
        Change.objects.filter(dashboard_id__in=lines, kind=services.CREATE_GROUP)
        .filter(Q(status__in=Change.ACTIVE) | Q(status=Change.Status.FAILED, done_at__gte=recent))
        .order_by("id")[:20]
    )
    for change in creating:
        change.line = lines[change.dashboard_id]
    context = {
        "creating": creating,
        "groups": groups.order_by("dashboard__name", "name"),
        "lines": list(lines.values()),
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


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def group_new(request):
    lines = Dashboard.objects.for_user(request.user)
    form = NewGroupForm(
        request.POST or None, lines=lines, initial={"line": request.GET.get("line")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.create_group(
            dashboard=data["line"], user=request.user, name=data["name"], notes=data["notes"]
        )
        messages.success(
            request, f"Creating “{data['name'].strip()}” in Text Request; it appears here shortly."
        )
        return redirect(f"{reverse('contacts:groups')}?line={data['line'].pk}")
    return render(request, "contacts/group_new.html", {"form": form, "admin_tab": "groups"})


MEMBERS_PAGE = 50


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def group_members(request, pk):
    """A group's members, and adding or removing contacts by search, by filter or by hand."""
    group = _group_or_404(request, pk)
    line_only = Dashboard.objects.for_user(request.user).filter(pk=group.dashboard_id)
    data = request.POST if request.method == "POST" else request.GET
    filters = ContactFilterForm(data, lines=line_only)
    contacts = Contact.objects.for_user(request.user).filter(dashboard_id=group.dashboard_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "remove_selected":
            ids = [int(v) for v in request.POST.getlist("contact") if v.isascii() and v.isdigit()]
            chosen = contacts.filter(pk__in=ids)
        elif action in ("add", "remove") and filters.is_valid() and filters.is_filtered:
            chosen = filters.filter(contacts)
        else:
            return HttpResponseBadRequest(
                "Pick contacts first: a search or filter, or members to remove.",
                content_type="text/plain",
            )
        add = action == "add"
        changes = services.change_membership(
            group=group, user=request.user, contacts=chosen, add=add
        )
        moved = sum(c.payload["count"] for c in changes)
        verb = "Added" if add else "Removed"
        where = "to" if add else "from"
        messages.success(
            request,
            f"{verb} {moved} contact{pluralize(moved)} {where} “{group.name}” "
            f"({len(changes)} batch{pluralize(len(changes), 'es')} to Text Request).",
        )
        return redirect("contacts:group_members", pk=group.pk)
    members = contacts.filter(groups=group).order_by("id")
    after = request.GET.get("after", "")
    if after.isascii() and after.isdigit():
        members = members.filter(id__gt=int(after))
    page = list(members[: MEMBERS_PAGE + 1])
    matching = None
    if filters.is_valid() and filters.is_filtered:
        found = filters.filter(contacts)
        matching = {
            "total": found.count(),
            "outside": found.exclude(groups=group).count(),
            "inside": found.filter(groups=group).count(),
            "sample": list(found.order_by("id")[:10]),
        }
    query = data.copy()
    query.pop("after", None)
    context = {
        "group": group,
        "members": page[:MEMBERS_PAGE],
        "next_after": page[MEMBERS_PAGE - 1].id if len(page) > MEMBERS_PAGE else None,
        "filters": filters,
        "matching": matching,
        "query_string": query.urlencode(),
        "pending": group.dashboard.changes.filter(
            kind=services.BULK_UPDATE_CONTACTS, status__in=Change.ACTIVE
        ).count(),
        "admin_tab": "groups",
    }
    return render(request, "contacts/group_members.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def contact_new(request):
    lines = Dashboard.objects.for_user(request.user)
    form = NewContactForm(
        request.POST or None, lines=lines, initial={"line": request.GET.get("line")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.create_contact(
                dashboard=data["line"],
                user=request.user,
                phone_number=data["phone_number"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                note=data["note"],
            )
        except services.ContactExists as exc:
            form.add_error("phone_number", str(exc))
        else:
            messages.success(request, f"Added {contact.name}; syncing to Text Request.")
            return redirect("contacts:detail", pk=contact.pk)
    return render(request, "contacts/contact_new.html", {"form": form})


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk):
    """Delete a contact in Text Request. One with message history cannot be deleted there:
    say so, and offer archiving its conversation instead."""
    contact = get_object_or_404(
        Contact.objects.for_user(request.user).select_related("dashboard"), pk=pk
    )
    conversation = getattr(contact, "conversation", None)
    has_history = bool(
        contact.total_messages_sent
        or contact.total_messages_received
        or (conversation is not None and conversation.messages.exists())
    )
    if request.method == "POST":
        if has_history:
            return HttpResponseBadRequest(
                "This contact has message history; Text Request keeps it. Archive the "
                "conversation instead.",
                content_type="text/plain",
            )
        services.delete_contact(contact=contact, user=request.user)
        messages.success(request, f"Deleting {contact.name} in Text Request.")
        return redirect("contacts:list")
    context = {"contact": contact, "conversation": conversation, "has_history": has_history}
    return render(request, "contacts/contact_delete.html", context)
