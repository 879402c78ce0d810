"""Admin → Tags and fields: a line's tags and custom fields, with how much each is used;
create, rename, recolour and delete them (through the outbox, like every write)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.contacts import services
from textdesk.contacts.forms import FieldForm, TagForm, id_field
from textdesk.contacts.models import Contact, CustomField, Tag
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change

# Creations and deletions refused this recently stay on the page (then the audit log has them).
FAILED_SHOWN = timedelta(hours=1)


def _lines(request):
    return Dashboard.objects.for_user(request.user).order_by("name", "id")


def _line_or_404(request, line_pk) -> Dashboard:
    return get_object_or_404(_lines(request), pk=line_pk)


def _page_url(line: Dashboard) -> str:
    return f"{reverse('contacts:labels')}?line={line.pk}"


def _tags(line: Dashboard):
    """The line's tags with how many contacts and conversations carry each (one query)."""
    live = Q(contacts__removed_at__isnull=True)
    return Tag.objects.filter(dashboard=line).annotate(
        contact_count=Count("contacts", filter=live, distinct=True),
        conversation_count=Count("contacts__conversation", filter=live, distinct=True),
    )


def _fields(line: Dashboard) -> list[CustomField]:
    """The line's custom fields with how many contacts have a value in each (two queries)."""
    fields = list(CustomField.objects.filter(dashboard=line))
    if fields:
        counts = Contact.objects.filter(dashboard=line, removed_at__isnull=True).aggregate(
            **{
                f"f{field.pk}": Count("pk", filter=Q(custom_fields__has_key=field.field_id))
                for field in fields
            }
        )
        for field in fields:
            field.contact_count = counts[f"f{field.pk}"]
    return fields


def _open_changes(line: Dashboard, rows, model) -> dict[int, Change]:
    """The newest unsettled or failed edit of each row (pending → done / failed)."""
    found: dict[int, Change] = {}
    for change in Change.objects.of_model(model, [r.pk for r in rows]).open():
        found[change.target_id] = change  # oldest first: the newest wins
    return found


def _page(request, line: Dashboard, *, tag_form=None, field_form=None, status=200):
    tags = list(_tags(line))
    fields = _fields(line)
    tag_changes = _open_changes(line, tags, Tag)
    field_changes = _open_changes(line, fields, CustomField)
    for tag in tags:
        tag.change = tag_changes.get(tag.pk)
    for field in fields:
        field.change = field_changes.get(field.pk)
    recent = timezone.now() - FAILED_SHOWN
    under_way = Change.objects.filter(
        dashboard_id=line.pk,
        kind__in=[
            services.CREATE_TAG,
            services.DELETE_TAG,
            services.CREATE_FIELD,
            services.DELETE_FIELD,
        ],
        dismissed_at__isnull=True,
    ).filter(Q(status__in=Change.ACTIVE) | Q(status=Change.Status.FAILED, done_at__gte=recent))
    context = {
        "admin_tab": "labels",
        "line": line,
        "lines": _lines(request),
        "tags": tags,
        "fields": fields,
        "under_way": under_way.order_by("id")[:20],
        "tag_form": tag_form or TagForm(line=line),
        "field_form": field_form or FieldForm(line=line, prefix="field"),
    }
    return render(request, "contacts/labels.html", context, status=status)


@permission_required("manage_lines")
def labels(request):
    """The page: one line's tags and fields (the first line unless ``?line=`` names one)."""
    raw = request.GET.get("line", "")
    lines = _lines(request)
    if raw:
        try:
            line_pk = id_field().clean(raw)
        except ValidationError:
            return HttpResponseBadRequest("line must be the id of a phone line.")
        line = get_object_or_404(lines, pk=line_pk)
    else:
        line = lines.first()
        if line is None:
            return render(request, "contacts/labels.html", {"admin_tab": "labels", "line": None})
    return _page(request, line)


