"""`newsflow` command line: thin argument parsing over the Prefect flows."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import date

from tasks.summarize.algorithms import ALGORITHMS


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description="News ingestion and summarization into DuckDB")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="ingest files and folders into the warehouse")
    ingest.add_argument("paths", nargs="*", help="files, folders or glob patterns")
    ingest.add_argument("--url", action="append", default=[], dest="urls", metavar="URL",
                        help="article URL to fetch (repeatable)")
    ingest.add_argument("--feed", action="append", default=[], dest="feeds", metavar="URL",
                        help="RSS/Atom feed or sitemap URL whose articles are fetched (repeatable)")
    ingest.add_argument("--url-file", help="file with one article URL per line")
    ingest.add_argument("--warehouse", help="DuckDB file (default: warehouse/newsflow.duckdb or NEWSFLOW_WAREHOUSE)")
    length = ingest.add_mutually_exclusive_group()
    length.add_argument("--sentences", type=int, help="summary length in sentences (default: NEWSFLOW_SUMMARY_SENTENCES, 3)")
    length.add_argument("--ratio", type=float, help="summary length as a fraction of the document")
    length.add_argument("--words", type=int, help="summary length as a word budget")
    ingest.add_argument("--algorithm", choices=ALGORITHMS,
                        help="summarizer (default: NEWSFLOW_SUMMARY_ALGORITHM, newsflow)")
    ingest.add_argument("--near-dup-threshold", type=float,
                        help="word-shingle Jaccard for near-duplicates (default: NEWSFLOW_NEAR_DUP_THRESHOLD, 0.8)")
    ingest.add_argument("--batch-size", type=int, default=None,
                        help="files or URLs per batch (default: NEWSFLOW_BATCH_SIZE, 1000)")
    ingest.add_argument("--language", help="ISO 639-1 code all documents are in, e.g. de "
                        "(default: NEWSFLOW_LANGUAGE, else detected per document)")
    ingest.add_argument("--json", action="store_true", help="print the run report as JSON")
    ingest.add_argument("--task-runner", choices=["thread", "dask"], default=None,
                        help="thread (default: CPU stages on a local process pool) or dask (prefect-dask)")
    ingest.add_argument("--dask-address", help="existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(default: a LocalCluster)")
    ingest.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress on stderr: a bar on a terminal, a line every 10 s otherwise (default on)")

    config = sub.add_parser("config", help="print the effective settings and where each value came from")
    config.add_argument("--json", action="store_true", help="as JSON")

    export = sub.add_parser("export", help="write the tables to Parquet, partitioned by ingest date")
    export.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")
    export.add_argument("--out", help="folder to write (default: export/ next to the warehouse file)")

    serve = sub.add_parser("serve", help="serve the scheduled ingest deployment; also runs UI-triggered runs")
    serve.add_argument("--limit", type=int, default=None,
                       help="most flow runs this process executes at once (writes queue per warehouse anyway)")

    search = sub.add_parser("search", help="full-text search (BM25) over canonical articles")
    search.add_argument("query", help="words to look for; stemmed, English stop words ignored")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--language", help="ISO 639-1 code: read the query in this language (its stemmer, "
                        "stop words, word cutting) and find only articles in it")
    search.add_argument("--since", type=date.fromisoformat, help="only articles published on/after YYYY-MM-DD")
    search.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    reindex = sub.add_parser("reindex", help="rebuild the full-text search index now (runs rebuild it "
                             "under the NEWSFLOW_SEARCH__* policy)")
    reindex.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    stories = sub.add_parser("stories", help="list same-story clusters (size, outlets, dates, the terms that tie "
                             "them), or why one document joined its story")
    stories.add_argument("--doc", help="explain one document: its doc_id or source (path or URL)")
    stories.add_argument("--limit", type=int, default=20)
    stories.add_argument("--min-articles", type=int, default=2, help="smallest story listed (canonical articles)")
    stories.add_argument("--format", choices=["table", "csv", "json"], default="table")
    stories.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")

    sql = sub.add_parser("sql", help="run a read-only SQL query against the warehouse")
    sql.add_argument("query", help='e.g. "SELECT * FROM run_history" or "FROM search_articles(\'flood\')"')
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--warehouse", help="DuckDB file (default: the configured storage)")
    return parser


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.ingest import ingest
    from flows.parameters import check_run
    from flows.runners import make_task_runner
    from newsflow import progress

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
    with progress.reporting(progress.ProgressReporter() if args.progress else None):
        report = ingest.with_options(task_runner=runner)(**parameters)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
    return 0


def _settings():
    """The settings, once, at the edge; a bad NEWSFLOW_* value is a one-line error (None)."""
    from pydantic import ValidationError

    from newsflow.settings import get_settings, unknown_variables

    for name, nearest in unknown_variables():
        hint = f"; did you mean {nearest}?" if nearest else ""
        print(f"newsflow: warning: {name} is not a newsflow setting and is ignored{hint}", file=sys.stderr)
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"NEWSFLOW_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                             for e in exc.errors())
        print(f"newsflow: bad setting: {problems}", file=sys.stderr)
        return None


def cmd_config(args: argparse.Namespace) -> int:
    from newsflow.settings import describe

    settings = _settings()
    if settings is None:
        return 2
    rows = describe(settings)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print_rows(["setting", "value", "source", "variable"],
               [(r["setting"], json.dumps(r["value"], default=str) if not isinstance(r["value"], str) else r["value"],
                 r["source"], r["variable"]) for r in rows], width=80)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    import duckdb

    from warehouse.export import export_parquet
    from warehouse.store import WarehouseLocked

    store = _store(args)
    if store.lake is None and not store.path.exists():
        print(f"newsflow export: no warehouse at {store.path}; run `newsflow ingest` first", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (store.path.parent / "export" if store.lake is None else Path("export"))
    try:
        tables = export_parquet(store, out)
    except (WarehouseLocked, duckdb.Error, ValueError) as exc:
        print(f"newsflow export: {exc}", file=sys.stderr)
        return 1
    for t in tables:
        print(f"  {t.table:<20} {t.rows:>9} rows  {t.files:>4} files{'  by ingest_date' if t.partitioned else ''}")
    print(f"exported {len(tables)} tables to {out.resolve()} (views.sql recreates the warehouse's tables and views)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deploy import serve_ingest

    serve_ingest(limit=args.limit)
    return 0


def _store(args: argparse.Namespace):
    from newsflow.settings import get_settings
    from warehouse.store import Warehouse

    return Warehouse.from_settings(get_settings(), args.warehouse)


def _warehouse_file(settings, warehouse: str | None) -> None:
    """Raise NotAWarehouse (a ValueError naming the file) if the DuckDB file to write is something else."""
    from pathlib import Path

    from warehouse.store import Warehouse, check_database_file

    store = Warehouse.from_settings(settings, Path(warehouse).expanduser() if warehouse else None)
    if store.lake is None:
        check_database_file(store.path)


def print_rows(columns: list[str], rows: list[tuple], fmt: str = "table", width: int = 60) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(columns, row)) for row in rows], indent=2, default=str))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        cells = [[("" if v is None else str(v)).replace("\n", " ") for v in row] for row in rows]
        cells = [[v if len(v) <= width else v[: width - 1] + "…" for v in row] for row in cells]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for row in cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def cmd_search(args: argparse.Namespace) -> int:
    import duckdb

    from tasks.text.language import normalise
    from tasks.text.tokens import search_query
    from warehouse.store import WarehouseLocked

    language = normalise(args.language)
    if args.language and language is None:
        print(f"newsflow search: --language {args.language!r} is not a language code (e.g. de, fr, ja)",
              file=sys.stderr)
        return 2
    try:
        store = _store(args)
        if language and store.search_index_state().indexed is None:
            print("newsflow search: no search index with languages yet (indexes built before schema version 11 "
                  "have none); `newsflow reindex` builds it", file=sys.stderr)
            return 2
        columns, rows = store.search(search_query(args.query, language), limit=args.limit, since=args.since,
                                     language=language)
        lag = store.search_index_state().unindexed
    except (WarehouseLocked, duckdb.Error) as exc:
        hint = "; run `newsflow ingest` first" if isinstance(exc, duckdb.CatalogException) else ""
        print(f"newsflow search: {exc}{hint}", file=sys.stderr)
        return 2
    for rank, (title, outlet, published, score, summary, _doc_id) in enumerate(rows, start=1):
        print(f"{rank:>2}. {title or '(untitled)'}")
        print(f"    {outlet or '(unknown outlet)'} · {published or 'undated'} · score {score:.3f}")
        if summary:
            print(f"    {summary}")
    if not rows:
        print("no matching articles")
    if lag:
        print(f"note: {lag} documents stored since the index was built are not searched yet; "
              "`newsflow reindex` rebuilds it now", file=sys.stderr)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.store import WarehouseLocked

    try:
        store = _store(args)
        refresh = store.refresh_search_index(force=True)
        state = store.search_index_state()
    except (WarehouseLocked, duckdb.Error) as exc:
        print(f"newsflow reindex: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 1
    print(f"search index rebuilt: {state.indexed} documents")
    return 0 if refresh.rebuilt else 1


def cmd_stories(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.stories import explain_document, list_stories
    from warehouse.store import WarehouseLocked

    try:
        store = _store(args)
        if args.doc:
            columns, rows = explain_document(store, args.doc)
        else:
            columns, rows = list_stories(store, limit=args.limit, min_articles=args.min_articles)
    except (WarehouseLocked, duckdb.Error) as exc:
        hint = "; run `newsflow ingest` first" if isinstance(exc, duckdb.CatalogException) else ""
        print(f"newsflow stories: {exc}{hint}", file=sys.stderr)
        return 3 if isinstance(exc, WarehouseLocked) else 2
    if args.doc and not rows:
        print(f"newsflow stories: no document {args.doc!r} with a story", file=sys.stderr)
        return 1
    if args.format != "table" or not args.doc:
        print_rows(columns, rows, args.format)
        return 0
    row = dict(zip(columns, rows[0]))
    print(f"{row['title'] or '(untitled)'}  [{row['doc_id']}]")
    print(f"  story      {row['story_title'] or '(untitled)'}  [{row['story_id']}], {row['story_documents']} documents")
    if row["method"] == "seed":
        print("  joined     started the story (nothing stored was close enough)")
    else:
        what = ("story score (centroid cosine less half its largest term)" if row["method"] == "similar"
                else "duplicate similarity")
        print(f"  joined     {row['method']}: {what} {row['similarity']:.3f}; closest "
              f"{row['matched_title'] or '(untitled)'} [{row['matched_doc_id']}]")
    print(f"  shared     {', '.join(row['shared_terms'] or []) or '(no stored terms shared)'}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.store import WarehouseLocked

    settings = _settings()
    if settings is None:
        return 2
    limits = settings.sql
    try:
        columns, rows = _store(args).query(args.query, timeout_s=limits.timeout_s, memory_limit=limits.memory_limit,
                                           max_rows=limits.max_rows)
    except WarehouseLocked as exc:
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 3
    except duckdb.InterruptException:
        print(f"newsflow sql: stopped after {limits.timeout_s:g} s, the time limit (NEWSFLOW_SQL__TIMEOUT_S); "
              "narrow the query or raise the limit", file=sys.stderr)
        return 1
    except duckdb.OutOfMemoryException:
        print(f"newsflow sql: stopped, the query needs more memory than {limits.memory_limit} "
              "(NEWSFLOW_SQL__MEMORY_LIMIT); narrow the query or raise the limit", file=sys.stderr)
        return 1
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        if "read-only" in str(exc) or "disabled by configuration" in str(exc) or "locked" in str(exc):
            print(f"newsflow sql: refused, queries here are read-only ({exc}). "
                  "Data changes go through `newsflow ingest`.", file=sys.stderr)
            return 2
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"newsflow sql: {exc}", file=sys.stderr)
        return 1
    more = len(rows) > limits.max_rows
    print_rows(columns, rows[: limits.max_rows], args.format)
    if more:
        print(f"newsflow sql: showing the first {limits.max_rows} rows (NEWSFLOW_SQL__MAX_ROWS); "
              "`newsflow export` writes whole tables", file=sys.stderr)
    return 0


def print_report(report: dict) -> None:
    print(f"\nnewsflow run {report['run_id']} -> {report['warehouse']}")
    print(f"  items seen     {report['items_seen']}")
    print(f"  new documents  {report['documents_new']} ({report['duplicates']} duplicates)")
    print(f"  unchanged      {report['unchanged']}")
    print(f"  summaries      {report['summaries']}")
    print(f"  failed         {report['failures']}")
    for failure in report["failed_items"][:20]:
        print(f"    - {failure['source']}: {failure['stage']}/{failure['reason']} {failure['detail']}")
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
        return handlers[args.command](args)
    except NotAWarehouse as exc:
        print(f"newsflow {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
