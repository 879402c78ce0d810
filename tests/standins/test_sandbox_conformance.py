"""Every operation of the official definition, called over HTTP, answers what the schema says.

The schemas are loaded from apiDefinition.swagger.json, never retyped. Swagger 2.0 has no
`nullable`, so strings and objects may also be null (the .NET service answers null for unset
values); on top of the definition every documented field must be present and no other field
may appear, so the sandbox cannot drift from the documented shape. The only additions are the
fields docs/textrequest-api.md's evidence from the real API names: a contact's `thread_id`, the
error body `{"status", "message", "errorCode"}` and provisioning's plain array of numbers.
"""

import copy
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from standins.textrequest.pytest_fixtures import make_account

STANDIN = Path(__file__).resolve().parents[2] / "standins/textrequest"
DEFINITION = STANDIN / "apiDefinition.swagger.json"
SPEC = json.loads(DEFINITION.read_text())


def assert_vendored_copy_is_unchanged():
    """The definition is vendored unchanged: its SHA-256 is the one COVERAGE.md records."""
    digest = hashlib.sha256(DEFINITION.read_bytes()).hexdigest()
    assert f"SHA-256 `{digest}`" in (STANDIN / "COVERAGE.md").read_text()


OPERATIONS = {
    op["operationId"]: (method.upper(), path, op)
    for path, ops in SPEC["paths"].items()
    for method, op in ops.items()
}
# Not in the definition: the trigger's hooks (docs/textrequest-api.md) and provisioning.
HOOK_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "event": {"type": "string", "enum": ["msg_received", "msg_sent"]},
        "target_url": {"type": "string"},
    },
    "required": ["id", "event", "target_url"],
    "additionalProperties": False,
}
EXTRA = {
    "GetHooks": {"type": "array", "items": HOOK_SCHEMA},
    "CreateHook": HOOK_SCHEMA,
    "DeleteHook": None,
    # docs/textrequest-api.md (evidence): the events the account offers
    "GetEventTypes": {"type": "array", "items": {"type": "string"}, "minItems": 7},
    "GetProvisioningNumbers": {
        "type": "array",
        "items": {"type": "string", "pattern": "^[2-9]\\d{9}$"},
        "maxItems": 30,
    },
    # docs/textrequest-api.md (evidence): POST /mms answers the file's type and the URL that
    # mms_media takes
    "UploadMms": {
        "type": "object",
        "properties": {
            "mime_type": {"type": "string", "minLength": 1},
            "url": {"type": "string", "pattern": "^https?://"},
        },
        "required": ["mime_type", "url"],
        "additionalProperties": False,
    },
}
# Beyond the connector (docs/textrequest-api.md, "Beyond the definition (evidence)"): the
# evidence's shapes; the message object is the definition's own (GetMessagesByContactPhone).
TAG_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "tag": {"type": "string", "minLength": 1},
        "tag_color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    },
    "required": ["id", "tag", "tag_color"],
    "additionalProperties": False,
}
FIELD_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string"}},
    "required": ["id", "name"],
    "additionalProperties": False,
}
SCHEDULED_SCHEMA = {  # the stand-in's own shape (COVERAGE.md): the real one is unknown
    "type": "object",
    "properties": {
        "meta": {"type": "object"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "phone_number": {"type": "string"},
                    "body": {"type": "string"},
                    "send_at": {"type": "string"},
                    "is_recurring": {"type": "boolean"},
                    "recurrence": {"type": ["string", "null"]},
                    "sender_name": {"type": ["string", "null"]},
                },
                "required": ["id", "phone_number", "body", "send_at", "is_recurring"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["meta", "items"],
}
EXTRA.update(
    {
        "CreateTag": TAG_SCHEMA,
        "GetTag": TAG_SCHEMA,
        "UpdateTag": TAG_SCHEMA,
        "DeleteTag": None,
        "CreateCustomField": FIELD_SCHEMA,
        "GetCustomField": FIELD_SCHEMA,
        "UpdateCustomField": FIELD_SCHEMA,
        "DeleteCustomField": None,
        "RedactMessage": None,
        "UnredactMessage": None,
        "GetDashboardMessages": SPEC["paths"][
            "/dashboards/{dashboard_id}/contacts/{phone_number}/messages"
        ]["get"]["responses"]["200"]["schema"],
        "SendMessage": {
            "type": "object",
            "properties": {
                "message_id": {"type": "string", "minLength": 1},
                "segments_count": {"type": "integer", "minimum": 1},
                "from": {"type": "string", "pattern": "^\\d{10}$"},
                "to": {"type": "string", "pattern": "^\\d{10}$"},
                "status": {"type": "string"},
            },
            "required": ["message_id", "segments_count", "from", "to", "status"],
            "additionalProperties": False,
        },
        "GetScheduledMessages": SCHEDULED_SCHEMA,
    }
)
# Every error, whatever produced it (docs/textrequest-api.md, evidence).
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "errorCode": {"type": "string", "minLength": 1},
    },
    "required": ["status", "message", "errorCode"],
    "additionalProperties": False,
}


