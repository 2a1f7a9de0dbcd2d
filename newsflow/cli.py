"""`newsflow` command line: thin argument parsing over the Prefect flows."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _prefect_defaults() -> None:
    # Offline machines: the server's telemetry would fail noisily without internet.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


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
    length.add_argument("--sentences", type=int, default=3, help="summary length in sentences (default 3)")
    length.add_argument("--ratio", type=float, help="summary length as a fraction of the document")
    length.add_argument("--words", type=int, help="summary length as a word budget")
    ingest.add_argument("--algorithm", default="newsflow",
                        choices=["newsflow", "lead", "lexrank", "textrank", "lsa", "luhn", "kl", "sumbasic"])
    ingest.add_argument("--near-dup-threshold", type=float, default=0.8)
    ingest.add_argument("--batch-size", type=int, default=200)
    ingest.add_argument("--json", action="store_true", help="print the run report as JSON")

    serve = sub.add_parser("serve", help="serve the scheduled ingest deployment; also runs UI-triggered runs")
    serve.add_argument("--limit", type=int, default=None,
                       help="most flow runs this process executes at once (writes queue per warehouse anyway)")
    return parser


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.ingest import ingest

    report = ingest(
        paths=args.paths, urls=args.urls, feeds=args.feeds, url_file=args.url_file, warehouse=args.warehouse, algorithm=args.algorithm,
        summary_sentences=args.sentences, summary_ratio=args.ratio, summary_words=args.words,
        near_dup_threshold=args.near_dup_threshold, batch_size=args.batch_size,
    )
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deploy import serve_ingest

    serve_ingest(limit=args.limit)
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
    timings = ", ".join(f"{k} {v:.2f}s" for k, v in report["timings"].items())
    print(f"  time per stage {timings}")


def main(argv: list[str] | None = None) -> int:
    _prefect_defaults()
    args = build_parser().parse_args(argv)
    handlers = {"ingest": cmd_ingest, "serve": cmd_serve}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
