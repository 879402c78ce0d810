"""A conversation becomes an ASMS case exactly once: double submits, timeouts after ASMS
processed the request, 5xx, an outage and a dead worker never make two cases (sandbox
counters), a refusal keeps what was typed, and the case's progress comes back."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.cases_helpers import NEW_CASE, add_texts, connect_desk
from tests.conftest import make_conversation
from textdesk.cases import delivery, services
from textdesk.cases.models import Case, CaseNote, LineDefaults, ServiceDesk
from textdesk.conversations.models import Draft, Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(asms_tenant, settings):
    settings.ASMS_READ_TIMEOUT = 0.5
    settings.TEXTDESK_UNKNOWN_GRACE = 0
    return connect_desk(asms_tenant)


@pytest.fixture
def conversation(line):
    conversation = make_conversation(line, first_name="Casey")
    add_texts(conversation, "My laptop will not start", "Sorry! Have you tried charging it?")
    return conversation


def request(conversation, user, key=None, **extra):
    return services.request_case(
        conversation=conversation,
        user=user,
        subject=extra.pop("subject", "Casey: laptop will not start"),
        description=extra.pop("description", "Laptop dead"),
        **{**NEW_CASE, "group_id": 31, **extra},
        client_key=key or uuid.uuid4(),
    )


def created_cases(tenant) -> list:
    return tenant.cases()


def test_a_case_is_created_once_with_the_transcript_attached(
    asms_tenant, desk, conversation, agent
):
    key = uuid.uuid4()
    case = request(conversation, agent, key)
    assert request(conversation, agent, key).pk == case.pk  # a double submit
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED
    assert case.code == "IT-1001"
    assert (case.state_name, case.responsible_name) == ("Registered", "Dana Ruiz")
    assert case.transcript_status == Case.Transcript.ATTACHED
    [remote] = created_cases(asms_tenant)
    assert case.marker in remote["description"]
    [attachment] = remote["attachments"]
    assert attachment["fileName"] == "textdesk-transcript-IT-1001.txt"
    assert "Casey: My laptop will not start" in attachment["content"]
    assert "Sam: Sorry! Have you tried charging it?" in attachment["content"]
    counters = asms_tenant.counters()
    assert counters["calls"]["CreateCase"] == 1
    assert counters["cases_created"] == 1


def test_a_second_creation_while_one_is_in_flight_is_refused(desk, conversation, agent):
    Case.objects.create(
        conversation=conversation, dashboard=conversation.dashboard, subject="x", marker="m1"
    )  # pending, never enqueued
    with pytest.raises(services.CaseRefused, match="already being created"):
        request(conversation, agent)


def test_a_timeout_after_asms_created_the_case_is_settled_by_its_marker(
    asms_tenant, desk, conversation, agent
):
    asms_tenant.control.set_faults(
        token=asms_tenant.token, timeout_rate=1.0, timeout_seconds=1.5, operations=["CreateCase"]
    )
    case = request(conversation, agent)
    case.refresh_from_db()
    assert case.status == Case.Status.UNKNOWN
    asms_tenant.control.clear_faults(asms_tenant.token)
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.settle_case(case.pk)
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED and case.code == "IT-1001"
    delivery.sweep_cases(min_age=timedelta(0))
    counters = asms_tenant.counters()
    assert counters["cases_created"] == 1
    assert counters["calls"]["CreateCase"] == 1


def test_a_5xx_that_created_nothing_is_never_created_again_until_a_person_chooses(
    asms_tenant, desk, conversation, agent, client
):
    asms_tenant.control.set_faults(
        token=asms_tenant.token, error_rate=1.0, error_status=502, operations=["CreateCase"]
    )
    case = request(conversation, agent)
    case.refresh_from_db()
    assert case.status == Case.Status.UNKNOWN  # a 502 may have been processed
    asms_tenant.control.clear_faults(asms_tenant.token)
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.settle_case(case.pk)  # not found: looked for again later, never re-sent
    case.refresh_from_db()
    assert case.status == Case.Status.UNKNOWN
    assert case.failure_reason == delivery.UNCONFIRMED  # the grace is 0 here
    assert case.not_before > timezone.now()
    delivery.sweep_cases(min_age=timedelta(0))
    assert asms_tenant.counters()["calls"]["CreateCase"] == 1
    client.force_login(agent)
    panel = client.get(f"/cases/conversation/{conversation.pk}/").content.decode()
    assert "was not found there" in panel and "Create again" in panel
    # The person chooses: the new attempt searches for the marker, then creates once.
    assert client.post(f"/cases/{case.pk}/create-again/").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED
    counters = asms_tenant.counters()
    assert counters["cases_created"] == 1
    assert counters["calls"]["CreateCase"] == 2
    assert counters["calls"]["SearchTickets"] == 2  # the settle, then the check before creating
    assert client.post(f"/cases/{case.pk}/create-again/").status_code == 302  # nothing to do
    assert asms_tenant.counters()["calls"]["CreateCase"] == 2


def test_a_500_after_asms_created_the_case_is_settled_by_its_marker(
    asms_tenant, desk, conversation, agent
):
    asms_tenant.control.set_faults(
        token=asms_tenant.token,
        error_rate=1.0,
        error_after_processing=True,
        operations=["CreateCase"],
    )
    case = request(conversation, agent)
    case.refresh_from_db()
    assert case.status == Case.Status.UNKNOWN
    asms_tenant.control.clear_faults(asms_tenant.token)
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.settle_case(case.pk)
    case.refresh_from_db()
    assert (case.status, case.code) == (Case.Status.CREATED, "IT-1001")
    assert asms_tenant.counters()["cases_created"] == 1


def test_asms_down_keeps_the_request_pending_and_visibly_retrying(
    asms_tenant, desk, conversation, agent, client
):
    asms_tenant.control.set_faults(token=asms_tenant.token, outage=True)
    case = request(conversation, agent)
    case.refresh_from_db()
    assert case.status == Case.Status.PENDING  # a 503 was not handled: safe to retry
    assert "Service unavailable" in case.failure_reason
    assert case.not_before > timezone.now()
    client.force_login(agent)
    page = client.get(f"/inbox/{conversation.dashboard_id}/c/{conversation.pk}/")
    assert page.status_code == 200  # the inbox keeps working
    panel = client.get(f"/cases/conversation/{conversation.pk}/").content.decode()
    assert "Retrying" in panel and "next try" in panel and "attempt 1" in panel
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.sweep_cases(min_age=timedelta(0))  # still down: pending, attempt 2
    case.refresh_from_db()
    assert (case.status, case.attempts) == (Case.Status.PENDING, 2)
    asms_tenant.control.clear_faults(asms_tenant.token)
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.sweep_cases(min_age=timedelta(0))
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED
    assert asms_tenant.counters()["cases_created"] == 1


def test_nothing_listening_is_pending_with_a_reason_and_retried(
    asms_tenant, desk, conversation, agent
):
    desk.instance_url = "http://127.0.0.1:9"
    desk.save()
    case = request(conversation, agent)
    case.refresh_from_db()
    assert case.status == Case.Status.PENDING
    assert "ASMS could not be reached" in case.failure_reason
    assert case.not_before > timezone.now()
    desk.instance_url = asms_tenant.url
    desk.save()
    Case.objects.filter(pk=case.pk).update(not_before=None)
    delivery.sweep_cases(min_age=timedelta(0))
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED
    assert asms_tenant.counters()["cases_created"] == 1


def test_a_dead_worker_after_asms_created_the_case_never_makes_a_second_one(
    asms_tenant, desk, conversation, agent
):
    case = Case.objects.create(
        conversation=conversation,
        dashboard=conversation.dashboard,
        subject="Laptop",
        description="Laptop dead",
        marker="textdesk-deadworker1",
        status=Case.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(minutes=10),
        **NEW_CASE,
    )
    # The worker reached ASMS, then died before storing the answer.
    with desk.client() as asms:
        asms.create_case(
            item_type=1, project_id=1, service_id=11, category_id=111, subject="Laptop",
            description=delivery.description_for_asms(case),
        )  # fmt: skip
    delivery.sweep_cases(min_age=timedelta(0))  # sending too long -> unknown -> settled
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED and case.code == "IT-1001"
    assert asms_tenant.counters()["calls"]["CreateCase"] == 1  # only the dead worker's
    assert asms_tenant.counters()["cases_created"] == 1


def test_a_refusal_keeps_the_values_and_shows_asms_message(
    asms_tenant, desk, conversation, agent, client
):
    case = request(conversation, agent, project_id=9, subject="Typed subject")
    case.refresh_from_db()
    assert case.status == Case.Status.FAILED
    assert "projectId" in case.failure_reason
    client.force_login(agent)
    panel = client.get(f"/cases/conversation/{conversation.pk}/").content.decode()
    assert "ASMS refused the case" in panel and "Correct and try again" in panel
    form = client.get(f"/cases/conversation/{conversation.pk}/new/?retry={case.pk}")
    html = form.content.decode()
    assert "project 9 does not exist" in html
    assert 'value="Typed subject"' in html
    assert asms_tenant.counters()["cases_created"] == 0
    # Trying again replaces the refused row.
    again = request(conversation, agent)
    assert not Case.objects.filter(pk=case.pk).exists()
    again.refresh_from_db()
    assert again.status == Case.Status.CREATED


def test_notes_reach_the_case_and_over_254_characters_are_refused_before_any_call(
    asms_tenant, desk, conversation, agent
):
    case = request(conversation, agent)
    case.refresh_from_db()
    with pytest.raises(services.CaseRefused, match="254"):
        services.add_note(case=case, user=agent, text="x" * 255, client_key=uuid.uuid4())
    assert CaseNote.objects.count() == 0
    assert "AttachNote" not in asms_tenant.counters()["calls"]
    key = uuid.uuid4()
    note = services.add_note(case=case, user=agent, text="Customer called again", client_key=key)
    assert services.add_note(case=case, user=agent, text="dup", client_key=key).pk == note.pk
    note.refresh_from_db()
    assert note.status == CaseNote.Status.SENT
    assert [n["text"] for n in asms_tenant.cases()[0]["notes"]] == ["Customer called again"]


def test_progress_comes_back_within_the_per_minute_budget(
    asms_tenant, desk, conversation, agent, line
):
    from django.core.cache import cache

    cases = [request(conversation, agent)]
    for name in ("Riley", "Jo"):
        other = make_conversation(line, first_name=name)
        cases.append(request(other, agent))
    codes = [Case.objects.get(pk=c.pk).code for c in cases]
    asms_tenant.control.move(asms_tenant.token, codes[0], "Solved", "Replaced the battery.", 42)
    desk.calls_per_minute = 2
    desk.save()
    Case.objects.update(checked_at=None)
    cache.delete(services.REFRESH_LOCK)
    before = asms_tenant.counters()["calls"]["GetCase"]
    assert services.refresh_cases() == {"read": 2}
    assert services.refresh_cases()["skipped"]  # the same minute: nothing more
    assert asms_tenant.counters()["calls"]["GetCase"] == before + 2
    solved = Case.objects.get(pk=cases[0].pk)
    assert solved.is_solved and solved.solved_at is not None
    assert (solved.commentary, solved.responsible_name) == ("Replaced the battery.", "Lee Park")
    cache.delete(services.REFRESH_LOCK)
    assert services.refresh_cases() == {"read": 2}  # the third case's turn comes
    assert Case.objects.filter(checked_at__isnull=True).count() == 0


def test_the_prefilled_reply_goes_to_the_draft_and_is_never_sent(
    asms_tenant, desk, conversation, agent
):
    case = request(conversation, agent)
    case.refresh_from_db()
    asms_tenant.control.move(asms_tenant.token, case.code, "Solved", "Hold the power button.")
    services.refresh_case(case)
    sent_before = Message.objects.filter(direction="S").count()
    services.offer_reply(case=case, user=agent)
    draft = Draft.objects.get(user=agent, conversation=conversation)
    assert draft.body == "Hi Casey, your request IT-1001 is solved. Hold the power button."
    assert Message.objects.filter(direction="S").count() == sent_before


def test_a_conversation_links_to_an_existing_case_found_by_code_or_subject(
    asms_tenant, desk, conversation, agent
):
    with desk.client() as asms:
        asms.create_case(
            item_type=1, project_id=1, service_id=12, category_id=121, group_id=32,
            subject="Printer jams on floor 3",
        )  # fmt: skip
    assert [c.code for c in services.find_cases("printer")] == ["IT-1001"]
    assert [c.code for c in services.find_cases("it-1001")] == ["IT-1001"]
    case = services.link_case(conversation=conversation, user=agent, ticket="IT-1001")
    assert (case.status, case.is_linked, case.responsible_name) == ("created", True, "Morgan Diaz")
    with pytest.raises(services.CaseRefused, match="already linked"):
        services.link_case(conversation=conversation, user=agent, ticket="IT-1001")
    with pytest.raises(services.CaseRefused, match="no case"):
        services.link_case(conversation=conversation, user=agent, ticket="IT-4040")


def test_beats_outbox_sweeper_also_sends_lost_case_rows(asms_tenant, desk, conversation):
    from textdesk.outbox.tasks import sweep_outbox

    case = Case.objects.create(
        conversation=conversation,
        dashboard=conversation.dashboard,
        subject="Lost broker message",
        marker="textdesk-lostmessage1",
        **NEW_CASE,
    )  # pending, its task never ran
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    sweep_outbox()
    case.refresh_from_db()
    assert case.status == Case.Status.CREATED
    assert asms_tenant.counters()["cases_created"] == 1


def test_service_desk_connect_tests_then_saves_and_sets_demo_defaults(asms_tenant, line):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="did not accept"):
        call_command("service_desk", "connect", "--url", asms_tenant.url, "--token", "nope")
    assert not ServiceDesk.objects.exists()
    call_command(
        "service_desk", "connect", "--url", asms_tenant.url, "--token", asms_tenant.token,
        "--if-missing", "--demo-defaults",
    )  # fmt: skip
    assert ServiceDesk.current().token == asms_tenant.token
    assert LineDefaults.objects.get(dashboard=line).project_id == 1
    call_command("service_desk", "connect", "--url", "http://127.0.0.1:9", "--token", "x",
                 "--if-missing")  # fmt: skip
    assert ServiceDesk.current().instance_url == asms_tenant.url


def test_rotate_keys_re_encrypts_the_technician_token(asms_tenant, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    desk = connect_desk(asms_tenant)
    old = desk.token_encrypted
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("service_desk", "rotate-keys")
    desk.refresh_from_db()
    assert desk.token_encrypted != old
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key dropped
    assert desk.token == asms_tenant.token


def test_an_unconfirmed_transcript_waits_for_a_person_then_is_attached_once(
    asms_tenant, desk, conversation, agent
):
    from textdesk.cases.models import CaseTranscript

    asms_tenant.control.set_faults(
        token=asms_tenant.token, error_rate=1.0, error_status=502, operations=["AttachFile"]
    )
    case = request(conversation, agent)
    case.refresh_from_db()
    assert (case.status, case.transcript_status) == (Case.Status.CREATED, "unknown")
    asms_tenant.control.clear_faults(asms_tenant.token)
    delivery.sweep_cases(min_age=timedelta(0))  # ASMS cannot list attachments: not repeated
    assert asms_tenant.counters()["calls"]["AttachFile"] == 1
    services.retry_transcript(case)  # a person asks
    assert CaseTranscript.objects.get(case=case).status == CaseTranscript.Status.ATTACHED
    assert asms_tenant.counters()["calls"]["AttachFile"] == 2
    assert len(asms_tenant.cases()[0]["attachments"]) == 1