def with_evidence(schema):
    """Add the fields the real service answers beyond the definition: a contact's thread_id."""
    if isinstance(schema, dict):
        props = schema.get("properties", {})
        if "phone_number" in props and "contact_tags" in props:
            props["thread_id"] = {"type": "string"}
            schema["required"] = sorted(props)
        for value in schema.values():
            with_evidence(value)
    elif isinstance(schema, list):
        for value in schema:
            with_evidence(value)
    return schema


def strict(schema):
    """Swagger 2.0 -> draft 4: drop x- keys, nullable strings/objects, all fields required."""
    schema = {k: v for k, v in copy.deepcopy(schema).items() if not k.startswith("x-")}
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        schema["properties"] = {k: strict(v) for k, v in schema["properties"].items()}
        schema["required"] = sorted(schema["properties"])
        schema["additionalProperties"] = False
    if kind == "array" and "items" in schema:
        schema["items"] = strict(schema["items"])
    if kind in ("string", "object"):
        schema["type"] = [kind, "null"]
    return schema


def check(operation_id, response, status=200):
    """Assert the documented status and validate the body against the documented schema."""
    assert response.status_code == status, (operation_id, response.status_code, response.text)
    if operation_id in EXTRA:
        schema = EXTRA[operation_id]
    else:
        documented = OPERATIONS[operation_id][2]["responses"]
        assert str(status) in documented, f"{operation_id} does not document {status}"
        schema = documented[str(status)].get("schema")
    if status == 204 or (status == 200 and schema is None):  # 200 with no body (redaction)
        assert response.content == b""
        return None
    body = response.json()
    jsonschema.Draft4Validator(with_evidence(strict(schema))).validate(body)
    return body


def check_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    jsonschema.Draft4Validator(ERROR_SCHEMA).validate(body)
    assert body["status"] == status
    return body


@pytest.fixture
def demo(sandbox_server):
    return make_account(sandbox_server, seed="demo", contacts=30, messages=200, dashboards=1)


@pytest.fixture
def line(demo):
    """(account, dashboard path, the phone of a contact with messages who may be texted).

    Each account is seeded anew and a few seeded contacts opted out or are blocked, so the
    newest conversation is not always one a text may go to (the tests send to it)."""
    d = f"/dashboards/{demo.dashboard_id}"
    conv = demo.get(d + "/conversations", include_archived="true").json()
    for item in conv["items"]:
        contact = demo.get(f"{d}/contacts/{item['phone_number']}").json()
        if not (contact["is_blocked"] or contact["is_suppressed"] or contact["opted_out_utc"]):
            return demo, d, item["phone_number"]
    raise AssertionError("the demo seed has no textable contact")


def test_the_definition_has_28_operations_and_the_copy_is_current():
    assert len(OPERATIONS) == 28
    assert_vendored_copy_is_unchanged()


