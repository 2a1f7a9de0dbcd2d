"""The one seam between the pipeline and DuckDB. All SQL lives in this package.

DuckDB lets one process hold a database file read-write, so every operation
here connects, does one short unit of work (a lookup, or one batch in one
transaction) and disconnects. Opening retries the lock error with bounded
backoff, so overlapping runs queue instead of failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import duckdb_ext
import pyarrow as pa

from warehouse import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_MEMORY_LIMIT, RUN_COUNTS, search
from warehouse import lake as lakes
from warehouse.backoff import Backoff
from warehouse import run_owner
from warehouse.probe import insert_new, insert_of_new_docs, probe, probe_table
from warehouse.stories import write_story_rows
from warehouse.writer_lock import writer_lock

_REPLACES_VIEW = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+VIEW", re.IGNORECASE | re.MULTILINE)  # a statement, not a comment
# functions that run SQL text on the catalog's server with the lake's credentials, and those that run SQL
# text this check cannot read (`query('FROM postgres_' || 'query(...)')` ran it)
_PASS_THROUGH = re.compile(r"\b(?:(?:postgres|sqlite|mysql)_(?:query|execute|scan\w*|attach)|query|query_table|"
                           r"json_execute_serialized_sql)\s*\(", re.IGNORECASE)

if TYPE_CHECKING:  # the pipeline's records are handed in; only type checkers read this import
    from tasks.document import Document, Failure


class StoredVersion(NamedTuple):
    """A source's newest stored version, and every doc_id the source has stored."""
    doc_id: str
    version: int
    doc_ids: list[str]
    text_sha256: str | None
    title: str | None
    text_digest: str | None  # SHA-256 of its clean text as stored, to the character (text_sha256 is of its fingerprint)


class NewerWarehouse(RuntimeError):
    """The warehouse was written by a newer newsflow (a schema version this code does not know)."""


class WarehouseLocked(RuntimeError):
    """Another process held the write lock for longer than the configured bound."""


class NotAWarehouse(ValueError):
    """The warehouse path holds a file that is not a DuckDB database."""


class RefusedQuery(ValueError):
    """Analyst SQL refused before the warehouse is opened: it holds no statement, or one that
    would attach a database or load an extension (`Warehouse.query`)."""


# statement kinds an analyst query may not hold: another database, or extension code, in a session
# that reads this warehouse only (DuckDB parses INSTALL as a LOAD statement)
# COPY and EXPORT write files: the DuckDB file's session cannot reach any, but a lake's must read its data
# path, which DuckDB then lets it write as well (a COPY over a data file broke the lake for every reader)
_REFUSED_STATEMENTS = {duckdb.StatementType.ATTACH: "ATTACH", duckdb.StatementType.DETACH: "DETACH",
                       duckdb.StatementType.LOAD: "LOAD/INSTALL", duckdb.StatementType.COPY: "COPY",
                       duckdb.StatementType.EXPORT: "EXPORT"}


