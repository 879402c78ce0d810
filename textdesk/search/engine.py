"""Run a parsed query for one user: matching texts, notes and contacts, grouped by contact
(one conversation per contact), keyset-paged, with a snippet for the rows on the page only.

Every read starts from the domains' ``for_user`` querysets, so another line's rows are never
read, not even counted. A page costs a constant number of queries: the page of groups, the
best hit of each group, then the texts, notes and contacts shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from textdesk.contacts.models import Contact, Tag
from textdesk.conversations.models import Attachment, Conversation, Message, Note
from textdesk.dashboards.models import Dashboard
from textdesk.search import index
from textdesk.search.query import Query, Term, fts5_match, like_q, tsquery_sql

PAGE_SIZE = 20
MESSAGE, NOTE, CONTACT = 1, 2, 3
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Filters:
    """What the chips and the query's filters narrow to (all optional)."""

    lines: list[int] | None = None  # ids already checked against the user's lines
    start: datetime | None = None
    end: datetime | None = None
    kind: str = ""  # "received", "sent", "note"
    agent_id: int | None = None
    tag_names: list[str] | None = None
    status: str = ""  # "open", "resolved"
    has_attachment: bool = False


@dataclass
class Result:
    """One conversation (or contact) on the page, with its best hit."""

    contact: Contact
    kind: int
    hit: Message | Note | Contact
    at: datetime | None
    snippet: SafeString
    more: int  # other matches in the same conversation
    url: str

    @property
    def is_note(self) -> bool:
        return self.kind == NOTE

    @property
    def is_contact(self) -> bool:
        return self.kind == CONTACT

    @property
    def is_received(self) -> bool:
        return self.kind == MESSAGE and self.hit.direction == Message.Direction.RECEIVED


@dataclass
class Page:
    results: list[Result]
    next_after: str | None
    capped: bool = False  # best match ranked only the newest BEST_CAP matches


def search(user, query: Query, filters: Filters, *, sort: str = "newest", after=None) -> Page:
    """A page of results. ``after`` is the cursor of the last group already shown."""
    best = sort == "best"
    sources = _sources(user, query, filters, best=best)
    if not sources:
        return Page([], None)
    if best:
        groups, capped = _best_groups(sources, after)
    else:
        groups, capped = _newest_groups(sources, after), False
    next_after = None
    if len(groups) > PAGE_SIZE:
        groups = groups[:PAGE_SIZE]
        last = groups[-1]
        next_after = encode_cursor(sort, last[1] if not best else last[2], last[0])
    if not groups:
        return Page([], None, capped)
    contact_ids = [row[0] for row in groups]
    hits = _best_hits(sources, sort, contact_ids)
    return Page(_results(contact_ids, hits, query), next_after, capped)


# Newest first, a page of conversations is found by reading matches newest first and stopping
# once PAGE_SIZE + 1 conversations are seen: the newest WINDOW matches after the cursor (each
# source planned on its own with its LIMIT, so the planner walks the (sent_at, id) index while
# testing the match for a common word, or sorts the few matches of a rare word from the GIN
# index), grouped by conversation. Only when the window holds too few conversations (one
# chatty conversation's matches fill it) is it read again WINDOW_GROWTH times larger; the last
# try has no limit: at most WINDOWS queries, one in the usual case.
WINDOW = 120
WINDOW_GROWTH = 12
WINDOWS = 4
# Best match ranks only the newest BEST_CAP matches (ts_rank of every match of a common word
# is what made it slow); the page says so when the cap was reached.
BEST_CAP = 2000
# A source with at most FEW matches is read from the GIN index and sorted (see _window).
FEW = 1000
# One total order of matches, newest first: per source (k is constant there) it is the
# (sent_at, id) index's order.
WALK = "at DESC, k, ident DESC"


