"""The search index, kept by the database itself so it is current however rows are written
(``save()``, ``bulk_create``, ``.update()``, raw SQL in sync and webhooks alike).

PostgreSQL: a stored generated ``tsvector`` column on each searched table, with a GIN index.
SQLite: an FTS5 external-content table per searched table, kept by triggers. Without FTS5
(an unusual Python build) search falls back to substring matching, which is slower.
"""

from __future__ import annotations

from django.db import connection as default_connection

# table, what is indexed (PostgreSQL expression), FTS5 columns
SOURCES = {
    "message": (
        "conversations_message",
        "to_tsvector('english', body)",
        ("body",),
    ),
    "note": (
        "conversations_note",
        "to_tsvector('english', body)",
        ("body",),
    ),
    "contact": (
        "contacts_contact",
        "to_tsvector('english', first_name || ' ' || last_name || ' ' || display_name || ' ' "
        "|| phone_number || ' ' || note) "
        "|| jsonb_to_tsvector('english', custom_fields, '[\"string\", \"numeric\"]')",
        ("first_name", "last_name", "display_name", "phone_number", "note", "custom_fields"),
    ),
}
COLUMN = "search_vector"


def fts_table(kind: str) -> str:
    return f"search_{kind}_fts"


def backend(connection=default_connection) -> str:
    """'postgres', 'fts5' or 'like' (the slow fallback)."""
    if connection.vendor == "postgresql":
        return "postgres"
    if connection.vendor == "sqlite" and _has_fts5(connection):
        return "fts5"
    return "like"


def _has_fts5(connection) -> bool:
    cached = getattr(connection, "_textdesk_fts5", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
            cached = bool(cursor.fetchone()[0])
        if not cached:  # some builds load it without the compile option
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT fts5(NULL)")
            except Exception:  # noqa: BLE001 - "no such function" means no FTS5
                cached = False
            else:
                cached = True
        connection._textdesk_fts5 = cached
    return cached


def ensure_index(connection=default_connection) -> bool:
    """Create whatever part of the index is missing. True when something was (re)created, in
    which case the SQLite index must be rebuilt from its tables."""
    kind = backend(connection)
    if kind == "postgres":
        return _ensure_postgres(connection)
    if kind == "fts5":
        return _ensure_fts5(connection)
    return False


def _ensure_postgres(connection) -> bool:
    created = False
    with connection.cursor() as cursor:
        for kind, (table, expression, _) in SOURCES.items():
            cursor.execute(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = %s",
                [table, COLUMN],
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    f"ALTER TABLE {table} ADD COLUMN {COLUMN} tsvector "
                    f"GENERATED ALWAYS AS ({expression}) STORED"
                )
                created = True
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS search_{kind}_gin ON {table} USING gin ({COLUMN})"
            )
    return created


def _triggers(kind: str) -> dict[str, str]:
    table, _, columns = SOURCES[kind]
    fts = fts_table(kind)
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    return {
        f"{fts}_ai": f"AFTER INSERT ON {table} BEGIN {insert} END",
        f"{fts}_ad": f"AFTER DELETE ON {table} BEGIN {delete} END",
        f"{fts}_au": f"AFTER UPDATE OF {names} ON {table} BEGIN {delete} {insert} END",
    }


def _ensure_fts5(connection) -> bool:
    created = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        for kind, (table, _, columns) in SOURCES.items():
            fts = fts_table(kind)
            if fts not in present:
                cursor.execute(
                    f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, "
                    f"content='{table}', content_rowid='id', tokenize='porter unicode61')"
                )
                created = True
            for name, body in _triggers(kind).items():
                if name not in present:
                    cursor.execute(f"CREATE TRIGGER {name} {body}")
                    created = True
    return created


def rebuild(connection=default_connection) -> str:
    """Rebuild the index from the tables. Returns what was done, for the command's output."""
    kind = backend(connection)
    ensure_index(connection)
    with connection.cursor() as cursor:
        if kind == "fts5":
            for source in SOURCES:
                fts = fts_table(source)
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
            return "Rebuilt the SQLite FTS5 index from messages, notes and contacts."
        if kind == "postgres":
            # The tsvector columns are generated (never stale); the GIN indexes are rebuilt.
            for source, (table, _, _) in SOURCES.items():
                cursor.execute(f"REINDEX INDEX search_{source}_gin")
                cursor.execute(f"ANALYZE {table}")
            return "Reindexed the PostgreSQL search indexes (the tsvector columns are generated)."
    return "This SQLite build has no FTS5: search matches substrings and needs no index."


def repair_after_migrate(sender=None, using: str = "default", **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if backend(connection) == "fts5" and ensure_index(connection):
        rebuild(connection)


def index_size(connection=default_connection) -> int:
    """Bytes used by the search index (PostgreSQL: GIN indexes plus the stored columns)."""
    if backend(connection) != "postgres":
        return 0
    total = 0
    with connection.cursor() as cursor:
        for kind, (table, _, _) in SOURCES.items():
            cursor.execute(
                f"SELECT pg_relation_size('search_{kind}_gin'), "
                f"COALESCE(SUM(pg_column_size({COLUMN})), 0) FROM {table}"
            )
            gin, column = cursor.fetchone()
            total += int(gin) + int(column)
    return total
