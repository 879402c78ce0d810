"""Contacts, groups, tags and custom fields of a line (a mixin of :class:`Backend`).

Every change to a contact goes through :meth:`ContactsMixin._new_contact`,
:meth:`ContactsMixin._apply_contact` or ends with ``dash.index.update(contact)``, so the
per-line indexes (``indexes.py``) stay true and a filtered GetContacts is set arithmetic.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .indexes import LazyList, TimeRange, cache_key, remember
from .phones import BadPhone, normalise_phone
from .records import UTC, Contact, Dashboard, Group, parse_ts
from .validation import (
    INT_RE,
    SandboxError,
    as_object,
    bad,
    opt_bool,
    opt_str,
    page_of,
    paging,
    parse_phone,
    query_bool,
    req_str,
)

# (query parameter, contact attribute, naive timestamps are read in, compare)
TIME_FILTERS = (
    ("last_message_timestamp_before_utc", "last_contact_at", "utc", "le"),
    ("last_message_timestamp_after_utc", "last_contact_at", "utc", "ge"),
    ("contact_created_before", "created_at", "utc", "le"),
    ("contact_created_after", "created_at", "utc", "ge"),
    ("last_message_sent_before", "last_sent_at", "local", "le"),
    ("last_message_sent_after", "last_sent_at", "local", "ge"),
    ("last_message_received_before", "last_received_at", "local", "le"),
    ("last_message_received_after", "last_received_at", "local", "ge"),
    ("last_message_sent_before_utc", "last_sent_at", "utc", "le"),
    ("last_message_sent_after_utc", "last_sent_at", "utc", "ge"),
    ("last_message_received_before_utc", "last_received_at", "utc", "le"),
    ("last_message_received_after_utc", "last_received_at", "utc", "ge"),
)
FLAG_FILTERS = ("is_resolved", "is_blocked", "is_archived", "is_suppressed", "has_opted_out")


class ContactsMixin:
    """Contacts (create-or-update, bulk, delete, the filtered list), groups, tags, fields."""

    # -- contacts -----------------------------------------------------------------------------

    def _contact_changes(self, dash: Dashboard, body: dict, where: str = "") -> dict:
        """Validate a create-or-update body; answer only the fields it sets."""
        changes: dict = {}
        try:
            for name in ("first_name", "last_name", "display_name"):
                if name in body:
                    changes[name] = opt_str(body, name, 100)
            for name in ("suppressed_reason", "note"):
                if name in body:
                    changes[name] = opt_str(body, name, 1000)
            for name in ("is_suppressed", "is_archived", "is_blocked", "is_resolved"):
                value = opt_bool(body, name)
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

    def _new_contact(self, dash: Dashboard, phone: str, *, announce: bool = True) -> Contact:
        contact = Contact(phone, self.now_ms(), self.next_id("conversation"))
        dash.contacts[phone] = contact
        dash.index.add(contact)
        dash.list_cache.clear()
        if announce:
            self._fire_contact(dash, contact, "contact_created")
        return contact

    def _apply_contact(self, dash: Dashboard, phone: str, changes: dict) -> Contact:
        dash.list_cache.clear()
        existing = dash.contacts.get(phone)
        contact = existing or self._new_contact(dash, phone, announce=False)
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
        dash.index.update(contact)
        # after the changes, so a created contact's event carries the name it was given
        self._fire_contact(dash, contact, "contact_updated" if existing else "contact_created")
        return contact

    def create_contact(self, key: str, dashboard_id: int, phone: str, body: object) -> dict:
        body = as_object(body)
        phone = parse_phone(phone)
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
        phone = parse_phone(phone)
        with self.lock:
            contact = self._dash(key, dashboard_id).contacts.get(phone)
            return contact.as_json() if contact else None

    def delete_contact(self, key: str, dashboard_id: int, phone: str) -> str:
        phone = parse_phone(phone)
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
            dash.index.remove(contact)
            dash.list_cache.clear()
            return "Contact deleted."

    def get_contacts(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            key_ = cache_key("contacts", q)
            matches = dash.list_cache.get(key_)
            if matches is None:
                matches = self._filter_contacts(dash, q)
                remember(dash, key_, matches)
            return page_of(matches, page, size, Contact.as_json)

    def _filter_contacts(self, dash: Dashboard, q: dict) -> list[Contact] | LazyList:
        """The contacts matching every filter of ``q``, in creation order.

        Every filter is a set from the line's indexes (phone, flags, tags, groups, custom
        field values) or a range of its sorted timestamps (a set, or a membership test when
        it covers most of the line, so that set is never built). The count is
        known from them, and the list is built only as far as pages are read (a
        :class:`LazyList`) unless the matches are few enough to sort by creation rank.
        """
        index = dash.index
        contacts = dash.contacts
        wanted: list[set[str]] = []  # a contact must be in each of these
        unwanted: list[set[str]] = []  # ... and in none of these
        if q.get("contact_phone_number"):
            phone = parse_phone(q["contact_phone_number"], "contact_phone_number")
            wanted.append({phone} if phone in contacts else set())
        ranges: list[TimeRange] = []  # ... and in each of these (large ranges)
        for time_range in self._time_ranges(dash, q):
            # most of the line: a walk in creation order meets a match at nearly every step
            # (at most a quarter are skipped), cheaper than building the set
            if len(time_range) * 4 <= len(contacts) * 3:
                wanted.append(time_range.phones())
            else:
                ranges.append(time_range)
        for name in FLAG_FILTERS:
            flag = query_bool(q, name)
            if flag is not None:
                (wanted if flag else unwanted).append(index.flagged[name])
        tag_ids = self._tag_list(dash, q.get("tags"))
        if tag_ids:
            wanted.append(index.tagged(tag_ids))
        if q.get("groups"):
            wanted.append(self._group_members(dash, q["groups"]))
        for phones, include in self._field_sets(dash, q):
            (wanted if include else unwanted).append(phones)
        if wanted:
            wanted.sort(key=len)
            phones = wanted[0].intersection(*wanted[1:])
            phones.difference_update(*unwanted)
            if ranges:
                phones = {p for p in phones if all(p in r for r in ranges)}
            if len(phones) * 16 < len(contacts):  # few: sort them by creation rank
                return index.in_order(phones, contacts)
            return LazyList((c for p, c in contacts.items() if p in phones), len(phones))
        excluded = set().union(*unwanted)  # index sets hold only this line's contacts
        if ranges:
            ranges.sort(key=len)
            first, rest = ranges[0], ranges[1:]
            if rest:  # rare: two broad time filters; count along the smallest
                candidates = first.times.phones[first.start : first.end]
                total = sum(
                    1 for p in candidates if p not in excluded and all(p in r for r in rest)
                )
            else:
                total = len(first) - sum(1 for p in excluded if p in first)
            shown = (
                c
                for p, c in contacts.items()
                if p in first and p not in excluded and all(p in r for r in rest)
            )
            return LazyList(shown, total)
        if excluded:
            shown = (c for p, c in contacts.items() if p not in excluded)
            return LazyList(shown, len(contacts) - len(excluded))
        return LazyList(iter(contacts.values()), len(contacts))

    @staticmethod
    def _group_members(dash: Dashboard, raw: str) -> set[str]:
        members: set[str] = set()
        for gid in raw.split(","):
            gid = gid.strip()
            if not gid:
                continue
            if not INT_RE.match(gid):
                raise bad(f"groups must be comma-separated integer ids, got {gid!r}")
            group = dash.groups.get(int(gid))
            if group is None:
                raise bad(f"Unknown group id {gid} in groups")
            members |= group.members
        return members

    @staticmethod
    def _time_ranges(dash: Dashboard, q: dict) -> list[TimeRange]:
        """The timestamp filters as ranges of the line's sorted times."""
        ranges: list[TimeRange] = []
        zones = {"utc": UTC, "local": _tz(dash.account.timezone)}
        for param, attr, zone, cmp in TIME_FILTERS:
            raw = q.get(param)
            if not raw:
                continue
            try:
                cutoff = parse_ts(raw, zones[zone])
            except (ValueError, OverflowError):
                raise bad(f"{param} must be an ISO 8601 date-time, got {raw!r}") from None
            times = dash.index.times[attr]
            ranges.append(
                TimeRange(times, None, cutoff) if cmp == "le" else TimeRange(times, cutoff, None)
            )
        return ranges

    @staticmethod
    def _field_sets(dash: Dashboard, q: dict) -> list[tuple[set[str], bool]]:
        """For each custom field filter: (phones, True) to keep, or (phones, False) to drop."""
        sets: list[tuple[set[str], bool]] = []
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
            sets.append(dash.index.field_equals(field_id, value))
        return sets

    @staticmethod
    def _tag_list(dash: Dashboard, raw: str | None) -> set[str]:
        if not raw:
            return set()
        ids = {t.strip() for t in raw.split(",") if t.strip()}
        for tag in ids:
            if tag not in dash.tags:
                raise bad(f"Unknown tag id {tag!r} in tags")
        return ids

    # -- groups -------------------------------------------------------------------------------

    def get_groups(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            return page_of(list(dash.groups.values()), page, size, Group.as_json)

    def get_group(self, key: str, dashboard_id: int, group_id: int) -> dict | None:
        with self.lock:
            group = self._dash(key, dashboard_id).groups.get(group_id)
            return group.as_json() if group else None

    def create_group(self, key: str, dashboard_id: int, body: object) -> dict:
        body = as_object(body)
        name = req_str(body, "name", 100)
        notes = opt_str(body, "notes", 1000)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            group = Group(self.next_id("group"), name, notes)
            dash.groups[group.id] = group
            return group.as_json()

    def update_group(self, key: str, dashboard_id: int, group_id: int, body: object) -> dict:
        body = as_object(body)
        name = req_str(body, "name", 100) if "name" in body else None
        notes = opt_str(body, "notes", 1000)
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

    # -- tags and custom fields ---------------------------------------------------------------
    # Create, read, rename and delete (docs/textrequest-api.md, "Beyond the definition"). The
    # sandbox's rules where the evidence is silent (COVERAGE.md): a name is 1-50 characters and
    # unique in its line (case-insensitive), a colour is ``#RRGGBB``; deleting a tag takes it
    # off every contact, deleting a field drops every contact's value of it.

    def get_tags(self, key: str, dashboard_id: int, q: dict) -> dict:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            page, size = paging(q)
            return page_of(list(dash.tags.values()), page, size, dict)

    def get_fields(self, key: str, dashboard_id: int) -> list:
        with self.lock:
            return [dict(f) for f in self._dash(key, dashboard_id).fields.values()]

    def create_tag(self, key: str, dashboard_id: int, body: object) -> dict:
        body = as_object(body)
        name, color = _tag_name(body.get("tag")), _tag_color(body.get("tag_color"), required=False)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            _unique_name(dash.tags.values(), "tag", name, "A tag")
            return self.add_tag(key, dashboard_id, name, color)

    def get_tag(self, key: str, dashboard_id: int, tag_id: str) -> dict | None:
        with self.lock:
            tag = self._dash(key, dashboard_id).tags.get(tag_id)
            return None if tag is None else dict(tag)

    def update_tag(self, key: str, dashboard_id: int, tag_id: str, body: object) -> dict:
        body = as_object(body)
        name = _tag_name(body.get("tag"))
        color = _tag_color(body.get("tag_color"), required=False)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            tag = dash.tags.get(tag_id)
            if tag is None:
                raise SandboxError(404, f"Tag {tag_id} not found in this dashboard")
            others = (t for t in dash.tags.values() if t["id"] != tag_id)
            _unique_name(others, "tag", name, "A tag")
            tag["tag"] = name
            if color is not None:
                tag["tag_color"] = color
            self.changes += 1
            return dict(tag)

    def delete_tag(self, key: str, dashboard_id: int, tag_id: str) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            if dash.tags.pop(tag_id, None) is None:
                raise SandboxError(404, f"Tag {tag_id} not found in this dashboard")
            for phone in list(dash.index.by_tag.get(tag_id, ())):
                contact = dash.contacts[phone]
                contact.tags = [t for t in contact.tags if t != tag_id]
                dash.index.update(contact)
            dash.list_cache.clear()
            self.changes += 1

    def create_field(self, key: str, dashboard_id: int, body: object) -> dict:
        name = _tag_name(as_object(body).get("name"), "name")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            _unique_name(dash.fields.values(), "name", name, "A custom field")
            return self.add_field(key, dashboard_id, name)

    def get_field(self, key: str, dashboard_id: int, field_id: str) -> dict | None:
        with self.lock:
            found = self._dash(key, dashboard_id).fields.get(field_id)
            return None if found is None else dict(found)

    def update_field(self, key: str, dashboard_id: int, field_id: str, body: object) -> dict:
        name = _tag_name(as_object(body).get("name"), "name")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            found = dash.fields.get(field_id)
            if found is None:
                raise SandboxError(404, f"Custom field {field_id} not found in this dashboard")
            others = (f for f in dash.fields.values() if f["id"] != field_id)
            _unique_name(others, "name", name, "A custom field")
            found["name"] = name
            self.changes += 1
            return dict(found)

    def delete_field(self, key: str, dashboard_id: int, field_id: str) -> None:
        with self.lock:
            dash = self._dash(key, dashboard_id)
            if dash.fields.pop(field_id, None) is None:
                raise SandboxError(404, f"Custom field {field_id} not found in this dashboard")
            for phone in list(dash.index.with_field.get(field_id, ())):
                contact = dash.contacts[phone]
                contact.custom_fields.pop(field_id, None)
                dash.index.update(contact)
            dash.list_cache.clear()
            self.changes += 1

    def add_tag(self, key: str, dashboard_id: int, name: object, color: object = None) -> dict:
        """A new tag on the line (CreateTag, and the control API's seeding)."""
        if not isinstance(name, str) or not name.strip():
            raise bad("tag is required")
        color = _tag_color(color or DEFAULT_TAG_COLOR, required=True)
        with self.lock:
            dash = self._dash(key, dashboard_id)
            tag = {"id": self.new_guid(), "tag_color": color, "tag": name.strip()}
            dash.tags[tag["id"]] = tag
            self.changes += 1
            return dict(tag)

    def add_field(self, key: str, dashboard_id: int, name: object) -> dict:
        """A new custom field on the line (CreateCustomField, and the control API's seeding)."""
        if not isinstance(name, str) or not name.strip():
            raise bad("name is required")
        with self.lock:
            dash = self._dash(key, dashboard_id)
            field = {"id": self.new_guid(), "name": name.strip()}
            dash.fields[field["id"]] = field
            self.changes += 1
            return dict(field)


TAG_NAME_MAX = 50
DEFAULT_TAG_COLOR = "#64748b"
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def _tag_name(value: object, field: str = "tag") -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{field} is required")
    if len(value.strip()) > TAG_NAME_MAX:
        raise bad(f"{field} must be at most {TAG_NAME_MAX} characters")
    return value.strip()


def _tag_color(value: object, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not COLOR_RE.fullmatch(value):
        raise bad("tag_color must be a hex colour like #1d4ed8")
    return value


def _unique_name(existing, attr: str, name: str, what: str) -> None:
    folded = name.casefold()
    if any((item.get(attr) or "").casefold() == folded for item in existing):
        raise bad(f"{what} named {name!r} already exists in this dashboard")


def _tz(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
