"""The sandbox backend: all state and every rule of the Text Request stand-in.

Shaped like a moto backend: one :class:`Backend` object holds every account in memory
(API key -> dashboards -> contacts, groups, tags, custom fields, conversations, messages,
payments, hooks), enforces the rules of docs/textrequest-api.md and answers plain Python
data that the WSGI layer (``server.py``) turns into HTTP. Errors are :class:`SandboxError`
with the real status and message. One re-entrant lock guards everything; ids and seeded
data come from ``random.Random(seed_value)`` so runs are reproducible.
No Django, nothing of textdesk.

This module is the core (accounts, auth, rate limit, faults, settings, clock, ids, counters,
dashboards); the operations live in mixins, one module per area:

- ``contacts.py``: contacts, groups, tags, custom fields
- ``conversations.py``: conversations, messages, sending and delivery, inbound, STOP/START
- ``payments.py``: payment requests and the payment portal
- ``messages.py``: redaction, a line's messages, sending by numbers, scheduled messages
- ``hooks.py``: webhooks and status callbacks
- ``mms.py``: MMS uploads (``POST /mms``) and the files served at their URLs
- ``indexes.py``: per-line indexes and remembered lists that keep the list queries fast
- ``validation.py``: :class:`SandboxError` and the input checks every area shares
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
import uuid

from standins.core.faults import FaultsMixin, over_rate_limit

from .contacts import ContactsMixin
from .conversations import LANDLINE_ERROR, ConversationsMixin
from .dispatch import Dispatcher
from .hooks import HooksMixin
from .messages import MessagesMixin
from .mms import MmsMixin
from .payments import PaymentsMixin
from .records import Account, Dashboard
from .validation import SandboxError, as_object, bad, page_of, paging, parse_phone, req_str

__all__ = ["DEMO2_API_KEY", "DEMO_API_KEY", "Backend", "SandboxError", "bad"]

DEMO_API_KEY = "tr_demo_4f1c2a9e7b3d"
DEMO2_API_KEY = "tr_demo2_8b6e0d5a1c7f"

DEFAULT_CONFIG = {
    "rate_limit": 100,
    "rate_window": 60.0,
    "delivery_delay": 1.0,
    "webhook_retry_delays": [1.0, 5.0, 30.0, 120.0],
    "webhook_timeout": 5.0,
    "callback_timeout": 5.0,
    # 200: GetScheduledMessages answers; 403 or 404: this account does not offer it (as an
    # account without the feature might answer: the real service's answer is unknown)
    "scheduled_messages_status": 200,
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


class Backend(
    ContactsMixin,
    ConversationsMixin,
    MessagesMixin,
    PaymentsMixin,
    HooksMixin,
    MmsMixin,
    FaultsMixin,
):
    """All accounts and rules of the sandbox. Thread-safe through one re-entrant lock."""

    FAULT_KEYS = FAULT_KEYS
    CREDENTIAL = "api_key"
    # what a state file holds (standins/core/state.py); snapshots from before the move to
    # standins/ name the old package
    STATE_ATTRS = (
        "config",
        "faults",
        "accounts",
        "dashboards",
        "phones_in_use",
        "clock_offset_ms",
        "_ids",
        "rng",
        "fault_rng",
        "simulator_rngs",
    )
    STATE_RENAMES = {"textdesk.sandbox": "standins.textrequest"}

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
        # the customer simulators' generators by API key: part of the state (state.py), so a
        # restarted sandbox's customers carry on instead of repeating themselves
        self.simulator_rngs: dict[str, random.Random] = {}
        # bumped by every change (and every API call); state.py saves only when it moved
        self.changes = 0
        self._reset_state()

    # -- state, ids, clock --------------------------------------------------------------------

    def _reset_state(self) -> None:
        from . import seeding

        with self.lock:
            self.changes += 1
            self.dispatcher.clear()
            self.config = dict(self._initial_config)
            self.config["webhook_retry_delays"] = list(self.config["webhook_retry_delays"])
            self.faults: dict = {}
            # callbacks the control API asked to tamper with, and how callbacks went out
            # (hooks.py); not part of a state file
            self.callback_tampers: dict[str, list[str]] = {}
            self.callback_counts: dict = {}
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
        """A GUID: from ``rng`` when given (seeding, reproducible); otherwise random, so that
        texts made after a restart never reuse an id a client stored before it."""
        if rng is None:
            return str(uuid.uuid4())
        s = f"{rng.getrandbits(128):032x}"
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

    def caller(self, key: str | None) -> Account:
        return self.account(key)

    def callers(self):
        return self.accounts.values()

    def admit(self, key: str | None, operation: str) -> dict:
        """Check auth, faults and the rate limit for one API call; answer the delay plan.

        Refused calls (401, 503 outage, 429) do not consume the rate budget. A call that
        passes the limit consumes it, even if a fault then answers 500.
        """
        with self.lock:
            acct = self.account(key)
            acct.calls[operation] += 1
            faults = self.faults_for(acct, operation)
            self.refuse_if_outage(faults)
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
            refused = over_rate_limit(acct.window, limit, window)
            if refused is not None:
                acct.rate_limited += 1
                raise refused
            return self.fault_plan(faults)

    def configure(self, body: object) -> dict:
        body = as_object(body)
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
            elif name == "scheduled_messages_status" and value not in (200, 403, 404):
                raise bad("scheduled_messages_status must be 200, 403 or 404")
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

    def restored(self) -> None:
        """After a state file was loaded (under the lock): texts that were still ``sending``
        settle when their delivery delay ends (at once if it ended while the sandbox was
        stopped); webhook retries that were pending are dropped."""
        self.dispatcher.clear()
        for acct in self.accounts.values():
            for dash in acct.dashboards.values():
                for contact in dash.conv_order.values():
                    for msg in reversed(contact.messages):
                        if msg.status != "sending":
                            continue
                        error = LANDLINE_ERROR if msg.phone.endswith("0000") else None
                        due_ms = msg.at + float(self.cfg(acct, "delivery_delay")) * 1000
                        delay = max(0.0, (due_ms - self.now_ms()) / 1000)
                        self.dispatcher.schedule(
                            delay, lambda m=msg, a=acct, e=error: self._settle_locked(m, a, e)
                        )

    # -- lookups ------------------------------------------------------------------------------

    def _dash(self, key: str, dashboard_id: int) -> Dashboard:
        acct = self.account(key)
        dash = acct.dashboards.get(dashboard_id)
        if dash is None:
            raise SandboxError(404, f"Dashboard {dashboard_id} not found in this account")
        return dash

    # -- dashboards ---------------------------------------------------------------------------

    def get_dashboards(self, key: str, q: dict) -> dict:
        with self.lock:
            acct = self.account(key)
            page, size = paging(q)
            return page_of(list(acct.dashboards.values()), page, size, Dashboard.as_json)

    def get_dashboard(self, key: str, dashboard_id: int) -> dict:
        with self.lock:
            return self._dash(key, dashboard_id).as_json()

    def provisioning(self, key: str, q: dict) -> list[str]:
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
                if len(free) == 30:
                    break
            return free

    def create_dashboard(self, key: str, body: object) -> dict:
        body = as_object(body)
        name = req_str(body, "name", 100)
        if body.get("phone") is None:
            raise bad("phone is required (a provisioned number, see GET /dashboards/provisioning)")
        phone = parse_phone(body.get("phone"), "phone")
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
        body = as_object(body)
        name = req_str(body, "name", 100)
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

    def rotate_key(self, key: str) -> dict:
        """Control API: the account owner makes a new API key in Text Request's settings. The
        old key stops working at once and callbacks are signed with the new one."""
        with self.lock:
            acct = self.account(key)
            new_key = f"tr_{uuid.uuid4().hex[:20]}"
            del self.accounts[key]
            acct.key = new_key
            self.accounts[new_key] = acct
            self.callback_tampers.pop(key, None)
            self.changes += 1
            return {"api_key": new_key, "previous_api_key": key}

    def set_payment_status(self, key: str, dashboard_id: int, payment_id: int, status) -> dict:
        """Control API: give a payment any status word, e.g. the real service's ``PastDue``,
        ``MarkedAsPaid`` or ``Cancelled`` (docs/textrequest-api.md), which the sandbox itself
        never produces, so a client can be tested against them."""
        if not isinstance(status, str) or not status.strip():
            raise bad("textrequest_payment_status is required")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            payment = self._payment(dash, payment_id)
            payment.status = status.strip()
            self._fire_payment(dash, payment)
            return self._payment_json(dash, payment)

    def set_delivery_status(self, key: str, message_id: object, status, error=None) -> dict:
        """Control API: give a sent text any delivery status word, e.g. the real service's
        ``undelivered`` or ``unclaimed`` (docs/textrequest-api.md)."""
        if not isinstance(status, str) or not status.strip():
            raise bad("delivery_status is required")
        if error is not None and not isinstance(error, str):
            raise bad("delivery_error must be a string")
        with self.lock:
            acct = self.account(key)
            for dash in acct.dashboards.values():
                for contact in dash.conv_order.values():
                    for msg in contact.messages:
                        if msg.id == message_id:
                            msg.status, msg.error = status.strip(), error
                            dash.list_cache.clear()
                            self._fire_status(dash, msg)
                            return msg.as_json()
            raise SandboxError(404, f"No message {message_id!r} in this account")

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
                "callbacks": dict(self.callback_counts.get(key, {})),
                "mms_uploads": len(acct.mms or {}),
            }
