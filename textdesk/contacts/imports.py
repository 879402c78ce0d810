"""CSV import of contacts into one line: read, map columns, check (a dry run), import.

- ``read_file``: bytes → text (UTF-8 with or without BOM, else Windows-1252), refusing files over
  ``MAX_BYTES`` or ``MAX_ROWS``; answers the header and the text.
- ``guess_mapping``: a target per column from its header ("Phone", "First name", a custom field's
  name…), for the admin to correct.
- ``check``: every row validated (bad number, unknown group or tag, duplicate phone in the file)
  and compared with textdesk's copy, so only contacts that would change are written: importing
  the same file twice writes nothing the second time.
- ``start_import``: the rows to write, queued as outbox changes of at most ``BATCH`` contacts
  (the most one BulkUpdateContacts call takes).

Cells: an empty cell leaves the contact's value as it is; tags and groups list names separated
by ``;`` (or ``,``) and set exactly those.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from textdesk.contacts.exports import restore
from textdesk.contacts.models import Contact, ContactImport, CustomField, Group, Tag
from textdesk.contacts.services import queue_bulk_update
from textdesk.phones import InvalidPhoneNumber, normalize_phone

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
BATCH = 1000

TARGETS = {
    "phone": "Phone number",
    "first_name": "First name",
    "last_name": "Last name",
    "note": "Note",
    "tags": "Tags",
    "groups": "Groups",
}
# Header spellings recognised without help (case and punctuation ignored).
ALIASES = {
    "phone": {"phone", "phonenumber", "number", "mobile", "cell", "phone_number"},
    "first_name": {"firstname", "first", "givenname"},
    "last_name": {"lastname", "last", "surname", "familyname"},
    "note": {"note", "notes"},
    "tags": {"tags", "tag"},
    "groups": {"groups", "group"},
}


class ImportRefused(Exception):
    """The file cannot be imported at all; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum() or ch == "_")


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in Windows-1252; five bytes are undefined there.
        return raw.decode("cp1252", errors="replace"), "Windows-1252"


def _reader(text: str):
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text, newline=""), dialect)


def too_big(file_name: str, limit: int) -> str:
    """The reason for a file stopped while it arrived (textdesk/uploads.py)."""
    return (
        f"“{file_name}” is over {limit // 1024 // 1024} MB; at most 10 MB can be imported at "
        "once. Split it into smaller files."
    )


def read_file(upload) -> tuple[str, str, list[str], int]:
    """(text, encoding, header, number of data rows) of an uploaded file, or ImportRefused."""
    if upload.size > MAX_BYTES:
        raise ImportRefused(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; at most 10 MB can be imported at "
            "once. Split it into smaller files."
        )
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ImportRefused("The file is over 10 MB; split it into smaller files.")
    text, encoding = decode(raw)
    try:
        rows = _reader(text)
        header = next(rows, None)
        count = 0
        for row in rows:
            if any(cell.strip() for cell in row):
                count += 1
                if count > MAX_ROWS:
                    raise ImportRefused(
                        f"The file has more than {MAX_ROWS:,} rows; split it into smaller files."
                    )
    except csv.Error as exc:
        raise ImportRefused(f"This is not a CSV file textdesk can read ({exc}).") from exc
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused("The file is empty: the first row should name the columns.")
    if count == 0:
        raise ImportRefused("The file has a header but no contacts.")
    return text, encoding, [restore(cell).strip() for cell in header], count


def target_choices(dashboard) -> list[tuple[str, str]]:
    choices = [("", "— ignore this column —"), *TARGETS.items()]
    for custom in CustomField.objects.filter(dashboard=dashboard).order_by("name"):
        choices.append((f"field:{custom.field_id}", f"Custom field: {custom.name}"))
    return choices


def guess_mapping(header: list[str], dashboard) -> list[str]:
    fields = {_key(f.name): f.field_id for f in CustomField.objects.filter(dashboard=dashboard)}
    used, mapping = set(), []
    for name in header:
        key = _key(name)
        guess = next((t for t, names in ALIASES.items() if key in names), "")
        if not guess and key in fields:
            guess = f"field:{fields[key]}"
        if guess in used:
            guess = ""
        used.add(guess)
        mapping.append(guess)
    return mapping


@dataclass
class CheckResult:
    to_write: list[dict] = field(default_factory=list)
    unchanged: int = 0
    errors: list[list] = field(default_factory=list)  # [row number, value, reason]
    new: int = 0