def _window(sources: list[QuerySet], size: int | None, columns: str) -> tuple[str, list]:
    """``WITH … w AS (…)``: the newest ``size`` matches of all sources (all when None)."""
    if size is None:
        union, params = _union(sources)
        return f"WITH w AS (SELECT {columns} FROM ({union}) u) ", params
    if connection.vendor != "postgresql":
        union, params = _union([qs.order_by("-at", "-ident")[:size] for qs in sources])
        return f"WITH w AS (SELECT {columns} FROM ({union}) u ORDER BY {WALK} LIMIT {size}) ", (
            params
        )
    # PostgreSQL estimates a word it has no statistics for at 0.5 % of the rows: for a rare
    # word it would walk the (sent_at, id) index through the whole table looking for matches
    # that are not there. So each source first takes up to FEW matches in any order (the GIN
    # index, or the first rows that match); when that is all of them they are sorted, and only
    # a source with more matches is walked newest first. One statement: the branch not taken
    # is never run (a one-time filter). A contact's moment (its conversation's last text) has
    # no index: contacts are always sorted.
    walkable = [i for i, qs in enumerate(sources) if qs.model is not Contact]
    ctes, parts, params = [], [], []
    for i in walkable:
        sql, qs_params = sources[i].query.sql_with_params()
        ctes.append(f"f{i} AS (SELECT * FROM ({sql}) s LIMIT {FEW + 1})")
        params += qs_params
    for i, qs in enumerate(sources):
        walk, walk_params = qs.order_by("-at", "-ident")[:size].query.sql_with_params()
        if i not in walkable:
            parts.append(f"SELECT * FROM ({walk}) b{i}")
            params += walk_params
            continue
        parts.append(
            f"SELECT * FROM (SELECT * FROM f{i} WHERE (SELECT COUNT(*) FROM f{i}) <= {FEW} "
            f"ORDER BY at DESC, ident DESC LIMIT {size}) a{i}"
        )
        parts.append(f"SELECT * FROM ({walk}) b{i} WHERE (SELECT COUNT(*) FROM f{i}) > {FEW}")
        params += walk_params
    union = " UNION ALL ".join(parts)
    window = f"w AS (SELECT {columns} FROM ({union}) u ORDER BY {WALK} LIMIT {size})"
    return f"WITH {', '.join([*ctes, window])} ", params


