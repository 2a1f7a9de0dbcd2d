"""DuckLake storage: a catalog database (SQLite locally, Postgres or MotherDuck when shared) plus
Parquet data files, which several processes can write at once.

DuckLake differs from a DuckDB file in ways the rest of the warehouse must allow for:
no PRIMARY KEY/UNIQUE constraints or indexes (so no ON CONFLICT), only literal column defaults,
and no macros (so the full-text index lives in a side DuckDB file, see warehouse/search.py).
Writers use optimistic concurrency: a commit that conflicts with another fails and is retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import duckdb_ext

ALIAS = "lake"

# The configuration of every DuckDB session the warehouse opens (files and lakes). The extensions
# load from the installed duckdb-ext wheels, trusted as this code is, and DuckDB's signature check
# re-hashes each 25-50 MB binary on every LOAD: 0.29 s of a lake session's 0.30 s start, paid several
# times a batch, and 0.07 s of every search. Analyst SQL runs with external access off and the
# configuration locked (`Warehouse.query`), so no LOAD can follow it.
SESSION_CONFIG = {"allow_unsigned_extensions": "true"}


REMOTE_SCHEMES = ("s3://", "s3a://", "s3n://", "r2://", "gcs://", "gs://", "http://", "https://")


def is_remote(path: str | Path) -> bool:
    return isinstance(path, str) and path.lower().startswith(REMOTE_SCHEMES)


@dataclass(frozen=True)
class ObjectStore:
    """Credentials for S3-compatible object storage (DuckDB httpfs); empty fields use DuckDB's defaults."""

    key_id: str = ""
    secret: str = field(default="", repr=False)
    region: str = ""
    endpoint: str = ""  # host[:port] of an S3-compatible server (MinIO, R2, ...); empty means AWS
    url_style: str = ""  # "path" for most self-hosted servers, "vhost" for AWS
    use_ssl: bool = True

    def secret_sql(self) -> str:
        options = ["TYPE s3"]
        for key, value in (("KEY_ID", self.key_id), ("SECRET", self.secret), ("REGION", self.region),
                           ("ENDPOINT", self.endpoint), ("URL_STYLE", self.url_style)):
            if value:
                options.append(f"{key} {_literal(value)}")
        options.append(f"USE_SSL {'true' if self.use_ssl else 'false'}")
        return f"CREATE OR REPLACE TEMPORARY SECRET newsflow_lake ({', '.join(options)})"


@dataclass(frozen=True)
class LakeConfig:
    catalog: str  # "sqlite:/path/catalog.sqlite", "postgres:dbname=... host=...", or a DuckDB file path
    data_path: Path | str  # a directory (shared mount), or an object-store URL such as s3://bucket/prefix
    search_index: Path  # side DuckDB file holding the fts index (DuckLake cannot store macros)
    object_store: ObjectStore = ObjectStore()

    def attach_target(self) -> str:
        return f"ducklake:{self.catalog}"

    def data_prefix(self) -> str:
        return str(self.data_path).rstrip("/") + "/"

    def local_paths(self) -> list[Path]:
        paths = [self.search_index.parent]
        if not is_remote(self.data_path):
            paths.append(Path(self.data_path))
        if self.catalog.startswith("sqlite:"):
            paths.append(Path(self.catalog.removeprefix("sqlite:")).parent)
        return paths

    def writer_lock(self, wait_s: float):
        """The lock a batch holds from "what is stored?" to commit, as far as this catalog's writers
        reach: the catalog database for Postgres (writers on any machine), else a file lock beside
        the catalog file (writers on this machine: that is all a SQLite or DuckDB catalog serves)."""
        from warehouse import writer_lock as locks

        if self.catalog.startswith("postgres:"):
            return locks.pg_writer_lock(self.catalog.removeprefix("postgres:"), wait_s=wait_s)
        return locks.writer_lock(self.catalog.removeprefix("sqlite:"), wait_s=wait_s)


def _literal(value: str) -> str:
    # ATTACH takes no prepared parameters; these strings come from operator settings, not queries.
    return "'" + value.replace("'", "''") + "'"


