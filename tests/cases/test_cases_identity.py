"""A case's code (``idByProject``) is no identity: after the service desk issues the same code
again (a stand-in restarted without its state, an instance restored from a backup), textdesk's
read finds another case behind it. Every read checks ASMS's own id and our marker; a mismatch
is shown on the case and never overwrites it."""

import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse

from standins.asms.pytest_fixtures import make_tenant
from tests.cases_helpers import NEW_CASE, add_texts, connect_desk
from tests.conftest import make_conversation
from textdesk.cases import services
from textdesk.cases.models import Case, CaseNote, ServiceDesk

pytestmark = pytest.mark.django_db(transaction=True)
OTHER_CASE = {"itemType": 1, "projectId": 1, "serviceId": 11, "categoryId": 111}


@pytest.fixture(autouse=True)
def _no_refresh_lock():
    cache.delete(services.REFRESH_LOCK)  # refresh_cases holds it for a minute


@pytest.fixture
def solved_case(asms_tenant, line, agent):
    connect_desk(asms_tenant)
    conversation = make_conversation(line, first_name="Casey")
    add_texts(conversation, "My laptop will not start")
    case = services.request_case(
        conversation=conversation, user=agent, subject="Casey: laptop",
        description="Laptop dead", **{**NEW_CASE, "group_id": 31}, client_key=uuid.uuid4(),
    )  # fmt: skip
    asms_tenant.control.move(asms_tenant.token, "IT-1001", "Solved", "Replaced the battery")
    case.refresh_from_db()
    services.refresh_case(case)
    case.refresh_from_db()
    assert (case.code, case.state_name, case.commentary) == (
        "IT-1001",
        "Solved",
        "Replaced the battery",
    )
    return case


def restarted_service_desk(asms_server, *, description="Someone else's printer"):
    """The service desk forgot everything and numbered a new case IT-1001 again."""
    fresh = make_tenant(asms_server)
    answer = fresh.call("POST", "/case", json={**OTHER_CASE, "subject": "Printer jams",
                                                "description": description})  # fmt: skip
    assert answer.json()["idByProject"] == "IT-1001"
    ServiceDesk.objects.update(token_encrypted="")
    desk = ServiceDesk.current()
    desk.set_token(fresh.token)
    desk.save()
    return fresh


def test_another_case_behind_the_same_code_never_overwrites_a_solved_case(asms_server, solved_case):
    restarted_service_desk(asms_server)

    services.refresh_cases()

    case = Case.objects.get(pk=solved_case.pk)
    assert (case.state_name, case.commentary, case.subject) == (
        "Solved",
        "Replaced the battery",
        "Casey: laptop",
    )
    assert case.solved_at is not None
    assert "does not carry this case's textdesk reference" in case.identity_error
    assert "nothing was overwritten" in case.identity_error


def test_the_mismatch_is_shown_on_the_case_and_refused_on_refresh(
    asms_server, solved_case, client, agent
):
    restarted_service_desk(asms_server)
    client.force_login(agent)
    response = client.post(reverse("cases:refresh", args=[solved_case.pk]), follow=True)
    page = response.content.decode()
    assert "does not carry this case&#x27;s textdesk reference" in page
    panel = client.get(reverse("cases:panel", args=[solved_case.conversation_id]))
    assert "nothing was overwritten" in panel.content.decode()
    with pytest.raises(services.CaseRefused, match="another case"):
        services.add_note(
            case=Case.objects.get(pk=solved_case.pk), user=agent, text="Hi", client_key=uuid.uuid4()
        )
    assert not CaseNote.objects.exists()


def test_a_linked_case_is_checked_by_its_opening_date(asms_server, line, agent):
    seeded = make_tenant(asms_server, seed="demo")  # IT-1001 was opened two days ago
    connect_desk(seeded)
    conversation = make_conversation(line, first_name="Casey")
    case = services.link_case(conversation=conversation, user=agent, ticket="IT-1001")
    case.refresh_from_db()
    assert case.opened_at is not None and case.subject == "Printer on the third floor jams"

    restarted_service_desk(asms_server)  # its IT-1001 (same id) is opened now
    services.refresh_cases()

    case.refresh_from_db()
    assert "a different case, so nothing was overwritten" in case.identity_error
    assert case.state_name == "In progress"


def test_a_matching_read_clears_an_earlier_mismatch(asms_tenant, solved_case):
    Case.objects.filter(pk=solved_case.pk).update(identity_error="an earlier mismatch")
    services.refresh_case(Case.objects.get(pk=solved_case.pk))
    assert Case.objects.get(pk=solved_case.pk).identity_error == ""
