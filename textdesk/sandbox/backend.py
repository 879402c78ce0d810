"""The sandbox backend: all state and every rule of the Text Request stand-in.

Shaped like a moto backend: one :class:`Backend` object holds every account in memory
(API key -> dashboards -> contacts, groups, tags, custom fields, conversations, messages,
payments, hooks), enforces the rules of CONTRACT.md and answers plain Python data that the
WSGI layer (``server.py``) turns into HTTP. Errors are :class:`SandboxError` with the real
status and message. One re-entrant lock guards everything; ids and seeded data come from
``random.Random(seed_value)`` so runs are reproducible. No Django, no other textdesk app.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .dispatch import Dispatcher, post_json
from .phones import BadPhone, count_segments, normalise_phone
from .records import UTC, Account, Contact, Dashboard, Group, Message, Payment, parse_ts

DEMO_API_KEY = "tr_demo_4f1c2a9e7b3d"
DEMO2_API_KEY = "tr_demo2_8b6e0d5a1c7f"

DEFAULT_CONFIG = {
    "rate_limit": 100,
    "rate_window": 60.0,
    "delivery_delay": 1.0,
    "webhook_retry_delays": [1.0, 5.0, 30.0, 120.0],
    "webhook_timeout": 5.0,
    "callback_timeout": 5.0,
}
FAULT_KEYS = {
    "error_rate": float,
    "latency_ms": int,
    "timeout_rate": float,
    "timeout_seconds": float,
    "outage": bool,
    "storm_429": bool,
    "storm_retry_after": (bool, int, float),
    "delivery_error_rate": float,
}

MMS_PREFIX = "https://mms.textrequest.com/"
PAY_PREFIX = "https://pay.textrequest.com/p/"
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
HOOK_EVENTS = ("msg_received", "msg_sent")
PAYMENT_SORTS = ("amount", "contact", "date", "status")
MAX_BODY = 1600
MAX_AMOUNT = 100_000
LANDLINE_ERROR = "Undeliverable: the destination is a landline"
CARRIER_ERROR = "Carrier rejected the message"

_INT = re.compile(r"^-?\d{1,12}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_PHONEISH = re.compile(r"^[0-9+().\-\s]+$")


class SandboxError(Exception):
    """An error answered to the caller: HTTP ``status`` and ``{"message": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad(message: str) -> SandboxError:
    return SandboxError(400, message)


# -- small validators -------------------------------------------------------------------------


def _opt_str(body: dict, name: str, max_len: int = 255) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    if len(value) > max_len:
        raise bad(f"{name} must be at most {max_len} characters")
    return value


def _req_str(body: dict, name: str, max_len: int = 255) -> str:
    value = _opt_str(body, name, max_len)
    if value is None or not value.strip():
        raise bad(f"{name} is required")
    return value.strip()


def _opt_bool(body: dict, name: str) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, bool):
        raise bad(f"{name} must be true or false")
    return value


def _opt_url(body: dict, name: str) -> str | None:
    value = _opt_str(body, name, 2000)
    if value is None or value == "":
        return None
    if not _URL.match(value):
        raise bad(f"{name} must be an http(s) URL")
    return value


def _query_bool(q: dict, name: str, default: bool | None = None) -> bool | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad(f"{name} must be true or false")


def _query_int(q: dict, name: str) -> int | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    if not _INT.match(raw.strip()):
        raise bad(f"{name} must be an integer")
    return int(raw)


def _phone(value: object, field: str = "phone number") -> str:
    try:
        return normalise_phone(value, field)
    except BadPhone as exc:
        raise bad(str(exc)) from None


def _as_object(body: object) -> dict:
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def _opt_out_word(body: str) -> str:
    return body.strip(" \t\r\n.!?,;:'\"").upper()


