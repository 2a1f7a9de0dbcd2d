"""Passing many Python values to a DuckDB query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa
import pyarrow.compute as pc


@contextmanager
def probe(con: duckdb.DuckDBPyConnection, name: str, **columns: list) -> Iterator[None]:
    """Expose Python lists to SQL as a table `name`.

    Lookups take values through an Arrow table, never a list parameter: DuckDB converts a
    Python list value by value (about a second per 5,000 values), an Arrow table at once."""
    with probe_table(con, name, pa.table(columns)):
        yield


@contextmanager
def probe_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """Expose an Arrow table to SQL as `name` for the duration of the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Bulk-insert the Arrow `rows` as they are (by column name); `table` is a code constant."""
    if not rows.num_rows:
        return
    with probe_table(con, "batch_rows", rows):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM batch_rows")  # noqa: S608 constants only


def rows_without(rows: pa.Table, column: str, ids: pa.Array) -> pa.Table:
    """The `rows` whose `column` is not one of `ids`."""
    return rows.filter(pc.invert(pc.is_in(rows.column(column), value_set=ids)))


def insert_new(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, keys: tuple[str, ...]) -> None:
    """Bulk-insert the Arrow `rows` whose `keys` are not in `table` yet (by column name).

    An anti-join rather than ON CONFLICT, so it works on DuckLake tables, which have no keys;
    rows a concurrent or repeated run stored first stand. `table` and `keys` are code constants."""
    if not rows.num_rows:
        return
    match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    with probe_table(con, "batch_rows", rows):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM batch_rows s "  # noqa: S608 constants only
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})")


def insert_of_new_docs(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, keys: tuple[str, ...],
                       new_ids: pa.Array, id_column: str = "doc_id") -> None:
    """Insert a batch's rows keyed by a document's id (`id_column`): those of the documents this
    transaction stores for the first time (`new_ids`) as they are, the rest only where their keys
    are not stored yet (`insert_new`).

    Every row keyed by a doc_id (a story's id is its seed's) is written in the transaction that
    writes its document, and nothing deletes documents, so no stored row can hold a new
    document's key: the anti-join would only read the table's whole key columns into DuckDB's
    cache (at 100k stored documents ~25 MiB a table), which the commit and checkpoint sit on."""
    if not rows.num_rows:
        return
    fresh = pc.is_in(rows.column(id_column), value_set=new_ids)
    insert_rows(con, table, rows.filter(fresh))
    insert_new(con, table, rows.filter(pc.invert(fresh)), keys)
