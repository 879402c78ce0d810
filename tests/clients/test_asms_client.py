"""The ASMS client against the ASMS sandbox: every operation, and the error taxonomy
(not sent / refused / outcome unknown) that the case outbox relies on."""

import os
import socket

import pytest

from textdesk.asms import (
    AsmsClient,
    BadRequest,
    Filter,
    NotFound,
    NotSent,
    OutcomeUnknown,
    ServerError,
    TooLarge,
    Unauthorized,
    Unavailable,
)

NEW_CASE = {"item_type": 1, "project_id": 1, "service_id": 11, "category_id": 111}


@pytest.fixture
def client(asms_tenant):
    with AsmsClient(asms_tenant.url, asms_tenant.token, timeout=(2, 5)) as client:
        yield client


def test_test_connection_accepts_the_token_and_refuses_another(asms_tenant, client):
    client.test_connection()
    with pytest.raises(Unauthorized) as caught:
        AsmsClient(asms_tenant.url, "wrong-token").test_connection()
    assert caught.value.status == 401
    assert not caught.value.transient
    assert "wrong-token" not in str(caught.value)


def test_create_case_answers_id_and_project_code_and_get_case_reads_it(client):
    created = client.create_case(
        **NEW_CASE, subject="Email down", description="Cannot send", group_id=31
    )
    assert created.code == "IT-1001"
    case = client.get_case(created.code)
    assert case.id == created.id
    assert (case.subject, case.description) == ("Email down", "Cannot send")
    assert (case.project_name, case.service_name, case.category_name) == (
        "IT Service Desk",
        "Email",
        "Cannot send or receive",
    )
    assert (case.state_name, case.is_closed) == ("Registered", False)
    assert (case.group_name, case.responsible_name) == ("First line", "Dana Ruiz")
    assert case.opened_at is not None and case.opened_at.tzinfo is not None
    assert client.get_case(created.id).code == created.code  # by id too


def test_create_case_refusal_carries_asms_message(client):
    with pytest.raises(BadRequest) as caught:
        client.create_case(**{**NEW_CASE, "category_id": 211}, subject="x")
    assert caught.value.status == 400
    assert "categoryId" in caught.value.message
    assert not caught.value.transient


def test_get_unknown_case_is_not_found(client):
    with pytest.raises(NotFound):
        client.get_case("IT-9999")


def test_update_case_changes_only_the_fields_sent(client, asms_tenant):
    created = client.create_case(**NEW_CASE, subject="Old", description="Keep me")
    assert client.update_case(created.code, subject="New", state_id=2) is True
    case = client.get_case(created.code)
    assert (case.subject, case.description, case.state_name) == ("New", "Keep me", "In progress")
    # Solving needs a solution, as in ASMS's UI.
    with pytest.raises(BadRequest):
        client.update_case(created.code, state_id=3)
    client.update_case(created.code, state_id=3, commentary="Restarted the mail server")
    solved = client.get_case(created.code)
    assert (solved.state_name, solved.commentary) == ("Solved", "Restarted the mail server")
    assert solved.closed_at is not None


def test_attach_note_is_stored_and_over_254_characters_is_refused_before_any_call(
    client, asms_tenant
):
    created = client.create_case(**NEW_CASE, subject="Notes")
    client.attach_note(created.code, "Customer called back")
    before = asms_tenant.counters()["calls"].get("AttachNote", 0)
    with pytest.raises(ValueError, match="254"):
        client.attach_note(created.code, "x" * 255)
    with pytest.raises(ValueError):
        client.attach_note(created.code, "   ")
    assert asms_tenant.counters()["calls"].get("AttachNote", 0) == before
    client.attach_note(created.code, "y" * 254)
    notes = asms_tenant.cases()[0]["notes"]
    assert [n["text"] for n in notes] == ["Customer called back", "y" * 254]


def test_attach_file_stores_it_and_an_oversized_file_is_refused(client, asms_tenant):
    created = client.create_case(**NEW_CASE, subject="Files")
    client.attach_file(created.code, file_name="transcript.txt", content="héllo\n".encode())
    attachment = asms_tenant.cases()[0]["attachments"][0]
    assert (attachment["fileName"], attachment["size"], attachment["content"]) == (
        "transcript.txt",
        7,
        "héllo\n",
    )
    asms_tenant.control.configure(max_attachment_bytes=10)
    with pytest.raises(TooLarge) as caught:
        client.attach_file(created.code, file_name="big.txt", content=b"x" * 11)
    assert caught.value.status == 413
    with pytest.raises(NotFound):
        client.attach_file("IT-4040", file_name="a.txt", content=b"a")


