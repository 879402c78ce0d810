"""Per-line indexes of the sandbox, kept up to date on every write.

A sync pages through one filtered list: the first page is a "cold" query, the rest reuse
the list remembered in ``Dashboard.list_cache`` (dropped on any change). The indexes make
the cold query cheap too: filters on tags, groups and flags become set operations instead
of a scan of every contact.

- :class:`ContactIndex` (``Dashboard.index``): the creation rank of every contact, and the
  phones by tag and by flag. Whoever changes a contact calls :meth:`ContactIndex.update`
  afterwards (``add``/``remove`` when it appears or goes); it re-reads the contact, so the
  caller never has to say what changed.
- Group members are already an index (``Group.members``); the conversation order is kept by
  ``Dashboard.conv_order`` (last message, oldest first). Like the tag and flag sets, they
  hold only phones of the line's contacts.
- :class:`LazyList`: when the sets give the count, a filtered list is produced only as far
  as pages are read (the first page of 40,000 conversations reads about 100).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Contact, Dashboard

# Flags indexed as sets of phones; ``has_opted_out`` is ``opted_out_at is not None``.
FLAGS = ("is_archived", "is_resolved", "is_blocked", "is_suppressed", "has_opted_out")
LIST_CACHE_SIZE = 32


def _flag(contact: Contact, name: str) -> bool:
    if name == "has_opted_out":
        return contact.opted_out_at is not None
    return bool(getattr(contact, name))


class ContactIndex:
    """Creation rank, tag and flag sets of one line's contacts (phones, not objects)."""

    __slots__ = ("rank", "by_tag", "flagged", "_tags", "_next")

    def __init__(self) -> None:
        self.rank: dict[str, int] = {}
        self.by_tag: dict[str, set[str]] = {}
        self.flagged: dict[str, set[str]] = {name: set() for name in FLAGS}
        self._tags: dict[str, tuple[str, ...]] = {}  # what each phone is indexed under
        self._next = 0

    def add(self, contact: Contact) -> None:
        """A contact was added to ``Dashboard.contacts`` (at the end: creation order)."""
        self.rank[contact.phone] = self._next
        self._next += 1
        self.update(contact)

    def update(self, contact: Contact) -> None:
        """Re-read the contact's tags and flags."""
        phone = contact.phone
        for name in FLAGS:
            if _flag(contact, name):
                self.flagged[name].add(phone)
            else:
                self.flagged[name].discard(phone)
        old, new = self._tags.get(phone, ()), tuple(contact.tags)
        if old != new:
            for tag in old:
                self.by_tag[tag].discard(phone)
            for tag in new:
                self.by_tag.setdefault(tag, set()).add(phone)
            self._tags[phone] = new

    def remove(self, contact: Contact) -> None:
        phone = contact.phone
        self.rank.pop(phone, None)
        for members in self.flagged.values():
            members.discard(phone)
        for tag in self._tags.pop(phone, ()):
            self.by_tag[tag].discard(phone)

    def tagged(self, tag_ids: set[str]) -> set[str]:
        """Phones carrying any of ``tag_ids`` (a new set)."""
        return set().union(*(self.by_tag.get(t, ()) for t in tag_ids))

    def in_order(self, phones: set[str], contacts: dict[str, Contact]) -> list[Contact]:
        """The contacts among ``phones``, in creation order (the order of ``contacts``)."""
        if len(phones) * 4 < len(contacts):
            rank = self.rank
            return [contacts[p] for p in sorted((p for p in phones if p in rank), key=rank.get)]
        return [c for p, c in contacts.items() if p in phones]


def check_index(dash: Dashboard) -> None:
    """Assert the index matches the contacts (a test helper; raises AssertionError)."""
    fresh = ContactIndex()
    for contact in dash.contacts.values():
        fresh.add(contact)
    index = dash.index
    assert sorted(index.rank, key=index.rank.get) == list(dash.contacts), "creation order"
    assert index.flagged == fresh.flagged, "flag sets"
    by_tag = {t: s for t, s in index.by_tag.items() if s}
    assert by_tag == {t: s for t, s in fresh.by_tag.items() if s}, "tag sets"


# -- remembered lists -------------------------------------------------------------------------


def cache_key(kind: str, q: dict) -> tuple:
    return (kind, *sorted((k, v) for k, v in q.items() if k not in ("page", "page_size")))


def remember(dash: Dashboard, key: tuple, matches: list | LazyList) -> None:
    if len(dash.list_cache) >= LIST_CACHE_SIZE:
        dash.list_cache.pop(next(iter(dash.list_cache)))
    dash.list_cache[key] = matches


class LazyList:
    """A filtered list whose length is known up front (from the indexes) and whose items are
    produced only as far as they are read: enough for ``page_of`` (``len`` and a slice).

    ``items`` usually walks a dict of the line; every change to that dict also drops the
    remembered lists, so a stale walk is never resumed.
    """

    def __init__(self, items: Iterator, total: int):
        self._items = items
        self._read: list = []
        self._total = total

    def __len__(self) -> int:
        return self._total

    def __getitem__(self, wanted: slice) -> list:
        while len(self._read) < wanted.stop:
            item = next(self._items, None)
            if item is None:
                break
            self._read.append(item)
        return self._read[wanted]
