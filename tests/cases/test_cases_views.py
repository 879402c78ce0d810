"""Service-desk pages: who may open what, the settings page (tested before saving, token never
shown back), the line defaults, the Cases list (per line, filters, keyset pages, constant
queries), the case page and the conversation's case panel."""

import re
import uuid

import pytest
from django.urls import reverse

from tests.cases_helpers import NEW_CASE, add_texts, connect_desk, set_defaults
from tests.conftest import make_conversation
from textdesk.cases.models import Case, LineDefaults, ServiceDesk

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_case(conversation, **extra) -> Case:
    extra.setdefault("code", f"IT-{Case.objects.count() + 1001}")
    return Case.objects.create(
        conversation=conversation,
        dashboard=conversation.dashboard,
        subject=extra.pop("subject", "Laptop"),
        status=extra.pop("status", Case.Status.CREATED),
        state_name=extra.pop("state_name", "Registered"),
        **{**NEW_CASE, **extra},
    )


@pytest.fixture
def mine(line):
    conversation = make_conversation(line, first_name="Casey")
    add_texts(conversation, "My laptop will not start after the update this morning", "Sorry!")
    return conversation


@pytest.fixture
def foreign(other_line):
    return make_conversation(other_line, first_name="Fiona")


# --- Who may open what ------------------------------------------------------------------------