def _amount(value: object) -> float:
    if value is None:
        raise bad("amount_requested is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad("amount_requested must be a number (dollars)")
    amount = float(value)
    if not math.isfinite(amount) or amount <= 0:
        raise bad("amount_requested must be greater than 0")
    if amount > MAX_AMOUNT:
        raise bad(f"amount_requested must be at most {MAX_AMOUNT:,.2f}")
    if abs(amount * 100 - round(amount * 100)) > 1e-6:
        raise bad("amount_requested must have at most two decimal places")
    return round(amount, 2)


def _tz(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# -- the backend ------------------------------------------------------------------------------


class Backend:
    """All accounts and rules of the sandbox. Thread-safe through one re-entrant lock."""

    def __init__(
        self,
        *,
        seed: str = "demo",
        contacts: int | None = None,
        messages: int | None = None,
        dashboards: int | None = None,
        seed_value: int = 0,
        rate_limit: int = 100,
        rate_window: float = 60.0,
        delivery_delay: float = 1.0,
        webhook_retry_delays: list[float] | None = None,
        webhook_timeout: float = 5.0,
    ):
        if seed not in ("demo", "empty", "none"):
            raise ValueError("seed must be 'demo', 'empty' or 'none'")
        self._start = {
            "seed": seed,
            "contacts": contacts,
            "messages": messages,
            "dashboards": dashboards,
            "seed_value": seed_value,
        }
        self._initial_config = dict(DEFAULT_CONFIG)
        self._initial_config.update(
            rate_limit=rate_limit,
            rate_window=float(rate_window),
            delivery_delay=float(delivery_delay),
            webhook_timeout=float(webhook_timeout),
        )
        if webhook_retry_delays is not None:
            self._initial_config["webhook_retry_delays"] = [float(x) for x in webhook_retry_delays]
        self.lock = threading.RLock()
        self.dispatcher = Dispatcher()
        self._reset_state()

    # -- state, ids, clock --------------------------------------------------------------------

    def _reset_state(self) -> None:
        from . import seeding

        with self.lock:
            self.dispatcher.clear()
            self.config = dict(self._initial_config)
            self.config["webhook_retry_delays"] = list(self.config["webhook_retry_delays"])
            self.faults: dict = {}
            self.accounts: dict[str, Account] = {}
            self.dashboards: dict[int, Dashboard] = {}
            self.phones_in_use: dict[str, int] = {}
            self.clock_offset_ms = 0
            self._ids = {
                "dashboard": 121,
                "group": 40472,
                "payment": 2510,
                "hook": 1,
                "account": 5001,
                "conversation": 700001,
                "number": 0,
                "key": 1,
            }
            seed_value = self._start["seed_value"]
            self.rng = random.Random(seed_value)
            self.fault_rng = random.Random(seed_value + 1)
            if self._start["seed"] == "demo":
                seeding.seed_demo_accounts(
                    self,
                    contacts=self._start["contacts"],
                    messages=self._start["messages"],
                    dashboards=self._start["dashboards"],
                    seed_value=seed_value,
                )
            elif self._start["seed"] == "empty":
                seeding.seed_account(
                    self, self.new_account_record(DEMO_API_KEY), "empty", 0, 0, 1, seed_value
                )

    def next_id(self, kind: str) -> int:
        value = self._ids[kind]
        self._ids[kind] = value + 1
        return value

    def new_guid(self, rng: random.Random | None = None) -> str:
        s = f"{(rng or self.rng).getrandbits(128):032x}"
        return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:]}"

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def new_account_record(self, key: str | None = None) -> Account:
        if key is None:
            key = f"tr_test_{self.next_id('key'):05d}{self.rng.getrandbits(32):08x}"
        acct = Account(key, self.next_id("account"))
        self.accounts[key] = acct
        return acct

    def new_dashboard_record(self, acct: Account, name: str, phone: str | None = None) -> Dashboard:
        if phone is None:
            phone = self._next_line_number()
        dash = Dashboard(self.next_id("dashboard"), name, phone, acct)
        acct.dashboards[dash.id] = dash
        self.dashboards[dash.id] = dash
        self.phones_in_use[phone] = dash.id
        return dash

    _AREA_CODES = ("423", "615", "865", "901", "404", "678", "704", "919", "312", "512")

    def _next_line_number(self) -> str:
        while True:
            n = self.next_id("number")
            npa = self._AREA_CODES[(n // 8_000_000) % len(self._AREA_CODES)]
            nxx = 200 + (n // 10_000) % 800
            if nxx == 555:
                continue
            number = f"{npa}{nxx:03d}{n % 10_000:04d}"
            if number not in self.phones_in_use:
                return number

    # -- configuration, faults, admission -----------------------------------------------------

    def cfg(self, acct: Account | None, name: str):
        if acct is not None and name in acct.config:
            return acct.config[name]
        return self.config[name]

    def account(self, key: str | None) -> Account:
        acct = self.accounts.get(key or "")
        if acct is None:
            if not key:
                raise SandboxError(401, "Missing API key: send it in the x-api-key header")
            raise SandboxError(401, "Unknown API key")
        return acct

    def admit(self, key: str | None, operation: str) -> dict:
        """Check auth, faults and the rate limit for one API call; answer the delay plan.

        Refused calls (401, 503 outage, 429) do not consume the rate budget. A call that
        passes the limit consumes it, even if a fault then answers 500.
        """
        with self.lock:
            acct = self.account(key)
            acct.calls[operation] += 1
            faults = acct.faults if acct.faults is not None else self.faults
            if faults.get("outage"):
                raise SandboxError(503, "Service unavailable (sandbox outage)")
            if faults.get("storm_429"):
                acct.rate_limited += 1
                headers = {}
                retry = faults.get("storm_retry_after")
                if retry:
                    seconds = 1 if retry is True else max(1, math.ceil(retry))
                    headers["Retry-After"] = str(seconds)
                raise SandboxError(429, "Too many requests (sandbox 429 storm)", headers)
            limit = int(self.cfg(acct, "rate_limit"))
            window = float(self.cfg(acct, "rate_window"))
            now = time.monotonic()
            calls = acct.window
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= limit:
                acct.rate_limited += 1
                oldest = calls[len(calls) - limit] if len(calls) >= limit else calls[0]
                retry_after = max(1, math.ceil(oldest + window - now))
                raise SandboxError(
                    429,
                    f"Rate limit exceeded: {limit} calls per {window:g} seconds",
                    {"Retry-After": str(retry_after)},
                )
            calls.append(now)
            if faults.get("error_rate") and self.fault_rng.random() < faults["error_rate"]:
                raise SandboxError(500, "Internal server error (sandbox fault)")
            plan = {"latency": faults.get("latency_ms", 0) / 1000.0, "timeout": 0.0}
            if faults.get("timeout_rate") and self.fault_rng.random() < faults["timeout_rate"]:
                plan["timeout"] = float(faults.get("timeout_seconds", 30.0))
            return plan

    def set_faults(self, body: object) -> dict:
        body = _as_object(body)
        faults = {}
        for name, value in body.items():
            if name == "api_key":
                continue
            kind = FAULT_KEYS.get(name)
            if kind is None:
                raise bad(f"Unknown fault {name!r}; known: {', '.join(sorted(FAULT_KEYS))}")
            if kind is bool and not isinstance(value, bool):
                raise bad(f"{name} must be true or false")
            if kind in (int, float) and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise bad(f"{name} must be a number")
            if name.endswith("_rate") and not 0 <= value <= 1:
                raise bad(f"{name} must be between 0 and 1")
            faults[name] = value
        with self.lock:
            key = body.get("api_key")
            if key:
                self.account(key).faults = faults
            else:
                self.faults = faults
                for acct in self.accounts.values():
                    acct.faults = None
        return {"faults": faults, "api_key": key or None}

    def clear_faults(self, key: str | None = None) -> dict:
        with self.lock:
            if key:
                self.account(key).faults = None
            else:
                self.faults = {}
                for acct in self.accounts.values():
                    acct.faults = None
        return {"faults": {}}

    def configure(self, body: object) -> dict:
        body = _as_object(body)
        changes = {}
        for name, value in body.items():
            if name == "api_key":
                continue
            if name not in DEFAULT_CONFIG:
                raise bad(f"Unknown setting {name!r}; known: {', '.join(sorted(DEFAULT_CONFIG))}")
            if name == "webhook_retry_delays":
                if not isinstance(value, list) or not all(
                    isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in value
                ):
                    raise bad("webhook_retry_delays must be a list of seconds")
                value = [float(x) for x in value]
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise bad(f"{name} must be a number >= 0")
            elif name == "rate_limit" and (int(value) != value or value < 1):
                raise bad("rate_limit must be a whole number >= 1")
            elif name == "rate_window" and value <= 0:
                raise bad("rate_window must be > 0")
            changes[name] = value
        with self.lock:
            key = body.get("api_key")
            target = self.account(key).config if key else self.config
            target.update(changes)
            if key:
                return {"api_key": key, "config": {**self.config, **target}}
            return {"config": dict(self.config)}

    def advance_clock(self, seconds: float) -> dict:
        with self.lock:
            if seconds < 0:
                raise bad("the clock only moves forward")
            self.clock_offset_ms += int(seconds * 1000)
            return {"offset_seconds": self.clock_offset_ms / 1000}

    def reset(self) -> None:
        """Everything back to the startup state (seed, config, faults, counters)."""
        self._reset_state()

    # -- lookups ------------------------------------------------------------------------------

    def _dash(self, key: str, dashboard_id: int) -> Dashboard:
        acct = self.account(key)
        dash = acct.dashboards.get(dashboard_id)
        if dash is None:
            raise SandboxError(404, f"Dashboard {dashboard_id} not found in this account")
        return dash

    @staticmethod
    def _paging(q: dict, required: bool = True) -> tuple[int, int]:
        page = _query_int(q, "page")
        size = _query_int(q, "page_size")
        if page is None:
            if required:
                raise bad("page is required (0-based page number)")
            page = 0
        if size is None:
            if required:
                raise bad("page_size is required (1 to 100)")
            size = 50
        if page < 0:
            raise bad("page must be 0 or more")
        if not 1 <= size <= 100:
            raise bad("page_size must be between 1 and 100")
        return page, size

    @staticmethod
    def _page(items: list, page: int, size: int, render: Callable) -> dict:
        chunk = items[page * size : page * size + size]
        return {
            "meta": {"page": page, "page_size": len(chunk), "total_items": len(items)},
            "items": [render(x) for x in chunk],
        }

    # -- dashboards ---------------------------------------------------------------------------

    def get_dashboards(self, key: str, q: dict) -> dict:
        with self.lock:
            acct = self.account(key)
            page, size = self._paging(q)
            return self._page(list(acct.dashboards.values()), page, size, Dashboard.as_json)

    def get_dashboard(self, key: str, dashboard_id: int) -> dict:
        with self.lock:
            return self._dash(key, dashboard_id).as_json()

    def provisioning(self, key: str, q: dict) -> dict:
        with self.lock:
            self.account(key)
            area = (q.get("area_code") or "").strip()
            if not area:
                raise bad("area_code is required (3 digits)")
            if not re.fullmatch(r"[2-9]\d\d", area) or area[1:] == "11":
                raise bad(f"area_code {area!r} is not a valid US area code")
            free = []
            for line in range(100, 200):
                number = f"{area}555{line:04d}"
                if number not in self.phones_in_use:
                    free.append(number)
                if len(free) == 10:
                    break
            return {"area_code": area, "numbers": free}

    def create_dashboard(self, key: str, body: object) -> dict:
        body = _as_object(body)
        name = _req_str(body, "name", 100)
        if body.get("phone") is None:
            raise bad("phone is required (a provisioned number, see GET /dashboards/provisioning)")
        phone = _phone(body.get("phone"), "phone")
        with self.lock:
            acct = self.account(key)
            if phone in self.phones_in_use:
                raise bad(f"Phone number {phone} is already in use by a dashboard")
            if phone[3:6] != "555" or not 100 <= int(phone[6:]) <= 199:
                raise bad(
                    f"Phone number {phone} is not a provisioned number; "
                    "find free numbers with GET /dashboards/provisioning?area_code=NNN"
                )
            return self.new_dashboard_record(acct, name, phone).as_json()

    def update_dashboard(self, key: str, dashboard_id: int, body: object) -> dict:
        body = _as_object(body)
        name = _req_str(body, "name", 100)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            dash.name = name
            return dash.as_json()

    def delete_dashboard(self, key: str, dashboard_id: int) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            del dash.account.dashboards[dash.id]
            del self.dashboards[dash.id]
            self.phones_in_use.pop(dash.phone, None)

    # -- contacts -----------------------------------------------------------------------------

    def _contact_changes(self, dash: Dashboard, body: dict, where: str = "") -> dict:
        """Validate a create-or-update body; answer only the fields it sets."""
        changes: dict = {}
        try:
            for name in ("first_name", "last_name", "display_name"):
                if name in body:
                    changes[name] = _opt_str(body, name, 100)
            for name in ("suppressed_reason", "note"):
                if name in body:
                    changes[name] = _opt_str(body, name, 1000)
            for name in ("is_suppressed", "is_archived", "is_blocked", "is_resolved"):
                value = _opt_bool(body, name)
                if value is not None:
                    changes[name] = value
            if "groups" in body:
                groups = body["groups"]
                if not isinstance(groups, list) or not all(
                    isinstance(g, int) and not isinstance(g, bool) for g in groups
                ):
                    raise bad("groups must be an array of integer group ids")
                for gid in groups:
                    if gid not in dash.groups:
                        raise bad(f"Unknown group id {gid} in groups")
                changes["groups"] = list(dict.fromkeys(groups))
            if "contact_tags" in body:
                tags = body["contact_tags"]
                if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                    raise bad("contact_tags must be an array of tag ids (GUID strings)")
                for tag in tags:
                    if tag not in dash.tags:
                        raise bad(f"Unknown tag id {tag!r} in contact_tags")
                changes["contact_tags"] = list(dict.fromkeys(tags))
            if "custom_fields" in body:
                fields = body["custom_fields"]
                if not isinstance(fields, list):
                    raise bad("custom_fields must be an array of {id, value} objects")
                parsed = []
                for item in fields:
                    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                        raise bad("each custom_fields item must be an object with a string id")
                    if item["id"] not in dash.fields:
                        raise bad(f"Unknown custom field id {item['id']!r} in custom_fields")
                    value = item.get("value")
                    if value is not None and not isinstance(value, str):
                        raise bad("custom_fields value must be a string")
                    if value is not None and len(value) > 1000:
                        raise bad("custom_fields value must be at most 1000 characters")
                    parsed.append((item["id"], value))
                changes["custom_fields"] = parsed
        except SandboxError as exc:
            if where:
                exc.message = f"{where}: {exc.message}"
            raise
        return changes

    def _new_contact(self, dash: Dashboard, phone: str) -> Contact:
        contact = Contact(phone, self.now_ms(), self.next_id("conversation"))
        dash.contacts[phone] = contact
        dash.list_cache.clear()
        return contact

    def _apply_contact(self, dash: Dashboard, phone: str, changes: dict) -> Contact:
        dash.list_cache.clear()
        contact = dash.contacts.get(phone) or self._new_contact(dash, phone)
        old_composed = " ".join(x for x in (contact.first_name, contact.last_name) if x) or None
        for name in ("first_name", "last_name", "suppressed_reason", "note"):
            if name in changes:
                setattr(contact, name, changes[name])
        if "display_name" in changes:
            contact.display_name = changes["display_name"]
        elif ("first_name" in changes or "last_name" in changes) and (
            contact.display_name is None or contact.display_name == old_composed
        ):
            composed = " ".join(x for x in (contact.first_name, contact.last_name) if x)
            contact.display_name = composed or None
        for name in ("is_suppressed", "is_archived", "is_blocked", "is_resolved"):
            if name in changes:
                setattr(contact, name, changes[name])
        if "groups" in changes:
            for gid in contact.groups:
                if gid in dash.groups:
                    dash.groups[gid].members.discard(phone)
            contact.groups = changes["groups"]
            for gid in contact.groups:
                dash.groups[gid].members.add(phone)
        if "contact_tags" in changes:
            contact.tags = changes["contact_tags"]
        for field_id, value in changes.get("custom_fields", ()):
            if value is None or value == "":
                contact.custom_fields.pop(field_id, None)
            else:
                contact.custom_fields[field_id] = value
        return contact

    def create_contact(self, key: str, dashboard_id: int, phone: str, body: object) -> dict:
        body = _as_object(body)
        phone = _phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            changes = self._contact_changes(dash, body)
            return self._apply_contact(dash, phone, changes).as_json()

    def bulk_update_contacts(self, key: str, dashboard_id: int, body: object) -> list:
        if not isinstance(body, list):
            raise bad("The request body must be a JSON array of contacts")
        if len(body) > 1000:
            raise bad("At most 1000 contacts per bulk update")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            planned = []
            for i, item in enumerate(body):
                where = f"item {i}"
                if not isinstance(item, dict):
                    raise bad(f"{where}: each contact must be a JSON object")
                if item.get("phone_number") is None:
                    raise bad(f"{where}: phone_number is required")
                try:
                    phone = normalise_phone(item["phone_number"], "phone_number")
                except BadPhone as exc:
                    raise bad(f"{where}: {exc}") from None
                planned.append((phone, self._contact_changes(dash, item, where)))
            return [self._apply_contact(dash, p, c).as_json() for p, c in planned]

    def get_contact(self, key: str, dashboard_id: int, phone: str) -> dict | None:
        phone = _phone(phone)
        with self.lock:
            contact = self._dash(key, dashboard_id).contacts.get(phone)
            return contact.as_json() if contact else None

    def delete_contact(self, key: str, dashboard_id: int, phone: str) -> str:
        phone = _phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is None:
                raise SandboxError(404, f"No contact with phone number {phone} in this dashboard")
            if contact.messages:
                raise bad(f"Contact {phone} has message history and cannot be deleted")
            for gid in contact.groups:
                if gid in dash.groups:
                    dash.groups[gid].members.discard(phone)
            del dash.contacts[phone]
            dash.list_cache.clear()
            return "Contact deleted."

    def get_contacts(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q)
            cache_key = _cache_key("contacts", q)
            matches = dash.list_cache.get(cache_key)
            if matches is None:
                matches = list(dash.contacts.values())
                for test in self._contact_filters(dash, q):
                    matches = [c for c in matches if test(c)]
                _remember(dash, cache_key, matches)
            return self._page(matches, page, size, Contact.as_json)

    def _contact_filters(self, dash: Dashboard, q: dict) -> list[Callable[[Contact], bool]]:
        tests: list[Callable[[Contact], bool]] = []
        local = _tz(dash.account.timezone)
        if q.get("contact_phone_number"):
            wanted = _phone(q["contact_phone_number"], "contact_phone_number")
            tests.append(lambda c: c.phone == wanted)
        time_filters = (
            # (query parameter, attribute, naive timestamps are read as, compare)
            ("last_message_timestamp_before_utc", "last_contact_at", UTC, "le"),
            ("last_message_timestamp_after_utc", "last_contact_at", UTC, "ge"),
            ("contact_created_before", "created_at", UTC, "le"),
            ("contact_created_after", "created_at", UTC, "ge"),
            ("last_message_sent_before", "last_sent_at", local, "le"),
            ("last_message_sent_after", "last_sent_at", local, "ge"),
            ("last_message_received_before", "last_received_at", local, "le"),
            ("last_message_received_after", "last_received_at", local, "ge"),
            ("last_message_sent_before_utc", "last_sent_at", UTC, "le"),
            ("last_message_sent_after_utc", "last_sent_at", UTC, "ge"),
            ("last_message_received_before_utc", "last_received_at", UTC, "le"),
            ("last_message_received_after_utc", "last_received_at", UTC, "ge"),
        )
        for param, attr, tz, cmp in time_filters:
            raw = q.get(param)
            if not raw:
                continue
            try:
                cutoff = parse_ts(raw, tz)
            except (ValueError, OverflowError):
                raise bad(f"{param} must be an ISO 8601 date-time, got {raw!r}") from None
            getter = _last_contact_at if attr == "last_contact_at" else _attr_getter(attr)
            if cmp == "le":
                tests.append(lambda c, g=getter, t=cutoff: (v := g(c)) is not None and v <= t)
            else:
                tests.append(lambda c, g=getter, t=cutoff: (v := g(c)) is not None and v >= t)
        for name in ("is_resolved", "is_blocked", "is_archived", "is_suppressed"):
            wanted_flag = _query_bool(q, name)
            if wanted_flag is not None:
                tests.append(lambda c, n=name, w=wanted_flag: getattr(c, n) is w)
        opted = _query_bool(q, "has_opted_out")
        if opted is not None:
            tests.append(lambda c, w=opted: (c.opted_out_at is not None) is w)
        tag_ids = self._tag_list(dash, q.get("tags"))
        if tag_ids:
            tests.append(lambda c, s=tag_ids: not s.isdisjoint(c.tags))
        if q.get("groups"):
            members: set[str] = set()
            for raw in q["groups"].split(","):
                raw = raw.strip()
                if not raw:
                    continue
                if not _INT.match(raw):
                    raise bad(f"groups must be comma-separated integer ids, got {raw!r}")
                group = dash.groups.get(int(raw))
                if group is None:
                    raise bad(f"Unknown group id {raw} in groups")
                members |= group.members
            tests.append(lambda c, m=members: c.phone in m)
        for i in (1, 2, 3):
            field_id = q.get(f"custom_field_id_{i}")
            value = q.get(f"custom_field_value_{i}")
            if not field_id and value is None:
                continue
            if not field_id:
                raise bad(f"custom_field_value_{i} needs custom_field_id_{i}")
            if field_id not in dash.fields:
                raise bad(f"Unknown custom field id {field_id!r} in custom_field_id_{i}")
            if value is None:
                raise bad(f"custom_field_id_{i} needs custom_field_value_{i}")
            wanted_value = value.casefold()
            tests.append(
                lambda c, f=field_id, v=wanted_value: (c.custom_fields.get(f) or "").casefold() == v
            )
        return tests

    @staticmethod
    def _tag_list(dash: Dashboard, raw: str | None) -> set[str]:
        if not raw:
            return set()
        ids = {t.strip() for t in raw.split(",") if t.strip()}
        for tag in ids:
            if tag not in dash.tags:
                raise bad(f"Unknown tag id {tag!r} in tags")
        return ids

    # -- conversations and messages -----------------------------------------------------------

    def get_conversations(self, key: str, dashboard_id: int, q: dict) -> dict | None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q, required=False)
            tag_ids = self._tag_list(dash, q.get("tags"))
            unresolved_only = _query_bool(q, "show_unresolved_only", False)
            include_archived = _query_bool(q, "include_archived", False)
            search = (q.get("search") or "").strip()
            digits = re.sub(r"\D", "", search) if _PHONEISH.match(search or "x") else ""
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            needle = search.casefold()
            cache_key = _cache_key("conversations", q)
            matches = dash.list_cache.get(cache_key)
            if matches is not None:
                return self._page(matches, page, size, _conversation_json) if matches else None
            matches = list(reversed(dash.conv_order.values()))
            if not include_archived:
                matches = [c for c in matches if not c.is_archived]
            if unresolved_only:
                matches = [c for c in matches if not c.is_resolved]
            if tag_ids:
                matches = [c for c in matches if not tag_ids.isdisjoint(c.tags)]
            if search and digits:
                matches = [c for c in matches if digits in c.phone]
            elif search:
                matches = [c for c in matches if needle in _names(c)]
            _remember(dash, cache_key, matches)
            if not matches:
                return None
            return self._page(matches, page, size, _conversation_json)

    def get_messages(self, key: str, dashboard_id: int, phone: str, q: dict) -> dict | None:
        phone = _phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q)
            contact = dash.contacts.get(phone)
            if contact is None or not contact.messages:
                return None
            msgs = contact.messages
            end = len(msgs) - page * size
            chunk = msgs[max(0, end - size) : end][::-1] if end > 0 else []
            return {
                "meta": {"page": page, "page_size": len(chunk), "total_items": len(msgs)},
                "items": [m.as_json() for m in chunk],
            }

    def _set_archived(self, key: str, dashboard_id: int, phone: str, value: bool) -> str:
        phone = _phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is None:
                raise bad(f"No conversation with {phone} in this dashboard")
            contact.is_archived = value
            dash.list_cache.clear()
            return "Conversation archived." if value else "Conversation unarchived."

    def archive_conversation(self, key: str, dashboard_id: int, phone: str) -> str:
        return self._set_archived(key, dashboard_id, phone, True)

    def unarchive_conversation(self, key: str, dashboard_id: int, phone: str) -> str:
        return self._set_archived(key, dashboard_id, phone, False)

    def _add_message(self, dash: Dashboard, contact: Contact, msg: Message) -> None:
        """Append a message and keep the contact's counters and the conversation order."""
        previous = contact.messages[-1] if contact.messages else None
        contact.messages.append(msg)
        dash.list_cache.clear()
        if contact.first_contact_at is None:
            contact.first_contact_at = msg.at
        if msg.direction == "S":
            contact.last_sent_at = msg.at
            contact.total_sent += 1
        else:
            contact.last_received_at = msg.at
            contact.total_received += 1
            contact.is_resolved = False
            if previous is not None and previous.direction == "S":
                contact.response_count += 1
        contact.is_archived = False  # any new text, either direction, unarchives
        dash.conv_order.pop(contact.phone, None)
        dash.conv_order[contact.phone] = contact

    def _sendable(self, contact: Contact) -> None:
        if contact.is_blocked:
            raise bad(f"Contact {contact.phone} is blocked; texts to it are not sent")
        if contact.opted_out_at is not None:
            raise bad(f"Contact {contact.phone} has opted out (STOP); texts to it are not sent")

    def _send(
        self,
        dash: Dashboard,
        contact: Contact,
        body: str,
        username: str,
        media: tuple = (),
        status_callback: str | None = None,
    ) -> dict:
        """Queue an outbound text: it starts ``sending`` and settles after the delivery delay.

        Answers the message as it was accepted (``sending``), even when the delay is 0.
        """
        acct = dash.account
        msg = Message(
            self.new_guid(), "S", body, username, self.now_ms(), "sending", None, media,
            contact.phone, dash.id,
        )  # fmt: skip
        msg.status_callback = status_callback
        self._add_message(dash, contact, msg)
        faults = acct.faults if acct.faults is not None else self.faults
        error = None
        if contact.phone.endswith("0000"):
            error = LANDLINE_ERROR
        elif faults.get("delivery_error_rate") and (
            self.fault_rng.random() < faults["delivery_error_rate"]
        ):
            error = CARRIER_ERROR
        acct.sent[(dash.id, contact.phone, body)] += 1
        if error is None:
            acct.delivered[(dash.id, contact.phone, body)] += 1
        self._fire_hooks(dash, contact, msg, "msg_sent")
        accepted = msg.as_json()
        delay = float(self.cfg(acct, "delivery_delay"))
        if delay <= 0:
            self._settle(msg, acct, error)
        else:
            self.dispatcher.schedule(delay, lambda: self._settle_locked(msg, acct, error))
        return accepted

    def _settle_locked(self, msg: Message, acct: Account, error: str | None) -> None:
        with self.lock:
            if self.accounts.get(acct.key) is not acct:
                return  # reset since
            self._settle(msg, acct, error)

    def _settle(self, msg: Message, acct: Account, error: str | None) -> None:
        if msg.status != "sending":
            return
        msg.status = "error" if error else "delivered"
        msg.error = error
        if msg.status_callback:
            payload = {
                "message_id": msg.id,
                "delivery_status": msg.status,
                "delivery_error": msg.error,
            }
            url, timeout = msg.status_callback, float(self.cfg(acct, "callback_timeout"))

            def call() -> None:
                post_json(url, payload, timeout)
                with self.lock:
                    acct.status_callbacks += 1

            self.dispatcher.schedule(0, call)

    def send_message(self, key: str, dashboard_id: int, phone: str, body: object) -> dict:
        body = _as_object(body)
        phone = _phone(phone)
        text = body.get("body")
        if text is not None and not isinstance(text, str):
            raise bad("body must be a string")
        media = body.get("mms_media")
        if media is None:
            media = []
        if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
            raise bad("mms_media must be an array of URL strings")
        if len(media) > 10:
            raise bad("mms_media takes at most 10 attachments")
        for url in media:
            if not url.startswith(MMS_PREFIX):
                raise bad(
                    f"mms_media {url!r} is not a Text Request MMS url; external links are refused"
                )
        if not (text or "").strip() and not media:
            raise bad("body is required (the text of the message)")
        text = text or ""
        if len(text) > MAX_BODY:
            raise bad(f"body must be at most {MAX_BODY} characters")
        sender = _opt_str(body, "sender_name", 100)
        callback = _opt_url(body, "status_callback")
        _opt_url(body, "location_callback")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is not None:
                self._sendable(contact)
            else:
                contact = self._new_contact(dash, phone)
            return self._send(dash, contact, text, sender or "API", tuple(media), callback)

    # -- webhooks -----------------------------------------------------------------------------

    def _fire_hooks(self, dash: Dashboard, contact: Contact, msg: Message, event: str) -> None:
        hooks = [h for h in dash.hooks.values() if h["event"] == event]
        if not hooks:
            return
        acct = dash.account
        payload = {
            "messageUniqueIdentifier": msg.id,
            "account": {"id": acct.id},
            "yourPhoneNumber": {"id": dash.id, "description": dash.name, "phoneNumber": dash.phone},
            "conversation": {
                "id": contact.conversation_id,
                "date": msg.as_json()["message_timestamp_utc"],
                "consumerPhoneNumber": contact.phone,
                "messageDirection": msg.direction,
                "message": msg.body,
                "numSegments": count_segments(msg.body),
                "status": msg.status,
                "claimedBy": None,
                "consumerFriendlyName": contact.display_name,
            },
        }
        delays = list(self.cfg(acct, "webhook_retry_delays"))
        timeout = float(self.cfg(acct, "webhook_timeout"))
        for hook in hooks:
            self._schedule_webhook(acct, dash, hook, payload, delays, timeout, 0, 0.0)

    def _schedule_webhook(self, acct, dash, hook, payload, delays, timeout, attempt, delay):
        def deliver() -> None:
            with self.lock:
                if (
                    dash.hooks.get(hook["id"]) is not hook
                    or self.accounts.get(acct.key) is not acct
                ):
                    return  # unsubscribed or reset since
            status = post_json(hook["target_url"], payload, timeout)
            ok = status is not None and 200 <= status < 300
            with self.lock:
                acct.webhook_deliveries += 1
                if not ok:
                    acct.webhook_failures += 1
            if not ok and attempt < len(delays):
                self._schedule_webhook(
                    acct, dash, hook, payload, delays, timeout, attempt + 1, delays[attempt]
                )

        self.dispatcher.schedule(delay, deliver)

    def get_hooks(self, key: str, dashboard_id: int) -> list:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            return [_hook_json(h) for h in dash.hooks.values()]

    def create_hook(self, key: str, dashboard_id: int, body: object) -> dict:
        body = _as_object(body)
        event = body.get("event")
        if event not in HOOK_EVENTS:
            raise bad(f"event must be one of {', '.join(HOOK_EVENTS)}")
        target = _opt_url(body, "target_url")
        if target is None:
            raise bad("target_url is required (an http(s) URL)")
        verb = body.get("http_verb", "POST")
        if not isinstance(verb, str) or verb.upper() != "POST":
            raise bad("http_verb must be POST")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            hook = {"id": self.next_id("hook"), "event": event, "target_url": target}
            dash.hooks[hook["id"]] = hook
            return _hook_json(hook)

    def delete_hook(self, key: str, dashboard_id: int, hook_id: int) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            if dash.hooks.pop(hook_id, None) is None:
                raise SandboxError(404, f"Hook {hook_id} not found on dashboard {dashboard_id}")

    # -- groups, tags, custom fields ----------------------------------------------------------

    def get_groups(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q)
            return self._page(list(dash.groups.values()), page, size, Group.as_json)

    def get_group(self, key: str, dashboard_id: int, group_id: int) -> dict | None:
        with self.lock:
            group = self._dash(key, dashboard_id).groups.get(group_id)
            return group.as_json() if group else None

    def create_group(self, key: str, dashboard_id: int, body: object) -> dict:
        body = _as_object(body)
        name = _req_str(body, "name", 100)
        notes = _opt_str(body, "notes", 1000)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            group = Group(self.next_id("group"), name, notes)
            dash.groups[group.id] = group
            return group.as_json()

    def update_group(self, key: str, dashboard_id: int, group_id: int, body: object) -> dict:
        body = _as_object(body)
        name = _req_str(body, "name", 100) if "name" in body else None
        notes = _opt_str(body, "notes", 1000)
        with self.lock:
            group = self._dash(key, dashboard_id).groups.get(group_id)
            if group is None:
                raise bad(f"Group {group_id} does not exist in this dashboard")
            if name is not None:
                group.name = name
            if "notes" in body:
                group.notes = notes
            return group.as_json()

    def delete_group(self, key: str, dashboard_id: int, group_id: int) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            group = dash.groups.pop(group_id, None)
            if group is None:
                raise SandboxError(404, f"Group {group_id} not found in this dashboard")
            dash.list_cache.clear()
            for phone in group.members:
                contact = dash.contacts.get(phone)
                if contact is not None:
                    contact.groups = [g for g in contact.groups if g != group_id]

    def get_tags(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q)
            return self._page(list(dash.tags.values()), page, size, dict)

    def get_fields(self, key: str, dashboard_id: int) -> list:
        with self.lock:
            return [dict(f) for f in self._dash(key, dashboard_id).fields.values()]

    # -- payments -----------------------------------------------------------------------------

    def _payment_json(self, dash: Dashboard, payment: Payment) -> dict:
        contact = dash.contacts.get(payment.phone)
        return payment.as_json(self.now_ms(), contact.display_name if contact else None)

    def _payment(self, dash: Dashboard, payment_id: int) -> Payment:
        payment = dash.payments.get(payment_id)
        if payment is None:
            raise bad(f"Payment {payment_id} does not exist in this dashboard")
        return payment

    @staticmethod
    def _open(payment: Payment, action: str) -> None:
        if payment.status != "Sent":
            raise bad(f"Payment {payment.id} is already {payment.status.lower()}; cannot {action}")

    def get_payments(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = self._paging(q)
            sort_type = (q.get("sort_type") or "date").strip().lower()
            if sort_type not in PAYMENT_SORTS:
                raise bad(f"sort_type must be one of {', '.join(PAYMENT_SORTS)}")
            direction = (q.get("sort_direction") or "desc").strip().lower()
            if direction not in ("asc", "desc"):
                raise bad("sort_direction must be asc or desc")
            payments = list(dash.payments.values())
            if q.get("reference_number"):
                payments = [p for p in payments if p.reference == q["reference_number"]]
            if q.get("phone_number"):
                phone = _phone(q["phone_number"], "phone_number")
                payments = [p for p in payments if p.phone == phone]

            def name(p: Payment) -> str:
                contact = dash.contacts.get(p.phone)
                return ((contact.display_name if contact else None) or "").casefold()

            keys = {
                "amount": lambda p: (p.amount, p.id),
                "contact": lambda p: (name(p), p.phone, p.id),
                "date": lambda p: (p.request_at, p.id),
                "status": lambda p: (p.status, p.id),
            }
            payments.sort(key=keys[sort_type], reverse=direction == "desc")
            return self._page(payments, page, size, lambda p: self._payment_json(dash, p))

    def get_payment(self, key: str, dashboard_id: int, payment_id: int) -> dict | None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = dash.payments.get(payment_id)
            return self._payment_json(dash, payment) if payment else None

    def create_payment(self, key: str, dashboard_id: int, body: object) -> dict:
        body = _as_object(body)
        if body.get("customer_phone") is None:
            raise bad("customer_phone is required")
        phone = _phone(body.get("customer_phone"), "customer_phone")
        amount = _amount(body.get("amount_requested"))
        message = _req_str(body, "message", 1000)
        description = _opt_str(body, "description", 500)
        reference = _opt_str(body, "reference_number", 100)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is not None:
                self._sendable(contact)
            else:
                contact = self._new_contact(dash, phone)
            token = f"{self.rng.getrandbits(48):012x}"
            payment = Payment(
                self.next_id("payment"), self.now_ms(), description, phone, amount, message,
                reference, token,
            )  # fmt: skip
            dash.payments[payment.id] = payment
            self._send(dash, contact, f"{message}\n{PAY_PREFIX}{token}", "Payments")
            return self._payment_json(dash, payment)

    def mark_payment_paid(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "mark it paid")
            payment.status = "Paid"
            return self._payment_json(dash, payment)

    def send_payment_reminder(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "send a reminder")
            if payment.reminder_sent:
                raise bad(
                    f"A reminder was already sent for payment {payment.id}; only one is allowed"
                )
            contact = dash.contacts.get(payment.phone) or self._new_contact(dash, payment.phone)
            self._sendable(contact)
            payment.reminder_sent = True
            text = (
                f"Reminder from {dash.name}: your payment of ${payment.amount:,.2f} is still "
                f"open. Pay securely here: {PAY_PREFIX}{payment.token}"
            )
            self._send(dash, contact, text, "Payments")
            return self._payment_json(dash, payment)

    def cancel_payment(self, key: str, dashboard_id: int, payment_id: int) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "cancel it")
            payment.status = "Canceled"
            contact = dash.contacts.get(payment.phone)
            if contact is not None and not contact.is_blocked and contact.opted_out_at is None:
                text = (
                    f"{dash.name}: your payment request of ${payment.amount:,.2f} has been "
                    "canceled. No payment is needed for this request."
                )
                self._send(dash, contact, text, "Payments")
            return self._payment_json(dash, payment)

    # -- the world (control API) --------------------------------------------------------------

    def create_account(
        self,
        seed: str = "empty",
        contacts: int | None = None,
        messages: int | None = None,
        dashboards: int | None = None,
        seed_value: int | None = None,
    ) -> dict:
        """A brand-new isolated account; answers its key and dashboard ids."""
        from . import seeding

        if seed not in ("demo", "empty"):
            raise bad("seed must be 'demo' or 'empty'")
        for name, value in (("contacts", contacts), ("messages", messages)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000
            ):
                raise bad(f"{name} must be an integer from 0 to 1000000")
        if dashboards is not None and (
            isinstance(dashboards, bool)
            or not isinstance(dashboards, int)
            or not 0 <= dashboards <= 20
        ):
            raise bad("dashboards must be an integer from 0 to 20")
        if seed_value is not None and (
            isinstance(seed_value, bool) or not isinstance(seed_value, int)
        ):
            raise bad("seed_value must be an integer")
        with self.lock:
            acct = self.new_account_record()
            seeding.seed_account(
                self,
                acct,
                seed,
                contacts,
                messages,
                dashboards,
                self._start["seed_value"] if seed_value is None else seed_value,
            )
            return {"api_key": acct.key, "dashboards": list(acct.dashboards)}

    def inbound(
        self,
        key: str,
        dashboard_id: int,
        phone: object,
        body: object,
        media_urls: object = None,
    ) -> dict:
        """A customer texts the dashboard: STOP/START honoured, webhooks fire."""
        phone = _phone(phone, "phone_number")
        if body is None:
            body = ""
        if not isinstance(body, str):
            raise bad("body must be a string")
        media_urls = media_urls or []
        if not isinstance(media_urls, list) or not all(
            isinstance(u, str) and _URL.match(u) for u in media_urls
        ):
            raise bad("media_urls must be an array of http(s) URLs")
        if not body.strip() and not media_urls:
            raise bad("body is required (or media_urls)")
        if len(body) > MAX_BODY:
            raise bad(f"body must be at most {MAX_BODY} characters")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone) or self._new_contact(dash, phone)
            if contact.is_blocked:
                return {"message_id": None, "stored": False, "reason": "contact is blocked"}
            msg_id = self.new_guid()
            media = tuple(
                f"{MMS_PREFIX}sandbox/{msg_id[:8]}/{i}-{u.rstrip('/').rsplit('/', 1)[-1][:60]}"
                for i, u in enumerate(media_urls)
            )
            msg = Message(msg_id, "R", body, None, self.now_ms(), "delivered", None, media,
                          phone, dash.id)  # fmt: skip
            self._add_message(dash, contact, msg)
            word = _opt_out_word(body)
            if word in OPT_OUT_WORDS:
                contact.opted_out_at = msg.at
                contact.is_archived = True
            elif word in OPT_IN_WORDS:
                contact.opted_out_at = None
            for group in dash.groups.values():
                if group.keyword and word == group.keyword and phone not in group.members:
                    group.members.add(phone)
                    contact.groups.append(group.id)
            dash.list_cache.clear()  # opt-out, archive and keyword groups changed above
            self._fire_hooks(dash, contact, msg, "msg_received")
            return msg.as_json()

    def portal_pay(
        self, key: str, dashboard_id: int, payment_id: int, outcome: str = "paid"
    ) -> dict:
        """The customer pays (or is declined) through the payment portal."""
        if outcome not in ("paid", "declined"):
            raise bad("outcome must be 'paid' or 'declined'")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            self._open(payment, "pay it")
            if outcome == "paid":
                payment.status = "Paid"
                payment.transaction_status = "Approved"
            else:
                payment.transaction_status = "Declined"
            return self._payment_json(dash, payment)

    def add_tag(self, key: str, dashboard_id: int, name: object, color: object = None) -> dict:
        if not isinstance(name, str) or not name.strip():
            raise bad("tag is required")
        color = color or "#64748b"
        if not isinstance(color, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise bad("tag_color must be a hex colour like #1d4ed8")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            tag = {"id": self.new_guid(), "tag_color": color, "tag": name.strip()}
            dash.tags[tag["id"]] = tag
            return tag

    def add_field(self, key: str, dashboard_id: int, name: object) -> dict:
        if not isinstance(name, str) or not name.strip():
            raise bad("name is required")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            field = {"id": self.new_guid(), "name": name.strip()}
            dash.fields[field["id"]] = field
            return field

    def counters(self, key: str) -> dict:
        with self.lock:
            acct = self.account(key)
            return {
                "calls": dict(acct.calls),
                "calls_total": sum(acct.calls.values()),
                "rate_limited": acct.rate_limited,
                "delivered": [
                    {"dashboard_id": d, "phone_number": p, "body": b, "count": n}
                    for (d, p, b), n in acct.delivered.items()
                ],
                "sent": [
                    {"dashboard_id": d, "phone_number": p, "body": b, "count": n}
                    for (d, p, b), n in acct.sent.items()
                ],
                "webhook_deliveries": acct.webhook_deliveries,
                "webhook_failures": acct.webhook_failures,
                "status_callbacks": acct.status_callbacks,
            }

    def all_messages(self, key: str, dashboard_id: int | None = None, phone: object = None) -> list:
        """Every message of the account (oldest first), optionally for one line / contact."""
        wanted = _phone(phone, "phone_number") if phone else None
        with self.lock:
            acct = self.account(key)
            out = []
            for dash in acct.dashboards.values():
                if dashboard_id is not None and dash.id != dashboard_id:
                    continue
                contacts = [dash.contacts[wanted]] if wanted in dash.contacts else []
                for contact in contacts if wanted else dash.contacts.values():
                    for msg in contact.messages:
                        out.append(
                            {
                                **msg.as_json(),
                                "dashboard_id": dash.id,
                                "phone_number": contact.phone,
                            }
                        )
            out.sort(key=lambda m: m["message_timestamp_utc"])
            return out


def _names(c: Contact) -> str:
    return f"{c.display_name or ''}\n{c.first_name or ''} {c.last_name or ''}".casefold()


def _cache_key(kind: str, q: dict) -> tuple:
    return (kind, *sorted((k, v) for k, v in q.items() if k not in ("page", "page_size")))


def _remember(dash: Dashboard, key: tuple, matches: list) -> None:
    if len(dash.list_cache) >= 32:
        dash.list_cache.pop(next(iter(dash.list_cache)))
    dash.list_cache[key] = matches


def _conversation_json(c: Contact) -> dict:
    return {"phone_number": c.phone, "last_message": c.messages[-1].as_json()}


def _hook_json(hook: dict) -> dict:
    return {"id": hook["id"], "event": hook["event"], "target_url": hook["target_url"]}


def _attr_getter(attr: str) -> Callable[[Contact], int | None]:
    return lambda c: getattr(c, attr)


def _last_contact_at(c: Contact) -> int | None:
    return c.messages[-1].at if c.messages else None
