"""Conversations and messages (a mixin of :class:`Backend`).

Sending (``sending`` -> ``delivered``/``error`` after the delivery delay), inbound texts
from the control API (STOP/START, keyword groups), archiving, the conversation list (kept
in last-message order by ``Dashboard.conv_order``) and each contact's message history.
"""

from __future__ import annotations

import re

from .indexes import LazyList, cache_key, remember
from .mms import mms_hosted
from .records import Account, Contact, Dashboard, Message, fmt_ts
from .validation import (
    PHONEISH_RE,
    URL_RE,
    as_object,
    bad,
    opt_bool,
    opt_str,
    opt_url,
    page_of,
    paging,
    parse_phone,
    query_bool,
)

MMS_PREFIX = "https://mms.textrequest.com/"
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
MAX_BODY = 1600
LANDLINE_ERROR = "Undeliverable: the destination is a landline"
CARRIER_ERROR = "Carrier rejected the message"


LOCATION_TAG = re.compile(r"\[Location ?Request\]")


class ConversationsMixin:
    """GetConversations, message history, archive/unarchive, sending, inbound texts."""

    # -- reading ------------------------------------------------------------------------------

    def get_conversations(self, key: str, dashboard_id: int, q: dict) -> dict | None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            tag_ids = self._tag_list(dash, q.get("tags"))
            unresolved_only = query_bool(q, "show_unresolved_only", False)
            include_archived = query_bool(q, "include_archived", False)
            search = (q.get("search") or "").strip()
            digits = re.sub(r"\D", "", search) if PHONEISH_RE.match(search or "x") else ""
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            key_ = cache_key("conversations", q)
            matches = dash.list_cache.get(key_)
            if matches is None:
                matches = self._filter_conversations(
                    dash, tag_ids, unresolved_only, include_archived, search, digits
                )
                remember(dash, key_, matches)
            if not matches:
                return None
            return page_of(matches, page, size, _conversation_json)

    @staticmethod
    def _filter_conversations(
        dash: Dashboard,
        tag_ids: set[str],
        unresolved_only: bool,
        include_archived: bool,
        search: str,
        digits: str,
    ) -> list[Contact] | LazyList:
        """The matching conversations, last message newest first.

        The count comes from the line's indexes (flags, tags, and for ``search`` the trigram
        indexes of names and numbers); few matches are sorted by their place in the
        conversation order, many are read from it only as far as pages are read (the first
        page of 40,000 conversations reads ~100).
        """
        index = dash.index
        hidden: set[str] = set()
        if not include_archived:
            hidden |= index.flagged["is_archived"]
        if unresolved_only:
            hidden |= index.flagged["is_resolved"]
        conversations = dash.conv_order
        newest_first = reversed(conversations.values())
        if not search and not tag_ids:
            total = len(conversations) - len(_with_messages(hidden, conversations))
            return LazyList((c for c in newest_first if c.phone not in hidden), total)
        if search:
            found = (
                index.numbers.search(digits) if digits else index.names.search(search.casefold())
            )
            shown = _with_messages(found, conversations)
            if tag_ids:
                shown &= index.tagged(tag_ids)
        else:
            shown = _with_messages(index.tagged(tag_ids), conversations)
        shown -= hidden
        if len(shown) * 16 < len(conversations):  # few: sort them by conversation order
            return index.newest_first(shown, conversations)
        return LazyList((c for c in newest_first if c.phone in shown), len(shown))

    def get_messages(self, key: str, dashboard_id: int, phone: str, q: dict) -> dict | None:
        phone = parse_phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
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

    def all_messages(self, key: str, dashboard_id: int | None = None, phone: object = None) -> list:
        """Control API: every message of the account (oldest first), optionally for one line
        / contact."""
        wanted = parse_phone(phone, "phone_number") if phone else None
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

    # -- archiving ----------------------------------------------------------------------------

    def _set_archived(self, key: str, dashboard_id: int, phone: str, value: bool) -> str:
        phone = parse_phone(phone)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            contact = dash.contacts.get(phone)
            if contact is None:
                raise bad(f"No conversation with {phone} in this dashboard")
            contact.is_archived = value
            dash.index.update(contact)
            dash.list_cache.clear()
            return "Conversation archived." if value else "Conversation unarchived."

    def archive_conversation(self, key: str, dashboard_id: int, phone: str) -> str:
        return self._set_archived(key, dashboard_id, phone, True)

    def unarchive_conversation(self, key: str, dashboard_id: int, phone: str) -> str:
        return self._set_archived(key, dashboard_id, phone, False)

    # -- writing ------------------------------------------------------------------------------

    def _add_message(self, dash: Dashboard, contact: Contact, msg: Message) -> None:
        """Append a message and keep the contact's counters and the conversation order."""
        previous = contact.messages[-1] if contact.messages else None
        contact.messages.append(msg)
        self.changes += 1
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
        dash.index.update(contact)
        dash.conv_order.pop(contact.phone, None)
        dash.conv_order[contact.phone] = contact
        dash.index.moved(contact.phone)

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
        self.changes += 1
        dash = acct.dashboards.get(msg.dashboard_id)
        if dash is not None:
            self._fire_status(dash, msg)
        if msg.status_callback:
            self._status_callback(msg, acct)

    def send_message(self, key: str, dashboard_id: int, phone: str, body: object) -> dict:
        body = as_object(body)
        phone = parse_phone(phone)
        text = body.get("body")
        if text is not None and not isinstance(text, str):
            raise bad("body must be a string")
        media = body.get("mms_media")
        if media is None:
            media = []
        if not isinstance(media, list) or not all(isinstance(m, str) for m in media):
            raise bad("mms_media must be an array of URL strings")
        if not (text or "").strip() and not media:
            raise bad("body is required (the text of the message)")
        text = text or ""
        if len(text) > MAX_BODY:
            raise bad(f"body must be at most {MAX_BODY} characters")
        sender = opt_str(body, "sender_name", 100)
        callback = opt_url(body, "status_callback")
        location = self._location_callback(body, text)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            self.check_mms_media(self.account(key), media, MMS_PREFIX)
            contact = dash.contacts.get(phone)
            if contact is not None:
                self._sendable(contact)
            else:
                contact = self._new_contact(dash, phone)
            accepted = self._send(dash, contact, text, sender or "API", tuple(media), callback)
            if location:
                self._location_requests()[(key, dash.id, contact.phone)] = (
                    accepted["message_id"],
                    location,
                )
            return accepted

    # --- Location requests (additive: the tag, the callback, the simulated customer) ----------

    def _location_callback(self, body: dict, text: str) -> str | None:
        """``location_callback`` is accepted only with the location tag in the body (either
        spelling, docs/textrequest-api.md); the sandbox leaves the tag in the text (the real service
        replaces it with a link)."""
        location = opt_url(body, "location_callback")
        asked = opt_bool(body, "geolocation_requested")  # the other way to ask (evidence)
        if location and not asked and not LOCATION_TAG.search(text):
            raise bad(
                "location_callback needs the location request tag ([LocationRequest]) in the body"
            )
        return location

    def _location_requests(self) -> dict:
        """(key, dashboard id, phone) → (message id, callback) of the newest request."""
        if not hasattr(self, "_location_requests_by_contact"):
            self._location_requests_by_contact = {}
        return self._location_requests_by_contact

    def share_location(
        self, key: str, dashboard_id: int, phone: object, latitude: object, longitude: object,
        accuracy: object = 20,
    ) -> dict:  # fmt: skip
        """Control API: the customer opens the link of the newest location request sent to them
        and shares where they are; its ``location_callback`` receives the payload once."""

        phone = parse_phone(phone, "phone_number")
        for name, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
            if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > bound:
                raise bad(f"{name} must be a number between -{bound} and {bound}")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            found = self._location_requests().get((key, dash.id, phone))
            if found is None:
                raise bad(f"No location request was sent to {phone}")
            message_id, url = found
            payload = {
                "message_id": message_id,
                "latitude": latitude,
                "longitude": longitude,
                "accuracy": accuracy,
                "time": fmt_ts(self.now_ms()),
            }
            timeout = float(self.cfg(dash.account, "callback_timeout"))
            self._fire_location(dash, phone, message_id)
            acct = dash.account
        self.dispatcher.schedule(0, lambda: self._post_signed(acct, url, payload, timeout))
        return payload

    def inbound(
        self,
        key: str,
        dashboard_id: int,
        phone: object,
        body: object,
        media_urls: object = None,
    ) -> dict:
        """Control API: a customer texts the dashboard; STOP/START honoured, webhooks fire."""
        phone = parse_phone(phone, "phone_number")
        if body is None:
            body = ""
        if not isinstance(body, str):
            raise bad("body must be a string")
        media_urls = media_urls or []
        if not isinstance(media_urls, list) or not all(
            isinstance(u, str) and URL_RE.match(u) for u in media_urls
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
            mms_hosted(self.account(key)).update(media)  # mms_media may send them on
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
            dash.index.update(contact)
            dash.list_cache.clear()  # opt-out, archive and keyword groups changed above
            self._fire_hooks(dash, contact, msg, "msg_received")
            return msg.as_json()


def _opt_out_word(body: str) -> str:
    return body.strip(" \t\r\n.!?,;:'\"").upper()


def _with_messages(phones: set[str], conversations: dict[str, Contact]) -> set[str]:
    """The phones that have a conversation (a new set), in time proportional to ``phones``
    (``dict.keys() & set`` would first copy every key)."""
    return {p for p in phones if p in conversations}


def _conversation_json(c: Contact) -> dict:
    return {"phone_number": c.phone, "last_message": c.messages[-1].as_json()}