def test_every_operation_is_routed_by_the_sandbox():
    from standins.textrequest.server import API_ROUTES

    routed = {handler.__name__: (method, path) for method, path, handler, _ in API_ROUTES}
    for operation_id, (method, path, _) in OPERATIONS.items():
        assert routed[operation_id] == (method, path), operation_id
    assert set(routed) == set(OPERATIONS) | set(EXTRA)


def test_dashboards(demo):
    check("GetDashboards", demo.get("/dashboards", page=0, page_size=50))
    d = f"/dashboards/{demo.dashboard_id}"
    check("GetDashboard", demo.get(d))
    body = check("UpdateDashboardsName", demo.put(d, json={"name": "Front Desk"}))
    assert body["name"] == "Front Desk"
    numbers = check("GetProvisioningNumbers", demo.get("/dashboards/provisioning", area_code="615"))
    created = check(
        "CreateDashboard",
        demo.post("/dashboards", json={"name": "New", "phone": numbers[0]}),
    )
    assert created["phone"] == numbers[0]
    check("DeleteDashboard", demo.delete(f"/dashboards/{created['id']}"), 204)


def test_contacts(line):
    demo, d, phone = line
    page = check("GetContacts", demo.get(d + "/contacts", page=0, page_size=100))
    assert page["meta"]["total_items"] == 30
    check("GetContactByPhoneNumber", demo.get(f"{d}/contacts/{phone}"))
    check("GetContactByPhoneNumber", demo.get(f"{d}/contacts/4239876543"), 204)
    tags = check("GetTags", demo.get(d + "/tags", page=0, page_size=50))["items"]
    fields = check("GetCustomFields", demo.get(d + "/fields"))
    created = check(
        "CreateContact",
        demo.post(
            f"{d}/contacts/423-987-6543",
            json={
                "first_name": "John",
                "last_name": "Smith",
                "note": "Contact from newsletter.",
                "contact_tags": [tags[0]["id"]],
                "custom_fields": [{"id": fields[0]["id"], "value": "C-1"}],
            },
        ),
    )
    assert created["phone_number"] == "4239876543"
    bulk = check(
        "BulkUpdateContacts",
        demo.post(d + "/contacts", json=[{"phone_number": "(423) 987-6544", "first_name": "Ann"}]),
    )
    assert bulk[0]["phone_number"] == "4239876544"
    check("DeleteContact", demo.delete(f"{d}/contacts/4239876544"))


def test_messages_and_conversations(line):
    demo, d, phone = line
    check(
        "GetMessagesByContactPhone",
        demo.get(f"{d}/contacts/{phone}/messages", page=0, page_size=50),
    )
    check(
        "GetMessagesByContactPhone",
        demo.get(f"{d}/contacts/4239876543/messages", page=0, page_size=50),
        204,
    )
    sent = check(
        "SendMessageByPhoneNumber",
        demo.post(
            f"{d}/contacts/4239876543/messages", json={"body": "Hello", "sender_name": "Bill"}
        ),
    )
    assert sent["delivery_status"] == "sending"
    assert sent["message_direction"] == "S"
    check("GetConversations", demo.get(d + "/conversations", page=0, page_size=50))
    check("ArchiveConversation", demo.put(f"{d}/contacts/4239876543/conversations/archive"))
    check("UnarchiveConversation", demo.put(f"{d}/contacts/4239876543/conversations/unarchive"))


def test_an_empty_conversation_list_is_204(sandbox_account):
    d = f"/dashboards/{sandbox_account.dashboard_id}"
    check("GetConversations", sandbox_account.get(d + "/conversations"), 204)


def test_groups(demo):
    d = f"/dashboards/{demo.dashboard_id}"
    groups = check("GetGroups", demo.get(d + "/groups", page=0, page_size=50))
    assert any(g["is_keyword"] for g in groups["items"])
    created = check(
        "CreateGroup", demo.post(d + "/groups", json={"name": "Employees", "notes": "All"})
    )
    check("GetGroupById", demo.get(f"{d}/groups/{created['id']}"))
    check("GetGroupById", demo.get(f"{d}/groups/999999"), 204)
    check("UpdateGroup", demo.put(f"{d}/groups/{created['id']}", json={"name": "Staff"}))
    check("DeleteGroup", demo.delete(f"{d}/groups/{created['id']}"), 204)


