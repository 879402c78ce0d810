"""Export → re-import is a no-op even for values the export guards against spreadsheet
formulas: the guard's leading apostrophe is removed on import exactly when the export added
it, so a value that really starts with an apostrophe reads back as itself too."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from textdesk.contacts import imports
from textdesk.contacts.exports import csv_lines, neutralise, restore
from textdesk.contacts.models import Contact, ContactImport, CustomField

TRICKY = ["=1+1", "-5 stars", "+1 guest", "@home", "'=quoted on purpose", "''-two", "'plain", "ok"]


@pytest.mark.parametrize("value", TRICKY)
def test_the_guard_is_undone_exactly(value):
    assert restore(neutralise(value)) == value
    if value.startswith("'") and not value.lstrip("'").startswith(("=", "+", "-", "@")):
        assert neutralise(value) == value  # an ordinary apostrophe is left alone


def test_an_exported_file_imports_back_with_nothing_to_write(db, line):
    CustomField.objects.create(dashboard=line, field_id=7, name="=Plan")
    for n, value in enumerate(TRICKY):
        Contact.objects.create(
            dashboard=line, phone_number=f"615555{1000 + n}", first_name=value,
            last_name=value, note=value, custom_fields={"7": value},
        )  # fmt: skip
    exported = "".join(csv_lines(Contact.objects.filter(dashboard=line))).encode("utf-8")
    assert b"'=1+1" in exported and b"'=Plan" in exported  # the guard is in the file

    text, encoding, header, count = imports.read_file(SimpleUploadedFile("back.csv", exported))
    assert "=Plan" in header
    imp = ContactImport(dashboard=line, filename="back.csv", encoding=encoding, text=text,
                        header=header, mapping=imports.guess_mapping(header, line))  # fmt: skip
    assert imp.mapping[:4] == ["phone", "first_name", "last_name", "note"]
    assert "field:7" in imp.mapping
    result = imports.check(imp)
    assert result.errors == []
    assert result.to_write == []
    assert result.unchanged == len(TRICKY)
