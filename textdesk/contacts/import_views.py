"""Contacts → Import: upload a CSV, map its columns, see the dry run, import with progress."""

from django.contrib import messages
from django.db.models import IntegerField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.contacts import imports
from textdesk.contacts.forms import ImportMappingForm, ImportUploadForm
from textdesk.contacts.models import ContactImport
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change
from textdesk.uploads import upload_limits

TEMPLATE = "contacts/import.html"
ERRORS_SHOWN = 200


def _import_or_404(request, pk) -> ContactImport:
    return get_object_or_404(
        ContactImport.objects.filter(dashboard__in=Dashboard.objects.for_user(request.user))
        .select_related("dashboard")
        .defer("text", "to_write"),  # read only when needed: up to 10 MB each
        pk=pk,
    )


@upload_limits(total=imports.MAX_BYTES, per_file=imports.MAX_BYTES, too_big=imports.too_big)
@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def import_upload(request):
    lines = Dashboard.objects.for_user(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, lines=lines)
    refused = getattr(request, "upload_refused", "")  # the upload stopped as it passed a limit
    if refused and not form.is_valid():
        form.errors.pop("file", None)
        form.add_error("file", refused)
        return render(request, TEMPLATE, {"step": "upload", "form": form}, status=400)
    if request.method == "POST" and form.is_valid():
        upload, line = form.cleaned_data["file"], form.cleaned_data["line"]
        try:
            text, encoding, header, rows = imports.read_file(upload)
        except imports.ImportRefused as exc:
            form.add_error("file", exc.reason)
        else:
            imp = ContactImport.objects.create(
                dashboard=line,
                created_by=request.user,
                filename=upload.name[:200],
                encoding=encoding,
                text=text,
                header=header,
                mapping=imports.guess_mapping(header, line),
                rows_total=rows,
            )
            return redirect("contacts:import_map", pk=imp.pk)
    return render(request, TEMPLATE, {"step": "upload", "form": form})


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def import_map(request, pk):
    imp = _import_or_404(request, pk)
    if imp.status in (ContactImport.Status.IMPORTING, ContactImport.Status.DONE):
        return redirect("contacts:import_preview", pk=imp.pk)
    form = ImportMappingForm(
        request.POST or None,
        header=imp.header,
        choices=imports.target_choices(imp.dashboard),
        initial_mapping=imp.mapping,
    )
    if request.method == "POST" and form.is_valid():
        imp.mapping = form.mapping()
        imp.text = ContactImport.objects.values_list("text", flat=True).get(pk=imp.pk)
        result = imports.check(imp)
        imp.to_write, imp.unchanged, imp.errors = result.to_write, result.unchanged, result.errors
        imp.new_count, imp.status = result.new, ContactImport.Status.CHECKED
        imp.write_count = len(result.to_write)
        fields = ["mapping", "to_write", "write_count", "unchanged", "new_count", "errors"]
        imp.save(update_fields=[*fields, "status"])
        return redirect("contacts:import_preview", pk=imp.pk)
    return render(request, TEMPLATE, {"step": "map", "imp": imp, "form": form})


def _progress(imp: ContactImport) -> dict:
    """Contacts written, failed and still on their way, from the import's batches (at most 50
    rows: the count is read out of each payload, not the payload itself)."""
    batches = (
        Change.objects.filter(
            dashboard_id=imp.dashboard_id, subject__startswith=f"import:{imp.pk}:"
        )
        .annotate(size=Cast(KT("payload__count"), IntegerField()))
        .values_list("status", "size", "failure_reason")
    )
    written = failed = 0
    failures = []
    for status, size, reason in batches:
        if status == Change.Status.DONE:
            written += size
        elif status == Change.Status.FAILED:
            failed += size
            failures.append(reason)
    total = imp.write_count
    finished = written + failed >= total
    if finished and imp.status == ContactImport.Status.IMPORTING:
        # Done: the file and the rows (up to 10 MB each) are no longer needed.
        ContactImport.objects.filter(pk=imp.pk).update(
            status=ContactImport.Status.DONE, text="", to_write=[]
        )
    return {
        "written": written,
        "failed": failed,
        "total": total,
        "finished": finished,
        "percent": round(100 * (written + failed) / total) if total else 100,
        "failures": failures[:5],
    }


@permission_required("manage_lines")
def import_preview(request, pk):
    """The dry run: what would change, and each bad row with its reason. Once started, the
    same page shows the import's progress."""
    imp = _import_or_404(request, pk)
    if imp.status == ContactImport.Status.UPLOADED:
        return redirect("contacts:import_map", pk=imp.pk)
    context = {
        "step": "preview",
        "imp": imp,
        "errors": imp.errors[:ERRORS_SHOWN],
        "updated": imp.write_count - imp.new_count,
        "progress": _progress(imp) if imp.status != ContactImport.Status.CHECKED else None,
        "batches": -(-imp.write_count // imports.BATCH),
    }
    if request.htmx and context["progress"] is not None:
        return render(request, f"{TEMPLATE}#import-progress", context)
    return render(request, TEMPLATE, context)


@permission_required("manage_lines")
@require_POST
def import_start(request, pk):
    imp = _import_or_404(request, pk)
    if imp.status == ContactImport.Status.CHECKED:
        changes = imports.start_import(imp=imp, user=request.user)
        if changes or not imp.write_count:
            audit.record(
                actor=request.user,
                kind="contact_import",
                dashboard=imp.dashboard,
                summary=f"Imported {imp.filename} into {imp.dashboard.name}: "
                f"{imp.write_count} to write in {len(changes)} batch(es), {imp.unchanged} "
                f"unchanged, {len(imp.errors)} bad row(s) skipped",
            )
        if not imp.write_count:
            ContactImport.objects.filter(pk=imp.pk).update(
                status=ContactImport.Status.DONE, text="", to_write=[]
            )
            messages.success(request, "Nothing to import: every contact is already up to date.")
    return redirect("contacts:import_preview", pk=imp.pk)
