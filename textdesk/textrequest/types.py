"""Typed results of the Text Request API, and parsing of what Text Request POSTs to us.

Every type has ``from_api(dict)``. Parsing is tolerant of what the official definition leaves
open: unknown fields are ignored (the whole answer stays in ``raw``), missing fields become
``None``/``False``/empty, and timestamps become aware UTC datetimes (a naive timestamp is read
as UTC; an unreadable one becomes ``None``). Money is ``Decimal``.

The webhook payload (``WebhookEvent``) and the status callback (``StatusCallback``) come from
outside, so they are checked strictly: malformed input raises ``ValueError`` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DIRECTION_RECEIVED = "R"
DIRECTION_SENT = "S"
DELIVERY_STATUSES = ("sending", "delivered", "error", "send")
# The seven webhook events (docs/textrequest-api.md); the first two carry a text's payload.
MESSAGE_EVENTS = ("msg_received", "msg_sent")
HOOK_EVENTS = (
    *MESSAGE_EVENTS,
    "msg_status_updated",
    "contact_created",
    "contact_updated",
    "location_received",
    "payment_status_updated",
)

# Delivery statuses as textdesk keeps them. The definition names sending, delivered, error and
# send; the real service also reports the carrier's words (docs/textrequest-api.md). Every one
# maps to in flight (``sending``), ``delivered``, ``error`` (reason in ``delivery_error``) or
# ``unclaimed`` (delivered, but nobody has claimed the conversation).
DELIVERY_STATES = {
    "accepted": "sending",
    "queued": "sending",
    "sending": "sending",
    "send": "sending",
    "sent": "sending",
    "delivered": "delivered",
    "error": "error",
    "failed": "error",
    "undelivered": "error",
    "unclaimed": "unclaimed",
}
# Payment statuses as textdesk keeps them, by the value's letters in lower case (so
# ``Cancelled``, ``Canceled`` and ``CANCELED`` agree). ``PastDue`` is an open request past its
# due date: kept as ``Sent`` with ``is_past_due``; ``MarkedAsPaid`` is paid.
PAYMENT_STATES = {
    "unknown": "Unknown",
    "sent": "Sent",
    "pastdue": "Sent",
    "paid": "Paid",
    "markedaspaid": "Paid",
    "canceled": "Canceled",
    "cancelled": "Canceled",
    "failed": "Failed",
}
# Columns that hold the mapped value are this wide; an unknown value is kept (cut to fit).
STATUS_MAX_LENGTH = 20
_unknown_seen: set[tuple[str, str]] = set()


def _unknown_status(kind: str, value: str) -> str:
    """Keep an unmapped status as it came (cut to fit), logging each new value once."""
    if (kind, value) not in _unknown_seen:
        _unknown_seen.add((kind, value))
        logger.warning("Text Request: unknown %s %r; kept as it came", kind, value)
    return value[:STATUS_MAX_LENGTH]


def delivery_state(value: Any) -> str | None:
    """A delivery status as textdesk keeps it (see ``DELIVERY_STATES``); None when absent."""
    if value is None or str(value).strip() == "":
        return None
    raw = str(value).strip()
    return DELIVERY_STATES.get(raw.lower()) or _unknown_status("delivery status", raw)


def payment_state(value: Any) -> str | None:
    """A payment status as textdesk keeps it (see ``PAYMENT_STATES``); None when absent."""
    if value is None or str(value).strip() == "":
        return None
    raw = str(value).strip()
    return PAYMENT_STATES.get(_letters(raw)) or _unknown_status("payment status", raw)


def _letters(value: Any) -> str:
    return "".join(ch for ch in str(value or "").lower() if ch.isalpha())


# --- Field readers -------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; naive means UTC. Raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-14:00 is a valid text but past the last datetime in UTC.
        raise ValueError(f"out of range: {value!r}") from None


def format_timestamp(value: datetime | str) -> str:
    """A datetime as the API's UTC timestamp text (``2024-05-01T12:00:00Z``); text as is."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(data: Mapping, key: str) -> datetime | None:
    try:
        return parse_timestamp(data.get(key))
    except ValueError:
        logger.warning("Text Request: unreadable timestamp in %r; kept only in raw", key)
        return None


