"""The Text Request API v3 client: the only code in textdesk that speaks HTTP to Text Request.

One method per operation of the official definition (plus webhook subscriptions and number
provisioning), typed results from ``types.py``, exceptions from ``errors.py``. Before every
request the client takes a slot from the shared rate limiter (``limiter.py``) for its bucket
(the connection id), so every process together stays inside the connection's limit.

- ``priority="interactive"`` (an agent's action) waits for a slot up to ``max_wait`` (default
  5 s); ``priority="sync"`` waits at most 1 s by default and then raises ``LimiterBusy`` so a
  Celery task re-schedules itself instead of holding a worker.
- A 429 sets the shared cooldown from ``Retry-After``, is logged and counted, and raises
  ``RateLimited``. The client never retries by itself: the caller decides (see ``errors.py``).
- A 204 answer is "none": ``None`` for one entity, an empty ``Page`` for a list.
- Every list call defaults to ``page_size=100``; ``iter_pages``/``iter_items`` walk all pages.

The API key travels only in the ``x-api-key`` header; logs name the operation, never the key,
a full URL or a request body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from textdesk.transport import FALLBACK_RETRY_AFTER as FALLBACK_RETRY_AFTER  # re-exported
from textdesk.transport import ServiceClient
from textdesk.transport import parse_retry_after as parse_retry_after  # re-exported

from .errors import LimiterBusy, TextRequestError
from .limiter import PRIORITIES, Limiter, get_limiter
from .types import (
    Contact,
    Conversation,
    CustomField,
    Dashboard,
    Group,
    Hook,
    Message,
    MmsUpload,
    Page,
    Payment,
    ScheduledMessage,
    SentMessage,
    Tag,
    format_timestamp,
)

T = TypeVar("T")

DEFAULT_API_URL = "https://api.textrequest.com/api/v3"
DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_WAIT = {"interactive": 5.0, "sync": 1.0}


def _params(**values: Any) -> dict[str, str]:
    """Query parameters without the ``None`` ones, in the API's spelling."""
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            out[key] = format_timestamp(value)
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def _body(**values: Any) -> dict[str, Any]:
    """A JSON body without the ``None`` fields (``None`` means "leave as is")."""
    return {key: value for key, value in values.items() if value is not None}


def _path_part(value: Any) -> str:
    return quote(str(value), safe="")


def _custom_fields(values: Any) -> Any:
    """Custom field values as the API wants them: ``[{"id", "value"}]``; a mapping of
    id → value is accepted too."""
    if isinstance(values, Mapping):
        return [{"id": str(k), "value": v} for k, v in values.items()]
    return values