def check_analyst_sql(sql: str) -> None:
    """Raise RefusedQuery, with a one-line reason, for SQL that holds no statement (blanks, comments,
    semicolons: DuckDB runs nothing and returns no result) or an ATTACH, DETACH, LOAD, INSTALL, COPY or
    EXPORT statement. SQL DuckDB cannot parse passes: running it reports the syntax error, and DuckDB
    parses every statement before it runs any."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return
    if not statements:
        raise RefusedQuery("the query holds no SQL statement (only blanks, comments or semicolons); "
                           'e.g. "SELECT * FROM run_history"')
    for statement in statements:
        kind = _REFUSED_STATEMENTS.get(statement.type)
        if kind is not None:
            raise RefusedQuery(f"refused, {kind} statements are not run here: queries read this warehouse only, "
                               f"with the extensions it loads itself ({statement.query.strip()[:80]})")


_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file, after the header checksum


def check_database_file(path: Path) -> None:
    """Raise NotAWarehouse, naming the file, when `path` exists but is not a DuckDB database
    (DuckDB's own error would come out of every run as a traceback). A missing file is fine:
    the first run creates it."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return
    except OSError as exc:
        raise NotAWarehouse(f"warehouse {path} cannot be read: {exc.strerror or exc}") from None
    if head[8:12] != _DUCKDB_MAGIC:
        what = "is empty" if not head else "is not a DuckDB database"
        raise NotAWarehouse(f"warehouse file {path} {what}; give the path of the warehouse's .duckdb file "
                            "(ingest creates one at a path where no file is)")


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.interrupt()
    except duckdb.Error:  # finished and closed meanwhile
        pass


def _lock_holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    return f"process {match.group(1)}" if match else "another process"


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for each warehouse/sql/NNN_*.sql, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("sql").iterdir():
        match = re.match(r"(\d+)_(.+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _retry_write_conflicts(method):
    """On DuckLake, re-run a whole write whose commit lost to a concurrent writer (bounded)."""

    @functools.wraps(method)
    def wrapper(self: Warehouse, *args, **kwargs):
        pause = Backoff(self.lock_timeout_s)
        while True:
            try:
                return method(self, *args, **kwargs)
            except duckdb.Error as exc:
                if self.lake is None or not lakes.is_write_conflict(exc) or not pause.wait():
                    raise

    return wrapper


# A run took the file back within milliseconds of each commit, and a reader waiting for it polled every
# 2 s: `newsflow sql` during a scheduled run waited out the whole run (21-58 s measured). A reader kept
# waiting now says so (touches `<warehouse>.reader-waiting`); a run that sees a fresh one leaves the file
# free for READER_WINDOW_S after its commit; and whoever waits tries at least every LOCK_POLL_S (x 0.5-1.5
# jitter): the reader gets in at the next commit, and a batch behind readers that query in a loop gets
# its turn as soon (a 2 s writer backoff made a run 4x slower behind a polling reader).
READER_WINDOW_S = 0.3
READER_WAITING_S = 5.0  # how long a reader's "waiting" stays fresh
LOCK_POLL_S = 0.15


class Warehouse:
    def __init__(self, path: str | Path, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, lake: lakes.LakeConfig | None = None,
                 memory_limit: str = DEFAULT_MEMORY_LIMIT):
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self.lake = lake  # None: the single DuckDB file `path`; else DuckLake storage
        self.memory_limit = memory_limit
        self._session: tuple[int, duckdb.DuckDBPyConnection] | None = None  # (thread id, connection)

    @property
    def name(self) -> str:
        """The warehouse as a run names it (its report, log and runs row): a lake catalog's password redacted."""
        return lakes.redact_catalog(str(self.path))

    # -- connections -------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[None]:
        """Share one read-write connection among this thread's `connect()` calls until exit.

        Opening and closing the file costs tens of milliseconds, and a batch makes a dozen
        lookups and a write; the flow holds a session for the batch, inside the writer lock."""
        if self._session is not None:
            yield
            return
        with self.connect() as con:
            self._session = (threading.get_ident(), con)
            try:
                yield
            finally:
                current, self._session = self._session, None
                if current[1] is not con:  # reopened by release_memory
                    current[1].close()

    def release_memory(self) -> None:
        """Close this thread's session connection and open a fresh one (between transactions only).

        DuckDB gives back its buffer cache and what its queries allocated only when the database
        closes, and a batch's lookups scan tables that grow with the warehouse. The story stage
        calls this (through its index) before and after its postings scan, after its vector fetch
        and before building its matrices; the last alone took the stage's peak at 100k stored
        documents from 685-718 to 627-642 MiB (replayed alone). Reopening costs ~10 ms. Without a
        session (or on a lake) there is nothing held."""
        session = self._session
        if session is None or session[0] != threading.get_ident() or self.lake is not None:
            return
        session[1].close()
        self._session = (session[0], self._open(read_only=False))

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        session = self._session
        if session is not None and session[0] == threading.get_ident():
            yield session[1]
            return
        if self.lake is not None:
            con = lakes.open_lake(self.lake, read_only=read_only)
            try:
                yield con
            finally:
                con.close()
            return
        con = self._open(read_only)
        try:
            yield con
        finally:
            con.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A connection to the DuckDB file, waiting up to lock_timeout_s for another process's lock."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        check_database_file(self.path)
        pause = Backoff(self.lock_timeout_s, cap=LOCK_POLL_S)
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only,
                                      config={"memory_limit": self.memory_limit, **lakes.SESSION_CONFIG})
                con.execute("SET enable_progress_bar = false")  # the CLI draws its own; DuckDB's lands in logs
                duckdb_ext.init(con)  # fts (search_articles) loads from the bundled wheels, offline
                break
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower():
                    raise
                if pause.expired():
                    raise WarehouseLocked(
                        f"warehouse {self.path} is locked by {_lock_holder(message)} "
                        f"for more than {self.lock_timeout_s:.0f}s; try again when it finishes"
                    ) from exc
                if read_only:
                    self._say_reader_waits()
                pause.wait()
        return con

    def _reader_waiting(self) -> Path:
        return self.path.with_name(self.path.name + ".reader-waiting")

    def _say_reader_waits(self) -> None:
        try:
            self._reader_waiting().touch()
        except OSError:  # a folder the reader may not write: it waits as before, for a gap
            pass

    def let_readers_in(self) -> None:
        """Between a run's batches: when a reader has been kept waiting, leave the file free long
        enough for it to open it (see READER_WINDOW_S). A lake has no file lock to share."""
        if self.lake is not None:
            return
        try:
            waited = time.time() - self._reader_waiting().stat().st_mtime
        except OSError:
            return
        if waited < READER_WAITING_S:
            time.sleep(READER_WINDOW_S)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                if self.lake is not None:
                    lakes.claim_write_turn(con)
                yield con
                con.execute("COMMIT")
            except BaseException:
                # a failed COMMIT (Ctrl-C mid-commit) leaves the transaction open on a connection
                # the session keeps: the next BEGIN on it failed ("transaction within a transaction")
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # nothing left open to roll back: the error that brought us here is the news
                raise

    def exclusive_writer(self, wait_s: float | None = None):
        """Held by a run from "what is stored?" to commit (see warehouse/writer_lock.py), queueing
        for `wait_s` (default: the lock timeout).

        DuckLake would take the commits of several writers at once (a lost commit is retried), but
        a batch's duplicate and story decisions are made from lookups before its commit: two
        writers holding copies of one article would each find no canonical copy and both keep
        theirs. So lake writers take turns here too, across machines on a Postgres catalog; their
        reading, cleaning and summarizing outside this section still run at once."""
        wait_s = self.lock_timeout_s if wait_s is None else wait_s
        if self.lake is not None:
            return self.lake.writer_lock(wait_s)
        return writer_lock(self.path, wait_s=wait_s)

    # -- schema --------------------------------------------------------------
    def _ddl(self, sql: str) -> str:
        if self.lake is None:
            return sql
        return lakes.adapt_ddl(sql, lakes.view_names(m[2] for m in migrations()))

    def migrate(self, wait_s: float | None = None) -> int:
        """Create or upgrade the schema; safe to call on every run. Returns the version. It queues
        behind other writers for `wait_s` (a run's NEWSFLOW_WRITER_WAIT_S; default the lock
        timeout), as the run's batches do."""
        # writers starting together on a new lake would each create the tables (DuckLake has no
        # IF NOT EXISTS across uncommitted transactions) and record the versions twice; on a file,
        # a run started while another writes would otherwise race it for DuckDB's file lock
        # between its batches and give up after NEWSFLOW_LOCK_TIMEOUT_S instead of queueing
        with self.exclusive_writer(wait_s):
            return self._migrate()

    @_retry_write_conflicts
    def _migrate(self) -> int:
        with self.transaction() as con:
            con.execute(self._ddl(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
            ))
            # every missing version, not just those above the highest: numbers are reserved per
            # feature and may land out of order
            applied = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
        known = max(m[0] for m in migrations())
        if applied and max(applied) > known:
            # a newer newsflow wrote it: this one's writes could break what that one relies on
            raise NewerWarehouse(f"warehouse {self.path} has schema version {max(applied)}; this newsflow knows "
                                 f"up to {known}: upgrade newsflow to write to it (reading with sql works)")
        # the missing migrations in as few transactions as DuckLake allows: it cannot bind a view that
        # replaces one over tables created or altered earlier in the same transaction (a new lake
        # failed at 17), so such a migration starts a transaction of its own; one per migration cost
        # a new lake 9 s instead of 0.6
        groups: list[list[tuple[int, str, str]]] = []
        for migration in (m for m in migrations() if m[0] not in applied):
            if not groups or _REPLACES_VIEW.search(migration[2]):
                groups.append([])
            groups[-1].append(migration)
        for group in groups:
            with self.transaction() as con:
                # another process opening a new warehouse may have applied some since we looked
                applied |= {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
                for version, name, sql in group:
                    if version not in applied:
                        con.execute(self._ddl(sql))
                        con.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, now())",
                                    [version, name])
                        applied.add(version)
        return max(applied, default=0)

    @contextmanager
    def _search_database(self, *, write: bool) -> Iterator[tuple[duckdb.DuckDBPyConnection, int | None]]:
        """The database that holds the search index, fts loaded, and the stored documents' count
        when they live elsewhere (DuckLake: the index is a separate DuckDB file), else None."""
        if self.lake is None:
            with self.transaction() if write else self.connect(read_only=True) as con:
                search.load(con)
                yield con, None
            return
        with Warehouse(self.lake.search_index, lock_timeout_s=self.lock_timeout_s).connect(read_only=not write) as con:
            search.load(con)
            lakes.attach(con, self.lake, alias="lake_source", read_only=True)
            yield con, search.lake_documents(con, "lake_source")

    def refresh_search_index(self, *, force: bool = False, policy: search.RefreshPolicy = search.EVERY_CHANGE,
                             now: datetime | None = None,
                             before_commit: Callable[[], None] | None = None) -> search.IndexRefresh:
        """Rebuild the full-text index when `policy` says so (default: whenever documents changed
        since it was built), or always with `force`. Says what it did and why."""
        now = now or search.utc_now()
        with self._search_database(write=True) as (con, lake_documents):
            state = search.index_state(con, documents=lake_documents)
            reason = "forced" if force else search.rebuild_reason(state, policy, now)
            if reason is None:
                return search.IndexRefresh(None, state.unindexed)
            if self.lake is None:
                search.build(con, reason, now)
                if before_commit is not None:
                    before_commit()
            else:  # fts cannot index a DuckLake table: build on local copies, in one transaction
                con.execute("BEGIN TRANSACTION")
                search.copy_from_lake(con, "lake_source")
                search.build(con, reason, now)
                if before_commit is not None:
                    before_commit()
                con.execute("COMMIT")
            return search.IndexRefresh(reason)

    def search_index_state(self) -> search.IndexState:
        """How far the index lags the stored documents (read-only)."""
        with self._search_database(write=False) as (con, lake_documents):
            return search.index_state(con, documents=lake_documents)

    def search(self, query: str, *, limit: int = 10, since=None, language: str | None = None
               ) -> tuple[list[str], list[tuple]]:
        """BM25-ranked canonical articles (of `language` only, when given); read-only, waits for a
        running writer like `query`. A non-English `query` is passed analysed (see `warehouse.search`)."""
        if self.lake is None:
            with self.connect(read_only=True) as con:
                return search.search(con, query, limit=limit, since=since, language=language)
        with Warehouse(self.lake.search_index, lock_timeout_s=self.lock_timeout_s).connect(read_only=True) as con:
            return search.search(con, query, limit=limit, since=since, language=language)

    # -- lookups ---------------------------------------------------------------
    def _lookup(self, sql: str, **columns: list) -> list[tuple]:
        """Rows of `sql`, which reads the given value lists as table `probe`; no values, no query."""
        if not next(iter(columns.values())):
            return []
        with self.connect() as con, probe(con, "probe", **columns):
            return con.execute(sql).fetchall()

    def known_doc_ids(self, doc_ids: list[str]) -> set[str]:
        rows = self._lookup("SELECT doc_id FROM documents WHERE doc_id IN (SELECT doc_id FROM probe)", doc_id=doc_ids)
        return {r[0] for r in rows}

    def latest_versions(self, sources: list[str]) -> dict[str, StoredVersion]:
        """source -> its newest stored version and every stored doc_id of the source."""
        rows = self._lookup("SELECT source, arg_max(doc_id, version), max(version), list(doc_id), "
                            "arg_max(text_sha256, version), arg_max(title, version), sha256(arg_max(text, version)) FROM documents "
                            "WHERE source IN (SELECT source FROM probe) GROUP BY source", source=sources)
        return {row[0]: StoredVersion(*row[1:]) for row in rows}

    def newest_bytes(self, sources: list[str]) -> dict[str, tuple[int, str, str]]:
        """source -> (its newest version number, the SHA-256 of that version's bytes, its doc_id)."""
        rows = self._lookup("SELECT source, max(version), arg_max(raw_sha256, version), arg_max(doc_id, version) "
                            "FROM documents WHERE source IN (SELECT source FROM probe) GROUP BY source", source=sources)
        return {source: (version, raw, doc_id) for source, version, raw, doc_id in rows}

    def find_exact(self, text_hashes: list[str]) -> dict[str, str]:
        return dict(self._lookup(
            "SELECT text_sha256, arg_min(doc_id, ingested_at) FROM documents "
            "WHERE is_canonical AND text_sha256 IN (SELECT text_sha256 FROM probe) GROUP BY text_sha256",
            text_sha256=text_hashes))

    def find_band_matches(self, keys: list[tuple[int, int]], per_key: int) -> dict[tuple[int, int], list[str]]:
        """Stored canonical documents per (band, bucket): of a crowded bucket (a lead many texts share) the
        `per_key` smallest doc_ids only, the same ones every run."""
        rows = self._lookup(
            "SELECT b.band, b.bucket, b.doc_id FROM minhash_bands b "
            "JOIN probe k ON b.band = k.band AND b.bucket = k.bucket "
            f"QUALIFY row_number() OVER (PARTITION BY b.band, b.bucket ORDER BY b.doc_id) <= {int(per_key)}",
            band=pa.array([k[0] for k in keys], pa.int16()), bucket=pa.array([k[1] for k in keys], pa.int64()))
        matches: dict[tuple[int, int], list[str]] = {}
        for band, bucket, doc_id in rows:
            matches.setdefault((band, bucket), []).append(doc_id)
        return matches

    def stored_band_ids(self) -> list[int]:
        """The band ids stored documents were indexed with (a handful: one banding per threshold used)."""
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT band FROM minhash_band_ids ORDER BY band").fetchall()]

    def texts(self, doc_ids: list[str]) -> dict[str, str]:
        return dict(self._lookup("SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT doc_id FROM probe)",
                                 doc_id=doc_ids))

    def fetched_since(self, urls: list[str], since: datetime) -> set[str]:
        """The urls whose latest fetch, at or after `since` (naive UTC, as fetch_log keeps it),
        stored or confirmed a document."""
        rows = self._lookup("SELECT url FROM fetch_log WHERE url IN (SELECT url FROM probe) "  # noqa: S608 a datetime
                            f"AND fetched_at >= TIMESTAMP '{since.isoformat(sep=' ')}' "
                            "AND error IS NULL AND doc_id IS NOT NULL", url=urls)
        return {url for (url,) in rows}

    def fetch_state(self, urls: list[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """url -> (etag, last_modified, content_sha256) from the last successful fetch."""
        rows = self._lookup("SELECT url, etag, last_modified, content_sha256 FROM fetch_log "
                            "WHERE url IN (SELECT url FROM probe)", url=urls)
        return {url: (etag, lm, sha) for url, etag, lm, sha in rows}

    # -- runs ------------------------------------------------------------------
    @_retry_write_conflicts
    def start_run(self, run_id: str, flow_run_id: str | None, parameters: dict, wait_s: float | None = None,
                  started_at: datetime | None = None) -> list[tuple[str, str]]:
        """Record a new `running` run owned by this process; first mark this host's dead runs
        abandoned. Queues behind other writers for `wait_s`, as `migrate` does. Returns (flow run
        id, why) of each run it marked abandoned that a Prefect flow run ran: Prefect still shows
        those running, since their process died without telling it. `started_at`: when the run
        began, before it queued for the lock (default: now)."""
        owner = run_owner.current()
        with self.exclusive_writer(wait_s), self.transaction() as con:
            abandoned = self._abandon_dead_runs(con, run_id)
            con.execute(
                "INSERT INTO runs (run_id, flow_run_id, started_at, status, parameters, owner_host, owner_pid, "
                "owner_started_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                [run_id, flow_run_id, started_at or datetime.now(), json.dumps(parameters, default=str, ensure_ascii=False),
                 owner.host, owner.pid, owner.started_at],
            )
        return abandoned

    @staticmethod
    def _abandon_dead_runs(con: duckdb.DuckDBPyConnection, by_run_id: str) -> list[tuple[str, str]]:
        rows = con.execute("SELECT run_id, owner_pid, owner_host, owner_started_at, flow_run_id FROM runs "
                           "WHERE status = 'running' AND owner_host = ?", [run_owner.hostname()]).fetchall()
        abandoned = []
        for run_id, pid, host, started, flow_run_id in rows:
            reason = run_owner.gone_reason(run_owner.Owner(pid, host, started))
            if reason is None:
                continue
            error = f"abandoned: {reason}; noticed by run {by_run_id}"
            # counts: what the dead run committed before it died (its batches are whole or absent)
            con.execute(
                "UPDATE runs SET status = 'abandoned', finished_at = ?, error = ?, "
                "documents_new = (SELECT count(*) FROM documents d WHERE d.run_id = runs.run_id), "
                "duplicates = (SELECT count(*) FROM documents d WHERE d.run_id = runs.run_id AND NOT d.is_canonical), "
                "summaries = (SELECT count(*) FROM summaries s WHERE s.run_id = runs.run_id) "
                "WHERE run_id = ? AND status = 'running'",
                [datetime.now(), error, run_id],
            )
            if flow_run_id:
                abandoned.append((flow_run_id, error))
        return abandoned

    @_retry_write_conflicts
    def finish_run(self, run_id: str, *, status: str, counts: dict | None, timings: dict,
                   error: str | None = None) -> dict[str, int]:
        """Close a run's row; returns the counts it holds. `counts` None keeps the counts its batches
        committed (each batch adds its own in its transaction): a run stopped between a batch's commit
        and the run's tally of it wrote the lagging tally, one batch short of what the warehouse held."""
        counted = counts is not None
        with self.transaction() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, "
                + "".join(f"{c} = ?, " for c in RUN_COUNTS if counted) + "timings = ?, error = ? WHERE run_id = ?",
                [datetime.now(), status, *((counts.get(c, 0) for c in RUN_COUNTS) if counted else ()),
                 json.dumps(timings, ensure_ascii=False), error, run_id],
            )
            row = con.execute(f"SELECT {', '.join(RUN_COUNTS)} FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return {c: v or 0 for c, v in zip(RUN_COUNTS, row)} if row else {}

    # -- the batch write ---------------------------------------------------------
    @_retry_write_conflicts
    def write_batch(
        self,
        run_id: str,
        docs: list[Document],
        failures: list[Failure],
        band_keys: dict[str, list[tuple[int, int]]],
        *,
        summary_length: str,
        raw_pages: list[tuple[str, str, str | None, bytes]] = (),
        fetch_log: list[dict] = (),
        stories=None,  # tasks.dedup.stories.StoryOutcome of this batch
        before_commit: Callable[[], None] | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        """Write one batch in one transaction: all of it lands, or none of it.
        `counts` (the batch's report counts) are added to the run's row in the same transaction, so
        `runs` shows a running or killed run's progress as committed.
        `before_commit` runs with every row inserted and COMMIT not yet sent (the fault seam)."""
        now = datetime.now()
        docs = list({d.doc_id: d for d in docs}.values())  # a batch must not hold a key twice
        doc_rows = pa.Table.from_pylist([_document_row(d, run_id, now) for d in docs], schema=_DOCUMENT_SCHEMA)
        dup_rows = pa.Table.from_pylist(
            [
                {"doc_id": d.doc_id, "duplicate_of": d.duplicate_of, "method": d.duplicate_method,
                 "similarity": float(d.similarity), "run_id": run_id, "detected_at": now}
                for d in docs if d.duplicate_of
            ],
            schema=_DUPLICATE_SCHEMA,
        )
        summary_rows, sentence_rows = [], []
        for d in docs:
            if d.summary is None:
                continue
            summary_rows.append({"doc_id": d.doc_id, "algorithm": d.summary.algorithm, "length": summary_length,
                                 "summary": d.summary.text, "run_id": run_id, "created_at": now,
                                 "language": d.summary.language, "note": d.summary.note})
            sentence_rows.extend(
                {"doc_id": d.doc_id, "algorithm": d.summary.algorithm, "rank": rank, "position": pos, "sentence": s}
                for rank, (pos, s) in enumerate(d.summary.sentences)
            )
        band_rows = pa.Table.from_pylist(
            [{"band": b, "bucket": k, "doc_id": doc_id} for doc_id, keys in band_keys.items() for b, k in keys],
            schema=_BAND_SCHEMA,
        )
        failure_rows = list({(f.source, f.stage, f.reason): f for f in failures}.values())
        with self.transaction() as con:
            known = set()
            if docs:
                # a concurrent run may have stored some of these since we looked: theirs stand
                with probe_table(con, "batch_documents", doc_rows):
                    known = {r[0] for r in con.execute(
                        "SELECT doc_id FROM documents WHERE doc_id IN (SELECT doc_id FROM batch_documents)").fetchall()}
            new_ids = pa.array(sorted({d.doc_id for d in docs} - known), pa.string())
            insert_of_new_docs(con, "documents", doc_rows, ("doc_id",), new_ids)
            insert_of_new_docs(con, "duplicates", dup_rows, ("doc_id",), new_ids)
            insert_of_new_docs(con, "summaries", pa.Table.from_pylist(summary_rows, schema=_SUMMARY_SCHEMA),
                               ("doc_id", "algorithm"), new_ids)
            insert_of_new_docs(con, "summary_sentences",
                               pa.Table.from_pylist(sentence_rows, schema=_SENTENCE_SCHEMA),
                               ("doc_id", "algorithm", "rank"), new_ids)
            insert_of_new_docs(con, "minhash_bands", band_rows, ("doc_id",), new_ids)
            insert_new(con, "minhash_band_ids", band_rows.select(["band"]).group_by("band").aggregate([]), ("band",))
            for f in failure_rows:
                # MERGE rather than ON CONFLICT: DuckLake tables have no keys to conflict on
                con.execute(
                    "MERGE INTO failures t USING (SELECT ? AS source, ? AS stage, ? AS reason, ? AS detail, "
                    "? AS run_id, ? AS at) s ON t.source = s.source AND t.stage = s.stage AND t.reason = s.reason "
                    "WHEN MATCHED THEN UPDATE SET detail = s.detail, last_run_id = s.run_id, "
                    "last_seen_at = s.at, occurrences = t.occurrences + 1 "
                    "WHEN NOT MATCHED THEN INSERT (source, stage, reason, detail, first_run_id, last_run_id, "
                    "first_seen_at, last_seen_at, occurrences) "
                    "VALUES (s.source, s.stage, s.reason, s.detail, s.run_id, s.run_id, s.at, s.at, 1)",
                    [f.source, f.stage, f.reason, f.detail[:2000], run_id, f.at],
                )
            for doc_id, url, content_type, body in raw_pages:
                if doc_id not in known:
                    con.execute("INSERT INTO raw_pages SELECT ?, ?, ?, ? "
                                "WHERE NOT EXISTS (SELECT 1 FROM raw_pages WHERE doc_id = ?)",
                                [doc_id, url, content_type, body, doc_id])
            for entry in fetch_log:
                con.execute(
                    "MERGE INTO fetch_log t USING (SELECT $url AS url, $final_url AS final_url, $status AS status, "
                    "$etag AS etag, $last_modified AS last_modified, $content_sha256 AS content_sha256, "
                    "$doc_id AS doc_id, $error AS error, $fetched_at AS fetched_at, $run_id AS run_id) s "
                    "ON t.url = s.url WHEN MATCHED THEN UPDATE SET final_url = s.final_url, status = s.status, "
                    "etag = coalesce(s.etag, t.etag), last_modified = coalesce(s.last_modified, t.last_modified), "
                    "content_sha256 = coalesce(s.content_sha256, t.content_sha256), "
                    "doc_id = coalesce(s.doc_id, t.doc_id), error = s.error, fetched_at = s.fetched_at, "
                    "run_id = s.run_id "
                    "WHEN NOT MATCHED THEN INSERT (url, final_url, status, etag, last_modified, content_sha256, "
                    "doc_id, error, fetched_at, run_id) VALUES (s.url, s.final_url, s.status, s.etag, "
                    "s.last_modified, s.content_sha256, s.doc_id, s.error, s.fetched_at, s.run_id)",
                    {**entry, "run_id": run_id},
                )
            if stories is not None:
                write_story_rows(con, run_id, stories, new_ids)
            if counts:
                con.execute("UPDATE runs SET " + ", ".join(f"{c} = coalesce({c}, 0) + ?" for c in RUN_COUNTS)
                            + " WHERE run_id = ? AND status = 'running'",
                            [counts.get(c, 0) for c in RUN_COUNTS] + [run_id])
            if before_commit is not None:
                before_commit()

    # -- analyst access ----------------------------------------------------------
    def query(self, sql: str, params: list | None = None, *, timeout_s: float | None = None,
              memory_limit: str | None = None, max_rows: int | None = None,
              json_values: bool = False) -> tuple[list[str], list[tuple]]:
        """Run analyst SQL read-only: the database refuses writes, and file access (COPY TO,
        read_csv, ATTACH) is switched off and locked so a query cannot write elsewhere either.
        SQL with no statement, or with an ATTACH, DETACH, LOAD or INSTALL statement, raises
        RefusedQuery before anything is opened (`check_analyst_sql`).

        `timeout_s` interrupts the query (duckdb.InterruptException), `memory_limit` caps
        DuckDB's memory for it (duckdb.OutOfMemoryException), `max_rows` stops fetching after
        max_rows + 1 rows, so a caller can tell the result was longer. `json_values`: a JSON column's
        values as the lists and objects they hold, not as their text (for JSON output)."""
        check_analyst_sql(sql)  # before the warehouse is opened: a usage error waits for no lock
        if _PASS_THROUGH.search(sql.replace('"', "")):
            # raw SQL sent to the catalog's server with the lake's credentials, outside DuckDB's read-only mode
            raise duckdb.PermissionException("pass-through functions are disabled by configuration here: "
                                             "postgres_query, postgres_execute, sqlite_*, and query(), query_table(), "
                                             "json_execute_serialized_sql(), which run SQL text")
        with self.connect(read_only=True) as con:
            search.load(con)  # search_articles() needs fts, which cannot load once access is locked
            if self.lake is not None:
                con.execute("SET allowed_directories = ?", [[self.lake.data_prefix()]])
            if memory_limit:
                con.execute("SET memory_limit = ?", [memory_limit])
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            timer = threading.Timer(timeout_s, _interrupt, [con]) if timeout_s else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                cursor = con.execute(sql, params or [])
                columns = [c[0] for c in cursor.description] if cursor.description else []
                rows = cursor.fetchall() if max_rows is None else cursor.fetchmany(max_rows + 1)
                decode = [i for i, c in enumerate(cursor.description or []) if str(c[1]) == "JSON"] \
                    if json_values else []
                if decode:
                    rows = [tuple(json.loads(v) if i in decode and isinstance(v, str) else v for i, v in enumerate(row))
                            for row in rows]
                return columns, rows
            finally:
                if timer is not None:
                    timer.cancel()

    def counts(self) -> dict[str, int]:
        tables = ("documents", "duplicates", "summaries", "failures", "runs")
        with self.connect() as con:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608 fixed names


_DOCUMENT_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source", pa.string()), ("source_kind", pa.string()), ("url", pa.string()),
    ("version", pa.int32()), ("previous_doc_id", pa.string()), ("raw_sha256", pa.string()),
    ("text_sha256", pa.string()), ("encoding", pa.string()), ("media_type", pa.string()), ("title", pa.string()),
    ("outlet", pa.string()), ("author", pa.string()), ("title_source", pa.string()), ("author_source", pa.string()),
    ("language", pa.string()), ("published_at", pa.date32()),
    ("published_raw", pa.string()), ("date_convention", pa.string()), ("raw_text", pa.string()),
    ("text", pa.string()), ("removed_lines", pa.string()), ("word_count", pa.int32()),
    ("is_canonical", pa.bool_()), ("run_id", pa.string()), ("ingested_at", pa.timestamp("us")),
    ("language_confidence", pa.float64()), ("language_source", pa.string()), ("search_text", pa.string()),
    ("headline_only", pa.bool_()),
])
_DUPLICATE_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("duplicate_of", pa.string()), ("method", pa.string()), ("similarity", pa.float64()),
    ("run_id", pa.string()), ("detected_at", pa.timestamp("us")),
])
_SUMMARY_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("algorithm", pa.string()), ("length", pa.string()), ("summary", pa.string()),
    ("run_id", pa.string()), ("created_at", pa.timestamp("us")), ("language", pa.string()), ("note", pa.string()),
])
_SENTENCE_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("algorithm", pa.string()), ("rank", pa.int32()), ("position", pa.int32()),
    ("sentence", pa.string()),
])
_BAND_SCHEMA = pa.schema([("band", pa.int16()), ("bucket", pa.int64()), ("doc_id", pa.string())])