def test_payments(line):
    demo, d, phone = line
    listing = check("GetPayments", demo.get(d + "/payments", page=0, page_size=100))
    states = {p["textrequest_payment_status"] for p in listing["items"]}
    assert states == {"Sent", "Paid", "Canceled"}
    body = {
        "description": "Housecall for plumbing services",
        "customer_phone": "321-654-7890",
        "amount_requested": 220.5,
        "message": "Thank you for choosing Generic Plumbing!",
        "reference_number": "receipt-chicago",
    }
    created = check("CreatePayment", demo.post(d + "/payments", json=body))
    pid = created["payment_id"]
    check("GetPayment", demo.get(f"{d}/payments/{pid}"))
    check("GetPayment", demo.get(f"{d}/payments/999999"), 204)
    check("SendPaymentReminder", demo.post(f"{d}/payments/{pid}/resend"))
    check("MarkPaymentPaid", demo.post(f"{d}/payments/{pid}/mark_as_paid"))
    other = check("CreatePayment", demo.post(d + "/payments", json=body))
    check("CancelPayment", demo.post(f"{d}/payments/{other['payment_id']}/cancel"))


def test_hooks(demo):
    d = f"/dashboards/{demo.dashboard_id}"
    hook = check(
        "CreateHook",
        demo.post(
            d + "/hooks",
            json={
                "event": "msg_received",
                "target_url": "http://127.0.0.1:9/x",
                "http_verb": "POST",
            },
        ),
    )
    assert check("GetHooks", demo.get(d + "/hooks")) == [hook]
    check("DeleteHook", demo.delete(f"{d}/hooks/{hook['id']}"), 204)
    assert check("GetHooks", demo.get(d + "/hooks")) == []


def test_every_field_of_seeded_data_conforms(sandbox_server):
    """A large demo account exercises nulls, MMS, errors and every payment state."""
    demo = make_account(sandbox_server, seed="demo", contacts=300, messages=3000, dashboards=1)
    d = f"/dashboards/{demo.dashboard_id}"
    for page in range(3):
        check("GetContacts", demo.get(d + "/contacts", page=page, page_size=100))
    conv = check(
        "GetConversations", demo.get(d + "/conversations", include_archived="true", page_size=100)
    )
    for item in conv["items"][:20]:
        check(
            "GetMessagesByContactPhone",
            demo.get(f"{d}/contacts/{item['phone_number']}/messages", page=0, page_size=100),
        )


def test_errors_have_the_real_services_shape(demo):
    check_error(demo.get("/dashboards", page=0, page_size=500), 400)
    r = demo.call(
        "GET", "/dashboards", headers={"x-api-key": "wrong"}, params={"page": 0, "page_size": 5}
    )
    assert check_error(r, 401)["errorCode"] == "Unauthorized"
    check_error(demo.get("/dashboards/999999"), 404)
    check_error(demo.get("/nowhere"), 404)
    check_error(demo.call("PATCH", "/dashboards"), 405)
    check_error(demo.post(f"/dashboards/{demo.dashboard_id}/groups", json={}), 400)


def test_contacts_carry_their_thread_id(line):
    demo, d, phone = line
    contact = demo.get(f"{d}/contacts/{phone}").json()
    listed = demo.get(d + "/contacts", contact_phone_number=phone).json()["items"][0]
    assert contact["thread_id"] and listed["thread_id"] == contact["thread_id"]
    other = demo.get(d + "/contacts", page_size=2).json()["items"]
    assert other[0]["thread_id"] != other[1]["thread_id"]


# (list operation, path under the line) of every paged list of the definition
LISTS = [
    ("GetContacts", "/contacts"),
    ("GetConversations", "/conversations"),
    ("GetGroups", "/groups"),
    ("GetTags", "/tags"),
    ("GetPayments", "/payments"),
]


