"""CSV import: decoding, limits, the dry run's errors per row, batches through the outbox, a
re-import that changes nothing; and an export read back in."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.contacts import imports
from textdesk.contacts.models import Contact, ContactImport, Group
from textdesk.outbox.models import Change
from textdesk.textrequest.client import TextRequestClient, iter_items


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def csv_bytes(rows: list[list[str]], encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def test_utf8_with_bom_and_windows_1252_are_read():
    rows = [["Phone", "First name"], ["6155550101", "Zoë"]]
    for data, encoding in (
        (csv_bytes(rows, bom=True), "UTF-8"),
        (csv_bytes(rows), "UTF-8"),
        (csv_bytes(rows, encoding="cp1252"), "Windows-1252"),
    ):
        text, found, header, count = imports.read_file(upload("a.csv", data))
        assert (found, header, count) == (encoding, ["Phone", "First name"], 1)
        assert "Zoë" in text


def test_big_files_are_refused_with_a_reason():
    too_many = csv_bytes([["Phone"]] + [[f"615555{n:04d}"] for n in range(10)] * 5001)
    with pytest.raises(imports.ImportRefused, match="more than 50,000 rows"):
        imports.read_file(upload("big.csv", too_many))
    huge = upload("huge.csv", b"Phone\n" + b"6155550101," + b"x" * (10 * 1024 * 1024))
    with pytest.raises(imports.ImportRefused, match="at most 10 MB"):
        imports.read_file(huge)
    with pytest.raises(imports.ImportRefused, match="no contacts"):
        imports.read_file(upload("empty.csv", b"Phone\n\n"))


def test_the_dry_run_names_each_bad_row(db, line):
    Group.objects.create(dashboard=line, group_id=5, name="VIP")
    Contact.objects.create(dashboard=line, phone_number="6155550102", first_name="Same")
    rows = [
        ["Phone", "First name", "Groups"],
        ["615-555-0101", "Casey", "VIP"],
        ["6155550102", "Same", ""],  # unchanged
        ["12", "Bad", ""],
        ["(615) 555-0101", "Again", ""],
        ["6155550103", "Riley", "Nope"],
        ["", "No number", ""],
    ]
    text, encoding, header, count = imports.read_file(upload("a.csv", csv_bytes(rows)))
    imp = ContactImport(dashboard=line, filename="a.csv", encoding=encoding, text=text,
                        header=header, mapping=imports.guess_mapping(header, line))  # fmt: skip
    assert imp.mapping == ["phone", "first_name", "groups"]
    result = imports.check(imp)
    assert result.errors == [
        [4, "12", "not a valid US phone number"],
        [5, "(615) 555-0101", "the same number as row 2"],
        [6, "6155550103", "unknown group “Nope” on this line"],
        [7, "", "no phone number"],
    ]
    assert result.to_write == [{"phone_number": "6155550101", "first_name": "Casey", "groups": [5]}]
    assert (result.new, result.unchanged) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_import_200_with_3_bad_rows_then_export_and_reimport_changes_nothing(
    client, sandbox_account
):
    from django.contrib.auth.models import Group as Role
    from django.contrib.auth.models import Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Role, Permission)
    connection = connect(sandbox_account)
    line = lines_of(connection)[0]
    client.force_login(make_user("avery", "Admin"))
    rows = [["Phone", "First name", "Last name", "Note"]]
    rows += [[f"(615) 555-{n:04d}", f"Person{n}", "Import", f"note {n}"] for n in range(1000, 1197)]
    rows += [["555", "Bad", "Number", ""], ["615-555-1000", "Dup", "Row", ""], ["x", "", "", ""]]
    response = client.post(
        reverse("contacts:import"),
        {"line": line.pk, "file": upload("people.csv", csv_bytes(rows, bom=True))},
    )
    imp = ContactImport.objects.get()
    assert response["Location"] == reverse("contacts:import_map", args=[imp.pk])
    mapping = {f"col_{i}": t for i, t in enumerate(["phone", "first_name", "last_name", "note"])}
    client.post(reverse("contacts:import_map", args=[imp.pk]), mapping)
    preview = client.get(reverse("contacts:import_preview", args=[imp.pk])).content.decode()
    assert "197" in preview and "Import 197 contacts" in preview
    for row_number in ("199", "200", "201"):
        assert f'<td class="num">{row_number}</td>' in preview
    assert "the same number as row 2" in preview
    client.post(reverse("contacts:import_start", args=[imp.pk]))
    assert Change.objects.filter(kind="bulk_update_contacts", status="done").count() == 1
    with TextRequestClient(sandbox_account.api_url, sandbox_account.api_key, bucket="check") as api:
        upstream = {c.phone_number: c for c in iter_items(api.get_contacts, line.dashboard_id)}
    assert len(upstream) == 197
    assert upstream["6155551100"].first_name == "Person1100"
    assert Contact.objects.filter(dashboard=line).count() == 197
    progress = client.get(reverse("contacts:import_preview", args=[imp.pk])).content.decode()
    assert "197 of 197 written" in progress and "Import finished." in progress
    # Export this line and import the file back: nothing to write.
    exported = b"".join(client.get(reverse("contacts:export"), {"line": line.pk}).streaming_content)
    client.post(reverse("contacts:import"), {"line": line.pk, "file": upload("back.csv", exported)})
    again = ContactImport.objects.exclude(pk=imp.pk).get()
    assert again.mapping[:4] == ["phone", "first_name", "last_name", "note"]
    client.post(
        reverse("contacts:import_map", args=[again.pk]),
        {f"col_{i}": t for i, t in enumerate(again.mapping)},
    )
    again.refresh_from_db()
    assert (again.write_count, again.unchanged, again.errors) == (0, 197, [])
    calls_before = Change.objects.count()
    client.post(reverse("contacts:import_start", args=[again.pk]))
    assert Change.objects.count() == calls_before


def test_mapping_needs_a_phone_column(client, admin_user, line):
    client.force_login(admin_user)
    client.post(
        reverse("contacts:import"),
        {"line": line.pk, "file": upload("a.csv", b"Name,Whatever\nCasey,1\n")},
    )
    imp = ContactImport.objects.get()
    response = client.post(
        reverse("contacts:import_map", args=[imp.pk]), {"col_0": "first_name", "col_1": ""}
    )
    assert "Pick the column that holds the phone number." in response.content.decode()


def test_refused_upload_is_a_form_error(client, admin_user, line):
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:import"), {"line": line.pk, "file": upload("a.csv", b"")}
    )
    assert response.status_code == 200
    assert not ContactImport.objects.exists()


@pytest.mark.parametrize("who", ["agent", "finance_user"])
def test_agents_and_finance_cannot_import(client, request, who, line):
    imp = ContactImport.objects.create(dashboard=line, filename="a.csv", encoding="UTF-8", text="")
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("contacts:import")).status_code == 403
    assert client.post(reverse("contacts:import"), {}).status_code == 403
    for name in ("import_map", "import_preview"):
        assert client.get(reverse(f"contacts:{name}", args=[imp.pk])).status_code == 403
    assert client.post(reverse("contacts:import_start", args=[imp.pk])).status_code == 403
