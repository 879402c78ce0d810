"""The per-line indexes behind GetContacts / GetConversations stay true through every write:
filtered lists answer exactly what a scan of every contact answers, in the same order."""

import itertools
from datetime import UTC, datetime

import pytest

from standins.textrequest.indexes import check_index
from standins.textrequest.pytest_fixtures import make_account


@pytest.fixture
def lived_in(sandbox_server):
    """A seeded line, then changed through every kind of write the API and the world make."""
    acct = make_account(sandbox_server, seed="demo", contacts=300, messages=1500, dashboards=1)
    acct.control.configure(api_key=acct.api_key, rate_limit=100_000)  # many pages are read
    d = acct.dashboard_id
    tags = acct.get(f"/dashboards/{d}/tags", page=0, page_size=10).json()["items"]
    tags = [t["id"] for t in tags]
    groups = acct.get(f"/dashboards/{d}/groups", page=0, page_size=10).json()["items"]
    winter = next(g for g in groups if g["is_keyword"])
    # Contacts that can be texted: which seeded ones opted out depends on the shared
    # stand-in's seed order (accounts made before this one), not on this test.
    phones = [
        c["phone_number"]
        for c in acct.get(f"/dashboards/{d}/contacts", page=0, page_size=100).json()["items"]
        if not c["opted_out_utc"] and not c["is_blocked"]
    ]
    # create-or-update: tags, flags, groups; bulk; a brand-new contact
    assert acct.post(f"/dashboards/{d}/contacts/{phones[0]}", {"contact_tags": [tags[0]]}).ok
    assert acct.post(f"/dashboards/{d}/contacts/{phones[1]}", {"contact_tags": []}).ok
    assert acct.post(
        f"/dashboards/{d}/contacts/{phones[2]}",
        {"is_blocked": True, "is_suppressed": True, "groups": [groups[0]["id"]]},
    ).ok
    bulk = [
        {"phone_number": p, "is_resolved": i % 2 == 0, "contact_tags": tags[i % 3 : i % 3 + 2]}
        for i, p in enumerate(phones[10:30])
    ]
    assert acct.post(f"/dashboards/{d}/contacts", bulk).ok
    assert acct.post(f"/dashboards/{d}/contacts/4235550177", {"contact_tags": tags[1:3]}).ok
    # archive / unarchive, texts both ways, STOP / START, a keyword group
    assert acct.put(f"/dashboards/{d}/contacts/{phones[3]}/conversations/archive").ok
    assert acct.put(f"/dashboards/{d}/contacts/{phones[4]}/conversations/archive").ok
    assert acct.put(f"/dashboards/{d}/contacts/{phones[7]}/conversations/archive").ok
    assert acct.put(f"/dashboards/{d}/contacts/{phones[4]}/conversations/unarchive").ok
    sent = acct.post(f"/dashboards/{d}/contacts/{phones[3]}/messages", {"body": "Hi"})
    assert sent.ok, sent.text
    acct.control.inbound(acct.api_key, d, phones[5], "STOP")
    acct.control.inbound(acct.api_key, d, phones[6], "STOP")
    acct.control.inbound(acct.api_key, d, phones[6], "START")
    acct.control.inbound(acct.api_key, d, "4235550188", winter["name"])
    # custom fields: set, changed (other case), removed; names changed (the search index)
    fields = [f["id"] for f in acct.get(f"/dashboards/{d}/fields").json()]
    assert acct.post(
        f"/dashboards/{d}/contacts/{phones[8]}",
        {"custom_fields": [{"id": fields[0], "value": "Gold"}], "first_name": "Zebedee"},
    ).ok
    assert acct.post(
        f"/dashboards/{d}/contacts/{phones[9]}",
        {"custom_fields": [{"id": fields[0], "value": "GOLD"}]},
    ).ok
    assert acct.post(
        f"/dashboards/{d}/contacts/{phones[10]}",
        {"custom_fields": [{"id": fields[0], "value": ""}]},
    ).ok
    assert acct.post(f"/dashboards/{d}/contacts/{phones[11]}", {"display_name": "Smithers Q"}).ok
    # a contact deleted, then created again (it moves to the end of the creation order)
    assert acct.delete(f"/dashboards/{d}/contacts/4235550177").ok
    assert acct.post(f"/dashboards/{d}/contacts/4235550177", {"first_name": "Back"}).ok
    dash = sandbox_server.backend.dashboards[d]
    return acct, dash, tags, groups


