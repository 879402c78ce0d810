"""The ASMS sandbox backend: all state and every rule of the stand-in.

Shaped like a moto backend: one :class:`Backend` holds every tenant in memory (technician
token -> cases with their notes and attachments, counters, faults), enforces the rules of
``docs/asms-api.md`` and answers plain Python data that ``server.py`` turns into HTTP.
Errors are :class:`SandboxError` (the stand-ins' ``StandinError``) with the real status,
answered as ``{"message"}``. One re-entrant
lock guards everything; ids are sequential per tenant, so runs are reproducible. No Django.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from standins.core.errors import StandinError as SandboxError
from standins.core.errors import bad
from standins.core.faults import FaultsMixin

from . import catalogue as cat

__all__ = ["DEMO_TOKEN", "Backend", "SandboxError", "bad"]

DEMO_TOKEN = "asms_demo_7c2e9b4f1a3d"
SUBJECT_MAX = 250
DESCRIPTION_MAX = 32_000
NOTE_MAX = 254
SEARCH_MAX_RESULTS = 200
DEFAULT_CONFIG = {"max_attachment_bytes": 5 * 1024 * 1024}
FAULT_KEYS = {
    "error_rate": float,
    "error_status": int,
    "timeout_rate": float,
    "timeout_seconds": float,
    "latency_ms": int,
    "outage": bool,
    "error_after_processing": bool,
    "operations": list,
}

# Every field GetCase answers (the definition's schema, in its order).
CASE_FIELDS = [
    "id",
    "idByProject",
    "subject",
    "description",
    "commentary",
    "projectId",
    "projectName",
    "itemTypeName",
    "itemTypeId",
    "serviceId",
    "serviceName",
    "modelId",
    "modelName",
    "categoryId",
    "categoryName",
    "applicantId",
    "customerId",
    "customerName",
    "companyId",
    "companyName",
    "ciId",
    "ciName",
    "slaId",
    "slaName",
    "stateId",
    "stateName",
    "reasonId",
    "reasonName",
    "groupId",
    "groupName",
    "responsibleId",
    "responsibleName",
    "registryTypeId",
    "registryTypeName",
    "impactId",
    "impactName",
    "urgencyId",
    "urgencyName",
    "priorityId",
    "priorityName",
    "riskId",
    "riskName",
    "providerId",
    "providerName",
    "ucId",
    "ucName",
    "unitId",
    "unitName",
    "olaId",
    "olaName",
    "openedDate",
    "closedDate",
    "finalDate",
    "initialDate",
    "cost",
    "realCost",
    "estimatedCost",
    "price",
    "interfaceId",
    "isClosed",
    "currentProgress",
    "realDate",
    "estimatedDate",
    "authorId",
    "authorName",
    "additionalFields",
]
# The subset SearchTickets answers per case.
LIST_FIELDS = [
    "id",
    "idByProject",
    "subject",
    "description",
    "projectId",
    "projectName",
    "itemTypeName",
    "itemTypeId",
    "serviceId",
    "serviceName",
    "modelId",
    "modelName",
    "categoryId",
    "categoryName",
    "applicantId",
    "ciId",
    "ciName",
    "customerId",
    "customerName",
    "companyId",
    "companyName",
    "slaId",
    "slaName",
    "stateId",
    "stateName",
    "reasonId",
    "reasonName",
    "groupId",
    "groupName",
    "responsibleId",
    "responsibleName",
    "impactId",
    "impactName",
    "openedDate",
    "authorId",
    "authorName",
]
SEARCH_FIELDS = [
    "Commentary",
    "Description",
    "Subject",
    "ApplicantName",
    "AuthorName",
    "CategoryName",
    "CiName",
    "CompanyName",
    "CustomerName",
    "GroupName",
    "ImpactName",
    "ItemTypeName",
    "ModelName",
    "ModifierName",
    "OlaName",
    "PriorityName",
    "ProjectName",
    "ProviderName",
    "ReasonName",
    "RegistryTypeName",
    "ResponsibleName",
    "ServiceName",
    "SlaName",
    "StateName",
    "UcName",
    "UnitName",
    "UrgencyName",
    "ApplicantId",
    "AuthorId",
    "CategoryId",
    "CiId",
    "CompanyId",
    "ConsoleType",
    "CustomerId",
    "GroupId",
    "ImpactId",
    "InterfaceId",
    "ModelId",
    "ModifierId",
    "OlaId",
    "PriorityId",
    "ProjectId",
    "ProviderId",
    "ReasonId",
    "RegistryTypeId",
    "ResponsibleId",
    "ServiceId",
    "SlaId",
    "StateId",
    "UcId",
    "UnitId",
    "UrgencyId",
    "OpenedDate",
]
OPERATORS = (
    "EqualTo",
    "NotEqualTo",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Like",
)
# Optional integer ids CreateCase/UpdateCase accept and store without a catalogue behind them.
FREE_IDS = [
    "reasonId",
    "applicantId",
    "customerId",
    "companyId",
    "registryTypeId",
    "ciId",
    "urgencyId",
    "impactId",
    "providerId",
    "unitId",
]


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CaseRecord:
    """One case: its API fields (``data``, every GetCase key) and the sandbox's own view."""

    data: dict
    notes: list = field(default_factory=list)
    attachments: list = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.data["idByProject"]

    def as_json(self) -> dict:
        out = dict(self.data)
        out["additionalFields"] = [dict(f) for f in self.data["additionalFields"]]
        return out

    def as_list_json(self) -> dict:
        return {k: self.data[k] for k in LIST_FIELDS}

    def as_sandbox_json(self) -> dict:
        return {**self.as_json(), "notes": list(self.notes), "attachments": list(self.attachments)}


