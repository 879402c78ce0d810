"""Light, dark or as the system: a choice in Preferences, kept per person, on every page."""

from django.urls import reverse

FIELDS = {"first_name": "Sam", "last_name": "Rivera", "shortcuts_enabled": "on"}


def test_the_system_scheme_is_followed_until_a_person_chooses(client, agent):
    client.force_login(agent)
    page = client.get(reverse("accounts:preferences")).content.decode()
    assert '<html lang="en">' in page  # no data-theme: the CSS follows prefers-color-scheme
    assert '<meta name="color-scheme" content="light dark">' in page
    for value in ("system", "light", "dark"):
        assert f'name="theme" value="{value}"' in page


def test_dark_chosen_in_preferences_shows_on_every_page(client, agent):
    client.force_login(agent)
    response = client.post(reverse("accounts:preferences"), {**FIELDS, "theme": "dark"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.theme == "dark"
    page = client.get(reverse("contacts:list")).content.decode()
    assert '<html lang="en" data-theme="dark">' in page
    assert '<meta name="color-scheme" content="dark">' in page
    client.post(reverse("accounts:preferences"), {**FIELDS, "theme": "system"})
    assert '<html lang="en">' in client.get(reverse("contacts:list")).content.decode()


def test_an_unknown_scheme_is_refused_and_nothing_is_saved(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:preferences"), {**FIELDS, "last_name": "Changed", "theme": "purple"}
    )
    assert response.status_code == 400
    assert "Select a valid choice. purple is not one of the available choices." in (
        response.content.decode()
    )
    agent.refresh_from_db()
    assert (agent.theme, agent.last_name) == ("system", "")


def test_a_form_without_the_choice_keeps_the_scheme(client, agent):
    agent.theme = "light"
    agent.save()
    client.force_login(agent)
    assert client.post(reverse("accounts:preferences"), FIELDS).status_code == 302
    agent.refresh_from_db()
    assert agent.theme == "light"


def test_a_change_of_preferences_is_audited_and_an_unchanged_save_is_not(client, agent):
    from textdesk.audit.models import Entry

    client.force_login(agent)
    client.post(reverse("accounts:preferences"), {**FIELDS, "theme": "dark"})
    entry = Entry.objects.get(kind="preferences")
    assert entry.actor_id == agent.pk
    assert entry.summary == "Changed own preferences: last name, colours"
    client.post(reverse("accounts:preferences"), {**FIELDS, "theme": "dark"})
    assert Entry.objects.filter(kind="preferences").count() == 1
