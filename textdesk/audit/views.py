from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from textdesk.audit.forms import EntryFilterForm
from textdesk.audit.models import LINKED, Entry
from textdesk.outbox.models import Change

PAGE_SIZE = 50


def _cursor(value: str) -> tuple[datetime, int] | None:
    """``<ISO time>_<id>`` of the last row shown, or None when missing or malformed."""
    stamp, _, pk = value.rpartition("_")
    if not pk.isascii() or not pk.isdigit():
        return None
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (at, int(pk)) if at.tzinfo else None


OUTCOMES = {
    "done": ("Done", "badge-ok"),
    "failed": ("Failed", "badge-danger"),
    "superseded": ("Replaced", ""),
    "unknown": ("Unknown", "badge-warn"),
    "pending": ("Pending", "badge-warn"),
}
# The columns the page reads of each outbox row (a narrow read, never the payloads).
ROW_COLUMNS = ("id", "status", "failure_reason")


def _attach_rows(page: list[Entry]) -> None:
    """One narrow query per kind of outbox row for the whole page (changes, and the texts and
    payment requests the domains ``registry.track``), instead of a join per row. Where it
    happened needs no query: entries keep the names they had."""
    links = {"change": Change, **LINKED}
    rows = {}
    for name, model in links.items():
        ids = {getattr(entry, f"{name}_id") for entry in page} - {None}
        rows[name] = model._default_manager.only(*ROW_COLUMNS).in_bulk(ids) if ids else {}
    for entry in page:
        entry.row = next(
            (
                rows[name][pk]
                for name in links
                if (pk := getattr(entry, f"{name}_id")) is not None and pk in rows[name]
            ),
            None,
        )


def entry_list(request):
    """Who did what, newest first, by keyset on (at, id): constant time and queries on any
    page of a table of millions. Admins only (the role that manages staff)."""
    if not request.user.has_perm("accounts.manage_staff"):
        raise PermissionDenied
    form = EntryFilterForm(request.GET)
    entries = Entry.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["person"]:
            entries = entries.filter(actor=data["person"])
        if data["line"]:
            entries = entries.filter(dashboard_id=data["line"])
        if data["kind"]:
            entries = entries.filter(kind=data["kind"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            entries = entries.filter(at__gte=datetime.combine(data["since"], time(), zone))
        if data["until"]:
            end = datetime.combine(data["until"] + timedelta(days=1), time(), zone)
            entries = entries.filter(at__lt=end)
    else:
        entries = entries.none()
    cursor = _cursor(request.GET.get("after", ""))
    if cursor:
        at, pk = cursor
        # The plain bound first: with only the OR, PostgreSQL walks the index from the top
        # and filters (half a million rows on a deep page); with it, the scan starts there.
        entries = entries.filter(at__lte=at).filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    page = list(entries.order_by("-at", "-id")[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    _attach_rows(page)
    # Prepared once in Python: 50 rows × two date filters and five form widgets rendered by
    # templates cost more than the query (see bench/admin.py).
    zone = timezone.get_current_timezone()
    for entry in page:
        local = entry.at.astimezone(zone)
        entry.when_iso = local.isoformat()
        entry.when_text = f"{local:%b} {local.day}, {local.year} {local:%-I:%M:%S %p}"
        state, entry.outcome_reason = entry.outcome
        entry.outcome_label, entry.outcome_class = OUTCOMES[state]
        entry.kind_text = entry.kind_label
    query = request.GET.copy()
    query.pop("after", None)
    selected = {name: request.GET.get(name, "") for name in form.fields}
    context = {
        "selected": selected,
        "people": list(form.fields["person"].queryset.values_list("pk", "first_name", "username")),
        "lines": form.fields["line"].choices[1:],
        "kinds": form.fields["kind"].choices[1:],
        "entries": page,
        "filters": form,
        "query_string": query.urlencode(),
        "next_after": f"{page[-1].at.isoformat()}_{page[-1].pk}" if has_more else "",
        "retention_days": settings.TEXTDESK_AUDIT_RETENTION_DAYS,
        "admin_tab": "audit",
    }
    return render(request, "audit/entry_list.html", context)
