"""A line that never finished its first sync shows "Syncing your lines…" with progress on the
pages that would look empty, never "All caught up", and the notice reloads the page (htmx)
once the lists are in."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_conversation, make_line, make_user
from textdesk.dashboards.models import SyncState


@pytest.fixture
def new_line(db):
    return make_line(name="Front Desk", first_synced=False)


def _finish(line, resource):
    now = timezone.now()
    SyncState.objects.update_or_create(
        dashboard=line, resource=resource, defaults={"last_success_at": now, "last_full_at": now}
    )


def test_a_never_synced_line_says_syncing_not_all_caught_up(client, new_line):
    client.force_login(make_user("sam", "Agent", lines=[new_line]))
    page = client.get(reverse("conversations:line", args=[new_line.pk])).content.decode()
    assert "Syncing your lines…" in page
    assert "All caught up" not in page
    assert "Front Desk" in page
    assert f"{reverse('dashboards:first_sync')}?resource=conversations" in page
    assert 'hx-trigger="every 2s"' in page
    assert "Syncing…" in page  # the lines pane: no count of 0 before the counts are in


def test_the_notice_shows_the_first_sync_progress(client, new_line):
    SyncState.objects.create(
        dashboard=new_line,
        resource=SyncState.Resource.CONVERSATIONS,
        progress_done=2,
        progress_total=5,
    )
    client.force_login(make_user("sam", "Agent", lines=[new_line]))
    answer = client.get(
        reverse("dashboards:first_sync"),
        {"resource": "conversations", "only": new_line.pk},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "<html" not in body
    assert "Syncing your lines…" in body
    assert "2 / 5" in body
    assert "HX-Refresh" not in answer


def test_once_the_list_is_in_the_notice_reloads_the_page(client, new_line):
    client.force_login(make_user("sam", "Agent", lines=[new_line]))
    _finish(new_line, SyncState.Resource.CONVERSATIONS)
    answer = client.get(
        reverse("dashboards:first_sync"),
        {"resource": "conversations", "only": new_line.pk},
        headers={"HX-Request": "true"},
    )
    assert answer["HX-Refresh"] == "true"
    page = client.get(reverse("conversations:line", args=[new_line.pk])).content.decode()
    assert "Syncing your lines…" not in page
    assert "All caught up" in page


def test_a_synced_line_with_conversations_shows_them_and_its_count(client, line):
    make_conversation(line, first_name="Robin")
    client.force_login(make_user("sam", "Agent", lines=[line]))
    page = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert "Robin" in page
    assert "Syncing" not in page


def test_the_payments_list_says_syncing_while_payments_are_not_read(client, new_line):
    client.force_login(make_user("fran", "Finance"))
    _finish(new_line, SyncState.Resource.CONVERSATIONS)
    page = client.get(reverse("payments:list")).content.decode()
    assert "Syncing your lines…" in page
    assert "No payments match" not in page
    summary = client.get(reverse("payments:summary"), headers={"HX-Request": "true"})
    assert "Syncing your lines… these figures fill in" in summary.content.decode()
    _finish(new_line, SyncState.Resource.PAYMENTS)
    page = client.get(reverse("payments:list")).content.decode()
    assert "Syncing your lines…" not in page
    assert "No payments match" in page
    summary = client.get(reverse("payments:summary"), headers={"HX-Request": "true"})
    assert "Syncing" not in summary.content.decode()


def test_the_notice_checks_its_list_and_the_lines(client, new_line):
    other = make_line(name="Billing", first_synced=False)
    client.force_login(make_user("sam", "Agent", lines=[new_line]))
    url = reverse("dashboards:first_sync")
    assert client.get(url, {"resource": "audit"}).status_code == 400
    assert client.get(url, {"resource": "conversations", "only": "1,x"}).status_code == 400
    # Another agent's line is not named, nor counted.
    body = client.get(url, {"resource": "conversations"}).content.decode()
    assert "Front Desk" in body
    assert "Billing" not in body
    body = client.get(url, {"resource": "conversations", "only": other.pk}).content.decode()
    assert "Billing" not in body


def test_a_disconnected_line_never_says_syncing(client, new_line):
    new_line.connection.is_active = False
    new_line.connection.save()
    client.force_login(make_user("sam", "Agent", lines=[new_line]))
    page = client.get(reverse("conversations:line", args=[new_line.pk])).content.decode()
    assert "Syncing" not in page
    assert "All caught up" in page
