"""Contacts as CSV: the whole result of a filter, streamed in constant memory.

The columns are the ones the import reads back (phone, names, note, tags, groups, custom fields
by name), so an export re-imported changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet

from textdesk.contacts.models import CustomField, Group, Tag

CHUNK = 1000
FIXED_COLUMNS = ["Phone", "First name", "Last name", "Note", "Tags", "Groups"]
INFO_COLUMNS = ["Line", "Opted out", "Blocked"]
LIST_SEPARATOR = "; "
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(value: str) -> bool:
    """Whether the export puts an apostrophe before ``value``: it starts with a formula
    character, or with apostrophes before one (so that a value that really begins with
    ``'=`` reads back as itself: ``restore`` removes exactly one apostrophe)."""
    return value.startswith(FORMULA_STARTS) or (value.startswith("'") and _guarded(value[1:]))


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe before a formula character."""
    return "'" + value if _guarded(value) else value


def restore(cell: str) -> str:
    """The value ``neutralise`` turned into ``cell`` (the import's inverse of the guard):
    the apostrophe goes exactly when the export would have added it."""
    return cell[1:] if cell.startswith("'") and _guarded(cell[1:]) else cell


class _Echo:
    """csv.writer writes into this and gets the line back, for a streaming response."""

    def write(self, value: str) -> str:
        return value


def field_names(contacts: QuerySet) -> list[str]:
    """Custom field names of the lines in the result, in a stable order (one column each)."""
    lines = contacts.order_by().values("dashboard_id").distinct()
    names = CustomField.objects.filter(dashboard_id__in=lines).values_list("name", flat=True)
    return sorted(set(names), key=str.casefold)


def csv_lines(contacts: QuerySet) -> Iterator[str]:
    """The CSV of ``contacts``, line by line: a header, then one row per contact, read from the
    database a thousand at a time (prefetches included), so memory does not grow with the
    result."""
    fields = field_names(contacts)
    names_by_id = dict(CustomField.objects.filter(name__in=fields).values_list("field_id", "name"))
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel reads UTF-8
    yield writer.writerow([neutralise(name) for name in FIXED_COLUMNS + fields + INFO_COLUMNS])
    rows = (
        contacts.select_related("dashboard")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name")),
            Prefetch("groups", queryset=Group.objects.only("id", "name")),
        )
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )
    for contact in rows:
        values = {names_by_id.get(k): v for k, v in contact.custom_fields.items()}
        row = [
            contact.phone_number,
            contact.first_name,
            contact.last_name,
            contact.note,
            LIST_SEPARATOR.join(sorted(t.name for t in contact.tags.all())),
            LIST_SEPARATOR.join(sorted(g.name for g in contact.groups.all())),
            *(values.get(name, "") or "" for name in fields),
            contact.dashboard.name,
            "yes" if contact.opted_out_at else "",
            "yes" if contact.is_blocked else "",
        ]
        yield writer.writerow([neutralise(str(cell)) for cell in row])
