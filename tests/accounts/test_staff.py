"""Admins decide who signs in, in which role, and which lines each agent works."""

from django.urls import reverse

from textdesk.accounts.models import User


def test_admin_adds_an_agent_to_a_line(client, admin_user, line, other_line):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:staff_new"),
        {
            "username": "newbie",
            "first_name": "New",
            "last_name": "Agent",
            "email": "",
            "password1": "a long enough passphrase 7",
            "password2": "a long enough passphrase 7",
            "role": "Agent",
            "dashboards": [line.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    person = User.objects.get(username="newbie")
    assert person.role_names == ["Agent"]
    assert list(person.dashboards.all()) == [line]


def test_changing_role_replaces_the_old_one(client, admin_user, agent):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:staff_edit", args=[agent.pk]),
        {"first_name": "Sam", "last_name": "", "email": "", "is_active": "on", "role": "Finance"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role_names == ["Finance"]
    assert not agent.dashboards.exists()


def test_admin_cannot_deactivate_themself(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:staff_edit", args=[admin_user.pk]),
        {"first_name": "Avery", "last_name": "", "email": "", "role": "Admin"},
    )
    assert response.status_code == 200
    assert "You cannot deactivate your own account." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_who_works_a_line(client, admin_user, agent, line, other_line):
    client.force_login(admin_user)
    response = client.post(
        reverse("dashboards:agents", args=[other_line.pk]), {"agents": [agent.pk]}
    )
    assert response.status_code == 302
    assert set(agent.dashboards.all()) == {line, other_line}


def test_staff_list_queries_do_not_grow_with_people(
    client, admin_user, django_assert_max_num_queries
):
    from tests.conftest import make_user

    client.force_login(admin_user)
    for i in range(3):
        make_user(f"p{i}", "Agent")
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("accounts:staff"))
    for i in range(3, 20):
        make_user(f"p{i}", "Agent")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("accounts:staff"))
