"""Per-line indexes of the sandbox, kept up to date on every write.

A sync pages through one filtered list: the first page is a "cold" query, the rest reuse
the list remembered in ``Dashboard.list_cache`` (dropped on any change). The indexes make
the cold query cheap too: every filter of GetContacts and GetConversations is a set
operation or a range read instead of a test of every contact.

- :class:`ContactIndex` (``Dashboard.index``): per contact, the creation rank and the place
  in the conversation order; phones by tag, by flag and by custom field value; the four
  timestamps the time filters read, sorted (:class:`SortedTimes`); names and numbers by
  trigram for ``search`` (:class:`TextIndex`). Whoever changes a contact calls
  :meth:`ContactIndex.update` afterwards (``add``/``remove`` when it appears or goes;
  ``moved`` when a text moves its conversation to the top); it re-reads the contact, so the
  caller never has to say what changed.
- Group members are already an index (``Group.members``); the conversation order is kept by
  ``Dashboard.conv_order`` (last message, oldest first). Like the other sets, they hold only
  phones of the line's contacts.
- :class:`LazyList`: when the sets give the count, a filtered list is produced only as far
  as pages are read (the first page of 40,000 conversations reads about 100).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Contact, Dashboard

# Flags indexed as sets of phones; ``has_opted_out`` is ``opted_out_at is not None``.
FLAGS = ("is_archived", "is_resolved", "is_blocked", "is_suppressed", "has_opted_out")
# Timestamps the GetContacts time filters read (Contact attributes; last_contact_at is a
# property: the last message's time).
TIMES = ("last_contact_at", "created_at", "last_sent_at", "last_received_at")
LIST_CACHE_SIZE = 32


def contact_names(contact: Contact) -> str:
    """What GetConversations' ``search`` matches a word against (casefolded)."""
    first, last = contact.first_name or "", contact.last_name or ""
    return f"{contact.display_name or ''}\n{first} {last}".casefold()


def trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class SortedTimes:
    """One timestamp of every contact that has it, sorted: a before/after filter is a range.

    Two parallel lists (times, phones) rather than a list of pairs, so a range of phones is
    one slice, turned into a set at C speed.
    """

    __slots__ = ("times", "phones", "of")

    def __init__(self) -> None:
        self.times: list[int] = []  # sorted
        self.phones: list[str] = []  # the phone of each time
        self.of: dict[str, int] = {}  # phone -> the time it is indexed under

    def set(self, phone: str, value: int | None) -> None:
        old = self.of.get(phone)
        if old == value:
            return
        if old is not None:
            i = bisect_left(self.times, old)
            while self.phones[i] != phone:  # equal times: look among them
                i += 1
            del self.times[i], self.phones[i]
            del self.of[phone]
        if value is not None:
            i = bisect_right(self.times, value)
            self.times.insert(i, value)
            self.phones.insert(i, phone)
            self.of[phone] = value

    def load(self, values: dict[str, int]) -> None:
        """Fill an empty index at once (seeding): one sort instead of an insert per contact."""
        pairs = sorted((t, p) for p, t in values.items())
        self.times = [t for t, _ in pairs]
        self.phones = [p for _, p in pairs]
        self.of = dict(values)

    def between(self, low: int | None, high: int | None) -> set[str]:
        """Phones whose time is within ``low..high`` (inclusive; None: unbounded)."""
        start = 0 if low is None else bisect_left(self.times, low)
        end = len(self.times) if high is None else bisect_right(self.times, high)
        return set(self.phones[start:end])


class TimeRange:
    """A before/after filter on one :class:`SortedTimes`: its size and membership without
    building a set (a range of most of the line costs little this way)."""

    __slots__ = ("times", "low", "high", "start", "end")

    def __init__(self, times: SortedTimes, low: int | None, high: int | None):
        self.times, self.low, self.high = times, low, high
        self.start = 0 if low is None else bisect_left(times.times, low)
        self.end = len(times.times) if high is None else bisect_right(times.times, high)

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def __contains__(self, phone: str) -> bool:
        value = self.times.of.get(phone)
        return (
            value is not None
            and (self.low is None or value >= self.low)
            and (self.high is None or value <= self.high)
        )

    def phones(self) -> set[str]:
        return set(self.times.phones[self.start : self.end])