def _str(data: Mapping, key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: Mapping, key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(data: Mapping, key: str) -> bool:
    value = data.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _list(data: Mapping, key: str) -> list:
    value = data.get(key)
    return list(value) if isinstance(value, list | tuple) else []


def _decimal(data: Mapping, key: str) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _mapping(data: Any, what: str) -> Mapping:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


# --- API entities --------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. ``page_size`` is the number of items in this page (as the API says)."""

    items: list[T]
    page: int
    page_size: int
    total_items: int | None  # None when the answer carried no meta

    @classmethod
    def from_api(cls, data: Any, item: Callable[[Mapping], T], *, page: int = 0) -> Page[T]:
        data = _mapping(data, "page")
        meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
        items = [item(x) for x in _list(data, "items")]
        meta_page = _int(meta, "page")
        meta_size = _int(meta, "page_size")
        return cls(
            items=items,
            page=page if meta_page is None else meta_page,
            page_size=len(items) if meta_size is None else meta_size,
            total_items=_int(meta, "total_items"),
        )

    @classmethod
    def empty(cls, page: int = 0) -> Page[T]:
        """What a 204 answer to a list call means."""
        return cls(items=[], page=page, page_size=0, total_items=0)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Dashboard:
    """A dashboard is one phone line of the account."""

    id: int
    name: str | None
    phone: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Dashboard:
        data = _mapping(data, "dashboard")
        return cls(
            id=_int(data, "id"), name=_str(data, "name"), phone=_str(data, "phone"), raw=dict(data)
        )


@dataclass(frozen=True)
class Message:
    message_id: str
    body: str
    message_direction: str | None
    response_by_username: str | None
    message_timestamp_utc: datetime | None
    delivery_status: str | None
    delivery_error: str | None
    mms_media: list[str]
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_received(self) -> bool:
        return self.message_direction == DIRECTION_RECEIVED

    @property
    def is_sent(self) -> bool:
        return self.message_direction == DIRECTION_SENT

    @classmethod
    def from_api(cls, data: Any) -> Message:
        data = _mapping(data, "message")
        return cls(
            message_id=_str(data, "message_id"),
            body=_str(data, "body") or "",
            message_direction=_str(data, "message_direction"),
            response_by_username=_str(data, "response_by_username"),
            message_timestamp_utc=_ts(data, "message_timestamp_utc"),
            delivery_status=delivery_state(data.get("delivery_status")),
            delivery_error=_str(data, "delivery_error"),
            mms_media=[str(u) for u in _list(data, "mms_media")],
            raw=dict(data),
        )


@dataclass(frozen=True)
class MmsUpload:
    """The answer of ``POST /mms``: the file's type and the URL ``mms_media`` accepts."""

    mime_type: str | None
    url: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> MmsUpload:
        data = _mapping(data, "MMS upload")
        url = _str(data, "url")
        if not url:
            raise ValueError("the MMS upload answer has no url")
        return cls(mime_type=_str(data, "mime_type"), url=url, raw=dict(data))


@dataclass(frozen=True)
class CustomFieldValue:
    id: str
    value: str | None

    @classmethod
    def from_api(cls, data: Any) -> CustomFieldValue:
        data = _mapping(data, "custom field value")
        return cls(id=_str(data, "id"), value=_str(data, "value"))


def _last_message(data: Mapping) -> Message | None:
    value = data.get("last_message")
    return Message.from_api(value) if isinstance(value, Mapping) and value else None


@dataclass(frozen=True)
class Contact:
    phone_number: str
    first_name: str | None
    last_name: str | None
    display_name: str | None
    is_suppressed: bool
    is_archived: bool
    is_blocked: bool
    suppressed_reason: str | None
    note: str | None
    groups: list[int]
    contact_tags: list[str]
    custom_fields: list[CustomFieldValue]
    is_resolved: bool
    first_contact_utc: datetime | None
    opted_out_utc: datetime | None
    last_msg_sent_utc: datetime | None
    last_msg_received_utc: datetime | None
    total_msgs_sent: int | None
    total_msgs_received: int | None
    response_count: int | None
    date_created_utc: datetime | None
    last_contact_date_utc: datetime | None
    last_message: Message | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_opted_out(self) -> bool:
        return self.opted_out_utc is not None

    @classmethod
    def from_api(cls, data: Any) -> Contact:
        data = _mapping(data, "contact")
        return cls(
            phone_number=_str(data, "phone_number"),
            first_name=_str(data, "first_name"),
            last_name=_str(data, "last_name"),
            display_name=_str(data, "display_name"),
            is_suppressed=_bool(data, "is_suppressed"),
            is_archived=_bool(data, "is_archived"),
            is_blocked=_bool(data, "is_blocked"),
            suppressed_reason=_str(data, "suppressed_reason"),
            note=_str(data, "note"),
            groups=[int(g) for g in _list(data, "groups")],
            contact_tags=[str(t) for t in _list(data, "contact_tags")],
            custom_fields=[
                CustomFieldValue.from_api(f)
                for f in _list(data, "custom_fields")
                if isinstance(f, Mapping)
            ],
            is_resolved=_bool(data, "is_resolved"),
            first_contact_utc=_ts(data, "first_contact_utc"),
            opted_out_utc=_ts(data, "opted_out_utc"),
            last_msg_sent_utc=_ts(data, "last_msg_sent_utc"),
            last_msg_received_utc=_ts(data, "last_msg_received_utc"),
            total_msgs_sent=_int(data, "total_msgs_sent"),
            total_msgs_received=_int(data, "total_msgs_received"),
            response_count=_int(data, "response_count"),
            date_created_utc=_ts(data, "date_created_utc"),
            last_contact_date_utc=_ts(data, "last_contact_date_utc"),
            last_message=_last_message(data),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Conversation:
    """An entry of the conversation list: the contact's number and the last message."""

    phone_number: str
    last_message: Message | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Conversation:
        data = _mapping(data, "conversation")
        return cls(
            phone_number=_str(data, "phone_number"),
            last_message=_last_message(data),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Group:
    id: int
    name: str | None
    notes: str | None
    group_member_count: int | None
    is_keyword: bool
    last_message_sent_utc: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Group:
        data = _mapping(data, "group")
        return cls(
            id=_int(data, "id"),
            name=_str(data, "name"),
            notes=_str(data, "notes"),
            group_member_count=_int(data, "group_member_count"),
            is_keyword=_bool(data, "is_keyword"),
            last_message_sent_utc=_ts(data, "last_message_sent_utc"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Tag:
    """A tag; ``id`` is a GUID, ``tag`` its name, ``tag_color`` a hex colour."""

    id: str
    tag: str | None
    tag_color: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str | None:
        return self.tag

    @classmethod
    def from_api(cls, data: Any) -> Tag:
        data = _mapping(data, "tag")
        return cls(
            id=_str(data, "id"),
            tag=_str(data, "tag"),
            tag_color=_str(data, "tag_color"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> CustomField:
        data = _mapping(data, "custom field")
        return cls(id=_str(data, "id"), name=_str(data, "name"), raw=dict(data))


@dataclass(frozen=True)
class SentMessage:
    """The answer of ``POST /messages`` (send by numbers; docs/textrequest-api.md, evidence)."""

    message_id: str
    segments_count: int | None
    from_number: str | None
    to: str | None
    status: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> SentMessage:
        data = _mapping(data, "sent message")
        message_id = _str(data, "message_id")
        if not message_id:
            raise ValueError("the send answer has no message_id")
        return cls(
            message_id=message_id,
            segments_count=_int(data, "segments_count"),
            from_number=_str(data, "from"),
            to=_str(data, "to"),
            status=delivery_state(data.get("status")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScheduledMessage:
    """A scheduled message of a line. Its shape is unknown beyond the endpoint's existence
    (docs/textrequest-api.md), so every field is optional and read under the spellings seen in
    the stand-in and in Text Request's other objects; ``raw`` keeps the whole item."""

    id: str | None
    phone_number: str | None
    body: str
    send_at: datetime | None
    is_recurring: bool
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> ScheduledMessage:
        data = _mapping(data, "scheduled message")
        ident = data.get("id", data.get("scheduled_message_id"))
        phone = _str(data, "phone_number") or _str(data, "to") or _str(data, "contact_phone")
        send_at = None
        for name in ("send_at", "scheduled_date", "send_date", "scheduled_for"):
            send_at = _ts(data, name)
            if send_at is not None:
                break
        body = _str(data, "body") or _str(data, "message") or ""
        return cls(
            id=None if ident is None else str(ident),
            phone_number=phone,
            body=body,
            send_at=send_at,
            is_recurring=_bool(data, "is_recurring") or bool(data.get("recurrence")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Payment:
    payment_id: int
    request_date: datetime | None
    recipient: str | None
    description: str | None
    customer_phone: str | None
    amount_requested: Decimal | None
    is_past_due: bool
    reminder_was_sent: bool
    transaction_status: str | None
    textrequest_payment_status: str | None
    reference_number: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def payment_status_raw(self) -> str | None:
        """``textrequest_payment_status`` exactly as Text Request answered it."""
        return _str(self.raw, "textrequest_payment_status")

    @classmethod
    def from_api(cls, data: Any) -> Payment:
        """``textrequest_payment_status`` is mapped (``PAYMENT_STATES``): ``PastDue`` becomes
        ``Sent`` with ``is_past_due``, ``MarkedAsPaid`` ``Paid``, ``Cancelled`` ``Canceled``."""
        data = _mapping(data, "payment")
        status = payment_state(data.get("textrequest_payment_status"))
        past_due = _letters(data.get("textrequest_payment_status")) == "pastdue"
        return cls(
            payment_id=_int(data, "payment_id"),
            request_date=_ts(data, "request_date"),
            recipient=_str(data, "recipient"),
            description=_str(data, "description"),
            customer_phone=_str(data, "customer_phone"),
            amount_requested=_decimal(data, "amount_requested"),
            is_past_due=_bool(data, "is_past_due") or past_due,
            reminder_was_sent=_bool(data, "reminder_was_sent"),
            transaction_status=_str(data, "transaction_status"),
            textrequest_payment_status=status,
            reference_number=_str(data, "reference_number"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Hook:
    """A webhook subscription of one dashboard."""

    id: int | str
    event: str | None
    target_url: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Hook:
        data = _mapping(data, "hook")
        return cls(
            id=data.get("id"),
            event=_str(data, "event"),
            target_url=_str(data, "target_url"),
            raw=dict(data),
        )


# --- What Text Request POSTs to us ---------------------------------------------------------


def _require(data: Mapping, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data or data[key] is None:
        raise ValueError(f"{where}: missing {key!r}")
    value = data[key]
    # bool is an int in Python, never an id or a count here
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _optional(data: Mapping, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if data.get(key) is None:
        return None
    return _require(data, key, kind, where)


MAX_PAYLOAD_DEPTH = 16


def check_storable(payload: Any, where: str) -> None:
    """Refuse what PostgreSQL cannot store or what nobody nests: NUL and lone surrogates in any
    key or string (neither fits `jsonb` or text), and nesting deeper than MAX_PAYLOAD_DEPTH.

    Walks with a stack, not recursion, so no payload can exhaust Python's recursion limit."""
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            raise ValueError(f"{where}: nested deeper than {MAX_PAYLOAD_DEPTH} levels")
        if isinstance(value, Mapping):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and not _storable_text(value):
            raise ValueError(f"{where}: a NUL or an unpaired surrogate character in {value!r}")


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _id(data: Mapping, key: str, where: str) -> int:
    """An integer id; digits in a string are accepted."""
    value = _require(data, key, (int, str), where)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{where}: {key!r} is not an integer id") from None


@dataclass(frozen=True)
class WebhookEvent:
    """The body Text Request POSTs when a text is sent or received (docs/textrequest-api.md).

    ``message_unique_identifier`` is the idempotency key; ``dashboard_id`` is
    ``yourPhoneNumber.id``."""

    message_unique_identifier: str
    account_id: int | None
    dashboard_id: int
    dashboard_name: str | None
    dashboard_phone_number: str | None
    conversation_id: int | None
    date: datetime
    consumer_phone_number: str
    message_direction: str
    message: str
    num_segments: int | None
    status: str | None
    claimed_by: str | None
    consumer_friendly_name: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def event(self) -> str:
        """``msg_received`` or ``msg_sent``."""
        return "msg_received" if self.message_direction == DIRECTION_RECEIVED else "msg_sent"

    @property
    def is_received(self) -> bool:
        return self.message_direction == DIRECTION_RECEIVED

    @classmethod
    def from_payload(cls, payload: Any) -> WebhookEvent:
        """Parse and check a webhook body; raise ValueError naming what is wrong."""
        where = "webhook payload"
        payload = _mapping(payload, where)
        check_storable(payload, where)
        key = _require(payload, "messageUniqueIdentifier", (str, int), where)
        key = str(key).strip()
        if not key:
            raise ValueError(f"{where}: empty 'messageUniqueIdentifier'")
        line = _mapping(_require(payload, "yourPhoneNumber", Mapping, where), "yourPhoneNumber")
        conv = _mapping(_require(payload, "conversation", Mapping, where), "conversation")
        account = payload.get("account")
        account = account if isinstance(account, Mapping) else {}

        direction = _require(conv, "messageDirection", str, "conversation").strip().upper()
        if direction not in (DIRECTION_RECEIVED, DIRECTION_SENT):
            raise ValueError(f"conversation: 'messageDirection' must be R or S, not {direction!r}")
        phone = _require(conv, "consumerPhoneNumber", (str, int), "conversation")
        if not str(phone).strip():
            raise ValueError("conversation: empty 'consumerPhoneNumber'")
        try:
            date = parse_timestamp(_require(conv, "date", str, "conversation"))
        except ValueError as exc:
            raise ValueError(f"conversation: unreadable 'date' ({exc})") from None
        segments = _optional(conv, "numSegments", (int, str), "conversation")
        conversation_id = _optional(conv, "id", (int, str), "conversation")
        account_id = _optional(account, "id", (int, str), "account")
        try:
            segments = None if segments is None else int(segments)
            conversation_id = None if conversation_id is None else int(conversation_id)
            account_id = None if account_id is None else int(account_id)
        except ValueError:
            raise ValueError(f"{where}: an id or segment count is not an integer") from None
        return cls(
            message_unique_identifier=key,
            account_id=account_id,
            dashboard_id=_id(line, "id", "yourPhoneNumber"),
            dashboard_name=_optional(line, "description", str, "yourPhoneNumber"),
            dashboard_phone_number=_optional(line, "phoneNumber", str, "yourPhoneNumber"),
            conversation_id=conversation_id,
            date=date,
            consumer_phone_number=str(phone).strip(),
            message_direction=direction,
            message=_optional(conv, "message", str, "conversation") or "",
            num_segments=segments,
            status=delivery_state(_optional(conv, "status", str, "conversation")),
            claimed_by=_optional(conv, "claimedBy", str, "conversation"),
            consumer_friendly_name=_optional(conv, "consumerFriendlyName", str, "conversation"),
            raw=dict(payload),
        )


@dataclass(frozen=True)
class StatusCallback:
    """The body POSTed to a message's ``status_callback`` URL on each delivery status change."""

    message_id: str
    delivery_status: str
    delivery_error: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: Any) -> StatusCallback:
        """Parse and check a status callback body; raise ValueError naming what is wrong."""
        where = "status callback"
        payload = _mapping(payload, where)
        check_storable(payload, where)
        message_id = str(_require(payload, "message_id", (str, int), where)).strip()
        if not message_id:
            raise ValueError(f"{where}: empty 'message_id'")
        status = delivery_state(_require(payload, "delivery_status", str, where))
        if not status:
            raise ValueError(f"{where}: empty 'delivery_status'")
        return cls(
            message_id=message_id,
            delivery_status=status,
            delivery_error=_optional(payload, "delivery_error", str, where) or None,
            raw=dict(payload),
        )


@dataclass(frozen=True)
class LocationShare:
    """The body POSTed to a message's ``location_callback`` when the customer shares where they
    are. Text Request does not document it (docs/textrequest-api.md); read defensively:
    coordinates are required and checked, the rest optional."""

    latitude: float
    longitude: float
    accuracy: float | None
    message_id: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: Any) -> LocationShare:
        where = "location callback"
        payload = _mapping(payload, where)

        def number(name: str, bound: float | None, required: bool) -> float | None:
            value = payload.get(name)
            if value is None and not required:
                return None
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError(f"{where}: '{name}' is not a number") from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{where}: '{name}' must be a number")
            value = float(value)
            if value != value or (bound is not None and abs(value) > bound) or value < -1e9:
                raise ValueError(f"{where}: '{name}' is out of range")
            return value

        accuracy = number("accuracy", None, False)
        if accuracy is not None and accuracy < 0:
            raise ValueError(f"{where}: 'accuracy' must not be negative")
        message_id = payload.get("message_id")
        return cls(
            latitude=number("latitude", 90, True),
            longitude=number("longitude", 180, True),
            accuracy=accuracy,
            message_id=str(message_id)[:64] if message_id not in (None, "") else None,
            raw=dict(payload),
        )


# --- Event hints (issue 20): what a non-text event names, read defensively --------------------


@dataclass(frozen=True)
class EventHint:
    """What a ``payment_status_updated``, ``msg_status_updated``, ``contact_created``,
    ``contact_updated`` or ``location_received`` call names. Only ``contact_created``'s payload
    is documented (PascalCase); the rest are read the same way, each field optional, because
    such a call is only a hint to read Text Request, never data to keep."""

    payment_id: int | None = None
    contact_phone: str | None = None
    message_id: str | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> EventHint:
        if not isinstance(payload, Mapping):
            return cls()

        def first(*names):
            for name in names:
                value = payload.get(name)
                if value not in (None, ""):
                    return value
            return None

        payment = first("PaymentId", "paymentId", "payment_id")
        payment_id = None
        if isinstance(payment, int) and not isinstance(payment, bool) and 0 < payment < 10**12:
            payment_id = payment
        elif isinstance(payment, str) and payment.isdigit() and len(payment) < 13:
            payment_id = int(payment)
        phone = first("ContactPhoneNumber", "contactPhoneNumber", "consumerPhoneNumber")
        message = first("MessageId", "messageId", "message_id")
        return cls(
            payment_id=payment_id,
            contact_phone=str(phone)[:40] if isinstance(phone, str | int) else None,
            message_id=str(message)[:64] if isinstance(message, str | int) else None,
        )
