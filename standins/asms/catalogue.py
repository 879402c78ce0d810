"""The seeded catalogue every sandbox tenant starts with: two projects, their case types,
services, categories, groups and technicians, and the case states. Ids are fixed, so tests and
demos can name them."""

from __future__ import annotations

PROJECTS = [
    {"id": 1, "name": "IT Service Desk", "prefix": "IT"},
    {"id": 2, "name": "Facilities", "prefix": "FA"},
]
# Both projects offer both case types.
ITEM_TYPES = [
    {"id": 1, "name": "Incident"},
    {"id": 2, "name": "Service request"},
]
SERVICES = [
    {"id": 11, "name": "Email", "projectId": 1},
    {"id": 12, "name": "Laptops and devices", "projectId": 1},
    {"id": 13, "name": "Customer portal", "projectId": 1},
    {"id": 21, "name": "Building access", "projectId": 2},
    {"id": 22, "name": "Cleaning", "projectId": 2},
]
CATEGORIES = [
    {"id": 111, "name": "Cannot send or receive", "serviceId": 11},
    {"id": 112, "name": "Mailbox full", "serviceId": 11},
    {"id": 121, "name": "Hardware failure", "serviceId": 12},
    {"id": 122, "name": "New device", "serviceId": 12},
    {"id": 131, "name": "Login problem", "serviceId": 13},
    {"id": 132, "name": "Billing question", "serviceId": 13},
    {"id": 211, "name": "Badge not working", "serviceId": 21},
    {"id": 212, "name": "Visitor access", "serviceId": 21},
    {"id": 221, "name": "Spill", "serviceId": 22},
    {"id": 222, "name": "Restroom supplies", "serviceId": 22},
]
GROUPS = [
    {"id": 31, "name": "First line", "projectId": 1, "technicians": [41, 42]},
    {"id": 32, "name": "Field support", "projectId": 1, "technicians": [43]},
    {"id": 33, "name": "Facilities desk", "projectId": 2, "technicians": [44]},
]
TECHNICIANS = [
    {"id": 40, "name": "Textdesk Integration"},  # the technician behind every sandbox token
    {"id": 41, "name": "Dana Ruiz"},
    {"id": 42, "name": "Lee Park"},
    {"id": 43, "name": "Morgan Diaz"},
    {"id": 44, "name": "Jordan Ellis"},
]
REGISTERED, IN_PROGRESS, SOLVED, CLOSED = 1, 2, 3, 4
STATES = [
    {"id": REGISTERED, "name": "Registered"},
    {"id": IN_PROGRESS, "name": "In progress"},
    {"id": SOLVED, "name": "Solved"},
    {"id": CLOSED, "name": "Closed"},
]
PRIORITY = {"id": 2, "name": "Medium"}
INTEGRATION_TECHNICIAN = 40

BY_ID = {
    "project": {p["id"]: p for p in PROJECTS},
    "item_type": {t["id"]: t for t in ITEM_TYPES},
    "service": {s["id"]: s for s in SERVICES},
    "category": {c["id"]: c for c in CATEGORIES},
    "group": {g["id"]: g for g in GROUPS},
    "technician": {t["id"]: t for t in TECHNICIANS},
    "state": {s["id"]: s for s in STATES},
}


def as_json() -> dict:
    """The catalogue as ``GET /_sandbox/catalogue`` answers it."""
    return {
        "projects": [{"id": p["id"], "name": p["name"]} for p in PROJECTS],
        "itemTypes": list(ITEM_TYPES),
        "services": list(SERVICES),
        "categories": list(CATEGORIES),
        "groups": [{"id": g["id"], "name": g["name"], "projectId": g["projectId"]} for g in GROUPS],
        "technicians": list(TECHNICIANS),
        "states": [{**s, "isClosed": s["id"] == CLOSED} for s in STATES],
    }
