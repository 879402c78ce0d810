"""Every operation of the ASMS connector definition, called over HTTP against the ASMS sandbox,
answers what the definition's schema says.

The schemas are loaded from apiDefinition.swagger.json, never retyped. Swagger 2.0 has no
`nullable`: strings, objects, integers and numbers may also be null (ASMS is a .NET service and
answers null for an unset id or name). On top of the definition every documented field must be
present and no other field may appear, so the sandbox cannot drift from the documented shape.
"""

import base64
import copy
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

STANDIN = Path(__file__).resolve().parents[2] / "standins/asms"
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
JSON_TYPE = {"Content-Type": "application/json"}
SOON = {
    "logicOperator": "And",
    "filters": [{"field": "OpenedDate", "operator": "GreaterThan", "value": "soon"}],
}
NEW_CASE = {"itemType": 1, "projectId": 1, "serviceId": 11, "categoryId": 111, "subject": "S"}


def strict(schema):
    """Swagger 2.0 -> draft 4: drop x- keys, nullable scalars/objects, all fields required."""
    schema = {k: v for k, v in copy.deepcopy(schema).items() if not k.startswith("x-")}
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        schema["properties"] = {k: strict(v) for k, v in schema["properties"].items()}
        schema["required"] = sorted(schema["properties"])
        schema["additionalProperties"] = False
    if kind == "array" and "items" in schema:
        schema["items"] = strict(schema["items"])
    if kind in ("string", "object", "integer", "number"):
        schema["type"] = [kind, "null"]
    return schema


def check(operation_id, response, status=200):
    """Assert the documented status and validate the body against the documented schema."""
    assert response.status_code == status, (operation_id, response.status_code, response.text)
    documented = OPERATIONS[operation_id][2]["responses"]
    assert str(status) in documented, f"{operation_id} does not document {status}"
    schema = documented[str(status)].get("schema")
    if schema is None:
        return None
    body = response.json() if response.content else None
    if schema:
        jsonschema.Draft4Validator(strict(schema)).validate(body)
    return body


def like(field, value, operator="Like"):
    return {"field": field, "operator": operator, "value": value}


def request_schema(operation_id):
    params = OPERATIONS[operation_id][2]["parameters"]
    return next(p["schema"] for p in params if p.get("in") == "body")


def test_the_definition_has_7_operations_and_the_copy_is_current():
    assert set(OPERATIONS) == {
        "TestConnection",
        "CreateCase",
        "GetCase",
        "UpdateCase",
        "AttachNote",
        "AttachFile",
        "SearchTickets",
    }
    assert_vendored_copy_is_unchanged()


def test_every_operation_is_routed_by_the_sandbox_at_the_definition_path():
    from standins.asms.server import API_PREFIX, API_ROUTES

    assert SPEC["basePath"] == API_PREFIX
    routed = {handler.__name__: (method, path) for method, path, handler, _ in API_ROUTES}
    assert routed == {op: (m, p) for op, (m, p, _) in OPERATIONS.items()}


def test_every_operation_answers_the_documented_shape(asms_tenant):
    t = asms_tenant
    check("TestConnection", t.call("GET", "/connection"))
    jsonschema.validate(NEW_CASE, request_schema("CreateCase"))
    created = check("CreateCase", t.call("POST", "/case", json={**NEW_CASE, "groupId": 31}))
    code = created["idByProject"]
    case = check("GetCase", t.call("GET", f"/case/{code}"))
    assert case["id"] == created["id"]
    update = {"subject": "Renamed", "stateId": 3, "commentary": "Fixed"}
    jsonschema.validate(update, request_schema("UpdateCase"))
    assert check("UpdateCase", t.call("PUT", f"/case/{code}", json=update)) == {"result": True}
    check("AttachNote", t.call("POST", f"/case/{code}/note", params={"message": "hi"}))
    file_body = {"file": base64.b64encode(b"hello").decode(), "fileName": "a.txt"}
    jsonschema.validate(file_body, request_schema("AttachFile"))
    headers = {"ticketId": code}
    check("AttachFile", t.call("POST", "/attachment/file", json=file_body, headers=headers))
    search = {"logicOperator": "And", "filters": [like("Subject", "ren")]}
    jsonschema.validate(search, request_schema("SearchTickets"))
    found = check("SearchTickets", t.call("POST", "/case/list", json=search))
    assert [c["idByProject"] for c in found] == [code]
    solved = check("GetCase", t.call("GET", f"/case/{created['id']}"))
    assert (solved["stateName"], solved["commentary"]) == ("Solved", "Fixed")
    assert solved["isClosed"] is False


def test_the_demo_tenant_answers_the_documented_shape(asms_server):
    from standins.asms.pytest_fixtures import make_tenant

    t = make_tenant(asms_server, seed="demo")
    for case in check("SearchTickets", t.call("POST", "/case/list", json={"logicOperator": "Or"})):
        check("GetCase", t.call("GET", f"/case/{case['idByProject']}"))


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "needle"),
    [
        ("POST", "/case", {"json": {**NEW_CASE, "projectId": 9}}, 400, "projectId"),
        ("POST", "/case", {"json": {**NEW_CASE, "subject": " "}}, 400, "subject"),
        ("POST", "/case", {"json": {**NEW_CASE, "serviceId": None}}, 400, "serviceId"),
        ("POST", "/case", {"json": {**NEW_CASE, "itemType": "1"}}, 400, "itemType"),
        ("POST", "/case", {"data": "{not json", "headers": JSON_TYPE}, 400, "JSON"),
        ("GET", "/case/XX-1", {}, 404, "XX-1"),
        ("PUT", "/case/XX-1", {"json": {}}, 404, "XX-1"),
        ("POST", "/case/XX-1/note", {"params": {"message": "x"}}, 404, "XX-1"),
        ("POST", "/attachment/file", {"json": {"file": "a", "fileName": "a"}}, 400, "ticketId"),
        ("POST", "/case/list", {"json": {"filters": []}}, 400, "logicOperator"),
        ("POST", "/case/list", {"json": SOON}, 400, "date"),
    ],
)
def test_bad_input_answers_the_status_with_a_message_naming_the_field(
    asms_tenant, method, path, kwargs, status, needle
):
    response = asms_tenant.call(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert needle in response.json()["message"]


def test_a_missing_or_unknown_token_is_401_with_a_message(asms_tenant):
    import requests

    for headers in ({}, {"TokenAsms": "nope"}):
        response = requests.get(asms_tenant.api_url + "/connection", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["message"]


def test_a_note_over_254_characters_is_400(asms_tenant):
    code = asms_tenant.call("POST", "/case", json=NEW_CASE).json()["idByProject"]
    response = asms_tenant.call("POST", f"/case/{code}/note", params={"message": "x" * 255})
    assert response.status_code == 400
    assert "254" in response.json()["message"]