def attach(con: duckdb.DuckDBPyConnection, cfg: LakeConfig, *, alias: str = ALIAS, read_only: bool = False) -> None:
    if not alias.isidentifier():
        raise ValueError(f"bad catalog alias {alias!r}")
    duckdb_ext.init(con)
    con.execute("LOAD ducklake")
    if cfg.catalog.startswith("sqlite:"):
        con.execute("LOAD sqlite")
    elif cfg.catalog.startswith("postgres:"):
        con.execute("LOAD postgres")
    if is_remote(cfg.data_path):
        con.execute("LOAD httpfs")
        con.execute(cfg.object_store.secret_sql())
    if not read_only:
        for path in cfg.local_paths():
            path.mkdir(parents=True, exist_ok=True)
    options = f"DATA_PATH {_literal(cfg.data_prefix())}" + (", READ_ONLY" if read_only else "")
    con.execute(f"ATTACH {_literal(cfg.attach_target())} AS {alias} ({options})")


def open_lake(cfg: LakeConfig, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the lake attached and selected as the default catalog."""
    con = duckdb.connect(config=SESSION_CONFIG)
    try:
        attach(con, cfg, read_only=read_only)
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


# a libpq password (`password=S3cret`, quoted or not) or a URI's (`postgresql://user:S3cret@host`)
_CATALOG_SECRET = re.compile(r"(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)|(://[^:/@\s]+:)[^@\s]+(@)", re.IGNORECASE)


def redact_catalog(text: str) -> str:
    """`text` (a catalog, an attach target) with its password as REDACTED: where a run names its
    warehouse (its report, its log, `runs.parameters`, `newsflow config`), analysts and logs read it."""
    return _CATALOG_SECRET.sub(lambda m: f"{m.group(1)}REDACTED" if m.group(1) else f"{m.group(2)}REDACTED{m.group(3)}",
                               text)


_INDEX = re.compile(r"^\s*(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\b[^;]*;", re.IGNORECASE | re.MULTILINE)
_TABLE_KEY = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"[ \t]+(?:PRIMARY\s+KEY|UNIQUE)\b(?!\s*\()", re.IGNORECASE)
_CLOCK_DEFAULT = re.compile(r"\s+DEFAULT\s+(?:current_timestamp|now\(\)|current_date)", re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*")


_VIEW_NAME = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)", re.IGNORECASE)


def view_names(sqls) -> set[str]:
    return {name.lower() for sql in sqls for name in _VIEW_NAME.findall(sql)}


def adapt_ddl(sql: str, views: set[str] = frozenset()) -> str:
    """The DuckLake variant of a migration: keys, indexes, clock defaults and comments on view
    columns (which DuckLake cannot store) dropped.

    Uniqueness is kept by the writers instead (anti-join inserts and MERGE, serialised by
    `claim_write_turn`), and timestamps are always written explicitly.
    """
    sql = _LINE_COMMENT.sub("", sql)  # so a comment mentioning PRIMARY KEY is not rewritten
    if views:
        names = "|".join(re.escape(v) for v in sorted(views))
        sql = re.sub(rf"COMMENT\s+ON\s+COLUMN\s+(?:{names})\.\w+\s+IS\s+'(?:[^']|'')*'\s*;", "", sql,
                     flags=re.IGNORECASE)
    sql = _INDEX.sub("", sql)
    sql = _TABLE_KEY.sub("", sql)
    sql = _COLUMN_KEY.sub("", sql)
    return _CLOCK_DEFAULT.sub("", sql)


def claim_write_turn(con: duckdb.DuckDBPyConnection) -> None:
    """Inside a write transaction: touch the one write_turn row.

    DuckLake retries concurrent appends silently, which would let two writers insert the same
    new document. Two transactions deleting from the same data file do conflict, so updating
    this row makes concurrent batch writes conflict; the loser re-runs its batch and its
    anti-join inserts then see the winner's rows.
    """
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'write_turn'"
    ).fetchone()[0]
    if exists:
        con.execute("UPDATE write_turn SET turn = turn + 1, written_at = now()")


def is_write_conflict(exc: BaseException) -> bool:
    message = str(exc).lower()
    return isinstance(exc, duckdb.Error) and (
        "conflict" in message or "database is locked" in message or "failed to commit ducklake" in message
    )
