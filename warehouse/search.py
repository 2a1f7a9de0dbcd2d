"""Full-text search over canonical articles: DuckDB's fts extension (BM25, Porter stemmer,
English stop words), shipped offline by the duckdb-ext wheels.

Languages: the index holds title and text as they are (what English needs) and, for other
languages, `documents.search_text`: the text's words as the pipeline analysed them for its
language (Snowball stems, character bigrams for unspaced scripts; `tasks.text.tokens`). A query
in such a language must be analysed the same way before it gets here (the CLI does:
`tasks.text.tokens.search_query`); this module never imports the pipeline. The index keeps
every script's letters (`ignore` drops only what is not a letter), so Cyrillic, Greek, Arabic
and CJK terms are searchable.

The fts index is a snapshot: it does not follow later inserts, and a rebuild reads every
document (~42 s at 100k documents), so a run rebuilds it under a `RefreshPolicy`: always while the
warehouse is small, else once enough is new or the new documents have waited long enough
(`Warehouse.refresh_search_index`). Building it also defines the table macro
`search_articles(q, since := NULL, lang := NULL)`, so analysts can search from plain SQL. Each build is logged
in `search_index_builds`. A query string only ever travels as a bound parameter; it is never
spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

import duckdb

# The index covers every stored document; the macro keeps the newest canonical version of each
# source by joining latest_articles.
_BUILD = (
    "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', 'search_text', "
    "stemmer = 'porter', stopwords = 'english', ignore = '(\\.|[^\\p{L}])+', "
    "strip_accents = 1, lower = 1, overwrite = 1)"
)
_MACRO = """
CREATE OR REPLACE MACRO search_articles(q, since := NULL, lang := NULL) AS TABLE
SELECT a.title, a.outlet, a.published_at, m.score, a.summary, a.doc_id, a.source
FROM (SELECT doc_id, language, fts_main_documents.match_bm25(doc_id, q) AS score FROM documents) m
JOIN latest_articles a ON a.doc_id = m.doc_id
WHERE m.score IS NOT NULL AND (since IS NULL OR a.published_at >= CAST(since AS DATE))
  AND (lang IS NULL OR m.language = lang)
