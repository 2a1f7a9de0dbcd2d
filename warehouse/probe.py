"""Passing many Python values to a DuckDB query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa


@contextmanager
def probe(con: duckdb.DuckDBPyConnection, name: str, **columns: list) -> Iterator[None]:
    """Expose Python lists to SQL as a table `name`.

    Lookups take values through an Arrow table, never a list parameter: DuckDB converts a
    Python list value by value (about a second per 5,000 values), an Arrow table at once."""
    con.register(name, pa.table(columns))
    try:
        yield
    finally:
        con.unregister(name)