@permission_required("manage_lines")
@require_http_methods(["POST"])
def tag_new(request, line_pk):
    line = _line_or_404(request, line_pk)
    form = TagForm(request.POST, line=line)
    if not form.is_valid():
        return _page(request, line, tag_form=form, status=400)
    name = form.cleaned_data["name"]
    services.create_tag(
        dashboard=line, user=request.user, name=name, color=form.cleaned_data["color"]
    )
    messages.success(request, f"Creating tag “{name}” in Text Request; it appears here shortly.")
    return redirect(_page_url(line))


@permission_required("manage_lines")
@require_http_methods(["POST"])
def field_new(request, line_pk):
    line = _line_or_404(request, line_pk)
    form = FieldForm(request.POST, line=line, prefix="field")
    if not form.is_valid():
        return _page(request, line, field_form=form, status=400)
    name = form.cleaned_data["name"]
    services.create_field(dashboard=line, user=request.user, name=name)
    messages.success(
        request, f"Creating custom field “{name}” in Text Request; it appears here shortly."
    )
    return redirect(_page_url(line))


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def tag_edit(request, line_pk, pk):
    line = _line_or_404(request, line_pk)
    tag = get_object_or_404(Tag, dashboard=line, pk=pk)
    initial = {"name": tag.name, "color": tag.color or "#64748b"}
    form = TagForm(request.POST or None, line=line, instance=tag, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.update_tag(tag=tag, user=request.user, name=data["name"], color=data["color"])
        messages.success(request, f"Saved tag “{tag.name}”; syncing to Text Request.")
        return redirect(_page_url(line))
    context = {"admin_tab": "labels", "line": line, "item": tag, "noun": "tag", "form": form}
    status = 400 if form.is_bound else 200
    return render(request, "contacts/label_edit.html", context, status=status)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def field_edit(request, line_pk, pk):
    line = _line_or_404(request, line_pk)
    field = get_object_or_404(CustomField, dashboard=line, pk=pk)
    form = FieldForm(request.POST or None, line=line, instance=field, initial={"name": field.name})
    if request.method == "POST" and form.is_valid():
        services.update_field(field=field, user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Saved custom field “{field.name}”; syncing to Text Request.")
        return redirect(_page_url(line))
    context = {
        "admin_tab": "labels",
        "line": line,
        "item": field,
        "noun": "custom field",
        "form": form,
    }
    status = 400 if form.is_bound else 200
    return render(request, "contacts/label_edit.html", context, status=status)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def tag_delete(request, line_pk, pk):
    """GET asks first, naming how many contacts and conversations lose the tag; POST deletes."""
    line = _line_or_404(request, line_pk)
    tag = get_object_or_404(_tags(line), pk=pk)
    if request.method == "POST":
        services.delete_tag(tag=tag, user=request.user)
        messages.success(
            request,
            f"Deleted tag “{tag.name}”; it came off {tag.contact_count} "
            f"contact{pluralize(tag.contact_count)}.",
        )
        return redirect(_page_url(line))
    context = {"admin_tab": "labels", "line": line, "item": tag, "noun": "tag"}
    return render(request, "contacts/label_delete.html", context)


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def field_delete(request, line_pk, pk):
    """GET asks first, naming how many contacts lose their value; POST deletes."""
    line = _line_or_404(request, line_pk)
    field = get_object_or_404(CustomField, dashboard=line, pk=pk)
    field.contact_count = Contact.objects.filter(
        dashboard=line, removed_at__isnull=True, custom_fields__has_key=field.field_id
    ).count()
    if request.method == "POST":
        services.delete_field(field=field, user=request.user)
        messages.success(
            request,
            f"Deleted custom field “{field.name}” and {field.contact_count} "
            f"value{pluralize(field.contact_count)}.",
        )
        return redirect(_page_url(line))
    context = {"admin_tab": "labels", "line": line, "item": field, "noun": "custom field"}
    return render(request, "contacts/label_delete.html", context)