def test_only_admins_open_the_service_desk_settings(client, agent, finance_user, admin_user):
    url = reverse("cases:settings")
    for user in (agent, finance_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_finance_has_no_cases_list_and_a_read_only_panel(client, finance_user, mine):
    client.force_login(finance_user)
    assert client.get(reverse("cases:list")).status_code == 403
    case = make_case(mine)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 403
    panel = client.get(reverse("cases:panel", args=[mine.pk]))
    assert panel.status_code == 200
    assert "Create case" not in panel.content.decode()
    assert client.get(reverse("cases:new", args=[mine.pk])).status_code == 403


def test_another_lines_ids_are_404_everywhere(client, agent, foreign, asms_tenant):
    connect_desk(asms_tenant)
    case = make_case(foreign)
    client.force_login(agent)
    for url in (
        reverse("cases:detail", args=[case.pk]),
        reverse("cases:panel", args=[foreign.pk]),
        reverse("cases:new", args=[foreign.pk]),
        reverse("cases:link", args=[foreign.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for name in ("note", "reply", "refresh", "transcript"):
        assert client.post(reverse(f"cases:{name}", args=[case.pk])).status_code == 404, name
    assert client.post(reverse("cases:new", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("cases:link", args=[foreign.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, mine):
    response = client.get(reverse("cases:panel", args=[mine.pk]))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_post_without_csrf_is_403(agent, mine):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(reverse("cases:new", args=[mine.pk]), {}).status_code == 403


# --- Admin -> Service desk --------------------------------------------------------------------


def test_settings_are_tested_before_saving_and_the_token_is_never_shown(
    client, admin_user, asms_tenant
):
    client.force_login(admin_user)
    url = reverse("cases:settings")
    form = {"instance_url": asms_tenant.url, "calls_per_minute": 20, "transcript_texts": 8}
    refused = client.post(url, {**form, "token": "not-the-token"})
    assert refused.status_code == 200
    assert "ASMS did not accept the connection" in refused.content.decode()
    assert ServiceDesk.objects.count() == 0
    assert client.post(url, {**form, "token": asms_tenant.token}).status_code == 302
    desk = ServiceDesk.current()
    assert desk.token == asms_tenant.token
    assert asms_tenant.token not in desk.token_encrypted
    page = client.get(url).content.decode()
    assert asms_tenant.token not in page
    assert f"••••{asms_tenant.token[-4:]}" in page
    # Blank keeps the stored token; the connection is tested again.
    assert client.post(url, {**form, "calls_per_minute": 5, "token": ""}).status_code == 302
    desk.refresh_from_db()
    assert (desk.calls_per_minute, desk.token) == (5, asms_tenant.token)
    assert asms_tenant.counters()["calls"]["TestConnection"] == 2


def test_line_defaults_are_picked_from_the_sandbox_catalogue_and_checked(
    client, admin_user, line, asms_tenant
):
    connect_desk(asms_tenant)
    client.force_login(admin_user)
    page = client.get(reverse("cases:settings")).content.decode()
    assert "IT Service Desk" in page and "Cannot send or receive (Email)" in page
    url = reverse("cases:line_defaults", args=[line.pk])
    prefix = f"line{line.pk}-"
    wrong = {f"{prefix}project_id": 1, f"{prefix}service_id": 21}
    response = client.post(url, wrong)
    assert response.status_code == 400
    assert "not offered by the chosen project" in response.content.decode()
    ok = {f"{prefix}{k}": v for k, v in {**NEW_CASE, "group_id": 31}.items()}
    assert client.post(url, ok).status_code == 302
    saved = LineDefaults.objects.get(dashboard=line)
    assert (saved.service_id, saved.group_id) == (11, 31)


def test_without_a_catalogue_ids_are_typed(client, admin_user, line, asms_tenant, settings):
    desk = connect_desk(asms_tenant)
    ServiceDesk.objects.filter(pk=desk.pk).update(instance_url=asms_tenant.url + "/nocat")
    client.force_login(admin_user)
    page = client.get(reverse("cases:settings")).content.decode()
    assert "Project id" in page and "type the ids" in page


# --- Creating a case from the conversation ----------------------------------------------------


def test_the_form_is_prefilled_from_the_conversation_and_the_line_defaults(
    client, agent, mine, line, asms_tenant
):
    connect_desk(asms_tenant, transcript_texts=5)
    set_defaults(line, service_id=12, category_id=121)
    client.force_login(agent)
    html = client.get(reverse("cases:new", args=[mine.pk])).content.decode()
    assert 'value="Casey: My laptop will not start after the update this morning"' in html
    assert "Casey: My laptop will not start after the update this morning" in html
    assert "Sam: Sorry!" in html
    assert re.search(r'<option value="12" selected>Laptops and devices', html)
    assert re.search(r'<option value="31" selected>First line', html)


def test_creating_a_case_through_the_form_is_once_per_client_key(
    client, agent, mine, asms_tenant, settings
):
    connect_desk(asms_tenant)
    client.force_login(agent)
    form = {
        "subject": "Laptop will not start",
        "description": "Details",
        **NEW_CASE,
        "group_id": 31,
        "client_key": str(uuid.uuid4()),
    }
    url = reverse("cases:new", args=[mine.pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the double click
    assert Case.objects.filter(conversation=mine).count() == 1


def test_a_bad_form_keeps_what_was_typed(client, agent, mine, asms_tenant):
    connect_desk(asms_tenant)
    client.force_login(agent)
    form = {"subject": "Kept subject", "description": "Kept text", "project_id": 1,
            "service_id": 21, "category_id": 211, "item_type_id": 1,
            "client_key": str(uuid.uuid4())}  # fmt: skip
    response = client.post(reverse("cases:new", args=[mine.pk]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Kept subject" in html and "Kept text" in html
    assert "not offered by the chosen project" in html
    assert not Case.objects.exists()


def test_the_panel_shows_the_badge_and_the_solution_with_the_reply_offer(client, agent, mine):
    case = make_case(mine, responsible_name="Dana Ruiz", state_name="In progress")
    client.force_login(agent)
    html = client.get(reverse("cases:panel", args=[mine.pk]), **HTMX).content.decode()
    assert "<html" not in html
    assert case.code in html and "In progress" in html and "Dana Ruiz" in html
    assert reverse("cases:detail", args=[case.pk]) in html
    assert "Reply to the customer" not in html
    Case.objects.filter(pk=case.pk).update(state_name="Solved", commentary="Charge it overnight.")
    html = client.get(reverse("cases:panel", args=[mine.pk]), **HTMX).content.decode()
    assert "Charge it overnight." in html and "Reply to the customer with it" in html
    response = client.post(reverse("cases:reply", args=[case.pk]))
    assert response.status_code == 302
    conversation_url = reverse("conversations:conversation", args=[mine.dashboard_id, mine.pk])
    assert response["Location"] == conversation_url
    page = client.get(response["Location"]).content.decode()
    assert "your request IT-1001 is solved. Charge it overnight." in page


def test_a_note_over_254_characters_is_refused_on_the_form(client, agent, mine, asms_tenant):
    connect_desk(asms_tenant)
    case = make_case(mine)
    client.force_login(agent)
    response = client.post(
        reverse("cases:note", args=[case.pk]),
        {"text": "x" * 255, "client_key": str(uuid.uuid4())},
        **HTMX,
    )
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    assert "AttachNote" not in asms_tenant.counters()["calls"]


# --- The Cases list ---------------------------------------------------------------------------


def test_agents_see_the_cases_of_their_lines_with_filters(client, agent, mine, foreign):
    make_case(mine, subject="Mine open")
    make_case(mine.dashboard and make_conversation(mine.dashboard, first_name="Sol"),
              subject="Mine solved", state_name="Solved", commentary="Done")  # fmt: skip
    make_case(foreign, subject="Not mine")
    from django.utils import timezone

    Case.objects.filter(subject="Mine solved").update(solved_at=timezone.now())
    client.force_login(agent)
    html = client.get(reverse("cases:list")).content.decode()
    assert "Mine open" in html and "Mine solved" in html and "Not mine" not in html
    html = client.get(reverse("cases:list"), {"state": "solved"}).content.decode()
    assert "Mine solved" in html and "Mine open" not in html
    html = client.get(reverse("cases:list"), {"line": foreign.dashboard_id}).content.decode()
    assert "No cases here" in html


def test_the_list_pages_by_keyset_with_constant_queries(
    client, admin_user, line, django_assert_num_queries
):
    make_case(make_conversation(line, first_name="P0"))
    client.force_login(admin_user)
    client.get(reverse("cases:list"))  # warm the session
    with django_assert_num_queries(7):
        client.get(reverse("cases:list"))
    for i in range(1, 55):
        make_case(make_conversation(line, first_name=f"P{i}"))
    with django_assert_num_queries(7):
        first = client.get(reverse("cases:list"))
    html = first.content.decode()
    assert html.count('href="/cases/') - html.count('href="/cases/settings') >= 50
    after = re.search(r'href="\?(after=[^"]+)"', html).group(1).replace("&amp;", "&")
    rest = client.get(reverse("cases:list") + "?" + after, **HTMX).content.decode()
    assert "<html" not in rest
    assert rest.count("<tr>") == 5


def test_the_panel_reads_a_constant_number_of_queries(
    client, agent, mine, django_assert_num_queries
):
    from textdesk.cases.models import CaseNote

    case = make_case(mine)
    client.force_login(agent)
    url = reverse("cases:panel", args=[mine.pk])
    client.get(url, **HTMX)
    with django_assert_num_queries(8):
        client.get(url, **HTMX)
    for i in range(20):
        CaseNote.objects.create(case=case, text=f"note {i}", status="sent")
    for _ in range(4):
        make_case(make_conversation(mine.dashboard))  # other conversations' cases
    with django_assert_num_queries(8):
        html = client.get(url, **HTMX).content.decode()
    assert "note 19" in html and "note 14" not in html  # the latest five


def test_linking_through_the_search_page(client, agent, mine, asms_tenant):
    desk = connect_desk(asms_tenant)
    with desk.client() as asms:
        asms.create_case(
            item_type=1, project_id=1, service_id=12, category_id=121, subject="Printer jams"
        )
    client.force_login(agent)
    url = reverse("cases:link", args=[mine.pk])
    html = client.get(url, {"q": "printer"}).content.decode()
    assert "IT-1001" in html and "Link IT-1001" in html
    assert client.post(url, {"ticket": "IT-1001"}).status_code == 302
    assert Case.objects.get(conversation=mine).is_linked
    again = client.post(url, {"ticket": "IT-1001"})
    assert again.status_code == 400 and "already linked" in again.content.decode()
    asms_tenant.control.set_faults(token=asms_tenant.token, outage=True)
    down = client.get(url, {"q": "printer"})
    assert down.status_code == 400 and "ASMS could not search" in down.content.decode()