def _names(cell: str) -> list[str]:
    separator = ";" if ";" in cell else ","
    return [part.strip() for part in cell.split(separator) if part.strip()]


def check(imp: ContactImport) -> CheckResult:
    """Validate every row against the line and compare it with textdesk's copy."""
    dashboard = imp.dashboard
    mapping = imp.mapping
    groups = {g.name.casefold(): g for g in Group.objects.filter(dashboard=dashboard)}
    tags = {t.name.casefold(): t for t in Tag.objects.filter(dashboard=dashboard)}
    rows = _reader(imp.text)
    next(rows, None)
    parsed: list[tuple[int, dict]] = []
    result = CheckResult()
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if not any(cell.strip() for cell in row):
            continue
        values = {
            # an exported file reads back as itself: the formula guard is not data
            target: (restore(row[i]).strip() if i < len(row) else "")
            for i, target in enumerate(mapping)
            if target
        }
        phone_cell = values.get("phone", "")
        try:
            phone = normalize_phone(phone_cell)
        except InvalidPhoneNumber:
            reason = "no phone number" if not phone_cell else "not a valid US phone number"
            result.errors.append([number, phone_cell, reason])
            continue
        if phone in first_row_of:
            result.errors.append(
                [number, phone_cell, f"the same number as row {first_row_of[phone]}"]
            )
            continue
        first_row_of[phone] = number
        item: dict = {"phone_number": phone}
        problem = ""
        for target, value in values.items():
            if not value or target == "phone":
                continue
            if target in ("first_name", "last_name"):
                item[target] = value[:100]
            elif target == "note":
                item[target] = value[:2000]
            elif target == "groups":
                unknown = [n for n in _names(value) if n.casefold() not in groups]
                if unknown:
                    problem = f"unknown group “{unknown[0]}” on this line"
                    break
                item["groups"] = sorted({groups[n.casefold()].group_id for n in _names(value)})
            elif target == "tags":
                unknown = [n for n in _names(value) if n.casefold() not in tags]
                if unknown:
                    problem = f"unknown tag “{unknown[0]}” on this line"
                    break
                item["contact_tags"] = sorted({tags[n.casefold()].tag_id for n in _names(value)})
            elif target.startswith("field:"):
                item.setdefault("custom_fields", {})[target[6:]] = value[:1000]
        if problem:
            result.errors.append([number, phone_cell, problem])
            continue
        parsed.append((number, item))
    _compare(dashboard, parsed, result)
    return result


def _compare(dashboard, parsed: list[tuple[int, dict]], result: CheckResult) -> None:
    """Keep only the rows that would change something (a chunk of contacts at a time)."""
    for start in range(0, len(parsed), BATCH):
        chunk = parsed[start : start + BATCH]
        existing = {
            c.phone_number: c
            for c in Contact.objects.filter(
                dashboard=dashboard, phone_number__in=[item["phone_number"] for _, item in chunk]
            ).prefetch_related("tags", "groups")
        }
        for _, item in chunk:
            contact = existing.get(item["phone_number"])
            if contact is None or contact.removed_at is not None:
                result.new += 1
                result.to_write.append(item)
            elif _differs(contact, item):
                result.to_write.append(item)
            else:
                result.unchanged += 1


def _differs(contact: Contact, item: dict) -> bool:
    for name in ("first_name", "last_name", "note"):
        if name in item and item[name] != getattr(contact, name):
            return True
    if "groups" in item and item["groups"] != sorted(g.group_id for g in contact.groups.all()):
        return True
    if "contact_tags" in item and item["contact_tags"] != sorted(
        t.tag_id for t in contact.tags.all()
    ):
        return True
    return any(
        contact.custom_fields.get(fid, "") != value
        for fid, value in item.get("custom_fields", {}).items()
    )


def start_import(*, imp: ContactImport, user) -> list:
    """Queue the rows to write as changes of at most BATCH contacts; answers the changes."""
    with transaction.atomic():
        locked = ContactImport.objects.select_for_update().get(pk=imp.pk)
        if locked.status != ContactImport.Status.CHECKED:
            return []  # already started (a double submit)
        changes = [
            queue_bulk_update(
                dashboard=imp.dashboard,
                user=user,
                contacts=imp.to_write[start : start + BATCH],
                source=f"import:{imp.pk}:{start // BATCH}",
                label=f"Import {imp.filename}",
            )
            for start in range(0, len(imp.to_write), BATCH)
        ]
        ContactImport.objects.filter(pk=imp.pk).update(status=ContactImport.Status.IMPORTING)
    return changes