class TextRequestClient(ServiceClient):
    """A client for one Text Request connection (one API key, the ``x-api-key`` header).

    ``bucket`` names the connection in the shared rate limiter; ``limit`` calls per ``window``
    seconds is the connection's quota. ``limiter`` defaults to ``get_limiter()`` (from
    Django settings). ``timeout`` is requests' ``(connect, read)`` pair, used on every call.
    A ``session`` passed in is taken over: the client sets its auth header."""

    service = "Text Request"
    error_root = TextRequestError

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        bucket: str,
        limit: int = 100,
        window: float = 60.0,
        limiter: Limiter | None = None,
        priority: str = "interactive",
        max_wait: float | None = None,
        timeout: float | tuple[float, float] = (3.05, 15.0),
        session: requests.Session | None = None,
    ):
        if not api_url or not api_url.startswith(("http://", "https://")):
            raise ValueError("api_url must be an http(s) URL")
        if not api_key:
            raise ValueError("api_key is required")
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}")
        self.api_url = api_url.rstrip("/")
        self.bucket = str(bucket)
        self.limit = limit
        self.window = window
        self.limiter = limiter if limiter is not None else get_limiter()
        self.priority = priority
        self.max_wait = DEFAULT_MAX_WAIT[priority] if max_wait is None else max_wait
        super().__init__(
            secret_header="x-api-key", secret=api_key, timeout=timeout, session=session
        )

    def __repr__(self) -> str:  # never show the key
        return f"<TextRequestClient bucket={self.bucket!r} priority={self.priority!r}>"

    # --- Transport (the rest is ServiceClient's) ---------------------------------------------

    def before_call(self, operation: str) -> None:
        """Take a slot from the shared rate limiter, or raise ``LimiterBusy`` (no call made)."""
        try:
            self.limiter.acquire(self.bucket, self.limit, self.window, self.priority, self.max_wait)
        except LimiterBusy as exc:
            exc.operation = operation
            raise

    def on_rate_limited(self, operation: str, retry_after: float) -> None:
        """A 429 sets the cooldown every process sharing the bucket respects, and is counted
        (with a correct limiter there are none)."""
        self.limiter.cooldown(self.bucket, max(retry_after, 0.001))
        self.limiter.count_429(self.bucket)

    def _page(
        self,
        operation: str,
        path: str,
        item: Callable[[Mapping], T],
        page: int,
        page_size: int,
        **filters: Any,
    ) -> Page[T]:
        data = self._call(
            operation, "GET", path, params=_params(page=page, page_size=page_size, **filters)
        )
        if data is None:
            return Page.empty(page)
        return Page.from_api(data, item, page=page)

    # --- Dashboards (phone lines) ------------------------------------------------------------

    def get_dashboards(
        self, *, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Page[Dashboard]:
        """GetDashboards: the account's dashboards (phone lines)."""
        return self._page("GetDashboards", "/dashboards", Dashboard.from_api, page, page_size)

    def get_dashboard(self, dashboard_id: int) -> Dashboard | None:
        """GetDashboard."""
        data = self._call("GetDashboard", "GET", f"/dashboards/{_path_part(dashboard_id)}")
        return None if data is None else Dashboard.from_api(data)

    def create_dashboard(self, *, name: str, phone: str) -> Dashboard:
        """CreateDashboard: ``phone`` must be a provisioned number (see
        ``get_provisioning_numbers``); a number already in use is a 400."""
        data = self._call(
            "CreateDashboard", "POST", "/dashboards", json={"name": name, "phone": phone}
        )
        return Dashboard.from_api(data)

    def update_dashboard_name(self, dashboard_id: int, name: str) -> Dashboard:
        """UpdateDashboardsName."""
        data = self._call(
            "UpdateDashboardsName",
            "PUT",
            f"/dashboards/{_path_part(dashboard_id)}",
            json={"name": name},
        )
        return Dashboard.from_api(data)

    def delete_dashboard(self, dashboard_id: int) -> None:
        """DeleteDashboard."""
        self._call("DeleteDashboard", "DELETE", f"/dashboards/{_path_part(dashboard_id)}")

    def get_provisioning_numbers(self, area_code: str | int) -> list[str]:
        """Numbers free to take for a new dashboard in this area code (10 digits each)."""
        data = self._call(
            "GetProvisioningNumbers",
            "GET",
            "/dashboards/provisioning",
            params=_params(area_code=area_code),
        )
        return _phone_list(data)

    # --- Conversations and messages ----------------------------------------------------------

    def get_conversations(
        self,
        dashboard_id: int,
        *,
        tags: Iterable[str] | str | None = None,
        show_unresolved_only: bool | None = None,
        include_archived: bool | None = None,
        search: str | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Conversation]:
        """GetConversations: newest last message first; 204 → an empty page."""
        return self._page(
            "GetConversations",
            f"/dashboards/{_path_part(dashboard_id)}/conversations",
            Conversation.from_api,
            page,
            page_size,
            tags=tags,
            show_unresolved_only=show_unresolved_only,
            include_archived=include_archived,
            search=search,
        )

    def get_messages(
        self,
        dashboard_id: int,
        phone_number: str,
        *,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Message]:
        """GetMessagesByContactPhone: a conversation's messages; 204 → an empty page."""
        return self._page(
            "GetMessagesByContactPhone",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}/messages",
            Message.from_api,
            page,
            page_size,
        )

    def send_message(
        self,
        dashboard_id: int,
        phone_number: str,
        *,
        body: str,
        sender_name: str | None = None,
        status_callback: str | None = None,
        location_callback: str | None = None,
        mms_media: list[str] | None = None,
    ) -> Message:
        """SendMessageByPhoneNumber. Not idempotent: on ``OutcomeUnknown`` or ``ServerError``
        check the conversation before sending again."""
        data = self._call(
            "SendMessageByPhoneNumber",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}/messages",
            json=_body(
                body=body,
                sender_name=sender_name,
                status_callback=status_callback,
                location_callback=location_callback,
                mms_media=list(mms_media) if mms_media is not None else None,
            ),
        )
        return Message.from_api(data)

    def send_message_by_numbers(
        self,
        *,
        from_number: str,
        to: str,
        body: str,
        sender_name: str | None = None,
        status_callback: str | None = None,
        location_callback: str | None = None,
        mms_media: list[str] | None = None,
        geolocation_requested: bool | None = None,
    ) -> SentMessage:
        """SendMessage (``POST /messages``; docs/textrequest-api.md, evidence): the line named by
        its number. Not idempotent, like ``send_message``."""
        data = self._call(
            "SendMessage",
            "POST",
            "/messages",
            json=_body(
                **{"from": from_number, "to": to},
                body=body,
                sender_name=sender_name,
                status_callback=status_callback,
                location_callback=location_callback,
                mms_media=list(mms_media) if mms_media is not None else None,
                geolocation_requested=geolocation_requested,
            ),
        )
        return SentMessage.from_api(data)

    def redact_message(self, message_id: str) -> None:
        """RedactMessage: Text Request hides the text's body (it is not unsent). Idempotent."""
        self._call("RedactMessage", "PUT", f"/messages/{_path_part(message_id)}/redact")

    def unredact_message(self, message_id: str) -> None:
        """UnredactMessage: the body shows again in Text Request's reads."""
        self._call("UnredactMessage", "PUT", f"/messages/{_path_part(message_id)}/unredact")

    def get_dashboard_messages(
        self,
        dashboard_id: int,
        *,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Message]:
        """GetDashboardMessages: every message of the line, oldest first. The items do not name
        the contact, so this cannot replace a conversation's history read; 204 → empty page."""
        return self._page(
            "GetDashboardMessages",
            f"/dashboards/{_path_part(dashboard_id)}/messages",
            Message.from_api,
            page,
            page_size,
            start_date=start_date,
            end_date=end_date,
        )

    def get_scheduled_messages(
        self,
        dashboard_id: int,
        *,
        recurring_only: bool | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[ScheduledMessage]:
        """GetScheduledMessages. Its shape is unknown (docs/textrequest-api.md): a page or a
        plain array are both read, and an item that is not an object is skipped."""
        data = self._call(
            "GetScheduledMessages",
            "GET",
            f"/dashboards/{_path_part(dashboard_id)}/scheduledmessages",
            params=_params(recurring_only=recurring_only, page=page, page_size=page_size),
        )
        if data is None:
            return Page.empty(page)
        if isinstance(data, list):
            data = {"items": data}
        if not isinstance(data, Mapping):
            return Page.empty(page)
        items = [x for x in _list_of(data.get("items")) if isinstance(x, Mapping)]
        return Page.from_api({**data, "items": items}, ScheduledMessage.from_api, page=page)

    def upload_mms(self, file_name: str, content: bytes, content_type: str) -> MmsUpload:
        """UploadMms (``POST /mms``, multipart field ``file``; docs/textrequest-api.md):
        answers the URL that ``send_message(mms_media=...)`` accepts. Nothing reaches a customer, so
        repeating it after ``OutcomeUnknown`` costs at most an unused upload."""
        data = self._call(
            "UploadMms", "POST", "/mms", files={"file": (file_name, content, content_type)}
        )
        return MmsUpload.from_api(data)

    def archive_conversation(self, dashboard_id: int, phone_number: str) -> None:
        """ArchiveConversation."""
        self._call(
            "ArchiveConversation",
            "PUT",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}"
            "/conversations/archive",
        )

    def unarchive_conversation(self, dashboard_id: int, phone_number: str) -> None:
        """UnarchiveConversation."""
        self._call(
            "UnarchiveConversation",
            "PUT",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}"
            "/conversations/unarchive",
        )

    # --- Contacts ----------------------------------------------------------------------------

    def get_contacts(
        self,
        dashboard_id: int,
        *,
        contact_phone_number: str | None = None,
        last_message_timestamp_before_utc: datetime | str | None = None,
        last_message_timestamp_after_utc: datetime | str | None = None,
        contact_created_before: datetime | str | None = None,
        contact_created_after: datetime | str | None = None,
        is_resolved: bool | None = None,
        is_blocked: bool | None = None,
        is_archived: bool | None = None,
        is_suppressed: bool | None = None,
        has_opted_out: bool | None = None,
        last_message_sent_before: datetime | str | None = None,
        last_message_sent_after: datetime | str | None = None,
        last_message_received_before: datetime | str | None = None,
        last_message_received_after: datetime | str | None = None,
        tags: Iterable[str] | str | None = None,
        groups: Iterable[int] | str | None = None,
        custom_field_id_1: str | None = None,
        custom_field_value_1: str | None = None,
        custom_field_id_2: str | None = None,
        custom_field_value_2: str | None = None,
        custom_field_id_3: str | None = None,
        custom_field_value_3: str | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Contact]:
        """GetContacts: contacts of a dashboard, oldest created first, with every documented
        filter. Timestamps may be datetimes (sent as UTC ISO 8601) or text; ``tags`` and
        ``groups`` may be lists (sent comma-separated)."""
        return self._page(
            "GetContacts",
            f"/dashboards/{_path_part(dashboard_id)}/contacts",
            Contact.from_api,
            page,
            page_size,
            contact_phone_number=contact_phone_number,
            last_message_timestamp_before_utc=last_message_timestamp_before_utc,
            last_message_timestamp_after_utc=last_message_timestamp_after_utc,
            contact_created_before=contact_created_before,
            contact_created_after=contact_created_after,
            is_resolved=is_resolved,
            is_blocked=is_blocked,
            is_archived=is_archived,
            is_suppressed=is_suppressed,
            has_opted_out=has_opted_out,
            last_message_sent_before=last_message_sent_before,
            last_message_sent_after=last_message_sent_after,
            last_message_received_before=last_message_received_before,
            last_message_received_after=last_message_received_after,
            tags=tags,
            groups=groups,
            custom_field_id_1=custom_field_id_1,
            custom_field_value_1=custom_field_value_1,
            custom_field_id_2=custom_field_id_2,
            custom_field_value_2=custom_field_value_2,
            custom_field_id_3=custom_field_id_3,
            custom_field_value_3=custom_field_value_3,
        )

    def get_contact(self, dashboard_id: int, phone_number: str) -> Contact | None:
        """GetContactByPhoneNumber; 204 (no such contact) → None."""
        data = self._call(
            "GetContactByPhoneNumber",
            "GET",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}",
        )
        return None if data is None else Contact.from_api(data)

    def create_or_update_contact(
        self,
        dashboard_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
        is_suppressed: bool | None = None,
        is_archived: bool | None = None,
        is_blocked: bool | None = None,
        suppressed_reason: str | None = None,
        note: str | None = None,
        groups: Iterable[int] | None = None,
        contact_tags: Iterable[str] | None = None,
        custom_fields: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        is_resolved: bool | None = None,
    ) -> Contact:
        """CreateContact ("create or update"). Fields left ``None`` are not sent; pass ``""``
        or ``[]`` to clear. Tags are set by writing ``contact_tags`` (GUIDs); resolving a
        conversation is writing ``is_resolved``."""
        data = self._call(
            "CreateContact",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}",
            json=_body(
                first_name=first_name,
                last_name=last_name,
                display_name=display_name,
                is_suppressed=is_suppressed,
                is_archived=is_archived,
                is_blocked=is_blocked,
                suppressed_reason=suppressed_reason,
                note=note,
                groups=list(groups) if groups is not None else None,
                contact_tags=list(contact_tags) if contact_tags is not None else None,
                custom_fields=_custom_fields(custom_fields) if custom_fields is not None else None,
                is_resolved=is_resolved,
            ),
        )
        return Contact.from_api(data)

    def delete_contact(self, dashboard_id: int, phone_number: str) -> None:
        """DeleteContact."""
        self._call(
            "DeleteContact",
            "DELETE",
            f"/dashboards/{_path_part(dashboard_id)}/contacts/{_path_part(phone_number)}",
        )

    def bulk_update_contacts(
        self, dashboard_id: int, contacts: Iterable[Mapping[str, Any]]
    ) -> list[Contact]:
        """BulkUpdateContacts: create or update many contacts in one call; each mapping needs
        ``phone_number`` and any fields of ``create_or_update_contact``."""
        items = []
        for contact in contacts:
            if not contact.get("phone_number"):
                raise ValueError("every contact needs a phone_number")
            item = {k: v for k, v in contact.items() if v is not None}
            if "custom_fields" in item:
                item["custom_fields"] = _custom_fields(item["custom_fields"])
            items.append(item)
        data = self._call(
            "BulkUpdateContacts",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/contacts",
            json=items,
        )
        return [Contact.from_api(c) for c in data or []]

    # --- Groups, tags, custom fields -------------------------------------------------------

    def get_groups(
        self, dashboard_id: int, *, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Page[Group]:
        """GetGroups."""
        return self._page(
            "GetGroups",
            f"/dashboards/{_path_part(dashboard_id)}/groups",
            Group.from_api,
            page,
            page_size,
        )

    def get_group(self, dashboard_id: int, group_id: int) -> Group | None:
        """GetGroupById; 204 → None."""
        data = self._call(
            "GetGroupById",
            "GET",
            f"/dashboards/{_path_part(dashboard_id)}/groups/{_path_part(group_id)}",
        )
        return None if data is None else Group.from_api(data)

    def create_group(self, dashboard_id: int, *, name: str, notes: str | None = None) -> Group:
        """CreateGroup."""
        data = self._call(
            "CreateGroup",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/groups",
            json=_body(name=name, notes=notes),
        )
        return Group.from_api(data)

    def update_group(
        self,
        dashboard_id: int,
        group_id: int,
        *,
        name: str | None = None,
        notes: str | None = None,
    ) -> Group:
        """UpdateGroup; fields left ``None`` are not sent."""
        data = self._call(
            "UpdateGroup",
            "PUT",
            f"/dashboards/{_path_part(dashboard_id)}/groups/{_path_part(group_id)}",
            json=_body(name=name, notes=notes),
        )
        return Group.from_api(data)

    def delete_group(self, dashboard_id: int, group_id: int) -> None:
        """DeleteGroup."""
        self._call(
            "DeleteGroup",
            "DELETE",
            f"/dashboards/{_path_part(dashboard_id)}/groups/{_path_part(group_id)}",
        )

    def get_tags(
        self, dashboard_id: int, *, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Page[Tag]:
        """GetTags."""
        return self._page(
            "GetTags", f"/dashboards/{_path_part(dashboard_id)}/tags", Tag.from_api, page, page_size
        )

    # Tags and custom fields beyond the definition (docs/textrequest-api.md, evidence): create,
    # read one, rename, delete.

    def _tag_path(self, dashboard_id: int, tag_id: str | None = None) -> str:
        path = f"/dashboards/{_path_part(dashboard_id)}/tags"
        return path if tag_id is None else f"{path}/{_path_part(tag_id)}"

    def create_tag(self, dashboard_id: int, *, tag: str, tag_color: str | None = None) -> Tag:
        """CreateTag: answers the new tag (its GUID). Not idempotent: on ``OutcomeUnknown``
        look for the name with ``get_tags`` before creating it again."""
        data = self._call(
            "CreateTag",
            "POST",
            self._tag_path(dashboard_id),
            json=_body(tag=tag, tag_color=tag_color),
        )
        return Tag.from_api(data)

    def get_tag(self, dashboard_id: int, tag_id: str) -> Tag | None:
        """GetTag; an unknown tag (204) → None."""
        data = self._call("GetTag", "GET", self._tag_path(dashboard_id, tag_id))
        return None if data is None else Tag.from_api(data)

    def update_tag(
        self, dashboard_id: int, tag_id: str, *, tag: str, tag_color: str | None = None
    ) -> Tag:
        """UpdateTag: rename and/or recolour (the same body as CreateTag). Unknown → NotFound."""
        data = self._call(
            "UpdateTag",
            "PUT",
            self._tag_path(dashboard_id, tag_id),
            json=_body(tag=tag, tag_color=tag_color),
        )
        return Tag.from_api(data)

    def delete_tag(self, dashboard_id: int, tag_id: str) -> None:
        """DeleteTag (204). Unknown → NotFound; refused → BadRequest."""
        self._call("DeleteTag", "DELETE", self._tag_path(dashboard_id, tag_id))

    def get_custom_fields(self, dashboard_id: int) -> list[CustomField]:
        """GetCustomFields (not paged: a plain array; a paged answer is read too)."""
        data = self._call(
            "GetCustomFields", "GET", f"/dashboards/{_path_part(dashboard_id)}/fields"
        )
        if isinstance(data, Mapping):
            data = data.get("items") or []
        return [CustomField.from_api(f) for f in data or []]

    def _field_path(self, dashboard_id: int, field_id: str | None = None) -> str:
        path = f"/dashboards/{_path_part(dashboard_id)}/fields"
        return path if field_id is None else f"{path}/{_path_part(field_id)}"

    def create_custom_field(self, dashboard_id: int, *, name: str) -> CustomField:
        """CreateCustomField: answers ``{id, name}``. Not idempotent (see ``create_tag``)."""
        data = self._call(
            "CreateCustomField", "POST", self._field_path(dashboard_id), json={"name": name}
        )
        return CustomField.from_api(data)

    def get_custom_field(self, dashboard_id: int, field_id: str) -> CustomField | None:
        """GetCustomField; unknown (204) → None."""
        data = self._call("GetCustomField", "GET", self._field_path(dashboard_id, field_id))
        return None if data is None else CustomField.from_api(data)

    def update_custom_field(self, dashboard_id: int, field_id: str, *, name: str) -> CustomField:
        """UpdateCustomField: rename. Unknown → NotFound."""
        data = self._call(
            "UpdateCustomField",
            "PUT",
            self._field_path(dashboard_id, field_id),
            json={"name": name},
        )
        return CustomField.from_api(data)

    def delete_custom_field(self, dashboard_id: int, field_id: str) -> None:
        """DeleteCustomField (204). Unknown → NotFound; refused → BadRequest."""
        self._call("DeleteCustomField", "DELETE", self._field_path(dashboard_id, field_id))

    # --- Payments ----------------------------------------------------------------------------

    def get_payments(
        self,
        dashboard_id: int,
        *,
        reference_number: str | None = None,
        phone_number: str | None = None,
        sort_type: str | None = None,
        sort_direction: str | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Payment]:
        """GetPayments; ``sort_type`` is amount|contact|date|status, ``sort_direction`` asc|desc
        (the service's default: date, desc)."""
        return self._page(
            "GetPayments",
            f"/dashboards/{_path_part(dashboard_id)}/payments",
            Payment.from_api,
            page,
            page_size,
            reference_number=reference_number,
            phone_number=phone_number,
            sort_type=sort_type,
            sort_direction=sort_direction,
        )

    def get_payment(self, dashboard_id: int, payment_id: int) -> Payment | None:
        """GetPayment; 204 → None."""
        data = self._call(
            "GetPayment",
            "GET",
            f"/dashboards/{_path_part(dashboard_id)}/payments/{_path_part(payment_id)}",
        )
        return None if data is None else Payment.from_api(data)

    def create_payment(
        self,
        dashboard_id: int,
        *,
        customer_phone: str,
        amount_requested: Decimal | float | str,
        message: str,
        description: str | None = None,
        reference_number: str | None = None,
    ) -> Payment:
        """CreatePayment: texts the customer a payment link. ``amount_requested`` in dollars."""
        amount = Decimal(str(amount_requested)).quantize(Decimal("0.01"))
        data = self._call(
            "CreatePayment",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/payments",
            json=_body(
                customer_phone=customer_phone,
                amount_requested=float(amount),
                message=message,
                description=description,
                reference_number=reference_number,
            ),
        )
        return Payment.from_api(data)

    def _payment_action(
        self, operation: str, dashboard_id: int, payment_id: int, action: str
    ) -> Payment:
        data = self._call(
            operation,
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/payments/{_path_part(payment_id)}/{action}",
        )
        return Payment.from_api(data)

    def send_payment_reminder(self, dashboard_id: int, payment_id: int) -> Payment:
        """SendPaymentReminder: only one reminder per payment (a second one is a 400)."""
        return self._payment_action("SendPaymentReminder", dashboard_id, payment_id, "resend")

    def cancel_payment(self, dashboard_id: int, payment_id: int) -> Payment:
        """CancelPayment (texts the customer)."""
        return self._payment_action("CancelPayment", dashboard_id, payment_id, "cancel")

    def mark_payment_paid(self, dashboard_id: int, payment_id: int) -> Payment:
        """MarkPaymentPaid: for payments settled outside the payment portal."""
        return self._payment_action("MarkPaymentPaid", dashboard_id, payment_id, "mark_as_paid")

    # --- Webhook subscriptions ---------------------------------------------------------------

    def get_hooks(self, dashboard_id: int) -> list[Hook]:
        """The dashboard's webhook subscriptions."""
        data = self._call("GetHooks", "GET", f"/dashboards/{_path_part(dashboard_id)}/hooks")
        if isinstance(data, Mapping):  # tolerate a paged answer
            data = data.get("items") or []
        return [Hook.from_api(h) for h in data or []]

    def create_hook(
        self, dashboard_id: int, *, event: str, target_url: str, http_verb: str = "POST"
    ) -> Hook:
        """Subscribe ``target_url`` to one event. The URL carries a secret token (a second
        secret beside the signature), so it is never logged."""
        data = self._call(
            "CreateHook",
            "POST",
            f"/dashboards/{_path_part(dashboard_id)}/hooks",
            json={"event": event, "target_url": target_url, "http_verb": http_verb},
        )
        return Hook.from_api(data)

    def delete_hook(self, dashboard_id: int, hook_id: int | str) -> None:
        """Remove a webhook subscription."""
        self._call(
            "DeleteHook",
            "DELETE",
            f"/dashboards/{_path_part(dashboard_id)}/hooks/{_path_part(hook_id)}",
        )

    # --- Event types (webhooks, issue 20) ----------------------------------------------------

    def get_event_types(self) -> list[str]:
        """GetEventTypes: the webhook events the account offers (a JSON array of strings;
        a paged or object answer is read too)."""
        data = self._call("GetEventTypes", "GET", "/eventTypes")
        if isinstance(data, Mapping):
            data = data.get("items") or data.get("eventTypes") or []
        out = []
        for entry in data or []:
            if isinstance(entry, Mapping):
                entry = entry.get("name") or entry.get("event")
            if isinstance(entry, str) and entry:
                out.append(entry)
        return out


def _list_of(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else []


def _phone_list(data: Any) -> list[str]:
    """Provisioning answers: a list of numbers, of objects with a phone field, or a page."""
    if isinstance(data, Mapping):
        data = data.get("items") or data.get("numbers") or data.get("phone_numbers") or []
    out = []
    for entry in data or []:
        if isinstance(entry, Mapping):
            entry = entry.get("phone_number") or entry.get("phone") or entry.get("number")
        if entry:
            out.append(str(entry))
    return out


# --- Paging --------------------------------------------------------------------------------


def iter_pages(
    fn: Callable[..., Page[T]],
    *args: Any,
    page_size: int = DEFAULT_PAGE_SIZE,
    start_page: int = 0,
    **kwargs: Any,
) -> Iterator[Page[T]]:
    """Call a list method page by page (``fn(*args, page=..., page_size=..., **kwargs)``) and
    yield each non-empty page. Stops without an extra call once ``total_items`` is reached or a
    page comes back short, so a full walk costs ceil(total / page_size) calls. Lazy: stop
    iterating to stop calling (e.g. on reaching known state in a newest-first list)."""
    page = start_page
    while True:
        result = fn(*args, page=page, page_size=page_size, **kwargs)
        if not result.items:
            return
        yield result
        seen = page * page_size + len(result.items)
        if len(result.items) < page_size:
            return
        if result.total_items is not None and seen >= result.total_items:
            return
        page += 1


def iter_items(
    fn: Callable[..., Page[T]], *args: Any, page_size: int = DEFAULT_PAGE_SIZE, **kwargs: Any
) -> Iterator[T]:
    """Every item of every page, lazily; see ``iter_pages``."""
    for page in iter_pages(fn, *args, page_size=page_size, **kwargs):
        yield from page.items
