"""Export the warehouse tables to a Hive-partitioned Parquet set (`newsflow export`).

One DuckDB file has one writer; a Parquet export is what analysts, other engines and
object stores read while ingest keeps writing. Each table becomes `<out>/<table>/`
partitioned by `ingest_date` (the day the row was written), so a daily job rewrites
cheaply-pruned folders and readers filter on the partition column. `views.sql` in the
export recreates the tables and analyst views over the Parquet files, so the same SQL
runs against the export as against the warehouse.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.store import Warehouse

PARTITION_COLUMN = "ingest_date"

# How each table gets its ingest_date. Rows without their own write time take it from the
# row they belong to, so one day's folder holds a self-contained slice of the warehouse.
_PARTITIONS: dict[str, tuple[str, str]] = {
    # table: (date expression over alias t / p, join clause)
    "documents": ("CAST(t.ingested_at AS DATE)", ""),
    "duplicates": ("CAST(t.detected_at AS DATE)", ""),
    "summaries": ("CAST(t.created_at AS DATE)", ""),
    "summary_sentences": ("CAST(p.created_at AS DATE)",
                          "LEFT JOIN summaries p ON p.doc_id = t.doc_id AND p.algorithm = t.algorithm"),
    "runs": ("CAST(t.started_at AS DATE)", ""),
    # first_seen_at, not last_seen_at: a failure row should not hop folders each time it recurs
    "failures": ("CAST(t.first_seen_at AS DATE)", ""),
    "fetch_log": ("CAST(t.fetched_at AS DATE)", ""),
    "raw_pages": ("CAST(p.ingested_at AS DATE)", "LEFT JOIN documents p ON p.doc_id = t.doc_id"),
    "minhash_bands": ("CAST(p.ingested_at AS DATE)", "LEFT JOIN documents p ON p.doc_id = t.doc_id"),
    "stories": ("CAST(t.created_at AS DATE)", ""),
    "story_members": ("CAST(t.assigned_at AS DATE)", ""),
    "story_terms": ("CAST(p.ingested_at AS DATE)", "LEFT JOIN documents p ON p.doc_id = t.doc_id"),
    "search_index_builds": ("CAST(t.built_at AS DATE)", ""),
}
# Not partitioned, one file each: whole-warehouse facts no day owns (schema_version,
# story_term_df: term counts over every document, minhash_band_ids: the bandings in use).
# DuckLake bookkeeping, meaningless outside the warehouse it serialises
_SKIP = {"write_turn"}


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    partitioned: bool  # has the ingest_date column (Hive folders once it has rows)
    files: int


def sql_string(value: str) -> str:
    """A DuckDB string literal for `value`. COPY targets cannot be bound as parameters, so
    this is the one place an (operator-supplied) value enters SQL text."""
    if "\x00" in value:
        raise ValueError("path contains a NUL character")
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, list[str]]]:
    rows = con.execute(
        "SELECT t.table_name, list(c.column_name ORDER BY c.column_index) FROM duckdb_tables() t "
        "JOIN duckdb_columns() c ON c.database_name = t.database_name AND c.schema_name = t.schema_name "
        "AND c.table_name = t.table_name "
        "WHERE t.database_name = current_database() AND t.schema_name = 'main' AND NOT t.temporary "
        "GROUP BY t.table_name ORDER BY t.table_name"
    ).fetchall()
    return [(name, cols) for name, cols in rows if name not in _SKIP]


def _partition_spec(table: str, columns: list[str]) -> tuple[str, str] | None:
    if table in _PARTITIONS:
        return _PARTITIONS[table]
    # tables added by later migrations: their own ingest time if they have one
    if "ingested_at" in columns:
        return ("CAST(t.ingested_at AS DATE)", "")
    return None


def _analyst_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """CREATE VIEW statements, each after the views it names: a view replaced by a later
    migration has a newer oid than the views built on it, so oid order is not enough."""
    views = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal AND NOT temporary ORDER BY view_oid"
    ).fetchall()
    names = [name for name, _ in views]
    needs = {name: {other for other in names if other != name
                    and re.search(rf"(?<![\w.]){re.escape(other)}(?!\w)", sql, re.IGNORECASE)}
             for name, sql in views}
    ordered: list[str] = []
    while len(ordered) < len(views):
        ready = [n for n in names if n not in ordered and needs[n] <= set(ordered)]
        ordered += ready or [n for n in names if n not in ordered]  # a cycle cannot bind anyway
    sql_of = dict(views)
    return [sql_of[n] for n in ordered]


def export_parquet(store: Warehouse, out: str | Path) -> list[ExportedTable]:
    """Write every table to `<out>/<table>/` as Parquet, Hive-partitioned by ingest_date.

    Each table is written to a staging folder first and swapped in whole, so a reader never
    sees half an export of a table and an earlier export's stale files never linger.
    """
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    exported: list[ExportedTable] = []
    try:
        with store.connect(read_only=True) as con:
            tables = _tables(con)
            views = _analyst_views(con)
            for table, columns in tables:
                spec = _partition_spec(table, columns)
                rows = con.execute(f"SELECT count(*) FROM {sql_identifier(table)}").fetchone()[0]  # noqa: S608 catalog name
                target = staging / table
                if spec is None:
                    select = f"SELECT * FROM {sql_identifier(table)}"  # noqa: S608 catalog name
                else:
                    expr, join = spec
                    select = (f"SELECT t.*, {expr} AS {PARTITION_COLUMN} "  # noqa: S608 fixed expressions
                              f"FROM {sql_identifier(table)} t {join}")
                if spec is not None and rows:
                    con.execute(f"COPY ({select}) TO {sql_string(str(target))} "
                                f"(FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN}), OVERWRITE)")
                else:
                    # an empty table still gets a file with its columns: read_parquet over a
                    # folder with no files fails, and views.sql must bind
                    target.mkdir()
                    con.execute(f"COPY ({select}) TO {sql_string(str(target / 'data_0.parquet'))} (FORMAT parquet)")
                files = sum(1 for _ in target.rglob("*.parquet"))
                exported.append(ExportedTable(table, rows, spec is not None, files))
        for item in exported:
            final = out / item.table
            if final.exists():
                old = out / f".old-{item.table}-{uuid.uuid4().hex[:8]}"
                final.rename(old)
                (staging / item.table).rename(final)
                shutil.rmtree(old)
            else:
                (staging / item.table).rename(final)
        (out / "views.sql").write_text(views_sql(exported, views), encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return exported


def views_sql(exported: list[ExportedTable], analyst_views: list[str]) -> str:
    """SQL that recreates the warehouse's tables (as views over the Parquet set) and its
    analyst views. Paths are relative: run it with the export folder as the working
    directory, or after `SET file_search_path = '<export folder>'`."""
    lines = ["-- generated by `newsflow export`: the warehouse's tables and views over this Parquet set"]
    for item in exported:
        glob = sql_string(f"{item.table}/**/*.parquet")
        lines.append(f"CREATE OR REPLACE VIEW {sql_identifier(item.table)} AS SELECT * EXCLUDE ({PARTITION_COLUMN}) "
                     f"FROM read_parquet({glob}, hive_partitioning = true);"
                     if item.partitioned else
                     f"CREATE OR REPLACE VIEW {sql_identifier(item.table)} AS SELECT * FROM read_parquet({glob});")
    for sql in analyst_views:
        lines.append(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
    return "\n".join(lines) + "\n"
