"""Notification settings: per user in Preferences, carried by the inbox page for its script."""

from django.urls import reverse

from tests.conftest import make_conversation


def test_preferences_turn_sound_and_browser_notifications_on(client, agent, line):
    client.force_login(agent)
    page = client.get(reverse("accounts:preferences")).content.decode()
    assert 'name="notify_sound"' in page and 'name="notify_desktop"' in page
    assert 'data-action="ask-notifications"' in page  # asked from a click, never on load
    inbox = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert 'data-notify-sound=""' in inbox and 'data-notify-desktop=""' in inbox
    response = client.post(
        reverse("accounts:preferences"),
        {"first_name": "Sam", "last_name": "", "shortcuts_enabled": "on", "notify_sound": "on",
         "notify_desktop": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.notify_sound and agent.notify_desktop
    make_conversation(line, first_name="Hal", is_unread=True)
    inbox = client.get(reverse("conversations:line", args=[line.pk])).content.decode()
    assert 'data-notify-sound="1"' in inbox and 'data-notify-desktop="1"' in inbox
    # Per line unread counts: the script compares them after each live refresh.
    assert f'data-line-unread="1" data-line-pk="{line.pk}"' in inbox