class _Collect:
    """Stands in for a SortedTimes while ``add_many`` runs: remembers, sorts nothing."""

    __slots__ = ("of",)

    def __init__(self) -> None:
        self.of: dict[str, int] = {}

    def set(self, phone: str, value: int | None) -> None:
        if value is not None:
            self.of[phone] = value


class TextIndex:
    """Substring search over one text per phone: the distinct texts by trigram, the phones by
    text. A word of three characters or more reads only the texts holding all its trigrams;
    a shorter one tests each distinct text (names repeat, so there are far fewer than
    contacts).

    The trigrams are built at the first search, not while contacts are added: seeding 50,000
    contacts spent a quarter of its time on them, and most seeded accounts (tests, the demo)
    never search. Once built, every change keeps them up to date."""

    __slots__ = ("_phones_by_text", "_texts_by_gram", "text_of")

    def __init__(self) -> None:
        self._phones_by_text: dict[str, set[str]] | None = None
        self._texts_by_gram: dict[str, set[str]] | None = None
        self.text_of: dict[str, str] = {}

    @property
    def phones_by_text(self) -> dict[str, set[str]]:
        self._build()
        return self._phones_by_text

    @property
    def texts_by_gram(self) -> dict[str, set[str]]:
        self._build()
        return self._texts_by_gram

    # A state file keeps only the texts (the trigrams are rebuilt at the first search), so it
    # is smaller and quicker to save; files written before kept every slot.
    def __getstate__(self) -> dict:
        return {"text_of": self.text_of}

    def __setstate__(self, state) -> None:
        if isinstance(state, tuple):  # (None, slots) of a file written before
            state = state[1]
        self._phones_by_text = self._texts_by_gram = None
        self.text_of = state["text_of"]

    def _build(self) -> None:
        if self._phones_by_text is not None:
            return
        self._phones_by_text, self._texts_by_gram = {}, {}
        for phone, text in self.text_of.items():
            self._add(phone, text)

    def _add(self, phone: str, text: str) -> None:
        if text not in self._phones_by_text:
            self._phones_by_text[text] = set()
            for gram in trigrams(text):
                self._texts_by_gram.setdefault(gram, set()).add(text)
        self._phones_by_text[text].add(phone)

    def set(self, phone: str, text: str | None) -> None:
        old = self.text_of.get(phone)
        if old == text:
            return
        built = self._phones_by_text is not None
        if old is not None:
            if built:
                phones = self._phones_by_text[old]
                phones.discard(phone)
                if not phones:
                    del self._phones_by_text[old]
                    for gram in trigrams(old):
                        self._texts_by_gram[gram].discard(old)
            del self.text_of[phone]
        if text is not None:
            if built:
                self._add(phone, text)
            self.text_of[phone] = text

    def search(self, needle: str) -> set[str]:
        """Phones whose text contains ``needle`` (a new set)."""
        self._build()
        texts: Iterable[str]
        if len(needle) >= 3:
            grams = sorted((self._texts_by_gram.get(g, set()) for g in trigrams(needle)), key=len)
            texts = grams[0].intersection(*grams[1:])
        else:
            texts = self._phones_by_text
        found: set[str] = set()
        for text in texts:
            if needle in text:
                found |= self._phones_by_text[text]
        return found


def _flag(contact: Contact, name: str) -> bool:
    if name == "has_opted_out":
        return contact.opted_out_at is not None
    return bool(getattr(contact, name))