def test_search_cases_by_marker_subject_and_state(client):
    a = client.create_case(**NEW_CASE, subject="Printer jam", description="td:AAA")
    b = client.create_case(**NEW_CASE, subject="Email bounce", description="td:BBB")
    found = client.search_cases([Filter("Description", "Like", "td:bbb")])
    assert [c.code for c in found] == [b.code]
    found = client.search_cases(
        [Filter("Subject", "Like", "printer"), Filter("Subject", "Like", "email")], logic="Or"
    )
    assert {c.code for c in found} == {a.code, b.code}
    assert client.search_cases([Filter("StateName", "EqualTo", "Solved")]) == []
    found = client.search_cases(
        [Filter("ProjectId", "EqualTo", "1"), Filter("Subject", "EqualTo", "PRINTER JAM")]
    )
    assert [c.code for c in found] == [a.code]
    with pytest.raises(BadRequest):
        client.search_cases([Filter("NoSuchField", "EqualTo", "x")])


def test_catalogue_is_offered_by_the_sandbox(client):
    catalogue = client.catalogue()
    assert [p.name for p in catalogue.projects] == ["IT Service Desk", "Facilities"]
    assert {s.parent_id for s in catalogue.services} == {1, 2}
    assert "Solved" in [s.name for s in catalogue.states]


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_nothing_listening_is_not_sent_and_safe_to_retry():
    client = AsmsClient(f"http://127.0.0.1:{_closed_port()}", "t", timeout=(1, 1))
    with pytest.raises(NotSent) as caught:
        client.create_case(**NEW_CASE, subject="x")
    assert caught.value.safe_to_retry


def test_a_timeout_after_processing_is_outcome_unknown_and_the_case_exists(client, asms_tenant):
    asms_tenant.control.set_faults(
        token=asms_tenant.token, timeout_rate=1.0, timeout_seconds=2.0, operations=["CreateCase"]
    )
    slow = AsmsClient(asms_tenant.url, asms_tenant.token, timeout=(1, 0.5))
    with pytest.raises(OutcomeUnknown) as caught:
        slow.create_case(**NEW_CASE, subject="Maybe", description="td:maybe")
    assert caught.value.maybe_processed and not caught.value.safe_to_retry
    asms_tenant.control.clear_faults(asms_tenant.token)
    assert asms_tenant.counters()["cases_created"] == 1
    assert len(client.search_cases([Filter("Description", "Like", "td:maybe")])) == 1


def test_a_5xx_is_a_server_error_that_may_have_been_processed(client, asms_tenant):
    for status in (500, 502, 504):
        asms_tenant.control.set_faults(token=asms_tenant.token, error_rate=1.0, error_status=status)
        with pytest.raises(ServerError) as caught:
            client.get_case("IT-1")
        assert caught.value.status == status and caught.value.maybe_processed


def test_a_503_was_not_handled_and_is_safe_to_retry(client, asms_tenant):
    asms_tenant.control.set_faults(token=asms_tenant.token, outage=True)
    with pytest.raises(Unavailable) as caught:
        client.create_case(**NEW_CASE, subject="x")
    assert caught.value.status == 503 and caught.value.safe_to_retry
    assert asms_tenant.counters()["cases_created"] == 0


@pytest.mark.skipif(
    not (os.environ.get("ASMS_CONTRACT_URL") and os.environ.get("ASMS_CONTRACT_TOKEN")),
    reason="set ASMS_CONTRACT_URL and ASMS_CONTRACT_TOKEN to check a real instance",
)
def test_read_only_contract_against_a_real_instance():
    """With a real instance in the environment, the read-only operations answer what the
    sandbox answers (a difference is a sandbox bug)."""
    client = AsmsClient(os.environ["ASMS_CONTRACT_URL"], os.environ["ASMS_CONTRACT_TOKEN"])
    client.test_connection()
    found = client.search_cases([Filter("Subject", "Like", "a")])
    assert all(case.id is not None and case.code for case in found)
    if found:
        case = client.get_case(found[0].code)
        assert case.id == found[0].id and case.state_name
    with pytest.raises(NotFound):
        client.get_case("textdesk-no-such-case-0")
