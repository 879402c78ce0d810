"""Bad input and who may do what: the line's assignment form, the top bar's toggle, a
person's own capacity. Never a 500."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from textdesk.dashboards.models import Dashboard

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ("0", "Capacity must be at least 1"),
        ("-3", "Capacity must be at least 1"),
        ("501", "Capacity can be at most 500"),
        ("ten", "Capacity is a whole number"),
        ("", "Say how many unresolved conversations"),
    ],
)
def test_a_bad_capacity_is_a_form_error_keeping_what_was_typed(
    client, admin_user, line, capacity, message
):
    client.force_login(admin_user)
    response = client.post(
        reverse("dashboards:assignment", args=[line.pk]),
        {"assignment_rule": "round_robin", "assignment_capacity": capacity},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{capacity}"'.encode() in response.content or not capacity
    line.refresh_from_db()
    assert line.assignment_rule == "off"


def test_an_unknown_rule_is_a_form_error(client, admin_user, line):
    client.force_login(admin_user)
    response = client.post(
        reverse("dashboards:assignment", args=[line.pk]),
        {"assignment_rule": "random", "assignment_capacity": "5"},
    )
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content


def test_a_line_with_no_agents_says_what_happens(client, admin_user, line):
    client.force_login(admin_user)
    response = client.get(reverse("dashboards:assignment", args=[line.pk]))
    assert response.status_code == 200
    assert b"Nobody works this line yet" in response.content


def test_the_line_page_shows_who_is_available_and_what_they_hold(client, admin_user, line):
    make_user("ann", "Agent", lines=[line], is_available=True, assignment_capacity=4)
    make_user("bob", "Agent", lines=[line])
    client.force_login(admin_user)
    page = client.get(reverse("dashboards:line", args=[line.pk])).content.decode()
    assert "● Available" in page and "○ Away" in page
    assert "(their own)" in page
    listing = client.get(reverse("dashboards:list")).content.decode()
    assert "1 of 2" in listing


def test_agents_and_finance_cannot_change_a_lines_rule(client, agent, finance_user, line):
    for person in (agent, finance_user):
        client.force_login(person)
        url = reverse("dashboards:assignment", args=[line.pk])
        assert client.post(url, {"assignment_rule": "round_robin"}).status_code == 403


def test_a_removed_line_is_a_404(client, admin_user, line):
    from django.utils import timezone

    Dashboard.objects.filter(pk=line.pk).update(removed_at=timezone.now())
    client.force_login(admin_user)
    assert client.get(reverse("dashboards:assignment", args=[line.pk])).status_code == 404


def test_the_toggle_refuses_anything_but_0_or_1(client, agent):
    client.force_login(agent)
    response = client.post(reverse("accounts:availability"), {"available": "maybe"})
    assert response.status_code == 400
    assert b"available=1" in response.content


def test_the_toggle_without_javascript_posts_and_comes_back(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:availability"), {"available": "1", "next": "/contacts/?q=x"}
    )
    assert response.status_code == 302 and response["Location"] == "/contacts/?q=x"
    response = client.post(
        reverse("accounts:availability"), {"available": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")
    agent.refresh_from_db()
    assert not agent.is_available
    # Not a path: a word `redirect` would look up as a view's name, another site's path.
    for hostile in ("1", "home", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            reverse("accounts:availability"), {"available": "1", "next": hostile}
        )
        assert response.status_code == 302 and response["Location"] == reverse("home")


def test_finance_has_no_toggle(client, finance_user):
    client.force_login(finance_user)
    assert b'id="availability"' not in client.get(reverse("payments:list")).content
    assert client.post(reverse("accounts:availability"), {"available": "1"}).status_code == 403


def test_agents_see_the_toggle_in_the_top_bar(client, agent):
    client.force_login(agent)
    page = client.get(reverse("contacts:list")).content.decode()
    assert 'id="availability"' in page and 'aria-pressed="false"' in page and ">Away<" in page


@pytest.mark.parametrize("capacity", ["0", "-1", "x"])
def test_a_persons_bad_capacity_is_a_form_error(client, admin_user, agent, line, capacity):
    client.force_login(admin_user)
    data = {
        "first_name": agent.first_name,
        "last_name": "",
        "email": "",
        "is_active": "on",
        "role": "Agent",
        "dashboards": [line.pk],
        "assignment_capacity": capacity,
    }
    response = client.post(reverse("accounts:staff_edit", args=[agent.pk]), data)
    assert response.status_code == 200
    assert b"Capacity" in response.content and b"errorlist" in response.content
    data["assignment_capacity"] = "7"
    assert client.post(reverse("accounts:staff_edit", args=[agent.pk]), data).status_code == 302
    agent.refresh_from_db()
    assert agent.assignment_capacity == 7
