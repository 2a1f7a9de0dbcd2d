"""The ingest flow: sources → read → clean → deduplicate → stories → summarize → store.

Work moves in batches, each written to DuckDB in one transaction, so a run killed half-way
leaves whole batches behind and the next run picks up the rest. The choreography is
`tasks.pipeline.Pipeline`; this flow wires parameters, settings, sources and reporting.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Failed
from pydantic import Field

from flows.artifacts import EveryItemFailed, RunReport, failure_reason, nothing_ingested
from flows.parameters import check_warehouse, read_urls, run_config
from flows.runners import on_dask
from flows.settings import BATCH_SIZE_RANGE, LANGUAGE_PATTERN, NEAR_DUP_RANGE, Algorithm, Settings, load_settings
from flows.signals import lost_signals_raised, signals_held
from flows.storage import open_warehouse
from tasks.parallel import shutdown_pool
from tasks.pipeline import Pipeline, RunTotals
from tasks.sources.files import discover_paths
from tasks.sources.url_safety import redact_url
from tasks.sources.web import article_urls as unique_article_urls
from tasks.stages import PrefectStages, signal_behind
from tasks.summarize.length import SENTENCES_RANGE, WORDS_RANGE


def crash_in_prefect(abandoned: list[tuple[str, str]], logger) -> None:
    """A run whose process died (kill -9, a `serve` stopped mid-run) stayed RUNNING in Prefect for good;
    the warehouse has marked it abandoned, and now Prefect shows it Crashed with the same reason, unless
    it has settled it already. An interrupted run marks itself so, before a second signal can end its
    process. Never fails the run that noticed."""
    if not abandoned:
        return
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    try:
        with get_client(sync_client=True) as client:
            for flow_run_id, why in abandoned:
                state = client.read_flow_run(uuid.UUID(flow_run_id)).state
                if state is None or not state.is_final():
                    client.set_flow_run_state(uuid.UUID(flow_run_id), Crashed(message=why), force=True)
    except Exception as exc:  # noqa: BLE001 - e.g. the flow run was deleted, or another server ran it
        logger.warning("could not mark abandoned flow runs crashed in Prefect: %s", exc)


def record_failure(caught: BaseException, store, run_id: str, report: RunReport, logger) -> BaseException:
    """Leave a failed run's traces (its warehouse row when it had started, i.e. `store` is given; its
    Prefect state on an interrupt; the report artifact) and return the exception to raise: Ctrl-C during
    a warehouse query is an interrupt too, not the query's error."""
    exc = signal_behind(caught) or caught
    committed = None
    with signals_held(logger):
        if store is not None:
            try:
                # the counts its batches committed, not the run's tally: a signal between a batch's
                # commit and its tally left the tally one batch short
                committed = store.finish_run(run_id, status="failed", counts=None, timings=report.timings,
                                             error=failure_reason(exc))
            except Exception as record_exc:  # noqa: BLE001 - the run fails with its own reason, not this one
                logger.warning("could not record the failed run in the warehouse: %s", record_exc)
        if not isinstance(exc, Exception):  # an interrupt or SIGTERM: Prefect hears it from us, now
            crash_in_prefect([(flow_run.id, failure_reason(exc))] if flow_run.id else [], logger)
        # the run's own checks (parameters, settings, URL file, warehouse path) raise ValueError before it starts
        report.publish_failure(exc, logger, refused=store is None and isinstance(exc, ValueError), counts=committed)
    return exc


def _with_limits(fn):
    """The limits and defaults in the docstring, which Prefect shows under each field of the UI form,
    come from the constants the types and settings check (a field's error there names no limit)."""
    default = Settings.model_fields
    fn.__doc__ = fn.__doc__.format(
        sentences=_span(SENTENCES_RANGE), words=_span(WORDS_RANGE), near=_span(NEAR_DUP_RANGE),
        batch=_span(BATCH_SIZE_RANGE), default_sentences=default["summary_sentences"].default,
        default_near=default["near_dup_threshold"].default, default_batch=f"{default['batch_size'].default:,}",
        default_algorithm=default["summary_algorithm"].default)
    return fn


def _span(limits: tuple) -> str:
    return f"{limits[0]:,}–{limits[1]:,}"