def _newest_groups(sources: list[QuerySet], after) -> list[tuple]:
    """(contact, newest match time, 0) of the next PAGE_SIZE + 1 conversations after ``after``.

    Groups are ordered by their newest match, then contact id (descending). Reading matches
    newest first from the cursor, a conversation first appears at its newest match below the
    cursor; one that also has a match above the cursor was on an earlier page and is left out
    (the NOT EXISTS), so no conversation repeats or is skipped across pages. A window cut at
    a moment several matches share may have left some of them out: groups at that moment wait
    for a larger window."""
    below, exclude, exclude_params = sources, "", []
    if after is not None:
        moment, contact_id = after
        key_below = Q(at__lt=moment) | Q(at=moment, c__lt=contact_id)
        key_above = Q(at__gt=moment) | Q(at=moment, c__gte=contact_id)
        below = [qs.filter(at__lte=moment).filter(key_below) for qs in sources]
        for qs in sources:
            sql, params = qs.filter(key_above, c=RawSQL('"g"."c"', [])).query.sql_with_params()
            exclude += f" AND NOT EXISTS ({sql})"
            exclude_params += params
    # PostgreSQL: keep the ordered groups a subquery (OFFSET 0), so the NOT EXISTS runs on
    # them in order and stops at the page's end instead of running for every group.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    size = WINDOW
    for attempt in range(WINDOWS):
        last = attempt == WINDOWS - 1
        window, params = _window(below, None if last else size, "k, ident, c, at")
        edge = f"(SELECT n FROM edge) < {size} OR g.top > (SELECT low FROM edge)"
        if last:
            edge = "1 = 1"
        sql = (
            f"{window}, edge AS (SELECT COUNT(*) AS n, MIN(at) AS low FROM w) "
            "SELECT p.c, p.top, 0, edge.n FROM edge LEFT JOIN (SELECT c, top FROM "
            "(SELECT c, MAX(at) AS top FROM w GROUP BY c "
            f"ORDER BY top DESC, c DESC{fence}) g WHERE ({edge}){exclude} "
            f"ORDER BY top DESC, c DESC LIMIT {PAGE_SIZE + 1}) p ON 1 = 1 "
            "ORDER BY p.top DESC, p.c DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params + exclude_params)
            rows = cursor.fetchall()
        groups = [row for row in rows if row[0] is not None]
        if last or len(groups) > PAGE_SIZE or rows[0][3] < size:
            return groups
        size *= WINDOW_GROWTH
    return groups


def _best_groups(sources: list[QuerySet], after) -> tuple[list[tuple], bool]:
    """(contact, newest, best score) of the next groups by best match, ranked among the newest
    BEST_CAP matches only; and whether the cap was reached."""
    window, params = _window(sources, BEST_CAP, "k, ident, c, at, score")
    key = "MAX(COALESCE(score, 0))"
    having, having_params = "", []
    if after is not None:
        value, contact_id = after
        having = f"HAVING ({key} < %s OR ({key} = %s AND c < %s))"
        having_params = [value, value, contact_id]
    sql = (
        f"{window}, edge AS (SELECT COUNT(*) AS n FROM w) "
        "SELECT p.c, p.top, p.score, edge.n FROM edge LEFT JOIN "
        f"(SELECT c, MAX(at) AS top, {key} AS score FROM w GROUP BY c {having} "
        f"ORDER BY {key} DESC, c DESC LIMIT {PAGE_SIZE + 1}) p ON 1 = 1 "
        "ORDER BY p.score DESC, p.c DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + having_params)
        rows = cursor.fetchall()
    return [row for row in rows if row[0] is not None], rows[0][3] >= BEST_CAP


# --- The three sources --------------------------------------------------------------------


def _match(kind: str, table: str, query: Query, best: bool) -> tuple[Q | RawSQL, RawSQL | None]:
    """The full-text condition on one table, and its score when sorting by best match."""
    engine = index.backend()
    if engine == "postgres":
        tsq, params = tsquery_sql(query)
        column = f'"{table}"."{index.COLUMN}"'
        condition = RawSQL(f"{column} @@ {tsq}", params, output_field=BooleanField())
        # float8: a float4 rank read back into the "Load more" cursor no longer equals itself.
        score = RawSQL(f"ts_rank({column}, {tsq})::float8", params, output_field=FloatField())
        return condition, score if best else None
    if engine == "fts5":
        fts = index.fts_table(kind)
        match = fts5_match(query)
        condition = RawSQL(
            f'"{table}"."id" IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)',
            [match],
            output_field=BooleanField(),
        )
        score = RawSQL(
            f'(SELECT -rank FROM {fts} WHERE {fts} MATCH %s AND rowid = "{table}"."id")',
            [match],
            output_field=FloatField(),
        )
        return condition, score if best else None
    fields = {
        "message": ["body"],
        "note": ["body"],
        "contact": ["first_name", "last_name", "display_name", "note"],
    }[kind]
    condition = Q()
    for name in fields:
        condition |= like_q(query, name)
    return condition, None


def _sources(user, query: Query, filters: Filters, *, best: bool) -> list[QuerySet]:
    conversations = Conversation.objects.for_user(user)
    if filters.lines is not None:
        conversations = conversations.filter(dashboard__in=filters.lines)
    if filters.status:
        conversations = conversations.filter(is_resolved=filters.status == "resolved")
    if filters.tag_names is not None:
        conversations = conversations.filter(
            contact__tags__in=_visible_tags(user).filter(name__in=filters.tag_names)
        )
    # Texts and notes are scoped through the conversation they join anyway (for its contact):
    # "IN (every visible conversation)" made PostgreSQL hash all conversations first.
    lines = Dashboard.objects.for_user(user)
    if filters.lines is not None:
        lines = lines.filter(pk__in=filters.lines)
    scope = Q(conversation__dashboard__in=lines)
    if filters.status:
        scope &= Q(conversation__is_resolved=filters.status == "resolved")
    if filters.tag_names is not None:
        scope &= Q(conversation__in=conversations)
    sources = []
    message_only = bool(filters.kind in ("received", "sent") or filters.has_attachment)
    dated = filters.start is not None or filters.end is not None

    if filters.kind != "note":
        messages = Message.objects.filter(scope)
        if filters.kind:
            messages = messages.filter(
                direction=Message.Direction.RECEIVED
                if filters.kind == "received"
                else Message.Direction.SENT
            )
        if filters.agent_id is not None:
            messages = messages.filter(sent_by_id=filters.agent_id)
        if filters.has_attachment:
            files = Attachment.objects.filter(message=OuterRef("pk"))
            messages = messages.filter(~Q(mms_media=[]) | Exists(files))
        messages = _dated(messages, "sent_at", filters)
        condition, score = _match("message", "conversations_message", query, best)
        sources.append(
            _shape(
                messages.filter(condition), MESSAGE, "conversation__contact_id", "sent_at", score
            )
        )
    if not message_only:
        notes = Note.objects.filter(scope)
        if filters.agent_id is not None:
            notes = notes.filter(author_id=filters.agent_id)
        notes = _dated(notes, "created_at", filters)
        condition, score = _match("note", "conversations_note", query, best)
        sources.append(
            _shape(notes.filter(condition), NOTE, "conversation__contact_id", "created_at", score)
        )
    if not message_only and not dated and filters.agent_id is None and filters.kind != "note":
        contacts = Contact.objects.for_user(user)
        if filters.lines is not None:
            contacts = contacts.filter(dashboard__in=filters.lines)
        if filters.status:
            contacts = contacts.filter(conversation__in=conversations)
        if filters.tag_names is not None:
            tagged = Contact.tags.through.objects.filter(
                tag__in=_visible_tags(user).filter(name__in=filters.tag_names)
            )
            contacts = contacts.filter(pk__in=tagged.values("contact_id"))
        condition, score = _match("contact", "contacts_contact", query, best)
        # Three ways to find a contact, each its own source so each uses its own index (ORed
        # in one WHERE, PostgreSQL scanned every contact); a contact found twice is one hit
        # (the DISTINCT in _best_hits, the grouping elsewhere).
        found = [contacts.filter(condition)]
        if query.is_simple:
            # Inside a name or a number ("555-98", "ann" in "Joanne"): the trigram index.
            words = " ".join(term.text for term in query.positive_terms)
            found.append(contacts.filter(pk__in=Contact.objects.matching(words).values("pk")))
        # A tag's name finds its contacts.
        tagged = Contact.tags.through.objects.filter(
            tag__in=_visible_tags(user).filter(like_q(query, "name"))
        )
        found.append(contacts.filter(pk__in=tagged.values("contact_id")))
        at = Coalesce(
            F("conversation__last_message_at"),
            F("last_contact_at"),
            F("synced_at"),
            Value(EPOCH),
            output_field=DateTimeField(),
        )
        sources += [_shape(qs, CONTACT, "pk", at, score) for qs in found]
    return sources


def _visible_tags(user) -> QuerySet:
    return Tag.objects.filter(dashboard__in=Dashboard.objects.for_user(user))


def _dated(qs: QuerySet, field_name: str, filters: Filters) -> QuerySet:
    if filters.start is not None:
        qs = qs.filter(**{f"{field_name}__gte": filters.start})
    if filters.end is not None:
        qs = qs.filter(**{f"{field_name}__lt": filters.end})
    return qs


def _shape(qs: QuerySet, kind: int, contact, at, score) -> QuerySet:
    """Every source as the same five columns: k, ident, c, at, score."""
    contact_expr = F(contact) if isinstance(contact, str) else contact
    at_expr = F(at) if isinstance(at, str) else at
    return (
        qs.order_by()
        .annotate(
            k=Value(kind, output_field=IntegerField()),
            ident=F("pk"),
            c=contact_expr,
            at=at_expr,
            score=score if score is not None else Value(0.0, output_field=FloatField()),
        )
        .values_list("k", "ident", "c", "at", "score")
    )


def _union(sources: list[QuerySet]) -> tuple[str, list]:
    parts, params = [], []
    for qs in sources:
        sql, qs_params = qs.query.sql_with_params()
        parts.append(sql)
        params.extend(qs_params)
    return " UNION ALL ".join(f"SELECT * FROM ({sql}) s{i}" for i, sql in enumerate(parts)), params


def _best_hits(sources: list[QuerySet], sort: str, contact_ids: list[int]) -> list[tuple]:
    """The best hit of each group on the page (newest, or highest score), and how many."""
    union, params = _union([qs.filter(c__in=contact_ids) for qs in sources])
    order = "at DESC" if sort == "newest" else "COALESCE(score, 0) DESC, at DESC"
    sql = (
        "SELECT k, ident, c, at, n FROM (SELECT k, ident, c, at, "
        f"ROW_NUMBER() OVER (PARTITION BY c ORDER BY {order}, k, ident DESC) AS rn, "
        "COUNT(*) OVER (PARTITION BY c) AS n "
        f"FROM (SELECT DISTINCT k, ident, c, at, score FROM ({union}) u) hits) ranked WHERE rn = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _results(contact_ids: list[int], hits: list[tuple], query: Query) -> list[Result]:
    by_contact = {row[2]: row for row in hits}
    message_ids = [row[1] for row in hits if row[0] == MESSAGE]
    note_ids = [row[1] for row in hits if row[0] == NOTE]
    contacts = Contact.objects.select_related("dashboard", "conversation").in_bulk(contact_ids)
    messages = (
        Message.objects.only(
            "id", "body", "direction", "sent_at", "sender_name", "conversation_id"
        ).in_bulk(message_ids)
        if message_ids
        else {}
    )
    notes = Note.objects.select_related("author").in_bulk(note_ids) if note_ids else {}
    terms = query.positive_terms
    results = []
    for contact_id in contact_ids:
        row = by_contact.get(contact_id)
        contact = contacts.get(contact_id)
        if row is None or contact is None:
            continue
        kind, ident, _, _, count = row
        conversation = getattr(contact, "conversation", None)
        if kind == MESSAGE and ident in messages:
            hit = messages[ident]
            at, text = hit.sent_at, hit.body
            url = _conversation_url(contact, conversation, f"at={hit.pk}")
        elif kind == NOTE and ident in notes:
            hit = notes[ident]
            at, text = hit.created_at, hit.body
            url = _conversation_url(contact, conversation, f"note={hit.pk}")
        else:
            hit, kind = contact, CONTACT
            at = conversation.last_message_at if conversation else None
            text = " · ".join(
                part
                for part in [contact.formatted_phone, contact.note, *map(str, _values(contact))]
                if part
            )
            url = (
                _conversation_url(contact, conversation, "")
                if conversation
                else reverse("contacts:detail", args=[contact.pk])
            )
        results.append(
            Result(contact, kind, hit, at, highlight(text, terms), max(count - 1, 0), url)
        )
    return results


def _values(contact: Contact) -> list:
    fields = contact.custom_fields if isinstance(contact.custom_fields, dict) else {}
    return [value for value in fields.values() if isinstance(value, str | int | float)]


def _conversation_url(contact: Contact, conversation, query: str) -> str:
    if conversation is None:
        return reverse("contacts:detail", args=[contact.pk])
    url = reverse("conversations:conversation", args=[contact.dashboard_id, conversation.pk])
    return f"{url}?{query}" if query else url


# --- Cursors and snippets -----------------------------------------------------------------


def encode_cursor(sort: str, value, contact_id: int) -> str:
    if sort == "newest":
        if isinstance(value, str):  # SQLite answers MAX() of a datetime column as text
            value = parse_datetime(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
        stamp = value.astimezone(UTC).isoformat() if value is not None else ""
        return f"{stamp}~{contact_id}"
    return f"{float(value or 0.0)!r}~{contact_id}"


def decode_cursor(sort: str, raw: str):
    """(value, contact id) of the last group shown, or None when the cursor is not ours."""
    value, _, contact = raw.rpartition("~")
    if not (contact.isascii() and contact.isdigit() and len(contact) <= 18):
        return None
    if sort == "newest":
        try:
            moment = parse_datetime(value)
        except ValueError:
            return None
        if moment is None or moment.tzinfo is None:
            return None
        return moment, int(contact)
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number, int(contact)


SNIPPET = 200


def highlight(text: str, terms: list[Term]) -> SafeString:
    """A window of ``text`` around the first match, escaped, with the matches in <mark>.

    Every piece of the body is escaped before the marks are added, so no markup from a text
    can render. Words match by their first letters (a rough English stem: "fences" finds
    "fence"), as the index does."""
    text = " ".join((text or "").split())
    patterns = []
    for term in terms:
        words = [re.escape(_stem(word)) + r"\w*" for word in term.words()]
        if words:
            patterns.append(r"\b" + r"\W+".join(words))
    spans: list[tuple[int, int]] = []
    if patterns:
        finder = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        spans = [m.span() for m in finder.finditer(text) if m.end() > m.start()]
    start = 0
    if spans and spans[0][0] > SNIPPET // 3:
        start = text.rfind(" ", 0, spans[0][0] - SNIPPET // 3) + 1
    end = min(len(text), start + SNIPPET)
    if end < len(text):
        end = max(text.rfind(" ", start, end), start + SNIPPET // 2)
    pieces, cursor = [], start
    if start > 0:
        pieces.append("… ")
    for left, right in spans:
        if right <= start or left >= end:
            continue
        left, right = max(left, cursor), min(right, end)
        if left < cursor:
            continue
        pieces.append(escape(text[cursor:left]))
        pieces.append(f"<mark>{escape(text[left:right])}</mark>")
        cursor = right
    pieces.append(escape(text[cursor:end]))
    if end < len(text):
        pieces.append(" …")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of the text is escaped above


def _stem(word: str) -> str:
    return word if len(word) <= 4 else word[: max(4, len(word) - 2)]
