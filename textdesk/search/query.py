"""The search language, parsed into a small tree that every backend reads the same way.

    blue fence            both words (stemmed for English)
    "blue fence"          the exact phrase
    fence -gate           fence, without gate
    fence OR gate         either (OR in capitals binds the words either side)
    line:"Front desk" from:2026-03-01 to:2026-03-31 is:received|sent|note|resolved|open
    by:sam has:attachment tag:vip

Nothing typed reaches SQL as syntax: each term is a bound parameter, quoted for FTS5 and
passed to ``websearch_to_tsquery`` one term at a time on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LENGTH = 1000
MAX_TERMS = 20
FILTER_KEYS = ("line", "from", "to", "is", "by", "has", "tag")

# A token: an optional minus, then a quoted phrase (closing quote optional: an unbalanced quote
# runs to the end) or a run of non-space characters.
_TOKEN = re.compile(r'([A-Za-z]+:"[^"]*"?)|(-?)"([^"]*)"?|(\S+)')
_FILTER = re.compile(r"^([a-z]+):(.*)$", re.IGNORECASE | re.DOTALL)
_WORDISH = re.compile(r"\w", re.UNICODE)


class QueryError(ValueError):
    """The query cannot be searched; the message says why, in words a person can act on."""


@dataclass(frozen=True)
class Term:
    text: str
    is_phrase: bool = False

    def words(self) -> list[str]:
        return re.findall(r"\w+", self.text.lower())


@dataclass
class Query:
    """AND of clauses; a clause is an OR of terms. ``excluded`` terms must not match."""

    clauses: list[tuple[Term, ...]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""  # the words as typed, without the filters

    @property
    def positive_terms(self) -> list[Term]:
        return [term for clause in self.clauses for term in clause]

    @property
    def is_simple(self) -> bool:
        """Plain words only (no OR, phrase or exclusion): names and numbers may match inside."""
        return not self.excluded and all(
            len(clause) == 1 and not clause[0].is_phrase for clause in self.clauses
        )

    def without_filter(self, key: str) -> str:
        """The query string as typed, minus one filter (for a chip's ×)."""
        kept = [f"{k}:{_quote(v)}" for k, v in self.filters if k != key]
        return " ".join([self.text, *kept]).strip()


def _quote(value: str) -> str:
    return f'"{value}"' if " " in value else value


def parse(raw: str) -> Query:
    """Parse what a person typed. Raises QueryError with a clear reason."""
    raw = (raw or "").replace("\x00", " ")
    if len(raw) > MAX_LENGTH:
        raise QueryError(f"A search can be at most {MAX_LENGTH:,} characters long.")
    query = Query()
    pending_or = False
    words_typed: list[str] = []
    tokens = list(_TOKEN.finditer(raw))
    index = 0
    while index < len(tokens):
        match = tokens[index]
        index += 1
        keyed, minus, phrase, bare = match.groups()
        if keyed is not None and keyed.split(":", 1)[0].lower() not in FILTER_KEYS:
            # not a filter (e.g. note:"x"): read it as words
            bare, keyed = keyed.replace('"', " "), None
        if keyed is not None or bare is not None:
            filt = _FILTER.match(keyed or bare)
            if filt and filt.group(1).lower() in FILTER_KEYS:
                key, value = filt.group(1).lower(), filt.group(2).strip('"').strip()
                if not value:
                    raise QueryError(f"“{key}:” needs a value, for example {_example(key)}.")
                query.filters.append((key, value))
                continue
            if bare == "OR":
                if not query.clauses or pending_or:
                    raise QueryError("OR goes between two words, as in: fence OR gate.")
                pending_or = True
                words_typed.append(bare)
                continue
            negated = bare.startswith("-")
            text = bare[1:] if negated else bare
            term = Term(text.strip("'\"")) if _WORDISH.search(text) else None
        else:
            negated = bool(minus)
            term = Term(phrase.strip(), is_phrase=True) if _WORDISH.search(phrase) else None
        words_typed.append(match.group(0))
        if term is None:
            continue  # punctuation alone matches nothing and excludes nothing
        if negated:
            if pending_or:
                raise QueryError("OR cannot join an excluded word (-word); drop the OR or the -.")
            query.excluded.append(term)
        elif pending_or:
            query.clauses[-1] = (*query.clauses[-1], term)
            pending_or = False
        else:
            query.clauses.append((term,))
    if pending_or:
        raise QueryError("OR goes between two words, as in: fence OR gate.")
    if len(query.positive_terms) + len(query.excluded) > MAX_TERMS:
        raise QueryError(f"Use at most {MAX_TERMS} words and phrases.")
    if not query.clauses:
        if query.excluded:
            raise QueryError("Add a word to find: “-word” only leaves things out.")
        raise QueryError("Type a word, a name, a number or a “phrase” to search for.")
    query.text = " ".join(words_typed)
    return query


def _example(key: str) -> str:
    return {
        "line": 'line:"Front desk"',
        "from": "from:2026-03-01",
        "to": "to:2026-03-31",
        "is": "is:received",
        "by": "by:sam",
        "has": "has:attachment",
        "tag": "tag:vip",
    }[key]


# --- One tree, three readings -------------------------------------------------------------


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression. Every term is a quoted string (FTS5's own quoting: a double
    quote is doubled), so no operator or column filter can come from the input."""

    def quoted(term: Term) -> str:
        return '"' + " ".join(term.words()).replace('"', '""') + '"'

    positive = " AND ".join(
        "(" + " OR ".join(quoted(term) for term in clause) + ")" for clause in query.clauses
    )
    return positive + "".join(f" NOT {quoted(term)}" for term in query.excluded)


def tsquery_sql(query: Query) -> tuple[str, list[str]]:
    """A PostgreSQL tsquery expression: each term through websearch_to_tsquery('english', %s)
    (which never raises on input), combined with the tsquery operators."""

    def one(term: Term) -> tuple[str, str]:
        words = " ".join(term.words())
        return "websearch_to_tsquery('english', %s)", f'"{words}"' if term.is_phrase else words

    parts, params = [], []
    for clause in query.clauses:
        pieces = [one(term) for term in clause]
        parts.append("(" + " || ".join(sql for sql, _ in pieces) + ")")
        params += [value for _, value in pieces]
    for term in query.excluded:
        sql, value = one(term)
        parts.append(f"!!{sql}")
        params.append(value)
    return "(" + " && ".join(parts) + ")", params


def like_q(query: Query, field_name: str):
    """The slow reading (substring match), for tag names and SQLite without FTS5."""
    from django.db.models import Q

    def one(term: Term) -> Q:
        return Q(**{f"{field_name}__icontains": " ".join(term.words()) or term.text})

    result = Q()
    for clause in query.clauses:
        either = Q()
        for term in clause:
            either |= one(term)
        result &= either
    for term in query.excluded:
        result &= ~one(term)
    return result
