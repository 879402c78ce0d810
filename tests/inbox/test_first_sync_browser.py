"""In Chromium: a line on its first sync shows "Syncing your lines…" (never "All caught up"),
and the inbox fills itself, without a reload by hand, once the conversation list is in."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

from django.utils import timezone  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.conftest import make_conversation, make_line, make_user  # noqa: E402
from tests.inbox.test_inbox_browser import browser_page, live_url, log_in, shot  # noqa: E402, F401
from textdesk.dashboards.models import SyncState  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_inbox_fills_itself_after_the_first_sync(browser_page, live_url):  # noqa: F811
    page, errors = browser_page
    line = make_line(name="Front Desk", first_synced=False)
    make_user("sam", "Agent", lines=[line])
    log_in(page, live_url, "sam")
    expect(page.get_by_role("heading", name="Syncing your lines…")).to_be_visible()
    expect(page.get_by_text("All caught up")).to_have_count(0)
    expect(page.locator("#lines").get_by_text("Syncing…")).to_be_visible()
    shot(page, "first-sync-inbox")

    make_conversation(line, first_name="Robin")
    now = timezone.now()
    SyncState.objects.create(
        dashboard=line, resource="conversations", last_success_at=now, last_full_at=now
    )
    expect(page.locator("#conversation-list").get_by_text("Robin")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("heading", name="Syncing your lines…")).to_have_count(0)
    expect(page.locator("#lines").get_by_text("Syncing…")).to_have_count(0, timeout=15_000)
    shot(page, "first-sync-inbox-filled")
    assert not errors