def all_pages(acct, path, **filters):
    """Every phone of a filtered list, page by page; checks ``total_items`` on the way."""
    phones, page, total = [], 0, 0
    while True:
        r = acct.get(path, page=page, page_size=37, **filters)
        assert r.status_code in (200, 204), r.text
        if r.status_code == 204:
            assert page == 0
            return phones
        meta, items = r.json()["meta"], r.json()["items"]
        total = meta["total_items"] if page == 0 else total
        assert meta["total_items"] == total
        if not items:
            assert len(phones) == total, filters
            return phones
        phones += [c["phone_number"] for c in items]
        page += 1


def test_the_index_matches_the_contacts_after_every_kind_of_write(lived_in):
    _, dash, _, _ = lived_in
    check_index(dash)


FLAGS = {
    "is_archived": lambda c: c.is_archived,
    "is_resolved": lambda c: c.is_resolved,
    "is_blocked": lambda c: c.is_blocked,
    "is_suppressed": lambda c: c.is_suppressed,
    "has_opted_out": lambda c: c.opted_out_at is not None,
}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def test_time_and_custom_field_filters_equal_a_scan_of_every_contact(lived_in):
    acct, dash, tags, _ = lived_in
    path = f"/dashboards/{acct.dashboard_id}/contacts"
    contacts = list(dash.contacts.values())
    stamps = sorted(c.last_contact_at for c in contacts if c.last_contact_at)
    middle = stamps[len(stamps) // 2]
    created = sorted(c.created_at for c in contacts)[len(contacts) // 3]
    fields = list(dash.fields)
    attr = {
        "last_message_timestamp": lambda c: c.last_contact_at,
        "contact_created": lambda c: c.created_at,
        "last_message_sent": lambda c: c.last_sent_at,
        "last_message_received": lambda c: c.last_received_at,
    }
    cases = []
    suffixes = {
        "last_message_timestamp": "_utc",
        "contact_created": "",
        "last_message_sent": "_utc",
        "last_message_received": "_utc",
    }
    for prefix, suffix in suffixes.items():
        for cmp in ("before", "after"):
            cases.append(({f"{prefix}_{cmp}{suffix}": iso(middle)}, prefix, cmp, middle))
    cases.append(({"contact_created_after": iso(created)}, "contact_created", "after", created))
    exact = stamps[7]  # inclusive at the very millisecond
    at_exact = {"last_message_timestamp_before_utc": iso(exact)}
    cases.append((at_exact, "last_message_timestamp", "before", exact))
    for filters, prefix, cmp, cutoff in cases:
        get = attr[prefix]
        expected = [
            c.phone
            for c in contacts
            if get(c) is not None and (get(c) <= cutoff if cmp == "before" else get(c) >= cutoff)
        ]
        assert expected, filters  # a case that matches nothing proves little
        assert all_pages(acct, path, **filters) == expected, filters

    # broad ranges (membership tests, not sets), alone, together, with flags and sets
    early = iso(stamps[0])
    combined = [
        {"contact_created_before": "2099-01-01", "is_archived": "false"},
        {"contact_created_before": "2099-01-01", "last_message_timestamp_after_utc": early},
        {
            "contact_created_before": "2099-01-01",
            "last_message_timestamp_after_utc": early,
            "has_opted_out": "false",
        },
        {"last_message_timestamp_after_utc": early, "tags": tags[1]},
        {"last_message_timestamp_before_utc": iso(middle), "contact_created_after": "2000-01-01"},
    ]
    since = {
        "contact_created_before": lambda c: True,
        "contact_created_after": lambda c: True,
        "last_message_timestamp_after_utc": lambda c: c.last_contact_at is not None,
        "last_message_timestamp_before_utc": lambda c: (
            c.last_contact_at is not None and c.last_contact_at <= middle
        ),
        "is_archived": lambda c: not c.is_archived,
        "has_opted_out": lambda c: c.opted_out_at is None,
        "tags": lambda c: tags[1] in c.tags,
    }
    for filters in combined:
        expected = [c.phone for c in contacts if all(since[k](c) for k in filters)]
        assert expected, filters
        assert all_pages(acct, path, **filters) == expected, filters

    for value in ("gold", "Gold", "CUST-10003", "nobody has this", ""):
        expected = [
            c.phone
            for c in contacts
            if (c.custom_fields.get(fields[0]) or "").casefold() == value.casefold()
        ]
        filters = {"custom_field_id_1": fields[0], "custom_field_value_1": value}
        assert all_pages(acct, path, **filters) == expected, filters
    both = {
        "custom_field_id_1": fields[0], "custom_field_value_1": "gold",
        "last_message_timestamp_after_utc": iso(stamps[0]), "tags": tags[0],
    }  # fmt: skip
    expected = [
        c.phone for c in contacts
        if (c.custom_fields.get(fields[0]) or "").casefold() == "gold"
        and c.last_contact_at is not None and tags[0] in c.tags
    ]  # fmt: skip
    assert all_pages(acct, path, **both) == expected


def test_filtered_contacts_equal_a_scan_of_every_contact(lived_in):
    acct, dash, tags, groups = lived_in
    path = f"/dashboards/{acct.dashboard_id}/contacts"
    cases = [{}]
    cases += [{flag: value} for flag in FLAGS for value in ("true", "false")]
    cases += [{"tags": tags[0]}, {"tags": f"{tags[1]},{tags[2]}"}]
    cases += [{"groups": str(groups[0]["id"])}, {"groups": f"{groups[1]['id']},{groups[2]['id']}"}]
    cases += [
        {"tags": tags[0], "is_archived": "false"},
        {"tags": tags[1], "groups": str(groups[0]["id"]), "is_resolved": "true"},
        {"is_blocked": "false", "has_opted_out": "false", "is_archived": "false"},
        {"contact_phone_number": "4235550177"},
        {"contact_phone_number": "4235550177", "is_archived": "true"},
        {"tags": tags[0], "contact_created_after": "2000-01-01"},
    ]
    for filters in cases:

        def matches(c, filters=filters):
            for flag, test in FLAGS.items():
                if flag in filters and test(c) != (filters[flag] == "true"):
                    return False
            if "tags" in filters and not set(filters["tags"].split(",")) & set(c.tags):
                return False
            if "groups" in filters and not {int(g) for g in filters["groups"].split(",")} & set(
                c.groups
            ):
                return False
            return filters.get("contact_phone_number", c.phone) == c.phone

        expected = [c.phone for c in dash.contacts.values() if matches(c)]
        assert all_pages(acct, path, **filters) == expected, filters


def names(c) -> str:
    return f"{c.display_name or ''}\n{c.first_name or ''} {c.last_name or ''}".casefold()


def test_filtered_conversations_equal_a_scan_of_every_conversation(lived_in):
    acct, dash, tags, _ = lived_in
    path = f"/dashboards/{acct.dashboard_id}/conversations"
    newest_first = list(reversed(dash.conv_order.values()))  # ties: the latest text first
    times = [c.messages[-1].at for c in newest_first]
    assert times == sorted(times, reverse=True)
    assert {c.phone for c in newest_first} == {p for p, c in dash.contacts.items() if c.messages}
    for archived, unresolved, tag, search in itertools.product(
        (None, "true", "false"),
        (None, "true", "false"),
        (None, tags[0], f"{tags[1]},{tags[2]}"),
        (None, "smith", "423", "sm", "a", "ith\nj", "zebedee", "smithers q", "0", "14235550188"),
    ):
        filters = {
            "include_archived": archived,
            "show_unresolved_only": unresolved,
            "tags": tag,
            "search": search,
        }
        filters = {k: v for k, v in filters.items() if v is not None}
        expected = [
            c.phone
            for c in newest_first
            if (archived == "true" or not c.is_archived)
            and (unresolved != "true" or not c.is_resolved)
            and (tag is None or set(tag.split(",")) & set(c.tags))
            and (
                search is None
                or (
                    search.isdigit()
                    and search.removeprefix("1" if len(search) == 11 else "") in c.phone
                )
                or (not search.isdigit() and search in names(c))
            )
        ]
        assert all_pages(acct, path, **filters) == expected, filters


def test_name_search_builds_its_trigrams_at_the_first_search_and_keeps_them_true():
    """Seeding adds no trigrams (most accounts never search); the first search builds them,
    later changes keep them, and a state file holds only the texts."""
    import pickle

    from standins.textrequest.indexes import TextIndex

    index = TextIndex()
    index.set("6155550101", "casey smith")
    index.set("6155550102", "riley smith")
    index.set("6155550102", "riley jones")  # renamed before any search
    assert index._texts_by_gram is None  # nothing built while adding
    assert index.search("smith") == {"6155550101"}
    assert index._texts_by_gram is not None
    index.set("6155550101", "casey jones")  # changed after the build
    index.set("6155550103", "jo smith")
    assert index.search("jones") == {"6155550101", "6155550102"}
    assert index.search("smith") == {"6155550103"}
    copy = pickle.loads(pickle.dumps(index))
    assert copy._texts_by_gram is None
    assert copy.search("jones") == index.search("jones")
    fresh = TextIndex()
    for phone, text in index.text_of.items():
        fresh.set(phone, text)
    assert fresh.phones_by_text == index.phones_by_text
    assert {g: t for g, t in fresh.texts_by_gram.items() if t} == {
        g: t for g, t in index.texts_by_gram.items() if t
    }