@flow(name="ingest", log_prints=False)
@_with_limits
def ingest(
    paths: list[str] = [],  # noqa: B006 - Prefect copies parameter defaults
    urls: list[str] = [],  # noqa: B006
    feeds: list[str] = [],  # noqa: B006
    url_file: str | None = None,
    warehouse: str | None = None,
    algorithm: Algorithm | None = None,
    summary_sentences: Annotated[int | None, Field(ge=SENTENCES_RANGE[0], le=SENTENCES_RANGE[1])] = None,
    summary_ratio: Annotated[float | None, Field(gt=0, le=1)] = None,
    summary_words: Annotated[int | None, Field(ge=WORDS_RANGE[0], le=WORDS_RANGE[1])] = None,
    near_dup_threshold: Annotated[float | None, Field(ge=NEAR_DUP_RANGE[0], le=NEAR_DUP_RANGE[1])] = None,
    batch_size: Annotated[int | None, Field(ge=BATCH_SIZE_RANGE[0], le=BATCH_SIZE_RANGE[1])] = None,
    language: Annotated[str | None, Field(pattern=LANGUAGE_PATTERN)] = None,
) -> dict:
    """Ingest article files and web pages into the DuckDB warehouse. Empty parameters use the settings (`newsflow config`).

    Args:
        paths: Files, folders (read recursively) or glob patterns to ingest (.txt, .md, .html, .json, .jsonl).
        urls: Article URLs to fetch (http/https).
        feeds: RSS/Atom feed or XML sitemap URLs; the article URLs they list are fetched.
        url_file: A text file of article URLs, one (or several, space-separated) per line; # starts a comment.
        warehouse: DuckDB file to write; empty means NEWSFLOW_WAREHOUSE (warehouse/newsflow.duckdb).
        algorithm: Summarizer; empty means NEWSFLOW_SUMMARY_ALGORITHM ("{default_algorithm}", the tuned default).
        summary_sentences: Summary length in sentences, {sentences}; empty means NEWSFLOW_SUMMARY_SENTENCES ({default_sentences}). Give at most one of the three lengths.
        summary_ratio: Summary length as a fraction of the document's sentences, above 0 and at most 1, e.g. 0.2; empty means NEWSFLOW_SUMMARY_RATIO (unset by default).
        summary_words: Summary length as a word budget, {words}, e.g. 60; empty means NEWSFLOW_SUMMARY_WORDS (unset by default).
        near_dup_threshold: Word-shingle Jaccard, {near}, at or above which two texts are near-duplicates; empty means NEWSFLOW_NEAR_DUP_THRESHOLD ({default_near}).
        batch_size: Files (or URLs) per batch, {batch}, one transaction each; empty means NEWSFLOW_BATCH_SIZE ({default_batch}).
        language: ISO 639-1 code (e.g. "de") all documents are in; empty means NEWSFLOW_LANGUAGE, else detected per document.
    """
    logger = get_run_logger()
    began = datetime.now()  # the runs row's start: a run queued behind another's batches began here
    run_id = flow_run.id or str(uuid.uuid4())
    # a run that fails from here on still leaves its report: why, and what it committed before
    report = RunReport(run_id, warehouse or "(the configured warehouse)", RunTotals())
    started = False
    with lost_signals_raised() as stop_if_signalled:  # a signal Python lost still stops the run
        try:
            # what types cannot say, checked before any work: a bad UI form fails here, not half-way
            check_warehouse(warehouse)
            settings = load_settings()
            config = run_config(settings, algorithm=algorithm, summary_sentences=summary_sentences,
                                summary_ratio=summary_ratio, summary_words=summary_words,
                                near_dup_threshold=near_dup_threshold, batch_size=batch_size, language=language,
                                on_dask=on_dask())
            report.settings = config.describe()
            listed_urls = read_urls(url_file)
            store = open_warehouse(settings, Path(warehouse) if warehouse else None)
            report.warehouse = store.name
            pipeline = Pipeline(store, config, PrefectStages(on_dask=on_dask()), run_id)
            report.totals = pipeline.totals
            store.migrate(wait_s=config.writer_wait_s)  # queues here behind another run's batches too
            secret = settings.fetch.redact_query_params  # run parameters are stored: no credentials in them
            abandoned = store.start_run(run_id, flow_run.id, {
                "paths": paths, "urls": [redact_url(u, secret) for u in urls], "feeds": [redact_url(u, secret) for u in feeds],
                "url_file": url_file, "warehouse": store.name, **config.describe()}, wait_s=config.writer_wait_s,
                started_at=began)
            started = True

            def ingest_batches(readers) -> None:
                for result in pipeline.run_batches(readers):
                    report.advance(result, logger)
                    stop_if_signalled()

            crash_in_prefect(abandoned, logger)
            files, missing = discover_paths(paths, follow_symlinks_outside=settings.follow_symlinks_outside)
            file_readers = pipeline.read_files(files, missing)
            logger.info("ingesting %d files in %d batches into %s", len(files), len(file_readers), store.name)
            report.expect(len(files) + len(missing))
            ingest_batches(file_readers)
            article_urls = list(urls) + listed_urls
            if feeds:
                found, feed_failures = pipeline.discover_feeds(feeds, given=article_urls)
                article_urls += found
                if feed_failures:
                    report.expect(feed_failures.items)  # failed feeds, unchanged articles: done, so counted
                    ingest_batches([lambda: feed_failures])
            article_urls = unique_article_urls(article_urls)  # one article, one source: no tracking tags
            url_readers = pipeline.fetch_urls(article_urls)
            report.expect(len(article_urls))
            ingest_batches(url_readers)
            shutdown_pool()  # the workers' memory back before the index build, the run's largest allocation
            report.search_index = pipeline.refresh_search_index().describe()
            logger.info("search index %s", report.search_index)
            stop_if_signalled()
        except BaseException as caught:
            exc = record_failure(caught, store if started else None, run_id, report, logger)
            if exc is caught:
                raise
            raise exc from None
    store.finish_run(run_id, status="completed", counts=report.counts, timings=report.timings)
    published = report.publish()
    if nothing_ingested(published):  # went to its end, and yet a dead feed is a failed run to the UI
        failed = EveryItemFailed(published)
        return Failed(message=str(failed), data=failed)
    return published
