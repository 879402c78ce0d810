"""Typed results of the ASMS connector's operations.

Parsing is tolerant where the definition leaves room: unknown fields are ignored (the whole
answer stays in ``raw``), missing fields become ``None``, dates become aware UTC datetimes (a
naive date is read as UTC; an unreadable one becomes ``None``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

LOGIC_OPERATORS = ("And", "Or")
OPERATORS = (
    "EqualTo",
    "NotEqualTo",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Like",
)


def parse_date(value: Any) -> datetime | None:
    """An ISO 8601 date-time as an aware UTC datetime; naive means UTC; unreadable is None."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        logger.warning("ASMS: unreadable date %r; kept only in raw", value)
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_date(value: datetime) -> str:
    """A datetime as ISO 8601 UTC text (``2026-12-01T12:00:00Z``), as filters want it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(data: Mapping, key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(data: Mapping, key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


@dataclass(frozen=True)
class CreatedCase:
    """CreateCase's answer: the system id and the case code (``idByProject``, e.g. ``IT-1001``)."""

    id: int
    code: str

    @classmethod
    def from_api(cls, data: Mapping) -> CreatedCase:
        case_id = _int(data, "id")
        code = _str(data, "idByProject")
        if case_id is None or not code:
            raise ValueError("CreateCase answered without id or idByProject")
        return cls(id=case_id, code=code)


@dataclass(frozen=True)
class Case:
    """A case as GetCase (all fields) or SearchTickets (a subset) answers it."""

    id: int | None
    code: str | None
    subject: str | None
    description: str | None
    commentary: str | None  # the solution
    project_id: int | None
    project_name: str | None
    item_type_id: int | None
    item_type_name: str | None
    service_id: int | None
    service_name: str | None
    category_id: int | None
    category_name: str | None
    state_id: int | None
    state_name: str | None
    group_id: int | None
    group_name: str | None
    responsible_id: int | None
    responsible_name: str | None
    priority_name: str | None
    customer_name: str | None
    author_name: str | None
    opened_at: datetime | None
    closed_at: datetime | None
    is_closed: bool
    progress: float | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping) -> Case:
        progress = data.get("currentProgress")
        return cls(
            id=_int(data, "id"),
            code=_str(data, "idByProject"),
            subject=_str(data, "subject"),
            description=_str(data, "description"),
            commentary=_str(data, "commentary"),
            project_id=_int(data, "projectId"),
            project_name=_str(data, "projectName"),
            item_type_id=_int(data, "itemTypeId"),
            item_type_name=_str(data, "itemTypeName"),
            service_id=_int(data, "serviceId"),
            service_name=_str(data, "serviceName"),
            category_id=_int(data, "categoryId"),
            category_name=_str(data, "categoryName"),
            state_id=_int(data, "stateId"),
            state_name=_str(data, "stateName"),
            group_id=_int(data, "groupId"),
            group_name=_str(data, "groupName"),
            responsible_id=_int(data, "responsibleId"),
            responsible_name=_str(data, "responsibleName"),
            priority_name=_str(data, "priorityName"),
            customer_name=_str(data, "customerName"),
            author_name=_str(data, "authorName"),
            opened_at=parse_date(data.get("openedDate")),
            closed_at=parse_date(data.get("closedDate")),
            is_closed=data.get("isClosed") is True,
            progress=float(progress) if isinstance(progress, int | float) else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Filter:
    """One SearchTickets criterion, e.g. ``Filter("Description", "Like", marker)``."""

    field: str
    operator: str
    value: str

    def __post_init__(self):
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {OPERATORS}")

    def as_api(self) -> dict:
        return {"field": self.field, "operator": self.operator, "value": self.value}


@dataclass(frozen=True)
class Choice:
    """One entry of a catalogue list (a project, a service, a state...)."""

    id: int
    name: str
    parent_id: int | None = None  # the project of a service or group, the service of a category


@dataclass(frozen=True)
class Catalogue:
    """Pick lists for the admin UI. Only the sandbox serves one (``/_sandbox/catalogue``);
    against a real instance the admin types ids."""

    projects: list[Choice]
    item_types: list[Choice]
    services: list[Choice]
    categories: list[Choice]
    groups: list[Choice]
    states: list[Choice]

    @classmethod
    def from_api(cls, data: Mapping) -> Catalogue:
        def choices(key: str, parent: str | None = None) -> list[Choice]:
            out = []
            for item in data.get(key) or []:
                if isinstance(item, Mapping) and _int(item, "id") is not None:
                    out.append(
                        Choice(
                            id=_int(item, "id"),
                            name=str(item.get("name") or ""),
                            parent_id=_int(item, parent) if parent else None,
                        )
                    )
            return out

        return cls(
            projects=choices("projects"),
            item_types=choices("itemTypes"),
            services=choices("services", "projectId"),
            categories=choices("categories", "serviceId"),
            groups=choices("groups", "projectId"),
            states=choices("states"),
        )
