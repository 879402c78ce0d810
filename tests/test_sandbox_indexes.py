"""The per-line indexes behind GetContacts / GetConversations stay true through every write:
filtered lists answer exactly what a scan of every contact answers, in the same order."""

import itertools

import pytest

from textdesk.sandbox.indexes import check_index
from textdesk.sandbox.pytest_fixtures import make_account


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
    phones = [
        c["phone_number"]
        for c in acct.get(f"/dashboards/{d}/contacts", page=0, page_size=100).json()["items"]
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
    assert acct.post(f"/dashboards/{d}/contacts/{phones[3]}/messages", {"body": "Hi"}).ok
    acct.control.inbound(acct.api_key, d, phones[5], "STOP")
    acct.control.inbound(acct.api_key, d, phones[6], "STOP")
    acct.control.inbound(acct.api_key, d, phones[6], "START")
    acct.control.inbound(acct.api_key, d, "4235550188", winter["name"])
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
        (None, "smith", "423"),
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
                or (search.isdigit() and search in c.phone)
                or (not search.isdigit() and search in names(c))
            )
        ]
        assert all_pages(acct, path, **filters) == expected, filters
