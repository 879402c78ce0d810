"""Plain in-memory records of the sandbox and their Text Request JSON shapes.

Timestamps are held as integer milliseconds since the epoch (UTC) and rendered as RFC 3339
UTC with milliseconds, e.g. ``2025-01-31T14:05:09.120Z``.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from datetime import UTC, datetime

from .indexes import ContactIndex

PAST_DUE_MS = 7 * 24 * 3600 * 1000


def fmt_ts(ms: int | None) -> str | None:
    """Render epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (None stays None)."""
    if ms is None:
        return None
    t = time.gmtime(ms // 1000)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms % 1000:03d}Z"
    )


def parse_ts(value: str, tz=UTC) -> int:
    """Parse an ISO 8601 / RFC 3339 date-time (or date) to epoch ms; naive values use ``tz``.

    Raises ValueError on anything else.
    """
    text = value.strip()
    if not text or len(text) > 40:
        raise ValueError(value)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp() * 1000)


class Message:
    __slots__ = (
        "id",
        "direction",
        "body",
        "username",
        "at",
        "status",
        "error",
        "media",
        "status_callback",
        "phone",
        "dashboard_id",
        "redacted",
    )

    def __init__(self, id, direction, body, username, at, status, error, media, phone, dash_id):
        self.id = id
        self.direction = direction
        self.body = body
        self.username = username
        self.at = at
        self.status = status
        self.error = error
        self.media = media
        self.status_callback = None
        self.phone = phone
        self.dashboard_id = dash_id
        # PUT /messages/{id}/redact hides the body from every read until unredacted (the text
        # is kept: unredact restores it). Absent from states saved before redaction existed.
        self.redacted = False

    @property
    def shown_body(self) -> str:
        return "" if getattr(self, "redacted", False) else self.body

    def as_json(self) -> dict:
        return {
            "message_id": self.id,
            "body": self.shown_body,
            "message_direction": self.direction,
            "response_by_username": self.username,
            "message_timestamp_utc": fmt_ts(self.at),
            "delivery_status": self.status,
            "delivery_error": self.error if self.status != "delivered" else None,
            "mms_media": list(self.media),
        }


class Contact:
    __slots__ = (
        "phone",
        "first_name",
        "last_name",
        "display_name",
        "is_suppressed",
        "suppressed_reason",
        "is_archived",
        "is_blocked",
        "note",
        "groups",
        "tags",
        "custom_fields",
        "is_resolved",
        "opted_out_at",
        "created_at",
        "first_contact_at",
        "last_sent_at",
        "last_received_at",
        "total_sent",
        "total_received",
        "response_count",
        "messages",
        "conversation_id",
    )

    def __init__(self, phone: str, created_at: int, conversation_id: int):
        self.phone = phone
        self.first_name = None
        self.last_name = None
        self.display_name = None
        self.is_suppressed = False
        self.suppressed_reason = None
        self.is_archived = False
        self.is_blocked = False
        self.note = None
        self.groups: list[int] = []
        self.tags: list[str] = []
        self.custom_fields: dict[str, str] = {}
        self.is_resolved = False
        self.opted_out_at = None
        self.created_at = created_at
        self.first_contact_at = None
        self.last_sent_at = None
        self.last_received_at = None
        self.total_sent = 0
        self.total_received = 0
        self.response_count = 0
        self.messages: list[Message] = []
        self.conversation_id = conversation_id

    @property
    def last_contact_at(self) -> int | None:
        return self.messages[-1].at if self.messages else None

    def as_json(self) -> dict:
        last = self.messages[-1] if self.messages else None
        return {
            "phone_number": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.display_name,
            "is_suppressed": self.is_suppressed,
            "is_archived": self.is_archived,
            "is_blocked": self.is_blocked,
            "suppressed_reason": self.suppressed_reason if self.is_suppressed else None,
            "note": self.note,
            "groups": list(self.groups),
            "contact_tags": list(self.tags),
            "custom_fields": [{"id": k, "value": v} for k, v in self.custom_fields.items()],
            "is_resolved": self.is_resolved,
            "first_contact_utc": fmt_ts(self.first_contact_at),
            "opted_out_utc": fmt_ts(self.opted_out_at),
            "last_msg_sent_utc": fmt_ts(self.last_sent_at),
            "last_msg_received_utc": fmt_ts(self.last_received_at),
            "total_msgs_sent": self.total_sent,
            "total_msgs_received": self.total_received,
            "response_count": self.response_count,
            "date_created_utc": fmt_ts(self.created_at),
            "last_contact_date_utc": fmt_ts(last.at if last else None),
            "last_message": last.as_json() if last else None,
            # not in the definition; the real service answers it (docs/textrequest-api.md, evidence)
            "thread_id": str(self.conversation_id),
        }


class Group:
    __slots__ = ("id", "name", "notes", "is_keyword", "keyword", "members", "last_message_sent_at")

    def __init__(self, id: int, name: str, notes: str | None, keyword: str | None = None):
        self.id = id
        self.name = name
        self.notes = notes
        self.is_keyword = keyword is not None
        self.keyword = keyword
        self.members: set[str] = set()
        self.last_message_sent_at: int | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "group_member_count": len(self.members),
            "is_keyword": self.is_keyword,
            "name": self.name,
            "notes": self.notes,
            "last_message_sent_utc": fmt_ts(self.last_message_sent_at),
        }


class Payment:
    __slots__ = (
        "id",
        "request_at",
        "description",
        "phone",
        "amount",
        "message",
        "reminder_sent",
        "transaction_status",
        "status",
        "reference",
        "token",
        "pays_at",
    )

    def __init__(self, id, request_at, description, phone, amount, message, reference, token):
        self.id = id
        self.request_at = request_at
        self.description = description
        self.phone = phone
        self.amount = amount
        self.message = message
        self.reminder_sent = False
        self.transaction_status = "Unknown"
        self.status = "Sent"
        self.reference = reference
        self.token = token
        # The demo's customers pay some open requests in the portal at this moment (ms):
        # ``Backend.pay_scheduled``; None for every other payment.
        self.pays_at = None

    def is_past_due(self, now_ms: int) -> bool:
        return self.status == "Sent" and now_ms - self.request_at >= PAST_DUE_MS

    def as_json(self, now_ms: int, recipient: str | None) -> dict:
        return {
            "payment_id": self.id,
            "request_date": fmt_ts(self.request_at),
            "recipient": recipient,
            "description": self.description,
            "customer_phone": self.phone,
            "amount_requested": float(self.amount),
            "is_past_due": self.is_past_due(now_ms),
            "reminder_was_sent": self.reminder_sent,
            "transaction_status": self.transaction_status,
            "textrequest_payment_status": self.status,
            "reference_number": self.reference,
        }


class Dashboard:
    __slots__ = (
        "id",
        "name",
        "phone",
        "account",
        "contacts",
        "conv_order",
        "groups",
        "tags",
        "fields",
        "payments",
        "hooks",
        "list_cache",
        "index",
        "scheduled",
    )

    def __init__(self, id: int, name: str, phone: str, account: Account):
        self.id = id
        self.name = name
        self.phone = phone
        self.account = account
        self.contacts: dict[str, Contact] = {}  # creation order
        # contacts with messages, by last message, oldest first (a new text moves one to the end)
        self.conv_order: dict[str, Contact] = {}
        self.groups: dict[int, Group] = {}
        self.tags: dict[str, dict] = {}
        self.fields: dict[str, dict] = {}
        self.payments: dict[int, Payment] = {}
        self.hooks: dict[int, dict] = {}
        # filtered contact / conversation lists by query (a list or an indexes.LazyList),
        # dropped on any change that could alter a filter's answer: a sync walking pages of
        # one query filters only once
        self.list_cache: dict[tuple, list] = {}
        # creation rank, tag and flag sets of the contacts (indexes.py), updated on write
        self.index = ContactIndex()
        # scheduled messages (GET .../scheduledmessages; made through the control API)
        self.scheduled: list[dict] = []

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "phone": self.phone}

    def __getstate__(self) -> dict:
        # remembered lists hold generators and are rebuilt on demand: not part of the state
        return {name: getattr(self, name) for name in self.__slots__ if name != "list_cache"}

    def __setstate__(self, state: dict) -> None:
        self.scheduled = []  # absent from states saved before scheduled messages
        for name, value in state.items():
            setattr(self, name, value)
        self.list_cache = {}


class Account:
    __slots__ = (
        "key",
        "id",
        "dashboards",
        "config",
        "faults",
        "calls",
        "rate_limited",
        "delivered",
        "sent",
        "webhook_deliveries",
        "webhook_failures",
        "status_callbacks",
        "window",
        "timezone",
        "mms",
        "mms_hosted",
    )

    def __init__(self, key: str, id: int, timezone: str = "America/New_York"):
        self.key = key
        self.id = id
        self.dashboards: dict[int, Dashboard] = {}
        self.config: dict = {}
        self.faults: dict | None = None
        self.calls: Counter = Counter()
        self.rate_limited = 0
        self.delivered: Counter = Counter()
        self.sent: Counter = Counter()
        self.webhook_deliveries = 0
        self.webhook_failures = 0
        self.status_callbacks = 0
        self.window: deque[float] = deque()
        self.timezone = timezone
        self.mms: dict | None = {}  # MMS uploads (mms.py); None in a state saved before them
        self.mms_hosted: set | None = set()

    def __getstate__(self) -> dict:
        state = {name: getattr(self, name) for name in self.__slots__}
        # the rate window holds monotonic times, which mean nothing to another process
        offset = time.time() - time.monotonic()
        state["window"] = [t + offset for t in self.window]
        return state

    def __setstate__(self, state: dict) -> None:
        offset = time.time() - time.monotonic()
        self.mms = self.mms_hosted = None  # absent from states saved before MMS uploads
        for name, value in state.items():
            setattr(self, name, value)
        self.window = deque(t - offset for t in state["window"])
