"""`newsflow` command line: thin argument parsing over the Prefect flows."""

from __future__ import annotations

import argparse
import base64
import csv
import json
import math
import os
import re
import shlex
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import get_args

from flows.artifacts import EveryItemFailed, failures_by_reason, nothing_ingested
from flows.runners import TaskRunnerKind
from tasks.summarize.registry import ALGORITHMS


def _prefect_defaults() -> None:
    # Offline machines: the server's telemetry would fail noisily without internet.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # The ephemeral server migrates its SQLite database on first start; on a busy or cold
    # machine that exceeds Prefect's 20 s default and the run fails before it begins.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # A Prefect server on SQLite answers 503 when two requests' writes collide ("database is
    # locked", raised at once, not after a busy wait); many runs starting together hit it on
    # flow-run creation. The client retries 503s, by default 5 times (2 + 4 + ... + 32 s, jitter
    # +-20 %), so runs refused together retry together and some ran out of tries. 8 retries with
    # wider jitter wait at most ~8.5 minutes before the run fails with the 503.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "8")
    os.environ.setdefault("PREFECT_CLIENT_RETRY_JITTER_FACTOR", "0.5")


def _temporary_server_in_its_own_session(*, schedules: bool = False) -> None:
    """Ctrl-C signals the terminal's whole foreground process group, Prefect's temporary server
    too: it died at once, and the interrupted run then retried the dead API for its report and
    its final state for 20 minutes and more (a second Ctrl-C did not help). Started in a session
    of its own, the server outlives the interrupt until the run has recorded it, and stops when
    this process exits (Prefect stops it at exit). Prefect starts it with `subprocess.Popen` in
    one module: that module alone gets a Popen that opens a new session.

    `schedules`: Prefect marks its temporary server ephemeral, which runs none of its scheduling
    services, so `newsflow serve` on one registered its schedule and never ran it (5 minutes at a
    1-minute interval: no run). Serve's temporary server runs them, as `prefect server start` does."""
    if os.environ.get("PREFECT_API_URL"):
        return  # a real server: nothing of ours to keep alive
    import subprocess
    import types

    from prefect.server.api import server as prefect_server

    if getattr(prefect_server.subprocess, "own_session", False):
        return

    class OwnSessionPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("start_new_session", True)
            if schedules and kwargs.get("env"):
                kwargs["env"] = {k: v for k, v in kwargs["env"].items() if k != "PREFECT__SERVER_EPHEMERAL"}
            super().__init__(*args, **kwargs)
            _stop_with_this_process(self.pid)

    prefect_server.subprocess = types.SimpleNamespace(**{**vars(subprocess), "Popen": OwnSessionPopen,
                                                         "own_session": True})


# Leaves its parent at once (forks and exits: it is no child of newsflow, which `serve` would wait for
# on Ctrl-C as a flow run), waits for end of file on its standard input, then stops the process group
# named in argv[1].
_REAPER = ("import os, signal, sys\nif os.fork():\n    os._exit(0)\nsys.stdin.buffer.read()\ntry:\n"
           "    os.killpg(int(sys.argv[1]), signal.SIGTERM)\nexcept (ProcessLookupError, PermissionError):\n    pass\n")


