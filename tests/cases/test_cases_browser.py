# ruff: noqa: F811 - the browser fixtures are imported from the inbox's journey and requested here
"""The escalation journey in Chromium: an agent turns a conversation into an ASMS case, sees
its badge, adds a note; a technician solves it in ASMS (the sandbox); the agent sees the
solution and sends the prefilled reply. Screenshots land in test-artifacts/screenshots/."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from tests.cases_helpers import connect_desk, set_defaults
from tests.inbox.test_inbox_browser import (  # noqa: F401
    SHOTS,
    browser_page,
    delivered,
    demo,
    live_url,
    log_in,
    shot,
)
from textdesk.cases import services
from textdesk.cases.models import Case, CaseNote
from textdesk.conversations.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_agent_escalates_a_conversation_and_answers_with_the_solution(
    demo,
    browser_page,
    live_url,
    sandbox_server,
    asms_tenant,
):
    page, errors = browser_page
    line = demo["line"]
    connect_desk(asms_tenant)
    set_defaults(line, service_id=13, category_id=131)
    conversation = (
        Conversation.objects.filter(
            dashboard=line, contact__opted_out_at__isnull=True, contact__is_blocked=False
        )
        .select_related("contact")
        .order_by("-last_message_at")
        .first()
    )
    assert conversation is not None, "the demo sync found nothing"
    log_in(page, live_url, "sam")
    page.goto(f"{live_url}/inbox/{line.pk}/c/{conversation.pk}/")
    panel = page.locator("#case-panel")
    expect(panel.get_by_role("link", name="Create case")).to_be_visible()
    shot(page, "cases-01-panel")

    # Create case: the form is prefilled from the conversation and the line's defaults.
    panel.get_by_role("link", name="Create case").click()
    page.wait_for_url(re.compile(r"/cases/conversation/\d+/new/"))
    name = conversation.contact.name
    # Which texts the demo holds depends on what ran before in the shared stand-in, so the
    # subject is the draft's (name and latest words, or "Text conversation with" the name).
    expect(page.locator("#id_subject")).to_have_value(services.draft_case(conversation)["subject"])
    expect(page.locator("#id_subject")).to_have_value(re.compile(re.escape(name)))
    expect(page.locator("#id_description")).to_contain_text("Last texts:")
    expect(page.locator("#id_service_id")).to_have_value("13")
    shot(page, "cases-02-form")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url(re.compile(rf"/inbox/{line.pk}/c/{conversation.pk}/"))

    # The badge: code, state, responsible, linking to the case page.
    badge = page.locator("#case-panel .case-badge")
    expect(badge).to_contain_text("IT-1001")
    expect(badge).to_contain_text("Registered")
    expect(badge).to_contain_text("Dana Ruiz")
    case = Case.objects.get(conversation=conversation)
    assert case.transcript_status == Case.Transcript.ATTACHED
    assert asms_tenant.counters()["cases_created"] == 1
    shot(page, "cases-03-badge")

    # Add a note from the thread, with a live counter.
    page.locator("#case-panel summary", has_text="Add note to case").click()
    note = page.locator("#case-panel textarea[name=text]")
    note.fill("Customer says it happens every morning.")
    expect(page.locator("#case-panel .char-count")).to_have_text("39 of 254 characters")
    page.locator("#case-panel button", has_text="Add note").click()
    expect(page.locator("#case-panel .case-notes")).to_contain_text("every morning")
    assert CaseNote.objects.get().status == CaseNote.Status.SENT
    assert [n["text"] for n in asms_tenant.cases()[0]["notes"]] == [
        "Customer says it happens every morning."
    ]
    shot(page, "cases-04-note")

    # A technician solves the case in ASMS; the periodic read brings it back.
    asms_tenant.control.move(
        asms_tenant.token, "IT-1001", "Solved", "Reset the password and unlocked the account.", 42
    )
    cache.delete(services.REFRESH_LOCK)
    services.refresh_cases()
    page.reload()
    solution = page.locator("#case-panel .case-solution")
    expect(solution).to_contain_text("Reset the password and unlocked the account.")
    expect(page.locator("#case-panel .case-badge")).to_contain_text("Solved")
    expect(page.locator("#case-panel .case-badge")).to_contain_text("Lee Park")
    shot(page, "cases-05-solved")

    # The prefilled reply lands in the composer; the agent sends it.
    sent_before = Message.objects.filter(conversation=conversation, direction="S").count()
    solution.get_by_role("button", name="Reply to the customer with it").click()
    composer = page.locator("#composer textarea[name=body]")
    expect(composer).to_have_value(re.compile(r"your request IT-1001 is solved\. Reset the"))
    assert Message.objects.filter(conversation=conversation, direction="S").count() == sent_before
    shot(page, "cases-06-reply")
    body = composer.input_value()
    composer.press("Enter")
    expect(page.locator("#thread-log .msg-out", has_text="IT-1001")).to_be_visible()
    sandbox_server.control.wait_idle()
    assert delivered(sandbox_server.control, demo["key"], body) == 1

    # The Cases list shows it.
    page.goto(f"{live_url}/cases/")
    expect(page.locator("table")).to_contain_text("IT-1001")
    expect(page.locator("table")).to_contain_text("Solved")
    shot(page, "cases-07-list")
    assert errors == []


def test_admin_connects_the_service_desk_and_picks_line_defaults(
    live_url, browser_page, asms_tenant, line
):
    from tests.conftest import make_user
    from textdesk.cases.models import LineDefaults, ServiceDesk

    page, errors = browser_page
    make_user("avery", "Admin")
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/inbox/"))
    page.goto(f"{live_url}/cases/settings/")
    page.get_by_role("link", name="Service desk").wait_for()
    page.fill("#id_instance_url", asms_tenant.url)
    page.fill("#id_token", "wrong-token")
    page.get_by_role("button", name="Test and save").click()
    expect(page.locator(".flash-error")).to_contain_text("ASMS did not accept the connection")
    expect(page.locator("#id_instance_url")).to_have_value(asms_tenant.url)
    shot(page, "cases-10-settings-refused")
    page.fill("#id_token", asms_tenant.token)
    page.get_by_role("button", name="Test and save").click()
    expect(page.locator(".facts")).to_contain_text(f"••••{asms_tenant.token[-4:]}")
    assert asms_tenant.token not in page.content()
    form = page.locator(f"form[action='/cases/settings/lines/{line.pk}/']")
    form.locator("select[name$=project_id]").select_option(label="IT Service Desk")
    form.locator("select[name$=item_type_id]").select_option(label="Service request")
    form.locator("select[name$=service_id]").select_option(label="Email (IT Service Desk)")
    form.locator("select[name$=category_id]").select_option(label="Mailbox full (Email)")
    form.locator("select[name$=group_id]").select_option(label="Field support (IT Service Desk)")
    page.screenshot(path=str(SHOTS / "cases-11-settings.png"), full_page=True)
    form.get_by_role("button").click()
    expect(page.locator(".flash-success")).to_contain_text("defaults")
    saved = LineDefaults.objects.get(dashboard=line)
    assert (saved.item_type_id, saved.category_id, saved.group_id) == (2, 112, 32)
    assert ServiceDesk.current().token == asms_tenant.token
    assert errors == []
