"""The ASMS (Aranda Service Management Suite) connector client: the only code in textdesk that
speaks HTTP to ASMS.

One method per operation of the connector definition (``docs/asms-api.md``), typed results from
``types.py``, exceptions from ``errors.py`` (not sent / refused / outcome unknown, the taxonomy of
``textdesk.transport``, whose ``ServiceClient`` holds the session and the error mapping). The
client never retries by itself: the caller decides. Every call sends the technician token in the
``TokenAsms`` header; logs name the operation, never the token, a full URL or a body.

The instance URL is the customer's own host (``https://acme.arandasoft.com``); the client adds
the definition's base path ``/asmsadapter/api/asms``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from textdesk.transport import ServiceClient

from .errors import AsmsError, BadRequest, NotFound, OutcomeUnknown
from .types import LOGIC_OPERATORS, Case, Catalogue, CreatedCase, Filter

BASE_PATH = "/asmsadapter/api/asms"
NOTE_MAX_LENGTH = 254  # AttachNote's ``message``: 1..254 characters

# CreateCase / UpdateCase fields: our keyword -> the definition's name.
CASE_FIELDS = {
    "item_type": "itemType",
    "project_id": "projectId",
    "service_id": "serviceId",
    "category_id": "categoryId",
    "subject": "subject",
    "description": "description",
    "commentary": "commentary",
    "state_id": "stateId",
    "reason_id": "reasonId",
    "group_id": "groupId",
    "responsible_id": "responsibleId",
    "applicant_id": "applicantId",
    "customer_id": "customerId",
    "company_id": "companyId",
    "registry_type_id": "registryTypeId",
    "ci_id": "ciId",
    "urgency_id": "urgencyId",
    "impact_id": "impactId",
    "provider_id": "providerId",
    "unit_id": "unitId",
    "additional_fields": "additionalFields",
}
_CREATE_ONLY = {"item_type", "project_id"}
_UPDATE_ONLY = {"commentary"}


def instance_api_url(instance_url: str) -> str:
    """The connector's API root for an instance URL (the base path is added once)."""
    url = instance_url.strip().rstrip("/")
    if url.endswith(BASE_PATH):
        return url
    return url + BASE_PATH