def _document_row(d: Document, run_id: str, now: datetime) -> dict:
    return {
        "doc_id": d.doc_id, "source": d.source, "source_kind": d.source_kind, "url": d.url,
        "version": d.meta.get("version", 1), "previous_doc_id": d.meta.get("previous_doc_id"),
        "raw_sha256": d.raw_sha256, "text_sha256": d.text_sha256, "encoding": d.encoding,
        "media_type": d.media_type, "title": d.title, "outlet": d.outlet, "author": d.author,
        "title_source": d.title_source, "author_source": d.author_source,
        "language": d.language, "published_at": d.published_at, "published_raw": d.published_raw,
        "date_convention": d.date_convention, "raw_text": d.raw_text, "text": d.text,
        # characters as themselves, not \u escapes: `removed_lines LIKE '%Veröffentlicht%'` must find them
        "removed_lines": json.dumps([{"line": line, "rule": rule} for line, rule in d.removed_lines],
                                    ensure_ascii=False),
        "word_count": d.word_count if d.word_count is not None else len(d.text.split()), "is_canonical": d.duplicate_of is None, "run_id": run_id,
        "ingested_at": now, "language_confidence": d.language_confidence, "language_source": d.language_source,
        "search_text": d.search_text, "headline_only": d.headline_only,
    }
