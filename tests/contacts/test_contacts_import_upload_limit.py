"""A contacts file over 10 MB is refused before it is read, with the reason on the form."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.inbox.test_inbox_upload_limits import MB, bytes_read  # noqa: F401
from textdesk.contacts.models import ContactImport


def test_a_file_over_10_mb_is_stopped_at_the_limit(client, admin_user, line, bytes_read):  # noqa: F811
    client.force_login(admin_user)
    huge = SimpleUploadedFile("people.csv", b"Phone\n" + b"6155550101\n" * (2 * MB))  # 22 MB
    bytes_read["bytes"] = 0

    response = client.post(reverse("contacts:import"), {"line": line.pk, "file": huge})

    assert response.status_code == 400
    page = response.content.decode()
    assert "more than the 10 MB allowed; nothing was received" in page
    assert f'value="{line.pk}" selected' in page  # the chosen line is kept
    assert bytes_read["bytes"] < MB  # its Content-Length said enough: the file is never read
    assert not ContactImport.objects.exists()