def _case_body(fields: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    allowed = set(allowed)
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown case fields: {', '.join(sorted(unknown))}")
    return {CASE_FIELDS[k]: v for k, v in fields.items() if v is not None}


class AsmsClient(ServiceClient):
    """A client for one ASMS instance and technician token (the ``TokenAsms`` header).

    ``timeout`` is requests' ``(connect, read)`` pair, used on every call. A ``session`` passed
    in is taken over: the client sets its token header. ASMS has no rate limiter of ours."""

    service = "ASMS"
    error_root = AsmsError

    def __init__(
        self,
        instance_url: str,
        token: str,
        *,
        timeout: float | tuple[float, float] = (3.05, 15.0),
        session: requests.Session | None = None,
    ):
        if not instance_url or not instance_url.startswith(("http://", "https://")):
            raise ValueError("instance_url must be an http(s) URL")
        if not token:
            raise ValueError("token is required")
        self.instance_url = instance_url.strip().rstrip("/")
        if self.instance_url.endswith(BASE_PATH):
            self.instance_url = self.instance_url[: -len(BASE_PATH)]
        self.api_url = self.instance_url + BASE_PATH
        super().__init__(secret_header="TokenAsms", secret=token, timeout=timeout, session=session)

    def __repr__(self) -> str:  # never show the token
        return f"<AsmsClient {self.instance_url!r}>"

    # --- Operations --------------------------------------------------------------------------

    def test_connection(self) -> None:
        """TestConnection: raises when the instance cannot be reached or refuses the token."""
        self._call("TestConnection", "GET", "/connection")

    def create_case(
        self,
        *,
        item_type: int,
        project_id: int,
        service_id: int,
        category_id: int,
        subject: str,
        **optional: Any,
    ) -> CreatedCase:
        """CreateCase. ``optional``: description, state_id, reason_id, group_id,
        responsible_id, applicant_id, customer_id, company_id, registry_type_id, ci_id,
        urgency_id, impact_id, provider_id, unit_id, additional_fields (None is left out).

        ASMS takes no idempotency key: a caller that must create once puts a unique marker in
        the description and settles an unknown outcome with ``search_cases``."""
        body = _case_body(
            {
                "item_type": item_type,
                "project_id": project_id,
                "service_id": service_id,
                "category_id": category_id,
                "subject": subject,
                **optional,
            },
            set(CASE_FIELDS) - _UPDATE_ONLY,
        )
        data = self._call("CreateCase", "POST", "/case", json=body)
        if not isinstance(data, Mapping):
            raise OutcomeUnknown(200, "CreateCase answered no case", operation="CreateCase")
        try:
            return CreatedCase.from_api(data)
        except ValueError as exc:
            raise OutcomeUnknown(200, str(exc), operation="CreateCase") from None

    def get_case(self, ticket_id: str | int) -> Case:
        """GetCase by case code (``IT-1001``) or id; ``NotFound`` when there is none."""
        data = self._call("GetCase", "GET", f"/case/{quote(str(ticket_id), safe='')}")
        if not isinstance(data, Mapping):
            raise NotFound(200, f"no case {ticket_id}", operation="GetCase")
        return Case.from_api(data)

    def update_case(self, ticket_id: str | int, **fields: Any) -> bool:
        """UpdateCase: only the fields given (not None) change. Answers ASMS's ``result``."""
        body = _case_body(fields, set(CASE_FIELDS) - _CREATE_ONLY)
        data = self._call("UpdateCase", "PUT", f"/case/{quote(str(ticket_id), safe='')}", json=body)
        return bool(data.get("result")) if isinstance(data, Mapping) else False

    def attach_note(self, ticket_id: str | int, message: str) -> None:
        """AttachNote: 1 to 254 characters, checked here before any call (ValueError)."""
        check_note(message)
        self._call(
            "AttachNote",
            "POST",
            f"/case/{quote(str(ticket_id), safe='')}/note",
            params={"message": message},
        )

    def attach_file(self, ticket_id: str | int, *, file_name: str, content: bytes) -> None:
        """AttachFile: the file travels base64-encoded in JSON; the case code in a header.
        An instance's size limit answers 413 (``TooLarge``)."""
        if not file_name:
            raise ValueError("file_name is required")
        body = {"file": base64.b64encode(content).decode("ascii"), "fileName": file_name}
        self._call(
            "AttachFile",
            "POST",
            "/attachment/file",
            json=body,
            headers={"ticketId": str(ticket_id)},
        )

    def search_cases(self, filters: Iterable[Filter], *, logic: str = "And") -> list[Case]:
        """SearchTickets: cases matching every (``And``) or any (``Or``) filter."""
        if logic not in LOGIC_OPERATORS:
            raise ValueError(f"logic must be one of {LOGIC_OPERATORS}")
        body = {"logicOperator": logic, "filters": [f.as_api() for f in filters]}
        if not body["filters"]:
            raise ValueError("at least one filter is required")
        data = self._call("SearchTickets", "POST", "/case/list", json=body)
        if data is None:
            return []
        if not isinstance(data, list):
            raise OutcomeUnknown(200, "SearchTickets answered no list", operation="SearchTickets")
        return [Case.from_api(item) for item in data if isinstance(item, Mapping)]

    def catalogue(self) -> Catalogue | None:
        """The sandbox's pick lists (``/_sandbox/catalogue``); None on a real instance, which
        has no such endpoint (then the admin types ids)."""
        try:
            data = self._call(
                "SandboxCatalogue", "GET", "/_sandbox/catalogue", root=self.instance_url
            )
        except (NotFound, BadRequest):
            return None
        return Catalogue.from_api(data) if isinstance(data, Mapping) else None


def check_note(message: str) -> None:
    """AttachNote's rule: 1 to 254 characters (ValueError otherwise)."""
    if not isinstance(message, str) or not message.strip():
        raise ValueError("A note needs at least one character.")
    if len(message) > NOTE_MAX_LENGTH:
        raise ValueError(
            f"A note may have at most {NOTE_MAX_LENGTH} characters; this one has {len(message)}."
        )