class ContactIndex:
    """The indexes of one line's contacts (phones, not objects); see the module docstring."""

    __slots__ = (
        "rank", "by_tag", "flagged", "_tags", "_next", "times", "by_field", "with_field",
        "_fields", "names", "numbers", "conv_rank", "_next_conv",
    )  # fmt: skip

    def __init__(self) -> None:
        self.rank: dict[str, int] = {}
        self.by_tag: dict[str, set[str]] = {}
        self.flagged: dict[str, set[str]] = {name: set() for name in FLAGS}
        self._tags: dict[str, tuple[str, ...]] = {}  # what each phone is indexed under
        self._next = 0
        self.times: dict[str, SortedTimes] = {name: SortedTimes() for name in TIMES}
        # (field id, casefolded value) -> phones; field id -> phones with any value
        self.by_field: dict[tuple[str, str], set[str]] = {}
        self.with_field: dict[str, set[str]] = {}
        self._fields: dict[str, tuple[tuple[str, str], ...]] = {}
        self.names = TextIndex()  # contact_names()
        self.numbers = TextIndex()  # the phone number itself
        # place in the conversation order (Dashboard.conv_order): higher is newer
        self.conv_rank: dict[str, int] = {}
        self._next_conv = 0

    def add_many(self, contacts: Iterable[Contact]) -> None:
        """Add contacts in creation order to an empty index (seeding): the sorted times are
        built once at the end."""
        assert not self.rank, "add_many fills an empty index"
        times = self.times
        self.times = {name: _Collect() for name in TIMES}  # update() writes here meanwhile
        try:
            for contact in contacts:
                self.add(contact)
        finally:
            collected, self.times = self.times, times
        for name, values in collected.items():
            self.times[name].load(values.of)

    def add(self, contact: Contact) -> None:
        """A contact was added to ``Dashboard.contacts`` (at the end: creation order)."""
        self.rank[contact.phone] = self._next
        self._next += 1
        self.update(contact)

    def update(self, contact: Contact) -> None:
        """Re-read the contact's tags, flags, times, custom fields and names."""
        phone = contact.phone
        for name, times in self.times.items():
            times.set(phone, getattr(contact, name))
        fields = tuple(sorted((f, v.casefold()) for f, v in contact.custom_fields.items() if v))
        old_fields = self._fields.get(phone, ())
        if fields != old_fields:
            self._set_fields(phone, old_fields, fields)
        self.names.set(phone, contact_names(contact))
        self.numbers.set(phone, phone)
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

    def _set_fields(self, phone: str, old: tuple, new: tuple) -> None:
        for key in old:
            self.by_field[key].discard(phone)
            self.with_field[key[0]].discard(phone)
        for key in new:
            self.by_field.setdefault(key, set()).add(phone)
            self.with_field.setdefault(key[0], set()).add(phone)
        if new:
            self._fields[phone] = new
        else:
            self._fields.pop(phone, None)

    def moved(self, phone: str) -> None:
        """A text moved the phone's conversation to the newest place of ``conv_order``."""
        self.conv_rank[phone] = self._next_conv
        self._next_conv += 1

    def newest_first(self, phones: set[str], conversations: dict[str, Contact]) -> list[Contact]:
        """The conversations among ``phones``, newest last message first."""
        rank = self.conv_rank
        ordered = sorted((p for p in phones if p in rank), key=rank.__getitem__, reverse=True)
        return [conversations[p] for p in ordered]

    def field_equals(self, field_id: str, value: str) -> tuple[set[str], bool]:
        """Phones whose field equals ``value`` (casefolded), as (set, True); for "" (contacts
        without a value) the phones that have one, as (set, False): to exclude."""
        if value == "":
            return self.with_field.get(field_id, set()), False
        return self.by_field.get((field_id, value.casefold()), set()), True

    def remove(self, contact: Contact) -> None:
        phone = contact.phone
        self.rank.pop(phone, None)
        self.conv_rank.pop(phone, None)
        for times in self.times.values():
            times.set(phone, None)
        self._set_fields(phone, self._fields.get(phone, ()), ())
        self.names.set(phone, None)
        self.numbers.set(phone, None)
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
    for name, times in index.times.items():
        other = fresh.times[name]
        assert times.times == sorted(times.times), name
        assert sorted(zip(times.times, times.phones, strict=True)) == sorted(
            zip(other.times, other.phones, strict=True)
        )
        assert times.of == other.of, name
    assert {k: s for k, s in index.by_field.items() if s} == {
        k: s for k, s in fresh.by_field.items() if s
    }, "custom field values"
    for text_index, fresh_index in ((index.names, fresh.names), (index.numbers, fresh.numbers)):
        assert text_index.phones_by_text == fresh_index.phones_by_text, "search texts"
        grams = {g: t for g, t in text_index.texts_by_gram.items() if t}
        assert grams == {g: t for g, t in fresh_index.texts_by_gram.items() if t}, "trigrams"
    conv = sorted(index.conv_rank, key=index.conv_rank.get)
    assert conv == list(dash.conv_order), "conversation order"


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
