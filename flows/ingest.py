"""The ingest flow: sources → read → clean → deduplicate → summarize → store.

Work moves in batches (one task run per stage per batch, not per document);
each batch is written to DuckDB in one transaction, so a run killed half-way
leaves whole batches behind and the next run picks up the rest. Batches
overlap: while one is deduplicated and stored, the process pool summarizes it
and then cleans the next.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
# quote(): Prefect otherwise walks every document of a batch argument looking for futures
from prefect.utilities.annotations import quote
from pydantic import Field

from flows.artifacts import MAX_ARTICLE_ROWS, RunProgress, article_rows, publish_run_artifacts
from newsflow.settings import get_settings
from tasks.dedup.duplicates import DedupConfig
from tasks.document import Document, Failure
from tasks.sources.files import discover_paths
from tasks.parallel import default_workers, release_freed_memory, shutdown_pool
from tasks.stages import Derive, SummaryLength, attach_summaries, clean_task, dedup_task, discover_feeds_task, fetch_task, read_task, summarize_task
from tasks.stages import story_task
from tasks.dedup.story_index import WarehouseStoryIndex
from tasks.sources.web import WebBatch, read_url_file
from warehouse.store import Warehouse

Algorithm = Literal["newsflow", "lead", "lexrank", "textrank", "lsa", "luhn", "kl", "sumbasic"]


def chunked(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def file_batches(files: list[Path], max_files: int, max_bytes: int) -> Iterator[list[Path]]:
    """Batches of at most `max_files` files and, unless one file alone is bigger, `max_bytes` bytes:
    a batch is held in memory whole, so a folder of large files makes smaller batches."""
    batch: list[Path] = []
    size = 0
    for path in files:
        try:
            nbytes = path.stat().st_size
        except OSError:
            nbytes = 0  # the reader reports it
        if batch and (len(batch) >= max_files or size + nbytes > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += nbytes
    if batch:
        yield batch


TaskRunnerKind = Literal["thread", "dask"]


def make_task_runner(kind: TaskRunnerKind = "thread", dask_address: str | None = None, dask_workers: int = 2):
    """The flow's task runner: threads in this process (default; CPU stages use a process pool),
    or Dask via prefect-dask: an existing scheduler at `dask_address`, else a LocalCluster."""
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner()


def _on_dask() -> bool:
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return bool(ctx and type(ctx.task_runner).__name__ == "DaskTaskRunner")


def check_parameters(summary_sentences: int, summary_ratio: float | None, summary_words: int | None,
                     warehouse: str | None) -> None:
    """Reject what the UI form cannot: contradictory summary lengths, a warehouse path that is a folder."""
    given = [name for name, value in (("summary_sentences", summary_sentences if summary_sentences != 3 else None),
                                      ("summary_ratio", summary_ratio), ("summary_words", summary_words))
             if value is not None]
    if len(given) > 1:
        raise ValueError(f"contradictory summary length: {' and '.join(given)} are both set; "
                         "give one of summary_sentences, summary_ratio or summary_words")
    if warehouse and Path(warehouse).expanduser().is_dir():
        raise ValueError(f"warehouse {warehouse!r} is a folder; give a DuckDB file path such as {warehouse}/news.duckdb")


def drop_stored(store: Warehouse, docs: list[Document]) -> tuple[list[Document], int]:
    """Drop documents already stored (same source, same bytes); returns the rest and how many went."""
    known = store.known_doc_ids([d.doc_id for d in docs])
    fresh = [d for d in docs if d.doc_id not in known]
    return fresh, len(docs) - len(fresh)


def number_versions(store: Warehouse, docs: list[Document]) -> None:
    """A document from a source stored before is that source's next version."""
    latest = store.latest_versions(sorted({d.source for d in docs}))
    for doc in docs:
        if doc.source in latest:
            previous_id, version = latest[doc.source]
            doc.meta["version"] = version + 1
            doc.meta["previous_doc_id"] = previous_id


def assign_versions(store: Warehouse, docs: list[Document]) -> tuple[list[Document], int]:
    """Drop documents already stored; number new versions of changed sources."""
    fresh, unchanged = drop_stored(store, docs)
    number_versions(store, fresh)
    return fresh, unchanged


@dataclass
class PendingBatch:
    """A batch on its way in: read, already-stored documents skipped, cleaning submitted."""

    label: str
    cleaning: PrefectFuture  # -> (cleaned documents, failures)
    failures: list[Failure]
    unchanged: int
    items_seen: int
    web: WebBatch | None = None


@task(name="store", task_run_name="store {label}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def store_task(store: Warehouse, run_id: str, docs: list[Document], failures: list[Failure],
               band_keys: dict, summary_length: str, label: str, web: WebBatch | None = None, stories=None) -> None:
    store.write_batch(run_id, docs, failures, band_keys, summary_length=summary_length, stories=stories,
                      raw_pages=web.raw_pages if web else (), fetch_log=web.fetch_log if web else ())