def _stop_with_this_process(server_pid: int) -> None:
    """A server in a session of its own outlives a SIGKILLed or OOM-killed newsflow (no exit handler
    runs): it was left running, orphaned. A tiny watcher holds the read end of a pipe only this process
    can write to; the kernel closes it when this process ends, however it ends, and the watcher then
    stops the server's session. (A parent-death signal would follow the thread that started the
    server, which Prefect may end long before the run.) At a normal exit Prefect has stopped the
    server already and the watcher finds nothing to stop."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()  # not inheritable: only this process holds the write end
    try:
        subprocess.Popen([sys.executable, "-c", _REAPER, str(server_pid)], stdin=read_end,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True).wait()
    finally:
        os.close(read_end)
    _REAPER_PIPES.append(write_end)  # kept open for the life of this process


_REAPER_PIPES: list[int] = []


def _exit_cleanly_on_sigterm() -> None:
    """`kill`, `timeout` and service managers stop a run with SIGTERM. Prefect's flow engine turns it
    into the run's end (its runs row says `terminated (SIGTERM)`), then sends it again to the process:
    with the default action the process died on the spot, its exit handlers never ran, and Prefect's
    temporary server (in a session of its own) lived on, orphaned. Exiting here (code 143, as a shell
    reports SIGTERM) runs them."""
    import signal

    def exit_143(signum, frame):
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, exit_143)
    except ValueError:  # not the main thread (an embedding caller): its signals are its own
        pass


def _language_tag(value: str) -> str:
    """A tag some language has, as given (the run reads it): "klingon" was refused by the flow's
    parameter pattern, in regex ("String should match pattern '^[A-Za-z]{2,3}…'")."""
    from flows.settings import LANGUAGE_PATTERN
    from tasks.text.language import not_a_language, run_language

    try:
        run_language(value)
        if not re.match(LANGUAGE_PATTERN, value):  # what the flow's parameter takes ("de_DE.UTF-8" is $LANG's)
            raise not_a_language(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return number


class _Parser(argparse.ArgumentParser):
    """An option argparse itself refuses (a choice it lacks, two exclusive flags, a number that is none)
    is one line too, as the flow's own checks are: argparse printed its usage block first, 11 lines."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (--help lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    from flows.settings import Settings

    def default(name: str):  # the help says the setting's own default, not a copy of it
        return Settings.model_fields[name].default

    parser = _Parser(prog="newsflow", description="News ingestion and summarization into DuckDB")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="ingest files and folders into the warehouse", epilog=(
        "Exit codes: 0 the run completed (items that failed are failure rows, not errors), 1 the run "
        "failed (one line says why), 2 a bad flag, setting or path, refused before anything ran, 4 the run "
        "completed but every item it saw failed (a dead feed, a wrong folder: each is a failure row), 130 "
        "interrupted (Ctrl-C): committed batches stay."))
    ingest.add_argument("paths", nargs="*", help="files, folders or glob patterns")
    ingest.add_argument("--url", action="append", default=[], dest="urls", metavar="URL",
                        help="article URL to fetch (repeatable)")
    ingest.add_argument("--feed", action="append", default=[], dest="feeds", metavar="URL",
                        help="RSS/Atom feed or sitemap URL whose articles are fetched (repeatable)")
    ingest.add_argument("--url-file", help="text file of article URLs, one (or several, space-separated) a line; "
                        "# starts a comment")
    ingest.add_argument("--warehouse", help="DuckDB file (default: warehouse/newsflow.duckdb or NEWSFLOW_WAREHOUSE)")
    length = ingest.add_mutually_exclusive_group()
    length.add_argument("--sentences", type=int, help=f"summary length in sentences (default: NEWSFLOW_SUMMARY_SENTENCES, {default('summary_sentences')})")
    length.add_argument("--ratio", type=float, help="summary length as a fraction of the document")
    length.add_argument("--words", type=int, help="summary length as a word budget")
    ingest.add_argument("--algorithm", choices=ALGORITHMS,
                        help=f"summarizer (default: NEWSFLOW_SUMMARY_ALGORITHM, {default('summary_algorithm')})")
    ingest.add_argument("--near-dup-threshold", type=float,
                        help="word-shingle Jaccard for near-duplicates (default: NEWSFLOW_NEAR_DUP_THRESHOLD, "
                             f"{default('near_dup_threshold')})")
    ingest.add_argument("--batch-size", type=int, default=None,
                        help=f"files or URLs per batch (default: NEWSFLOW_BATCH_SIZE, {default('batch_size')})")
    ingest.add_argument("--language", type=_language_tag, help="ISO 639-1 code all documents are in, e.g. de "
                        "(default: NEWSFLOW_LANGUAGE, else detected per document)")
    ingest.add_argument("--json", action="store_true", help="print the run report as JSON")
    ingest.add_argument("--task-runner", choices=get_args(TaskRunnerKind), default=None,
                        help="thread (default: CPU stages on a local process pool) or dask (prefect-dask)")
    ingest.add_argument("--dask-address", help="existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(default: a LocalCluster)")
    ingest.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress on stderr: a bar on a terminal, a line every 10 s otherwise (default on)")

    config = sub.add_parser("config", help="print the effective settings and where each value came from")
    config.add_argument("--json", action="store_true", help="as JSON")

    export = sub.add_parser("export", help="write the tables to Parquet, partitioned by ingest date", epilog=(
        "Exit codes: 0 exported, 1 the export failed (a folder it cannot write, a DuckDB error), 2 no warehouse "
        "or a bad option, 3 warehouse locked by a run beyond NEWSFLOW_LOCK_TIMEOUT_S. A failed export leaves "
        "no folder it created behind."))
    export.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")
    export.add_argument("--out", help="folder to write (default: export/ next to the warehouse file)")

    serve = sub.add_parser("serve", help="serve the scheduled ingest deployment; also runs UI-triggered runs")
    serve.add_argument("--limit", type=_positive_int, default=None,
                       help="most flow runs this process executes at once (writes queue per warehouse anyway)")

    search = sub.add_parser("search", help="full-text search (BM25) over canonical articles", epilog=(
        "Exit codes: 0 searched (no match too: it says so), 2 no warehouse or search index, or a bad option "
        "(an unknown --language code), 3 warehouse locked by a run beyond NEWSFLOW_LOCK_TIMEOUT_S."))
    search.add_argument("query", help="words to look for; stemmed, English stop words ignored")
    search.add_argument("--limit", type=_positive_int, default=10)
    search.add_argument("--language", help="ISO 639-1 code: read the query in this language (its stemmer, "
                        "stop words, word cutting) and find only articles in it")
    search.add_argument("--since", type=date.fromisoformat, help="only articles published on/after YYYY-MM-DD")
    search.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    reindex = sub.add_parser("reindex", help="rebuild the full-text search index now (runs rebuild it "
                             "under the NEWSFLOW_SEARCH__* policy)")
    reindex.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    stories = sub.add_parser(
        "stories", help="list same-story clusters (size, outlets, dates, the terms that tie them), or why one "
        "document joined its story",
        description="Without --doc: stories of at least --min-articles canonical articles, biggest and latest "
        "first: articles (canonical) and documents (copies included), outlets, first and last publication day "
        "(ingest day when none is dated), title (the headline of the article that started it) and the tying "
        "terms (shared by two or more of its articles, heaviest first, shown as the articles write them; "
        "csv and json add the stored stems). With --doc: how that "
        "document joined its story (score, closest member, when) and the terms it shares with the story's "
        "other articles. "
        "Exit codes: 0 shown, 1 no such document (or it failed; the reason is named), 2 no warehouse or bad "
        "option, 3 warehouse locked by a run.")
    stories.add_argument("--doc", help="explain one document: its doc_id or source (path as given to "
                         "ingest, relative or absolute, or URL as typed at ingest: it is normalised and redacted "
                         "as ingest stores it; a file name alone when one stored or failed source ends with it)")
    stories.add_argument("--limit", type=_positive_int, default=20, help="most stories listed (default 20)")
    stories.add_argument("--min-articles", type=_positive_int, default=2,
                         help="smallest story listed, in canonical articles (default 2; 1 lists articles alone)")
    stories.add_argument("--format", choices=["text", "table", "csv", "json"], default="text",
                         help="text (default: one block per story, wrapped to the terminal), table, csv, json")
    stories.add_argument("--json", dest="format", action="store_const", const="json",
                         help="the same as --format json (as ingest --json and config --json)")
    stories.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    sql = sub.add_parser("sql", help="run a read-only SQL query against the warehouse", epilog=(
        "Exit codes: 0 answered, 1 the query failed or hit NEWSFLOW_SQL__TIMEOUT_S or __MEMORY_LIMIT, 2 no "
        "warehouse, a bad option, a query with no statement, or a refused one (writes, COPY TO, file access, "
        "ATTACH/DETACH, LOAD/INSTALL), 3 warehouse locked by a run beyond NEWSFLOW_LOCK_TIMEOUT_S."))
    sql.add_argument("query", help='e.g. "SELECT * FROM run_history" or "FROM search_articles(\'flood\')"')
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table", help=(
        "table (default): NULL shows as NULL, an empty string as blank, a cell of more than 60 characters is cut "
        "(a line says so); the last line counts the rows, or says they were cut at NEWSFLOW_SQL__MAX_ROWS. csv: NULL is an empty cell. json: an array of objects, "
        "one key per column: a name the result repeats gets _2, _3... (doc_id, doc_id_2); NaN and infinities "
        "are null. Lists and structs are JSON (text in a csv or table cell), BLOBs base64"))
    sql.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")
    return parser


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.ingest import ingest
    from flows.parameters import check_run
    from flows import progress
    from flows.runners import make_task_runner
    from newsflow.progress import ProgressReporter

    settings = _settings()
    if settings is None:
        return 2
    parameters = dict(paths=args.paths, urls=args.urls, feeds=args.feeds, url_file=args.url_file,
                      warehouse=args.warehouse, algorithm=args.algorithm, summary_sentences=args.sentences,
                      summary_ratio=args.ratio, summary_words=args.words,
                      near_dup_threshold=args.near_dup_threshold, batch_size=args.batch_size,
                      language=args.language)
    try:  # the flow's own rules, before Prefect's server starts: a typo costs no 15 s
        check_run(ingest, settings, parameters)
        _warehouse_file(settings, args.warehouse)
    except ValueError as exc:
        print(f"newsflow ingest: {exc}", file=sys.stderr)
        return 2
    runner = make_task_runner(args.task_runner or settings.task_runner, args.dask_address or settings.dask_address)
    _temporary_server_in_its_own_session()
    _exit_cleanly_on_sigterm()
    try:
        with progress.reporting(ProgressReporter() if args.progress else None):
            report = ingest.with_options(task_runner=runner)(**parameters)
    except EveryItemFailed as failed:  # the flow run is Failed for Prefect; here it is exit 4 with its report
        report = failed.report
    except KeyboardInterrupt:
        print("\nnewsflow ingest: interrupted; batches it committed stay stored and the next run completes the "
              "work (its runs row says what it committed)", file=sys.stderr)
        return 130  # as a shell reports a command ended by SIGINT
    except Exception as exc:  # noqa: BLE001 - Prefect has logged the traceback; the user gets one line
        print(f"newsflow ingest: the run failed: {type(exc).__name__}: {exc}\n"
              "  batches it committed stay stored and the next run completes the work; its ingest-report artifact "
              "(and its runs row, if it got that far) says what it did", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    else:
        print_report(report)
    return ALL_FAILED if nothing_ingested(report) else 0


ALL_FAILED = 4  # the run completed, yet every item failed: cron and CI should hear of it


def _settings():
    """The settings, once, at the edge; a bad NEWSFLOW_* value is a one-line error (None)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from flows.settings import get_settings, settings_error, unknown_variables

    for name, nearest in unknown_variables():
        hint = f"; did you mean {nearest}?" if nearest else ""
        print(f"newsflow: warning: {name} is not a newsflow setting and is ignored{hint}", file=sys.stderr)
    try:
        return get_settings()
    except (ValidationError, SettingsError) as exc:
        print(f"newsflow: bad setting: {settings_error(exc)}", file=sys.stderr)
        return None


def cmd_config(args: argparse.Namespace) -> int:
    from flows.settings import describe

    settings = _settings()
    if settings is None:
        return 2
    rows = describe(settings)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print_rows(["setting", "value", "source", "variable"],
               [(r["setting"], json.dumps(r["value"], default=str) if not isinstance(r["value"], str) else r["value"],
                 r["source"] + (f" ({r['note']})" if r.get("note") else ""), r["variable"]) for r in rows], width=80)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    import duckdb

    from warehouse.export import export_parquet
    from warehouse.store import WarehouseLocked

    settings = _settings()
    if settings is None:
        return 2
    store = _store(args, settings)
    if _no_warehouse(store, "export"):
        return 2
    out = Path(args.out) if args.out else (store.path.parent / "export" if store.lake is None else Path("export"))
    new_folders = [f for f in (out, *out.parents) if not f.exists()]  # deepest first; those the export makes
    try:
        tables = export_parquet(store, out)
    except (OSError, WarehouseLocked, duckdb.Error, ValueError) as exc:
        for folder in new_folders:  # a failed export leaves no empty folder of its own behind
            try:
                folder.rmdir()
            except OSError:  # not empty (written meanwhile), or gone: left as it is
                break
        if isinstance(exc, OSError):  # a read-only or full export folder
            print(f"newsflow export: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"newsflow export: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 1
    for t in tables:
        print(f"  {t.table:<20} {t.rows:>9} rows  {t.files:>4} files{'  by ingest_date' if t.partitioned else ''}")
    print(f"exported {len(tables)} tables to {out.resolve()} (views.sql recreates the warehouse's tables and views)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deploy import AlreadyServed, BadInbox, serve_ingest

    settings = _settings()  # checked as every command checks them, before anything is served
    if settings is None:
        return 2
    _temporary_server_in_its_own_session(schedules=True)
    try:
        serve_ingest(settings, limit=args.limit)  # makes the inbox before it serves anything
    except BadInbox as exc:
        print(f"newsflow: bad setting: {exc}", file=sys.stderr)
        return 2
    except AlreadyServed as exc:
        print(f"newsflow serve: {exc}", file=sys.stderr)
        return 2
    return leave_past_stuck_threads(0)


def leave_past_stuck_threads(code: int, grace_s: float = 2.0) -> int:
    """`code`, once the exit handlers have run and this process's threads have ended; if one has not
    within `grace_s`, the process leaves at once with `code`. A second Ctrl-C just as a served run ended
    could leave a non-daemon AnyIO worker thread of Prefect's waiting on a queue its stopped event loop
    never feeds, and Python waits for such threads at exit: `serve` hung for good, deaf to Ctrl-C (an
    operator's audit: 2 of 5 double Ctrl-Cs; only SIGTERM ended it). The exit handlers run first, as at
    any exit: Prefect stops its temporary server in one."""
    import atexit
    import threading
    import time

    atexit._run_exitfuncs()
    deadline = time.monotonic() + grace_s
    others = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _store(args: argparse.Namespace, settings):
    from flows.storage import open_warehouse

    return open_warehouse(settings, args.warehouse)


def _no_warehouse(store, command: str) -> bool:
    """True, after one line saying so, when the DuckDB file to read does not exist (DuckDB's own
    "IO Error: Cannot open database ... in read-only mode" names neither the cause nor the fix)."""
    if store.lake is None and not store.path.exists():
        print(f"newsflow {command}: no warehouse at {store.path}; run `newsflow ingest` first "
              "(or give --warehouse FILE / NEWSFLOW_WAREHOUSE)", file=sys.stderr)
        return True
    from pathlib import Path

    catalog = store.lake.catalog if store.lake is not None else ""
    if catalog.startswith("sqlite:") and not Path(catalog.removeprefix("sqlite:")).exists():
        print(f"newsflow {command}: no lake yet: its catalog {catalog.removeprefix('sqlite:')} does not exist; "
              "the first `newsflow ingest` creates it", file=sys.stderr)
        return True
    return False


def _warehouse_file(settings, warehouse: str | None) -> None:
    """Raise NotAWarehouse (a ValueError naming the file) if the DuckDB file to write is something else."""
    from pathlib import Path

    from flows.storage import open_warehouse
    from warehouse.store import check_database_file

    store = open_warehouse(settings, Path(warehouse).expanduser() if warehouse else None)
    if store.lake is None:
        check_database_file(store.path)


NULL_CELL = "NULL"  # a table's NULL: distinct from the empty string, which is blank


def _plain(value):
    """`value` as JSON holds it: NaN and infinities as null (JSON has neither), bytes as base64,
    lists, arrays and structs (maps too, keys as text) as JSON arrays and objects, dates, times,
    decimals and UUIDs as their text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    return str(value)


def _key(key) -> str:
    """A map's key as a JSON object's: text as it is, anything else as its JSON (1, null, [1, 2])."""
    key = _plain(key)
    return key if isinstance(key, str) else json.dumps(key, ensure_ascii=False)


def _json_text(value) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, allow_nan=False)


def _cell_text(value) -> str | None:
    """One csv or table cell: None for NULL; booleans as SQL and JSON write them (true, false);
    bytes as base64; lists and structs as JSON text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _plain(value)
    if isinstance(value, (list, tuple, dict)):
        return _json_text(value)
    return str(value)


def json_keys(columns: list[str]) -> list[str]:
    """Column names as JSON object keys, each once: a repeated name (`select d.doc_id, s.doc_id`)
    gets _2, _3 … (doc_id, doc_id_2), skipping names the result already has."""
    names, taken, keys = set(columns), set(), []
    for name in columns:
        key, n = name, 1
        while key in taken or (n > 1 and key in names):
            n += 1
            key = f"{name}_{n}"
        taken.add(key)
        keys.append(key)
    return keys


def print_rows(columns: list[str], rows: list[tuple], fmt: str = "table", width: int = 60, *,
               joined_lists: bool = False, footer: str | None = None) -> None:
    """`rows` as a table, csv or json on stdout. csv: NULL empty, bytes base64, lists and structs
    JSON text (`joined_lists`: a list as "a; b", as `stories` documents); table: NULL as NULL, and
    its last line `footer` (e.g. that the rows were cut), else the row count."""
    if fmt == "json":
        keys = json_keys(columns)
        print(json.dumps([{k: _plain(v) for k, v in zip(keys, row)} for row in rows], indent=2,
                         ensure_ascii=False, allow_nan=False))  # 東京, not escapes
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([tuple(_cell_text(v) for v in row) for row in (_csv_lists(rows) if joined_lists else rows)])
    else:
        # widths in terminal cells, not code points: a CJK character takes two
        from rich.cells import cell_len, set_cell_size

        cells = [[NULL_CELL if v is None else _cell_text(v).replace("\n", " ") for v in row] for row in rows]
        cut = any(cell_len(v) > width for row in cells for v in row)
        cells = [[v if cell_len(v) <= width else set_cell_size(v, width - 1).rstrip() + "…" for v in row]
                 for row in cells]
        widths = [max([cell_len(c)] + [cell_len(row[i]) for row in cells]) for i, c in enumerate(columns)]

        def line(values) -> str:
            return "  ".join(v + " " * (w - cell_len(v)) for v, w in zip(values, widths)).rstrip()

        print(line(columns))
        print("  ".join("-" * w for w in widths))
        for row in cells:
            print(line(row))
        print(footer or f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
        if cut:  # a summary read as 60 characters and "…" looked like the stored summary
            print(f"(cells longer than {width} characters end in …: --format csv or json prints them whole)")


def cmd_search(args: argparse.Namespace) -> int:
    import duckdb

    from tasks.text.language import run_language
    from tasks.text.tokens import search_query
    from warehouse.store import WarehouseLocked

    try:  # as a run's --language: a code of an ISO 639 language, not just two letters ('xx')
        language = run_language(args.language)
    except ValueError as exc:
        print(f"newsflow search: --language {exc}", file=sys.stderr)
        return 2
    settings = _settings()
    if settings is None:
        return 2
    try:
        store = _store(args, settings)
        if _no_warehouse(store, "search"):
            return 2
        state = store.search_index_state()
        if state.indexed is None:
            print(f"newsflow search: no search index over the {_plural(state.documents, 'stored document')} yet "
                  "(a run stopped before building it, or it was built before schema version 11 gave it "
                  "languages); `newsflow reindex` builds it now" if state.documents else
                  "newsflow search: nothing stored yet; run `newsflow ingest` first", file=sys.stderr)
            return 2
        columns, rows = store.search(search_query(args.query, language), limit=args.limit, since=args.since,
                                     language=language)
        lag = state.unindexed  # read once, before the search
    except (WarehouseLocked, duckdb.Error) as exc:
        hint = "; run `newsflow ingest` first" if isinstance(exc, duckdb.CatalogException) else ""
        print(f"newsflow search: {exc}{hint}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 2
    for rank, (title, outlet, published, score, summary, _doc_id) in enumerate(rows, start=1):
        print(f"{rank:>2}. {title or '(no headline)'}")
        print(f"    {outlet or '(unknown outlet)'} · {published or 'undated'} · score {score:.3f}")
        if summary:
            print(f"    {summary}")
    if not rows:
        print("no matching articles")
    if lag:
        print(f"note: {_plural(lag, 'document')} stored since the index was built {'is' if lag == 1 else 'are'} "
              "not searched yet; `newsflow reindex` rebuilds it now", file=sys.stderr)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.store import WarehouseLocked

    settings = _settings()
    if settings is None:
        return 2
    try:
        store = _store(args, settings)
        if _no_warehouse(store, "reindex"):
            return 2
        refresh = store.refresh_search_index(force=True)
        state = store.search_index_state()
    except (WarehouseLocked, duckdb.Error) as exc:
        print(f"newsflow reindex: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 1
    print(f"search index rebuilt: {state.indexed} documents")
    return 0 if refresh.rebuilt else 1


def _doc_keys(doc: str, secret_params: list[str]) -> list[str]:
    """The spellings `--doc` may be stored under: as given (a doc_id, a URL, a stored source); a URL
    as ingest stores it, normalised (no fragment or tracking parameters, scheme and host lower-cased:
    `article_url`) with credentials and secret query values redacted, and redacted alone (stored
    before ingest normalised); a path absolute, as ingest stores it (a record keeps its #<n> or
    #L<n> suffix)."""
    from pathlib import Path

    from tasks.sources.url_safety import redact_url

    keys = [doc]
    if "://" in doc:
        from tasks.sources.web import stored_url

        return list(dict.fromkeys([doc, stored_url(doc, secret_params), redact_url(doc, secret_params)]))
    path, hash_, record = doc.partition("#")
    for spelled in (Path(path).expanduser().absolute(), Path(path).expanduser().resolve()):
        key = str(spelled) + hash_ + record
        if key not in keys:
            keys.append(key)
    return keys


# a line may break between any two of these (Chinese, Japanese and Korean write without spaces), and
# each takes two columns of a terminal
_WIDE_CHAR = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
_WRAP_TOKEN = re.compile(rf"\s+|{_WIDE_CHAR.pattern}|(?:(?!{_WIDE_CHAR.pattern})\S)+")


def _wrap(label: str, text: str, width: int, indent: int = 2, hang: int | None = None) -> str:
    """`label` then `text`, wrapped to `width` terminal columns under a hanging indent (`hang`
    columns, else the label's); ids and paths are not broken, a run of CJK text is, between any two
    characters (textwrap counted a CJK character as one column and never broke a spaceless title)."""
    from rich.cells import cell_len

    head = " " * indent + (f"{label:<10} " if label else "")
    rest = " " * (len(head) if hang is None else hang)
    width = max(width, len(rest) + 20)
    lines, line, used, fresh, space = [], head, len(head), True, False
    for token in _WRAP_TOKEN.findall(text):
        if token.isspace():
            space = True
            continue
        gap = " " if space and not fresh else ""
        cells = cell_len(token)
        if not fresh and used + len(gap) + cells > width:
            lines.append(line)
            line, used, gap = rest, len(rest), ""
        line, used, fresh, space = line + gap + token, used + len(gap) + cells, False, False
    return "\n".join([*lines, line]).rstrip()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _named(title: str | None, opening: str | None) -> str:
    """A document's headline; for one without (a one-line text dump), "(no headline)" and its opening words."""
    return title or (f"(no headline) {opening}…" if opening else "(untitled)")


def _print_story_list(columns: list[str], rows: list[tuple], width: int) -> None:
    for rank, values in enumerate(rows, start=1):
        row = dict(zip(columns, values))
        first, last = row["first_day"], row["last_day"]
        span = str(first) if first == last else f"{first} to {last}"
        if not row["dated"]:  # no member carries a publication date: the days are ingest days
            span = f"ingested {span}"
        copies = row["documents"] - row["articles"]
        size = _plural(row["articles"], "article") + (f" (+{copies} {'copy' if copies == 1 else 'copies'})"
                                                      if copies else "")
        outlets = row["outlets"] or []
        title = _named(row["title"], row["opening"])
        print(_wrap("", f"{rank:>2}. {title}", width, indent=0, hang=4))
        # files carry no outlet unless their text names one: "0 outlets" read as if nobody covered it
        covered = _plural(len(outlets), "outlet") if outlets else "outlet unknown"
        print(_wrap("", f"{size} · {covered} · {span}", width, indent=4))
        if outlets:
            print(_wrap("outlets", ", ".join(outlets), width, indent=4))
        if row["tying_words"]:
            print(_wrap("terms", ", ".join(row["tying_words"]), width, indent=4))
        print(_wrap("story id", row["story_id"], width, indent=4))


def _print_explanation(row: dict, threshold: float | None, width: int) -> None:
    print(_wrap("", _named(row["title"], row["opening"]), width, indent=0))
    about = " · ".join(str(x) for x in (row["outlet"] or "(unknown outlet)", row["published_at"] or "undated"))
    print(_wrap("document", f"{row['doc_id']} · {about}", width))
    print(_wrap("source", row["source"], width))
    if row["headline_only"]:
        print(_wrap("note", "headline only: the page was an access wall (paywall, log-in or cookie prompt), so "
                    "its headline is all it is matched on", width))
    size = _plural(row["story_articles"], "article")
    if row["story_documents"] != row["story_articles"]:
        size += f", {_plural(row['story_documents'], 'document')} counting copies and earlier versions"
    print(_wrap("story", f"{_named(row['story_title'], row['story_opening'])} [{row['story_id']}] · {size}", width))
    when = f"{row['assigned_at']:%Y-%m-%d %H:%M}" if row["assigned_at"] else "?"
    matched = f"{_named(row['matched_title'], row['matched_opening'])} [{row['matched_doc_id']}]"
    if row.get("matched_own_version"):
        matched += ", this article's earlier version (an edited article stays with its story)"
    if row["method"] == "seed":
        if row["story_articles"] > 1:
            joined = (f"started the story ({when}): the story is named after it; "
                      "the other articles joined it")
        else:
            joined = (f"alone in its own story ({when}): no story took it. Joining needs, among the rules in "
                      "docs/design.md, a link and a story score at the story threshold (NEWSFLOW_STORY__THRESHOLD) "
                      "with dates within the story window (__WINDOW_DAYS), scores fading with the days between "
                      "articles; a story a later run forms may still take it")
    elif row["method"] == "duplicate":
        kind = row["duplicate_method"] or "a"
        joined = (f"{kind} copy (similarity {row['similarity']:.3f}) of {matched}; a copy follows its "
                  "original's story")
    else:
        rule = f" (the story threshold is now {threshold:g})" if threshold is not None else ""
        joined = (f"similar ({when}): story score {row['similarity']:.3f} when it joined{rule}, the cosine with "
                  "the story's centroid less half its largest single-term part, faded with the days between its "
                  f"date and the story's; closest member then: {matched}")
        if row["joined_later"]:
            joined += (f". Stored on {row['stored_at']:%Y-%m-%d %H:%M}, it joined this story when a later run "
                       "formed it, as one run with those articles would have placed it: ")
            left = row["moved_from_story_id"]
            if left == row["doc_id"]:
                joined += f"it was alone until then (its one-article story [{left}] is deleted)"
            elif left is not None:
                left_name = _named(row["moved_from_title"], row["moved_from_opening"])
                joined += f"it left {left_name} [{left}], a story it was tied to less closely than to {matched}"
            else:  # moved before schema 16 recorded the story it left
                joined += (f"it was alone until then (its one-article story [{row['doc_id']}] is deleted) or in a "
                           "story it was tied to less closely")
    print(_wrap("joined", joined, width))
    terms = ", ".join(row["shared_words"] or []) or "(none: no other article in the story)"
    if row["method"] == "duplicate" and row["shared_words"]:
        terms += " (its original's terms: a copy has no vector of its own)"
    print(_wrap("shared", terms, width))


def _with_words(columns: list[str], rows: list[tuple], terms_column: str,
                texts_of: Callable[[dict], list[tuple[str, str | None]]]) -> tuple[list[str], list[tuple]]:
    """A column of readable words beside a column of story terms (stems, numbers as "#1200"): the
    terms as the story's articles write them (`texts_of(row)`), e.g. "evacuated" for "evacu"."""
    from tasks.dedup.terms import surface_words

    at = columns.index(terms_column) + 1
    words_column = terms_column.replace("_terms", "_words")
    out = []
    for values in rows:
        row = dict(zip(columns, values))
        words = surface_words(texts_of(row), row[terms_column]) if row[terms_column] else []
        out.append((*values[:at], words, *values[at:]))
    return [*columns[:at], words_column, *columns[at:]], out


def _csv_lists(rows: list[tuple]) -> list[tuple]:
    """Lists as one cell each, "a; b", not Python's repr."""
    return [tuple("; ".join(map(str, v)) if isinstance(v, list) else v for v in row) for row in rows]


def cmd_stories(args: argparse.Namespace) -> int:
    import shutil

    import duckdb

    from functools import partial

    from tasks.dedup.terms import heaviest_terms
    from warehouse.stories import (
        document_text, explain_document, list_stories, sources_ending, story_texts, storyless,
    )
    from warehouse.store import WarehouseLocked

    settings = _settings()
    if settings is None:
        return 2
    rank_terms = partial(heaviest_terms, prior_docs=settings.story.prior_docs)
    try:
        store = _store(args, settings)
        if _no_warehouse(store, "stories"):
            return 2
        doc, named = (args.doc or "").strip(), []  # a doc_id pasted from csv output keeps its \r
        keys = _doc_keys(doc, settings.fetch.redact_query_params) if doc else []
        if doc:
            columns, rows = explain_document(store, keys, rank_terms)
            other = None if rows else storyless(store, keys)
            named = [] if rows or other or "://" in doc else sources_ending(store, doc.removeprefix("./"))
            if len(named) == 1:  # a file name, or a path typed from another folder
                doc_id, source = named[0]
                columns, rows = explain_document(store, [doc_id], rank_terms) if doc_id else (columns, [])
                other = None if rows else storyless(store, [doc_id or source])
        else:
            columns, rows = list_stories(store, limit=args.limit + 1, min_articles=args.min_articles,
                                          rank_terms=rank_terms)
        if rows and doc:  # the document's own text (a copy: its original's, whose terms it shows) first
            columns, rows = _with_words(columns, rows, "shared_terms", lambda row: [
                *document_text(store, row["matched_doc_id"] if row["method"] == "duplicate" else row["doc_id"]),
                *story_texts(store, [row["story_id"]]).get(row["story_id"], [])])
        elif rows:
            texts = story_texts(store, [r[columns.index("story_id")] for r in rows])
            columns, rows = _with_words(columns, rows, "tying_terms", lambda row: texts.get(row["story_id"], []))
    except (WarehouseLocked, duckdb.Error) as exc:
        hint = ("; run `newsflow ingest` first" if isinstance(exc, duckdb.CatalogException)
                else "; the warehouse's schema is older than this newsflow: the next `newsflow ingest` upgrades it"
                if isinstance(exc, duckdb.BinderException) else "")
        print(f"newsflow stories: {exc}{hint}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 2
    width = shutil.get_terminal_size((100, 24)).columns
    if doc and not rows:
        if other and other[0] == "failed":
            source, stage, reason, detail, _seen = other[1][0]
            print(f"newsflow stories: {source} was not stored: it failed at {stage} ({reason}: {detail}); "
                  "see the failures table", file=sys.stderr)
        elif len(named) > 1:
            listed = "\n".join(f"  {doc_id or '(failed)':<32}  {source}" for doc_id, source in named[:5])
            more = " (and more)" if len(named) > 5 else ""
            which = "stored sources" if all(doc_id for doc_id, _ in named) else "stored or failed sources"
            print(f"newsflow stories: {doc!r} names several {which}{more}; give one's doc_id or "
                  f"full path:\n{listed}", file=sys.stderr)
        elif other:
            doc_id, title = other[1][0]
            print(f"newsflow stories: {title or '(untitled)'} [{doc_id}] is stored but has no story (it, or "
                  "the original it copies, was stored before stories existed)", file=sys.stderr)
        else:
            print(f"newsflow stories: no stored document or failed source is {doc!r} (give a doc_id, "
                  "or the path or URL it was ingested from)", file=sys.stderr)
        return 1
    if doc:
        if args.format == "text":
            _print_explanation(dict(zip(columns, rows[0])), settings.story.threshold, width)
        else:
            print_rows(columns, rows, args.format, joined_lists=True)
        return 0
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    if args.format != "text":
        print_rows(columns, rows, args.format, joined_lists=True)
    elif rows:
        _print_story_list(columns, rows, width)
    else:
        alone = " (--min-articles 1 lists articles alone in their story)" if args.min_articles > 1 else ""
        print(f"no stories of {_plural(args.min_articles, 'article')} or more{alone}")
    if more:
        print(f"newsflow stories: showing the first {args.limit}; --limit N shows more", file=sys.stderr)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.store import RefusedQuery, WarehouseLocked

    settings = _settings()
    if settings is None:
        return 2
    limits = settings.sql
    store = _store(args, settings)
    if _no_warehouse(store, "sql"):
        return 2
    try:
        columns, rows = store.query(args.query, timeout_s=limits.timeout_s, memory_limit=limits.memory_limit,
                                    max_rows=limits.max_rows, json_values=args.format == "json")
    except WarehouseLocked as exc:
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 3
    except RefusedQuery as exc:  # no statement, or ATTACH/DETACH/LOAD/INSTALL: a usage error
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 2
    except duckdb.InterruptException:
        print(f"newsflow sql: stopped after {limits.timeout_s:g} s, the time limit (NEWSFLOW_SQL__TIMEOUT_S); "
              "narrow the query or raise the limit", file=sys.stderr)
        return 1
    except duckdb.OutOfMemoryException:
        print(f"newsflow sql: stopped, the query needs more memory than {limits.memory_limit} "
              "(NEWSFLOW_SQL__MEMORY_LIMIT); narrow the query or raise the limit", file=sys.stderr)
        return 1
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        if "disabled by configuration" in str(exc):  # read_csv('/etc/passwd'), query(): not a data change
            print(f"newsflow sql: refused, queries here read the warehouse's tables only "
                  f"({str(exc).splitlines()[0]})", file=sys.stderr)
            return 2
        if "read-only" in str(exc) or "locked" in str(exc):
            print(f"newsflow sql: refused, queries here are read-only ({exc}). "
                  "Data changes go through `newsflow ingest`.", file=sys.stderr)
            return 2
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        if "creating a new DuckLake is explicitly disabled" in str(exc):  # a Postgres catalog not made yet
            print(f"newsflow sql: no lake yet in its catalog ({exc}); the first `newsflow ingest` creates it",
                  file=sys.stderr)
            return 2
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 1
    more = len(rows) > limits.max_rows
    print_rows(columns, rows[: limits.max_rows], args.format,
               footer=f"(the first {limits.max_rows} rows; the query returned more: NEWSFLOW_SQL__MAX_ROWS)"
               if more else None)
    if more:
        print(f"newsflow sql: showing the first {limits.max_rows} rows (NEWSFLOW_SQL__MAX_ROWS); "
              "`newsflow export` writes whole tables", file=sys.stderr)
    return 0


FAILURES_LISTED = 20


def print_report(report: dict) -> None:
    print(f"\nnewsflow run {report['run_id']} -> {report['warehouse']}")
    print(f"  items seen     {report['items_seen']}")
    print(f"  new documents  {report['documents_new']} ({report['duplicates']} duplicates)")
    print(f"  unchanged      {report['unchanged']}")
    print(f"  summaries      {report['summaries']}")
    print(f"  failed         {report['failures']}")
    failed = report["failed_items"]
    if len(failed) > FAILURES_LISTED:
        print("    by reason: " + failures_by_reason(failed))
    for failure in failed[:FAILURES_LISTED]:
        print(f"    - {failure['source']}: {failure['stage']}/{failure['reason']} {failure['detail']}")
    if len(failed) > FAILURES_LISTED:
        # the run's DuckDB file, which the settings may not name (a lake's catalog is not a file: settings name it)
        where = f" --warehouse {shlex.quote(report['warehouse'])}" if Path(report["warehouse"]).is_file() else ""
        print(f"    … and {len(failed) - FAILURES_LISTED} more: newsflow sql{where} \"SELECT source, stage, reason, "
              f"detail FROM failures WHERE last_run_id = '{report['run_id']}'\"")
    if nothing_ingested(report):
        print("  every item failed: nothing was stored or found unchanged (exit code 4)")
    print(f"  search index   {report['search_index']}")
    timings = ", ".join(f"{k} {v:.2f}s" for k, v in report["timings"].items())
    print(f"  time per stage {timings}")


def main(argv: list[str] | None = None) -> int:
    _prefect_defaults()
    args = build_parser().parse_args(argv)
    handlers = {"ingest": cmd_ingest, "serve": cmd_serve, "search": cmd_search, "sql": cmd_sql, "stories": cmd_stories,
                "export": cmd_export, "reindex": cmd_reindex, "config": cmd_config}
    from warehouse.store import NotAWarehouse

    try:
        code = handlers[args.command](args)
        sys.stdout.flush()  # here, not at exit, so a reader that left is caught below
        return code
    except NotAWarehouse as exc:
        print(f"newsflow {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `newsflow stories --format csv | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
