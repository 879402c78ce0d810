"""Messages beyond one conversation (a mixin of :class:`Backend`): redaction, a line's
messages, sending by numbers, scheduled messages.

None of these is in the connector definition; docs/textrequest-api.md ("Beyond the definition")
gives what is known of each, and COVERAGE.md lists what the sandbox decides where it is silent.
"""

from __future__ import annotations

from .phones import count_segments
from .records import Dashboard, Message, fmt_ts, parse_ts
from .validation import (
    SandboxError,
    as_object,
    bad,
    opt_str,
    page_of,
    paging,
    parse_phone,
    query_bool,
)

SCHEDULED_BODY_MAX = 1600


class MessagesMixin:
    """RedactMessage, UnredactMessage, GetDashboardMessages, SendMessage (by numbers),
    GetScheduledMessages."""

    # -- redaction ----------------------------------------------------------------------------

    def _message(self, key: str, message_id: str) -> Message:
        """The account's message with this id (a walk of its lines: redaction is rare)."""
        acct = self.account(key)
        for dash in acct.dashboards.values():
            for contact in dash.conv_order.values():
                for msg in reversed(contact.messages):
                    if msg.id == message_id:
                        return msg
        raise SandboxError(404, f"Message {message_id} not found in this account")

    def set_redacted(self, key: str, message_id: str, redacted: bool) -> None:
        """Hide a message's body from every read, or show it again. Redacting twice (or
        unredacting a message that is not redacted) changes nothing and is still a 200."""
        with self.lock:
            msg = self._message(key, message_id)
            if getattr(msg, "redacted", False) != redacted:
                msg.redacted = redacted
                self.changes += 1
                self.dashboards[msg.dashboard_id].list_cache.clear()

    # -- a line's messages --------------------------------------------------------------------

    def get_dashboard_messages(self, key: str, dashboard_id: int, q: dict) -> dict | None:
        """Every message of the line, oldest first, optionally from ``start_date`` (inclusive)
        to ``end_date`` (exclusive); 204 when none. Like a conversation's history, the items
        do not name the contact."""
        start = _date(q, "start_date")
        end = _date(q, "end_date")
        if start is not None and end is not None and end < start:
            raise bad("end_date must not be before start_date")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            found = [
                msg
                for contact in dash.conv_order.values()
                for msg in contact.messages
                if (start is None or msg.at >= start) and (end is None or msg.at < end)
            ]
            if not found:
                return None
            found.sort(key=lambda m: (m.at, m.id))
            return page_of(found, page, size, Message.as_json)

    # -- sending by numbers -------------------------------------------------------------------

    def send_by_numbers(self, key: str, body: object) -> dict:
        """``POST /messages``: the line is named by its number (``from``), the customer by
        ``to``; the same rules as a send to a contact. Answers ``{message_id, segments_count,
        from, to, status}``."""
        body = as_object(body)
        if body.get("from") is None:
            raise bad("from is required (the number of one of your lines)")
        if body.get("to") is None:
            raise bad("to is required (the customer's number)")
        sender = parse_phone(body.get("from"), "from")
        to = parse_phone(body.get("to"), "to")
        forwarded = {k: v for k, v in body.items() if k not in ("from", "to")}
        with self.lock:
            dash = next(
                (d for d in self.account(key).dashboards.values() if d.phone == sender), None
            )
            if dash is None:
                raise bad(f"from {sender} is not the number of a line of this account")
            sent = self.send_message(key, dash.id, to, forwarded)
            return {
                "message_id": sent["message_id"],
                "segments_count": count_segments(sent["body"]),
                "from": sender,
                "to": to,
                "status": sent["delivery_status"],
            }

    # -- scheduled messages -------------------------------------------------------------------

    def get_scheduled_messages(self, key: str, dashboard_id: int, q: dict) -> dict:
        """The line's scheduled messages, soonest first (the sandbox's shape, COVERAGE.md)."""
        recurring_only = query_bool(q, "recurring_only", False)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            status = int(self.cfg(self.account(key), "scheduled_messages_status"))
            if status == 403:
                raise SandboxError(403, "Scheduled messages are not enabled for this account")
            if status == 404:
                raise SandboxError(404, "Not found")
            page, size = paging(q)
            items = [s for s in dash.scheduled if s["is_recurring"] or not recurring_only]
            items.sort(key=lambda s: (s["send_at"], s["id"]))
            return page_of(items, page, size, dict)

    def add_scheduled(self, key: str, dashboard_id: int, body: object) -> dict:
        """Control API: a message scheduled in Text Request's app (the API cannot make one)."""
        body = as_object(body)
        phone = parse_phone(body.get("phone_number"), "phone_number")
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise bad("body is required")
        if len(text) > SCHEDULED_BODY_MAX:
            raise bad(f"body must be at most {SCHEDULED_BODY_MAX} characters")
        send_at = body.get("send_at")
        try:
            send_ms = parse_ts(send_at) if isinstance(send_at, str) else None
        except ValueError:
            send_ms = None
        if send_ms is None:
            raise bad("send_at must be an ISO 8601 date-time")
        recurrence = opt_str(body, "recurrence", 20)
        if recurrence not in (None, "daily", "weekly", "monthly"):
            raise bad("recurrence must be daily, weekly or monthly")
        with self.lock:
            dash: Dashboard = self._dash(key, dashboard_id)
            item = {
                "id": self._scheduled_id(),
                "phone_number": phone,
                "body": text,
                "send_at": fmt_ts(send_ms),
                "is_recurring": recurrence is not None,
                "recurrence": recurrence,
                "sender_name": opt_str(body, "sender_name", 100),
            }
            dash.scheduled.append(item)
            self.changes += 1
            return dict(item)

    def _scheduled_id(self) -> int:
        # states saved before scheduled messages have no counter for them
        self._ids.setdefault("scheduled", 9001)
        return self.next_id("scheduled")


def _date(q: dict, name: str) -> int | None:
    value = q.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_ts(value)
    except ValueError:
        raise bad(f"{name} must be an ISO 8601 date or date-time, got {value!r}") from None