@flow(name="ingest", log_prints=False)
def ingest(
    paths: list[str] = [],  # noqa: B006 - Prefect copies parameter defaults
    urls: list[str] = [],  # noqa: B006
    feeds: list[str] = [],  # noqa: B006
    url_file: str | None = None,
    warehouse: str | None = None,
    algorithm: Algorithm = "newsflow",
    summary_sentences: Annotated[int, Field(ge=1, le=50)] = 3,
    summary_ratio: Annotated[float | None, Field(gt=0, le=1)] = None,
    summary_words: Annotated[int | None, Field(ge=5, le=2000)] = None,
    near_dup_threshold: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8,
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 1000,
) -> dict:
    """Ingest article files and web pages into the DuckDB warehouse.

    Args:
        paths: Files, folders (read recursively) or glob patterns to ingest (.txt, .md, .html, .json, .jsonl).
        urls: Article URLs to fetch (http/https).
        feeds: RSS/Atom feed or XML sitemap URLs; the article URLs they list are fetched.
        url_file: A text file with one article URL per line (# comments allowed).
        warehouse: DuckDB file to write; empty means the configured default (warehouse/newsflow.duckdb).
        algorithm: Summarizer; "newsflow" is the tuned default, the others are sumy's and a lead baseline.
        summary_sentences: Summary length in sentences (used unless a ratio or word budget is given).
        summary_ratio: Summary length as a fraction of the document's sentences, e.g. 0.2.
        summary_words: Summary length as a word budget, e.g. 60.
        near_dup_threshold: Word-shingle Jaccard similarity at or above which two texts are near-duplicates.
        batch_size: Files (or URLs) per batch; each batch is one task run per stage and one warehouse transaction. File batches also stop at NEWSFLOW_BATCH_MAX_BYTES of input.
    """
    # before any work: a bad form in the UI fails here, not half-way through a run
    check_parameters(summary_sentences, summary_ratio, summary_words, warehouse)
    logger = get_run_logger()
    settings = get_settings()
    store = Warehouse.from_settings(settings, Path(warehouse) if warehouse else None)
    length = SummaryLength(sentences=summary_sentences, ratio=summary_ratio, words=summary_words)
    dedup_config = DedupConfig(threshold=near_dup_threshold, num_perm=settings.minhash_permutations,
                               shingle_words=settings.shingle_words)
    derive = Derive(shingle_words=dedup_config.shingle_words)  # the shingles dedup will look up
    run_id = flow_run.id or str(uuid.uuid4())
    # On Dask the cluster provides the parallelism; elsewhere CPU stages use a local process pool.
    on_dask = _on_dask()
    workers = 1 if on_dask else (settings.workers or default_workers())
    # prefect-dask hands a quote()d argument to the task still wrapped, so only quote locally
    submit_arg = (lambda value: value) if on_dask else quote
    parameters = {
        "paths": paths, "urls": urls, "feeds": feeds, "url_file": url_file, "warehouse": str(store.path), "algorithm": algorithm, "summary": length.label(),
        "near_dup_threshold": near_dup_threshold, "batch_size": batch_size,
    }
    store.migrate()
    store.start_run(run_id, flow_run.id, parameters)
    counts = dict.fromkeys(("items_seen", "documents_new", "unchanged", "duplicates", "summaries", "failures"), 0)
    timings = dict.fromkeys(("read", "clean", "dedup", "summarize", "store"), 0.0)
    failure_log: list[dict] = []
    new_articles: list[dict] = []
    articles_total = 0

    def timed(stage: str, fn, *args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[stage] += time.perf_counter() - start

    def start(docs: list[Document], failures: list[Failure], label: str, web: WebBatch | None = None) -> PendingBatch:
        """Skip what is stored and submit the cleaning; `finish` waits for it under the writer lock."""
        seen = len(docs) + len(failures) + (web.unchanged if web else 0)
        with store.session():  # inside a batch's session (prefetch) this shares its connection
            docs, unchanged = timed("read", drop_stored, store, docs)
        cleaning = clean_task.submit(submit_arg(docs), label, workers, derive)
        return PendingBatch(label, cleaning, failures, unchanged + (web.unchanged if web else 0), seen, web)

    def finish(batch: PendingBatch, start_next=None) -> PendingBatch | None:
        """dedup → stories → store of a cleaned batch, summaries computed alongside; `start_next`
        reads the next batch and queues its cleaning behind these summaries, so the pool cleans it
        while this thread stores. Returns what `start_next` started."""
        nonlocal articles_total
        counts["items_seen"] += batch.items_seen
        label, web = batch.label, batch.web
        following = None
        # One writer per warehouse: from "what is stored?" to commit, so an overlapping run
        # (schedule + UI) queues here and then sees this batch, instead of counting it new too.
        with store.exclusive_writer(settings.writer_wait_s), store.session():
            docs, failures = timed("clean", batch.cleaning.result).take()
            failures = batch.failures + failures
            # asked again under the lock: another run may have stored some since `start` looked
            docs, unchanged = timed("read", assign_versions, store, docs)
            unchanged += batch.unchanged
            counts["unchanged"] += unchanged
            # Summarize on the process pool while this thread deduplicates and clusters: the two
            # overlap instead of leaving a core idle. Duplicates found meanwhile get no summary.
            summarizing = summarize_task.submit(submit_arg(docs), algorithm, length, label, workers)
            if start_next is not None:
                following = start_next()
            outcome = timed("dedup", dedup_task, quote(docs), store, dedup_config, label).take()
            stories = timed("dedup", story_task, quote(docs), WarehouseStoryIndex(store), label).take()
            summaries, failed = timed("summarize", summarizing.result).take()
            attach_summaries(docs, summaries)
            failures += failed
            timed("store", store_task, store, run_id, quote(docs), quote(failures), quote(outcome.band_keys), length.label(),
                  label, quote(web), quote(stories))
        rows = article_rows(docs)
        articles_total += len(rows)
        new_articles.extend(rows[: MAX_ARTICLE_ROWS - len(new_articles)])
        counts["documents_new"] += len(docs)
        counts["duplicates"] += sum(1 for d in docs if d.duplicate_of)
        counts["summaries"] += sum(1 for d in docs if d.summary is not None)
        counts["failures"] += len(failures)
        failure_log.extend({"source": f.source, "stage": f.stage, "reason": f.reason, "detail": f.detail}
                           for f in failures)
        logger.info("%s: %d new, %d unchanged, %d failed", label, len(docs), unchanged, len(failures))
        release_freed_memory()  # a long run's memory stays flat instead of creeping up batch by batch
        return following

    try:
        files, missing = discover_paths(paths)
        batches = list(file_batches(files, batch_size, settings.batch_max_bytes))
        logger.info("ingesting %d files in %d batches into %s", len(files), len(batches), store.path)
        progress = RunProgress(len(batches))
        if missing and not batches:
            finish(start([], missing, "missing paths"))

        def read_batch(number: int) -> PendingBatch:
            batch = batches[number - 1]
            label = f"files batch {number}/{len(batches)} ({len(batch)} files)"
            docs, failures = timed("read", read_task, quote(batch), settings.max_file_bytes, label).take()
            return start(docs, (missing if number == 1 else []) + failures, label)

        pending = read_batch(1) if batches else None
        for number in range(1, len(batches) + 1):
            label = pending.label
            pending = finish(pending, (lambda n=number + 1: read_batch(n)) if number < len(batches) else None)
            progress.advance(label)

        article_urls = list(urls) + (read_url_file(url_file) if url_file else [])
        if feeds:
            found, feed_failures = timed("read", discover_feeds_task, feeds, settings.fetch, f"{len(feeds)} feeds")
            article_urls += found
            if feed_failures:
                finish(start([], feed_failures, "feed discovery"))
        article_urls = list(dict.fromkeys(article_urls))
        url_batches = list(chunked(article_urls, batch_size))
        progress.expect(len(url_batches))
        for number, batch in enumerate(url_batches, start=1):
            label = f"urls batch {number}/{len(url_batches)} ({len(batch)} urls)"
            web = timed("read", fetch_task, quote(batch), settings.fetch, quote(store.fetch_state(batch)), label).take()
            finish(start(web.docs, web.failures, label, web))
            progress.advance(label)
        # The workers' memory back before the index build, the run's largest allocation (a
        # scheduled run starts a new pool in about a second)
        shutdown_pool()
        # fts does not follow inserts; this also catches up after an earlier run was killed
        search_index = timed("store", store.refresh_search_index, policy=settings.search.policy())
        logger.info("search index %s", search_index.describe())
    except BaseException as exc:
        store.finish_run(run_id, status="failed", counts=counts, timings=timings, error=f"{type(exc).__name__}: {exc}")
        raise
    store.finish_run(run_id, status="completed", counts=counts, timings=timings)
    report = {"run_id": run_id, "warehouse": str(store.path), **counts,
              "timings": {k: round(v, 3) for k, v in timings.items()}, "search_index": search_index.describe(),
              "failed_items": failure_log}
    publish_run_artifacts(report, new_articles, articles_total)
    return report


if __name__ == "__main__":
    from newsflow.cli import main

    main(["ingest", *__import__("sys").argv[1:]])
