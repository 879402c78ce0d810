"""The search language: one parse, the same meaning on every backend, hostile input refused."""

import pytest

from textdesk.search.query import QueryError, Term, fts5_match, parse, tsquery_sql


def test_words_all_must_match():
    query = parse("blue fence")
    assert query.clauses == [(Term("blue"),), (Term("fence"),)]
    assert fts5_match(query) == '("blue") AND ("fence")'


def test_phrase_exclusion_and_or():
    query = parse('"blue fence" -gate paint OR stain')
    assert query.clauses == [(Term("blue fence", is_phrase=True),), (Term("paint"), Term("stain"))]
    assert query.excluded == [Term("gate")]
    assert fts5_match(query) == '("blue fence") AND ("paint" OR "stain") NOT "gate"'
    sql, params = tsquery_sql(query)
    assert sql.count("websearch_to_tsquery") == 4
    assert params == ['"blue fence"', "paint", "stain", "gate"]


def test_filters_are_taken_out_of_the_words():
    query = parse(
        'fence line:"Front desk" from:2026-03-01 is:received tag:vip by:sam has:attachment'
    )
    assert [t.text for t in query.positive_terms] == ["fence"]
    assert query.filters == [
        ("line", "Front desk"),
        ("from", "2026-03-01"),
        ("is", "received"),
        ("tag", "vip"),
        ("by", "sam"),
        ("has", "attachment"),
    ]
    assert (
        query.without_filter("tag")
        == 'fence line:"Front desk" from:2026-03-01 is:received by:sam has:attachment'
    )


def test_unknown_prefix_is_a_word():
    query = parse("http://example.com")
    assert query.filters == []
    assert query.positive_terms[0].words() == ["http", "example", "com"]


def test_unbalanced_quote_runs_to_the_end():
    query = parse('"blue fence')
    assert query.clauses == [(Term("blue fence", is_phrase=True),)]


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "Type a word"),
        ("   \t ", "Type a word"),
        ("-", "Type a word"),
        ("OR", "OR goes between"),
        ("fence OR", "OR goes between"),
        ("-gate", "only leaves things out"),
        ("fence OR -gate", "OR cannot join"),
        ('""', "Type a word"),
        ("x" * 10_000, "at most 1,000 characters"),
        ("tag:", "needs a value"),
        (" ".join(f"w{i}" for i in range(25)), "at most 20"),
    ],
)
def test_hostile_or_empty_queries_get_a_reason(raw, reason):
    with pytest.raises(QueryError, match=reason):
        parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "'; DROP TABLE conversations_message; --",
        "<script>alert(1)</script>",
        'a" OR 1=1 --',
        "NEAR(a b) body:x {a b} ^a *",
        "a\x00b",
    ],
)
def test_sql_and_fts_syntax_are_only_words(raw):
    query = parse(raw)
    match = fts5_match(query)
    # Every term is one quoted FTS5 string: nothing outside the quotes but AND/OR/NOT/parens.
    outside = "".join(part for i, part in enumerate(match.split('"')) if i % 2 == 0)
    assert set(outside.replace("AND", "").replace("OR", "").replace("NOT", "")) <= set("() ")