@pytest.mark.parametrize(("operation_id", "path"), LISTS)
def test_paging_is_optional_on_every_list_with_the_definitions_defaults(demo, operation_id, path):
    d = f"/dashboards/{demo.dashboard_id}"
    params = {"include_archived": "true"} if operation_id == "GetConversations" else {}
    bare = check(operation_id, demo.get(d + path, **params))
    explicit = demo.get(d + path, page=0, page_size=50, **params).json()
    assert bare == explicit
    assert bare["meta"]["page"] == 0 and bare["meta"]["page_size"] <= 50
    for bad in ({"page": -1}, {"page_size": 0}, {"page_size": 101}, {"page": "x"}):
        check_error(demo.get(d + path, **params, **bad), 400)


def test_the_dashboard_list_and_a_contacts_messages_page_by_default_too(line):
    demo, d, phone = line
    assert check("GetDashboards", demo.get("/dashboards"))["meta"]["page"] == 0
    messages = check("GetMessagesByContactPhone", demo.get(f"{d}/contacts/{phone}/messages"))
    assert messages["meta"]["page"] == 0


def test_mms_upload_answers_the_evidences_shape_and_errors(demo):
    body = check(
        "UploadMms", demo.call("POST", "/mms", files={"file": ("a.jpg", b"\xff\xd8\xff", "")})
    )
    assert body["mime_type"] == "image/jpeg"
    check_error(demo.call("POST", "/mms", files={"file": ("a.docx", b"PK", "")}), 400)


def test_tags_and_custom_fields_beyond_the_definition(demo):
    d = f"/dashboards/{demo.dashboard_id}"
    tag = check("CreateTag", demo.post(d + "/tags", json={"tag": "Card", "tag_color": "#0f766e"}))
    check("GetTag", demo.get(f"{d}/tags/{tag['id']}"))
    check("UpdateTag", demo.put(f"{d}/tags/{tag['id']}", json={"tag": "Cards"}))
    check("DeleteTag", demo.delete(f"{d}/tags/{tag['id']}"), 204)
    check("GetTag", demo.get(f"{d}/tags/{tag['id']}"), 204)
    check_error(demo.delete(f"{d}/tags/{tag['id']}"), 404)
    check_error(demo.post(d + "/tags", json={"tag": "X", "tag_color": "blue"}), 400)
    field = check("CreateCustomField", demo.post(d + "/fields", json={"name": "Policy"}))
    check("GetCustomField", demo.get(f"{d}/fields/{field['id']}"))
    check("UpdateCustomField", demo.put(f"{d}/fields/{field['id']}", json={"name": "Policy #"}))
    assert isinstance(check("GetCustomFields", demo.get(d + "/fields")), list)
    check("DeleteCustomField", demo.delete(f"{d}/fields/{field['id']}"), 204)
    check("GetCustomField", demo.get(f"{d}/fields/{field['id']}"), 204)
    check_error(demo.put(f"{d}/fields/{field['id']}", json={"name": "Gone"}), 404)


def test_messages_beyond_the_definition(line):
    demo, d, phone = line
    page = check("GetDashboardMessages", demo.get(d + "/messages", page_size=100))
    stamps = [m["message_timestamp_utc"] for m in page["items"]]
    assert stamps == sorted(stamps)  # oldest first
    number = demo.get(d).json()["phone"]
    sent = check(
        "SendMessage",
        demo.post(
            "/messages", json={"from": number, "to": phone, "body": "Hi", "sender_name": "Sam"}
        ),
    )
    check("RedactMessage", demo.put(f"/messages/{sent['message_id']}/redact"))
    check("UnredactMessage", demo.put(f"/messages/{sent['message_id']}/unredact"))
    check_error(demo.put("/messages/nope/redact"), 404)
    check("GetScheduledMessages", demo.get(d + "/scheduledmessages", recurring_only="true"))
