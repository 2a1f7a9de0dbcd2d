"""Full-text search over canonical articles: DuckDB's fts extension (BM25, Porter stemmer,
English stop words), shipped offline by the duckdb-ext wheels.

The fts index is a snapshot: it does not follow later inserts, so the store rebuilds it after
each load that changed documents (`Warehouse.refresh_search_index`). Building it also defines
the table macro `search_articles(q, since := NULL)`, so analysts can search from plain SQL.
A query string only ever travels as a bound parameter; it is never spliced into SQL.
"""

from __future__ import annotations

from datetime import date

import duckdb

# The index covers every stored document; the macro keeps the newest canonical version of each
# source by joining latest_articles.
_BUILD = (
    "PRAGMA create_fts_index('documents', 'doc_id', 'title', 'text', "
    "stemmer = 'porter', stopwords = 'english', ignore = '(\\.|[^a-z])+', "
    "strip_accents = 1, lower = 1, overwrite = 1)"
)
_MACRO = """
CREATE OR REPLACE MACRO search_articles(q, since := NULL) AS TABLE
SELECT a.title, a.outlet, a.published_at, m.score, a.summary, a.doc_id, a.source
FROM (SELECT doc_id, fts_main_documents.match_bm25(doc_id, q) AS score FROM documents) m
JOIN latest_articles a ON a.doc_id = m.doc_id
WHERE m.score IS NOT NULL AND (since IS NULL OR a.published_at >= CAST(since AS DATE))
ORDER BY m.score DESC, a.doc_id
"""
_MACRO_COMMENT = (
    "COMMENT ON MACRO TABLE search_articles IS 'BM25 full-text search over canonical articles "
    "(title and text, Porter-stemmed, English stop words): FROM search_articles(''query'', since := DATE)'"
)
SEARCH = "SELECT title, outlet, published_at, score, summary, doc_id FROM search_articles(?, since := ?) LIMIT ?"
# Indexed documents vs stored documents: documents are append-only, so a count gap means stale.
_STALE = (
    "SELECT (SELECT count(*) FROM documents) <> (SELECT count(*) FROM fts_main_documents.docs) "
    "OR (SELECT count(*) FROM duckdb_functions() WHERE function_name = 'search_articles' "
    "AND database_name = current_database()) = 0"
)


def load(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("LOAD fts")


# The build tokenises every stored document at once and takes whatever memory it may; at 100k
# documents it peaked at 1.2 GiB under the 1 GB connection limit, and at 0.45 GiB capped here, in
# about the same time (it spills to disk). A code constant: SET takes no bound parameters.
BUILD_MEMORY_LIMIT = "256MB"


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index and the search macro on `documents` and `latest_articles` of the current database.

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


def is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    has_index = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'fts_main_documents' AND table_name = 'docs'"
    ).fetchone()[0]
    return not has_index or bool(con.execute(_STALE).fetchone()[0])


def copy_from_lake(con: duckdb.DuckDBPyConnection, lake_alias: str) -> None:
    """Fill the side index database with what search needs from an attached DuckLake.

    DuckLake cannot store the macros fts creates, so the index is built on local copies.
    """
    if not lake_alias.isidentifier():
        raise ValueError(f"bad catalog alias {lake_alias!r}")
    con.execute(f"CREATE OR REPLACE TABLE documents AS SELECT doc_id, title, text FROM {lake_alias}.documents")
    con.execute(f"CREATE OR REPLACE TABLE latest_articles AS SELECT * FROM {lake_alias}.latest_articles")


def lake_copy_is_stale(con: duckdb.DuckDBPyConnection, lake_alias: str) -> bool:
    if not lake_alias.isidentifier():
        raise ValueError(f"bad catalog alias {lake_alias!r}")
    if is_stale(con):
        return True
    return bool(con.execute(
        f"SELECT (SELECT count(*) FROM {lake_alias}.documents) <> (SELECT count(*) FROM documents)"
    ).fetchone()[0])


def search(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 10,
           since: date | None = None) -> tuple[list[str], list[tuple]]:
    load(con)
    cursor = con.execute(SEARCH, [query, since, limit])
    return [c[0] for c in cursor.description], cursor.fetchall()