@dataclass
class Tenant:
    """One ASMS instance as seen through one technician token."""

    token: str
    cases: dict[int, CaseRecord] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)  # upper-cased idByProject -> id
    next_case_id: int = 5001
    next_number: dict[int, int] = field(default_factory=dict)  # per project
    calls: Counter = field(default_factory=Counter)
    created: int = 0
    faults: dict | None = None  # None: the global faults apply


class Backend(FaultsMixin):
    """Every tenant and rule of the ASMS sandbox. Thread-safe through one re-entrant lock."""

    FAULT_KEYS = FAULT_KEYS
    CREDENTIAL = "token"
    # what a state file holds (standins/core/state.py): a restarted stand-in carries on with
    # the same cases and numbers instead of issuing IT-1001 again
    STATE_ATTRS = ("config", "faults", "tenants", "rng", "fault_rng", "_token_seq")

    def __init__(self, *, seed: str = "demo", seed_value: int = 0):
        if seed not in ("demo", "empty", "none"):
            raise ValueError("seed must be 'demo', 'empty' or 'none'")
        self._seed = seed
        self._seed_value = seed_value
        self.lock = threading.RLock()
        self.changes = 0  # bumped by every call (standins/core/app.py)
        self._reset_state()

    # -- state ---------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        with self.lock:
            self.config = dict(DEFAULT_CONFIG)
            self.faults: dict = {}
            self.tenants: dict[str, Tenant] = {}
            self.rng = random.Random(self._seed_value)
            self.fault_rng = random.Random(self._seed_value + 1)
            self._token_seq = 1
            if self._seed != "none":
                self.new_tenant(self._seed, token=DEMO_TOKEN)

    def restored(self) -> None:
        """After a state file was loaded: nothing was scheduled, so nothing runs again."""

    def reset(self) -> None:
        """Everything back to the startup state (tenants, cases, config, faults, counters)."""
        self._reset_state()

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def new_tenant(self, seed: str = "empty", token: str | None = None) -> dict:
        """A new isolated tenant (its own token, cases, counters, faults)."""
        if seed not in ("demo", "empty"):
            raise bad("seed must be 'demo' or 'empty'")
        with self.lock:
            if token is None:
                token = f"asms_test_{self._token_seq:05d}{self.rng.getrandbits(32):08x}"
                self._token_seq += 1
            tenant = Tenant(token)
            self.tenants[token] = tenant
            if seed == "demo":
                self._seed_demo(tenant)
            return {"token": token}

    def _seed_demo(self, tenant: Tenant) -> None:
        now = self.now()
        printer = self._create(
            tenant,
            {"itemType": 1, "projectId": 1, "serviceId": 12, "categoryId": 121, "groupId": 31,
             "subject": "Printer on the third floor jams",
             "description": "Reported at the front desk; paper jams on every job."},
            opened=now - timedelta(days=2),
        )  # fmt: skip
        self._move(tenant.cases[printer["id"]], cat.IN_PROGRESS, None)
        self._create(
            tenant,
            {"itemType": 2, "projectId": 2, "serviceId": 21, "categoryId": 211, "groupId": 33,
             "subject": "Badge reader at the side door",
             "description": "Visitors cannot get in through the side door after 6 pm."},
            opened=now - timedelta(days=1),
        )  # fmt: skip
        tenant.created = 0  # seeded cases are not "created through the API"

    def tenant(self, token: str | None) -> Tenant:
        tenant = self.tenants.get(token or "")
        if tenant is None:
            if not token:
                raise SandboxError(401, "Missing token: send it in the TokenAsms header")
            raise SandboxError(401, "Invalid token")
        return tenant

    # -- faults and admission ------------------------------------------------------------------

    def caller(self, token: str | None) -> Tenant:
        return self.tenant(token)

    def callers(self):
        return self.tenants.values()

    def admit(self, token: str | None, operation: str) -> dict:
        """Check the token and the faults for one call; answer the delay plan."""
        with self.lock:
            tenant = self.tenant(token)
            tenant.calls[operation] += 1
            faults = self.faults_for(tenant, operation)
            self.refuse_if_outage(faults)
            return self.fault_plan(faults)

    def configure(self, body: dict) -> dict:
        for name, value in body.items():
            if name not in DEFAULT_CONFIG:
                raise bad(f"Unknown setting {name!r}; known: {', '.join(sorted(DEFAULT_CONFIG))}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad(f"{name} must be a whole number >= 1")
        with self.lock:
            self.config.update(body)
            return {"config": dict(self.config)}

    def counters(self, token: str) -> dict:
        with self.lock:
            tenant = self.tenant(token)
            return {
                "calls": dict(tenant.calls),
                "calls_total": sum(tenant.calls.values()),
                "cases_created": tenant.created,
                "notes": sum(len(c.notes) for c in tenant.cases.values()),
                "attachments": sum(len(c.attachments) for c in tenant.cases.values()),
            }

    # -- lookups -------------------------------------------------------------------------------

    def _case(self, tenant: Tenant, ticket_id: str) -> CaseRecord:
        ticket = (ticket_id or "").strip()
        if ticket.isdigit() and ticket.isascii():
            case = tenant.cases.get(int(ticket))
        else:
            case = tenant.cases.get(tenant.by_code.get(ticket.upper(), -1))
        if case is None:
            raise SandboxError(404, f"Case {ticket_id} was not found")
        return case

    # -- operations ----------------------------------------------------------------------------

    def test_connection(self, token: str) -> bool:
        with self.lock:
            self.tenant(token)
            return True

    def create_case(self, token: str, body: object) -> dict:
        body = _object(body)
        with self.lock:
            tenant = self.tenant(token)
            result = self._create(tenant, body)
            tenant.created += 1
            return result

    def _create(self, tenant: Tenant, body: dict, opened: datetime | None = None) -> dict:
        for name in ("itemType", "projectId", "serviceId", "categoryId"):
            if body.get(name) is None:
                raise bad(f"{name} is required")
        values = {name: _int(body, name) for name in ("itemType", "projectId", "serviceId")}
        values["categoryId"] = _int(body, "categoryId")
        subject = _text(body, "subject", SUBJECT_MAX, required=True)
        description = _text(body, "description", DESCRIPTION_MAX)
        project = cat.BY_ID["project"].get(values["projectId"])
        if project is None:
            raise bad(f"projectId: project {values['projectId']} does not exist")
        item_type = cat.BY_ID["item_type"].get(values["itemType"])
        if item_type is None:
            raise bad(f"itemType: case type {values['itemType']} does not exist in the project")
        data = {k: None for k in CASE_FIELDS}
        data["additionalFields"] = []
        data.update(
            projectId=project["id"],
            projectName=project["name"],
            itemTypeId=item_type["id"],
            itemTypeName=item_type["name"],
            subject=subject,
            description=description,
            priorityId=cat.PRIORITY["id"],
            priorityName=cat.PRIORITY["name"],
            authorId=cat.INTEGRATION_TECHNICIAN,
            authorName=cat.BY_ID["technician"][cat.INTEGRATION_TECHNICIAN]["name"],
            isClosed=False,
            currentProgress=0.0,
            interfaceId=None,
        )
        self._apply_service(data, values["serviceId"], values["categoryId"])
        state_id = _int(body, "stateId", required=False) or cat.REGISTERED
        if state_id not in (cat.REGISTERED, cat.IN_PROGRESS):
            raise bad("stateId: a new case starts Registered (1) or In progress (2)")
        self._apply_assignment(data, body)
        for name in FREE_IDS:
            data[name] = _int(body, name, required=False)
        data["additionalFields"] = _additional_fields(body.get("additionalFields"))
        number = tenant.next_number.get(project["id"], 1001)
        tenant.next_number[project["id"]] = number + 1
        data["id"] = tenant.next_case_id
        tenant.next_case_id += 1
        data["idByProject"] = f"{project['prefix']}-{number}"
        data["openedDate"] = iso(opened or self.now())
        case = CaseRecord(data)
        self._set_state(case, state_id)
        tenant.cases[data["id"]] = case
        tenant.by_code[case.code.upper()] = data["id"]
        return {"id": data["id"], "idByProject": data["idByProject"]}

    def _apply_service(self, data: dict, service_id: int | None, category_id: int | None) -> None:
        if service_id is not None:
            service = cat.BY_ID["service"].get(service_id)
            if service is None or service["projectId"] != data["projectId"]:
                raise bad(f"serviceId: service {service_id} is not offered by the case's project")
            data["serviceId"], data["serviceName"] = service["id"], service["name"]
        if category_id is not None or service_id is not None:
            category_id = category_id if category_id is not None else data["categoryId"]
            category = cat.BY_ID["category"].get(category_id)
            if category is None or category["serviceId"] != data["serviceId"]:
                raise bad(f"categoryId: category {category_id} does not belong to the service")
            data["categoryId"], data["categoryName"] = category["id"], category["name"]

    def _apply_assignment(self, data: dict, body: dict) -> None:
        group_id = _int(body, "groupId", required=False)
        responsible_id = _int(body, "responsibleId", required=False)
        if group_id is not None:
            group = cat.BY_ID["group"].get(group_id)
            if group is None or group["projectId"] != data["projectId"]:
                raise bad(f"groupId: group {group_id} does not exist in the case's project")
            data["groupId"], data["groupName"] = group["id"], group["name"]
            # The sandbox's assignment rule: a case for a group goes to its first technician.
            if responsible_id is None and data["responsibleId"] not in group["technicians"]:
                responsible_id = group["technicians"][0]
        if responsible_id is not None:
            technician = cat.BY_ID["technician"].get(responsible_id)
            group = cat.BY_ID["group"].get(data["groupId"])
            if technician is None or (group and responsible_id not in group["technicians"]):
                raise bad(f"responsibleId: technician {responsible_id} is not in the case's group")
            data["responsibleId"], data["responsibleName"] = technician["id"], technician["name"]

    def _set_state(self, case: CaseRecord, state_id: int) -> None:
        state = cat.BY_ID["state"][state_id]
        data = case.data
        data["stateId"], data["stateName"] = state["id"], state["name"]
        data["isClosed"] = state_id == cat.CLOSED
        data["currentProgress"] = {1: 0.0, 2: 50.0, 3: 100.0, 4: 100.0}[state_id]
        if state_id in (cat.SOLVED, cat.CLOSED):
            data["closedDate"] = data["closedDate"] or iso(self.now())
        else:
            data["closedDate"] = None

    def _move(self, case: CaseRecord, state_id: int, commentary: str | None) -> None:
        if commentary is not None:
            case.data["commentary"] = commentary
        if state_id in (cat.SOLVED, cat.CLOSED) and not (case.data["commentary"] or "").strip():
            raise bad("commentary: a case needs a solution before it is Solved or Closed")
        self._set_state(case, state_id)

    def get_case(self, token: str, ticket_id: str) -> dict:
        with self.lock:
            return self._case(self.tenant(token), ticket_id).as_json()

    def update_case(self, token: str, ticket_id: str, body: object) -> dict:
        body = _object(body) if body is not None else {}
        with self.lock:
            case = self._case(self.tenant(token), ticket_id)
            data = dict(case.data)
            staged = CaseRecord(data, case.notes, case.attachments)
            if body.get("subject") is not None:
                data["subject"] = _text(body, "subject", SUBJECT_MAX, required=True)
            if body.get("description") is not None:
                data["description"] = _text(body, "description", DESCRIPTION_MAX)
            self._apply_service(
                data,
                _int(body, "serviceId", required=False),
                _int(body, "categoryId", required=False),
            )
            if body.get("groupId") is not None or body.get("responsibleId") is not None:
                self._apply_assignment(data, body)
            for name in FREE_IDS:
                if body.get(name) is not None:
                    data[name] = _int(body, name)
            if body.get("additionalFields") is not None:
                data["additionalFields"] = _additional_fields(body["additionalFields"])
            commentary = _text(body, "commentary", DESCRIPTION_MAX)
            state_id = _int(body, "stateId", required=False)
            if state_id is not None:
                if state_id not in cat.BY_ID["state"]:
                    raise bad(f"stateId: state {state_id} does not exist")
                self._move(staged, state_id, commentary)
            elif commentary is not None:
                data["commentary"] = commentary
            case.data = data  # all or nothing: only a fully valid update lands
            return {"result": True}

    def attach_note(self, token: str, ticket_id: str, message: str | None) -> bool:
        if message is None or not message.strip():
            raise bad("message is required (1 to 254 characters)")
        if len(message) > NOTE_MAX:
            raise bad(f"message may have at most {NOTE_MAX} characters, got {len(message)}")
        with self.lock:
            case = self._case(self.tenant(token), ticket_id)
            author = cat.BY_ID["technician"][cat.INTEGRATION_TECHNICIAN]["name"]
            case.notes.append({"text": message, "author": author, "at": iso(self.now())})
            return True

    def attach_file(self, token: str, ticket_id: str | None, body: object) -> None:
        body = _object(body)
        if not ticket_id:
            raise bad("ticketId header is required")
        name = _text(body, "fileName", 255, required=True)
        encoded = body.get("file")
        if not isinstance(encoded, str) or not encoded:
            raise bad("file is required (base64)")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise bad("file must be base64-encoded bytes") from None
        with self.lock:
            case = self._case(self.tenant(token), ticket_id)
            limit = self.config["max_attachment_bytes"]
            if len(content) > limit:
                raise SandboxError(413, f"The file is larger than the {limit} bytes allowed")
            case.attachments.append(
                {"fileName": name, "size": len(content), "at": iso(self.now()),
                 "content": content.decode("utf-8", "replace")[:200_000]}
            )  # fmt: skip

    def search(self, token: str, body: object) -> list:
        body = _object(body) if body is not None else {}
        logic = body.get("logicOperator")
        if logic not in ("And", "Or"):
            raise bad("logicOperator is required: And or Or")
        raw_filters = body.get("filters")
        if raw_filters is None:
            raw_filters = []
        if not isinstance(raw_filters, list):
            raise bad("filters must be an array")
        checks = [_filter(i, f) for i, f in enumerate(raw_filters)]
        combine = all if logic == "And" else any
        with self.lock:
            cases = sorted(self.tenant(token).cases.values(), key=lambda c: -c.data["id"])
            found = [c for c in cases if not checks or combine(ok(c.data) for ok in checks)]
            return [c.as_list_json() for c in found[:SEARCH_MAX_RESULTS]]

    # -- the world (control API) ---------------------------------------------------------------

    def sandbox_cases(self, token: str) -> list:
        with self.lock:
            cases = sorted(self.tenant(token).cases.values(), key=lambda c: c.data["id"])
            return [c.as_sandbox_json() for c in cases]

    def move_case(self, token: str, ticket_id: str, body: dict) -> dict:
        """A technician moves a case (``state``: a name or id), optionally with a solution
        (``commentary``) and a responsible technician."""
        state = body.get("state")
        by_name = {s["name"].casefold(): s["id"] for s in cat.STATES}
        if isinstance(state, str) and state.casefold() in by_name:
            state_id = by_name[state.casefold()]
        elif isinstance(state, int) and not isinstance(state, bool) and state in cat.BY_ID["state"]:
            state_id = state
        else:
            raise bad(f"state must be one of {', '.join(s['name'] for s in cat.STATES)}")
        commentary = _text(body, "commentary", DESCRIPTION_MAX)
        with self.lock:
            case = self._case(self.tenant(token), ticket_id)
            if body.get("responsibleId") is not None:
                self._apply_assignment(case.data, {"responsibleId": body["responsibleId"]})
            self._move(case, state_id, commentary)
            return case.as_sandbox_json()

    def technician_note(self, token: str, ticket_id: str, body: dict) -> dict:
        text = _text(body, "text", NOTE_MAX, required=True)
        author = body.get("author") or "Dana Ruiz"
        with self.lock:
            case = self._case(self.tenant(token), ticket_id)
            case.notes.append({"text": text, "author": str(author), "at": iso(self.now())})
            return case.as_sandbox_json()


# -- input checks -------------------------------------------------------------------------------


def _object(body: object) -> dict:
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def _int(body: dict, name: str, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise bad(f"{name} must be a 32-bit integer")
    return value


def _text(body: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    if required and not value.strip():
        raise bad(f"{name} must not be blank")
    if len(value) > limit:
        raise bad(f"{name} may have at most {limit} characters, got {len(value)}")
    return value


def _additional_fields(value: object) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("additionalFields must be an array")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad(f"additionalFields[{i}] must be an object")
        field_id = item.get("fieldId")
        if isinstance(field_id, str) and field_id.isdigit():
            field_id = int(field_id)
        if isinstance(field_id, bool) or not isinstance(field_id, int):
            raise bad(f"additionalFields[{i}].fieldId must be a number")
        values = item.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad(f"additionalFields[{i}].values must be an array of strings")
        out.append({"fieldId": field_id, "nameField": None, "valueDetails": None, "values": values})
    return out


def _parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _filter(index: int, raw: object):
    """One SearchTickets filter as a predicate over a case's fields."""
    where = f"filters[{index}]"
    if not isinstance(raw, dict):
        raise bad(f"{where} must be an object")
    name, operator, value = raw.get("field"), raw.get("operator"), raw.get("value")
    if name not in SEARCH_FIELDS:
        raise bad(f"{where}.field: unknown field {name!r}")
    if operator not in OPERATORS:
        raise bad(f"{where}.operator must be one of {', '.join(OPERATORS)}")
    if not isinstance(value, str):
        raise bad(f"{where}.value is required (a string)")
    key = name[0].lower() + name[1:]
    if name == "OpenedDate":
        try:
            wanted = _parse_instant(value)
        except ValueError:
            raise bad(f"{where}.value must be an ISO 8601 date") from None
        if operator == "Like":
            raise bad(f"{where}: Like does not apply to dates")

        def read(data):
            return _parse_instant(data[key]) if data.get(key) else None

    elif name.endswith("Id") and name != "InterfaceId":
        try:
            wanted = int(value.strip())
        except ValueError:
            raise bad(f"{where}.value must be a number for {name}") from None
        if operator == "Like":
            raise bad(f"{where}: Like does not apply to ids")

        def read(data):
            return data.get(key)

    else:
        wanted = value.casefold()

        def read(data):
            got = data.get(key)
            return None if got is None else str(got).casefold()

    def ok(data: dict) -> bool:
        got = read(data)
        if operator == "NotEqualTo":
            return got != wanted
        if got is None:
            return False
        return {
            "EqualTo": lambda: got == wanted,
            "GreaterThan": lambda: got > wanted,
            "GreaterThanOrEqualTo": lambda: got >= wanted,
            "LessThan": lambda: got < wanted,
            "LessThanOrEqualTo": lambda: got <= wanted,
            "Like": lambda: wanted in got,
        }[operator]()

    return ok
