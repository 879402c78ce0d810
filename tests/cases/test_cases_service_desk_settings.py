"""Admin → Service desk keeps the technician token where it was entered: a new address needs
the token typed again (the stored one is never sent to it), plain http:// is refused except to
this machine's stand-in in development, and every change and token test is audited."""

import uuid

import pytest
from django.urls import reverse

from tests.cases_helpers import NEW_CASE, connect_desk
from tests.conftest import make_conversation
from textdesk.audit.models import Entry
from textdesk.cases import services
from textdesk.cases.models import ServiceDesk
from textdesk.transport import service_url_error

FORM = {"calls_per_minute": 20, "transcript_texts": 8}


@pytest.fixture
def connected(client, admin_user, asms_tenant):
    client.force_login(admin_user)
    form = {**FORM, "instance_url": asms_tenant.url, "token": asms_tenant.token}
    assert client.post(reverse("cases:settings"), form).status_code == 302
    return ServiceDesk.current()


def test_a_new_address_needs_the_token_again_and_never_receives_the_stored_one(
    client, connected, asms_tenant
):
    tested = asms_tenant.counters()["calls"]["TestConnection"]
    elsewhere = "https://attacker.example.net"
    response = client.post(reverse("cases:settings"), {**FORM, "instance_url": elsewhere})
    assert response.status_code == 200
    assert "Enter the technician&#x27;s API token again" in response.content.decode()
    connected.refresh_from_db()
    assert connected.instance_url == asms_tenant.url
    # nothing was called at all: the form refused before any test of the connection
    assert asms_tenant.counters()["calls"]["TestConnection"] == tested
    # the service refuses it too, whoever calls it
    with pytest.raises(services.CaseRefused, match="token again"):
        services.save_service_desk(
            instance_url=elsewhere, token=None, user=None, calls_per_minute=5, transcript_texts=5
        )
    # the same address (a trailing slash aside) keeps the stored token
    same = {**FORM, "instance_url": asms_tenant.url + "/"}
    assert client.post(reverse("cases:settings"), same).status_code == 302


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://acme.arandasoft.com", True),
        ("http://acme.arandasoft.com", False),
        ("http://127.0.0.1:8002", True),
        ("http://localhost:8002", True),
        ("ftp://acme.arandasoft.com", False),
    ],
)
def test_only_https_or_the_local_stand_in_in_development(url, allowed, settings):
    assert (service_url_error(url) == "") is allowed
    settings.TEXTDESK_ALLOW_HTTP_LOOPBACK = False  # production
    assert (service_url_error(url) == "") is url.startswith("https://")


def test_plain_http_is_a_form_error(client, admin_user, db):
    client.force_login(admin_user)
    form = {**FORM, "instance_url": "http://acme.arandasoft.com", "token": "t0ken"}
    response = client.post(reverse("cases:settings"), form)
    assert response.status_code == 200
    assert "Use an https:// address" in response.content.decode()
    assert not ServiceDesk.objects.exists()


def test_service_desk_changes_and_token_tests_are_audited(
    client, admin_user, connected, asms_tenant, line
):
    client.post(reverse("cases:settings"), {**FORM, "instance_url": asms_tenant.url,
                                             "token": "wrong-token"})  # fmt: skip
    client.post(reverse("cases:settings"), {**FORM, "instance_url": asms_tenant.url})
    client.post(
        reverse("cases:line_defaults", args=[line.pk]),
        {f"line{line.pk}-project_id": 1, f"line{line.pk}-service_id": 11},
    )
    entries = list(Entry.objects.filter(kind="service_desk").order_by("id"))
    assert [(e.status, e.actor) for e in entries] == [
        ("done", admin_user),
        ("failed", admin_user),
        ("done", admin_user),
        ("done", admin_user),
    ]
    assert entries[0].summary.startswith(f"Connected the service desk {asms_tenant.url}")
    assert "ASMS did not accept the connection" in entries[1].reason
    assert "with a new token" in entries[1].summary
    assert entries[2].summary.startswith("Changed the service desk")
    assert entries[3].summary.startswith(f"Saved the case defaults of {line.name}")
    assert asms_tenant.token not in " ".join(e.summary + e.reason for e in entries)


@pytest.mark.django_db(transaction=True)
def test_creating_and_linking_a_case_are_audited_once(client, agent, line, asms_tenant):
    import uuid

    from tests.cases_helpers import NEW_CASE
    from tests.conftest import make_conversation

    connect_desk(asms_tenant)
    conversation = make_conversation(line, first_name="Casey")
    client.force_login(agent)
    form = {"subject": "Laptop", "description": "Dead", **NEW_CASE, "client_key": uuid.uuid4()}
    url = reverse("cases:new", args=[conversation.pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # a double submit
    other = make_conversation(line, first_name="Dana")
    client.post(reverse("cases:link", args=[other.pk]), {"ticket": "IT-1001"})
    entries = list(Entry.objects.filter(kind="case").order_by("id"))
    assert [(e.summary, e.conversation_id, e.actor) for e in entries] == [
        ("Requested the case “Laptop”", conversation.pk, agent),
        ("Linked the conversation to the case IT-1001", other.pk, agent),
    ]


@pytest.mark.django_db(transaction=True)
def test_read_from_asms_now_returns_to_the_case_page(client, agent, line, asms_tenant):
    from tests.cases.test_cases_views import make_case
    from tests.conftest import make_conversation

    connect_desk(asms_tenant)
    answer = asms_tenant.call("POST", "/case", json={"itemType": 1, "projectId": 1,
                              "serviceId": 11, "categoryId": 111, "subject": "S"})  # fmt: skip
    case = make_case(make_conversation(line), code="IT-1001", case_id=answer.json()["id"])
    client.force_login(agent)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'name="next" value="/cases/' in page
    back = reverse("cases:detail", args=[case.pk])
    response = client.post(reverse("cases:refresh", args=[case.pk]), {"next": back})
    assert response["Location"] == back
    # a foreign address is never followed: back to the conversation
    evil = client.post(reverse("cases:refresh", args=[case.pk]), {"next": "//evil.example/x"})
    assert evil["Location"].startswith("/inbox/") or "/c/" in evil["Location"]


def test_an_admin_disconnects_the_service_desk_and_its_token_is_gone(
    client, connected, line, agent
):
    page = client.get(reverse("cases:settings")).content.decode()
    assert reverse("cases:disconnect") in page
    confirm = client.get(reverse("cases:disconnect"))
    assert confirm.status_code == 200
    assert "Disconnect" in confirm.content.decode()
    assert ServiceDesk.objects.exists()  # a GET only asks

    response = client.post(reverse("cases:disconnect"))
    assert response.status_code == 302
    assert not ServiceDesk.objects.exists()
    entry = Entry.objects.filter(kind="service_desk").latest("pk")
    assert entry.summary.startswith(f"Disconnected the service desk {connected.instance_url}")
    # Escalating now says why instead of trying the forgotten instance.
    conversation = make_conversation(line, first_name="Casey")
    with pytest.raises(services.CaseRefused, match="not set up"):
        services.request_case(
            conversation=conversation, user=agent, subject="Casey", description="Dead laptop",
            **NEW_CASE, group_id=31,
            client_key=uuid.uuid4(),
        )  # fmt: skip
    # A second POST (a double click) finds nothing to disconnect and says so.
    assert client.post(reverse("cases:disconnect")).status_code == 302


def test_only_admins_may_disconnect(client, connected, agent):
    client.force_login(agent)
    assert client.post(reverse("cases:disconnect")).status_code == 403
    assert ServiceDesk.objects.exists()