ORDER BY m.score DESC, a.doc_id
"""
_MACRO_COMMENT = (
    "COMMENT ON MACRO TABLE search_articles IS 'BM25 full-text search over canonical articles "
    "(title and text, Porter-stemmed, English stop words; search_text for other languages): "
    "FROM search_articles(''query'', since := DATE, lang := ''de'')'"
)
SEARCH = ("SELECT title, outlet, published_at, score, summary, doc_id "
          "FROM search_articles(?, since := ?, lang := ?) LIMIT ?")
_HAS_TABLE = (
    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
    "AND schema_name = ? AND table_name = ?"
)
# a macro without `lang` belongs to an index built before schema version 11, which lacks search_text
_HAS_MACRO = (
    "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'search_articles' "
    "AND database_name = current_database() AND list_contains(parameters, 'lang')"
)
_SEARCH_ANY = "SELECT title, outlet, published_at, score, summary, doc_id FROM search_articles(?, since := ?) LIMIT ?"
_LOG_BUILD = "INSERT INTO search_index_builds VALUES (?, (SELECT count(*) FROM fts_main_documents.docs), ?)"
_LAST_BUILD = "SELECT max(built_at) FROM search_index_builds"
_INDEXED = "SELECT count(*) FROM fts_main_documents.docs"
_DOCUMENTS = "SELECT count(*) FROM documents"


@dataclass(frozen=True)
class RefreshPolicy:
    """When a run rebuilds a stale index (the settings' `search` block sets the values)."""

    always_below: int = 20_000  # documents: a rebuild of this many took 14 s on a 2-core machine
    new_fraction: float = 0.05  # un-indexed documents, as a share of the indexed ones
    max_age: timedelta = timedelta(hours=1)  # since the last build, for un-indexed documents


EVERY_CHANGE = RefreshPolicy(always_below=2**63 - 1)


@dataclass(frozen=True)
class IndexState:
    documents: int  # stored
    indexed: int | None  # None: no usable index (never built, or its search macro is missing)
    built_at: datetime | None  # last logged build (UTC); None for indexes built before the log

    @property
    def unindexed(self) -> int:
        return self.documents if self.indexed is None else max(0, self.documents - self.indexed)


@dataclass(frozen=True)
class IndexRefresh:
    """What `Warehouse.refresh_search_index` did: rebuilt (with the reason), or kept with
    `unindexed` documents not yet searchable."""

    rebuilt_because: str | None
    unindexed: int = 0

    @property
    def rebuilt(self) -> bool:
        return self.rebuilt_because is not None

    def describe(self) -> str:
        if self.rebuilt:
            return f"rebuilt: {self.rebuilt_because}"
        if self.unindexed:
            return f"kept: {self.unindexed} new documents not searchable until the next rebuild"
        return "up to date"


def rebuild_reason(state: IndexState, policy: RefreshPolicy, now: datetime) -> str | None:
    """Why the index should be rebuilt now, or None to keep it. Documents are append-only, so
    a count gap between stored and indexed documents is what makes the index stale."""
    if state.indexed is None:
        return "no index yet"
    new = state.documents - state.indexed
    if new == 0:
        return None
    if new < 0:
        return f"{-new} indexed documents no longer stored"
    if state.documents < policy.always_below:
        return f"{new} new documents (warehouse under {policy.always_below:,} documents)"
    if new >= policy.new_fraction * state.indexed:
        return f"{new} new documents, {new / max(state.indexed, 1):.1%} of the indexed ones"
    if state.built_at is None or now - state.built_at >= policy.max_age:
        since = "an unlogged build" if state.built_at is None else f"{state.built_at:%Y-%m-%d %H:%M} UTC"
        return f"{new} new documents, index built at {since}"
    return None


def utc_now() -> datetime:
    """Naive UTC, as `search_index_builds.built_at` holds it."""
    return datetime.utcnow()  # noqa: DTZ003 - the column is a naive TIMESTAMP in UTC


def load(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("LOAD fts")


# The build tokenises every stored document at once and takes whatever memory it may; at 100k
# documents it peaked at 1.2 GiB under the 1 GB connection limit, and at 0.45 GiB capped here, in
# about the same time (it spills to disk). A code constant: SET takes no bound parameters.
BUILD_MEMORY_LIMIT = "256MB"


def build(con: duckdb.DuckDBPyConnection, reason: str = "requested", now: datetime | None = None) -> None:
    """(Re)build the index and the search macro on `documents` and `latest_articles` of the current database,
    and log the build.

    The connection's memory limit is lowered for the build and put back after."""
    load(con)
    previous = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{BUILD_MEMORY_LIMIT}'")
    try:
        con.execute(_BUILD)
    finally:
        con.execute(f"SET memory_limit = '{previous}'")
    con.execute(_MACRO)
    con.execute(_MACRO_COMMENT)
    if not _has_table(con, "main", "search_index_builds"):  # DuckLake's search-index file has no migrations
        con.execute(_build_log_ddl())
    con.execute(_LOG_BUILD, [now or utc_now(), reason])


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(_HAS_TABLE, [schema, table]).fetchone()[0])


def _build_log_ddl() -> str:
    return resources.files("warehouse").joinpath("sql/007_search_index_builds.sql").read_text(encoding="utf-8")


def index_state(con: duckdb.DuckDBPyConnection, documents: int | None = None) -> IndexState:
    """The index of the current database against `documents` stored ones (default: its own table)."""
    if documents is None:
        documents = con.execute(_DOCUMENTS).fetchone()[0]
    usable = _has_table(con, "fts_main_documents", "docs") and con.execute(_HAS_MACRO).fetchone()[0]
    indexed = con.execute(_INDEXED).fetchone()[0] if usable else None
    built_at = con.execute(_LAST_BUILD).fetchone()[0] if _has_table(con, "main", "search_index_builds") else None
    return IndexState(documents, indexed, built_at)


def copy_from_lake(con: duckdb.DuckDBPyConnection, lake_alias: str) -> None:
    """Fill the side index database with what search needs from an attached DuckLake.

    DuckLake cannot store the macros fts creates, so the index is built on local copies.
    """
    if not lake_alias.isidentifier():
        raise ValueError(f"bad catalog alias {lake_alias!r}")
    con.execute(f"CREATE OR REPLACE TABLE documents AS SELECT doc_id, title, text, search_text, language "
                f"FROM {lake_alias}.documents")
    con.execute(f"CREATE OR REPLACE TABLE latest_articles AS SELECT * FROM {lake_alias}.latest_articles")


def lake_documents(con: duckdb.DuckDBPyConnection, lake_alias: str) -> int:
    if not lake_alias.isidentifier():
        raise ValueError(f"bad catalog alias {lake_alias!r}")
    return con.execute(f"SELECT count(*) FROM {lake_alias}.documents").fetchone()[0]


def search(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 10,
           since: date | None = None, language: str | None = None) -> tuple[list[str], list[tuple]]:
    load(con)
    # without a language, the call an index built before schema version 11 also answers
    cursor = con.execute(SEARCH, [query, since, language, limit]) if language else \
        con.execute(_SEARCH_ANY, [query, since, limit])
    return [c[0] for c in cursor.description], cursor.fetchall()
