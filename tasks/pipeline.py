"""The batch choreography: one batch through read → clean → dedup → stories → summarize → store.

`Pipeline.run_batches` is the only place that orders the stages. The ingest flow calls it
with Prefect tasks as the stage runner (`tasks.stages.PrefectStages`), the throughput
benchmark and tests also call it with `InlineStages` (plain calls), so what they measure is
what the flow runs.

Batches overlap: while one batch is deduplicated, clustered and stored in this thread, the
process pool summarizes it and then cleans the next batch (read ahead behind it). From
"what is stored?" to commit a batch holds the warehouse's writer lock, so an overlapping run
queues and then sees this batch instead of counting it new too.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from tasks.batch import FEED_DATE, Derive, attach_summaries, clean_docs_parallel, read_paths, summaries_for
from tasks.dedup.duplicates import DedupConfig, deduplicate
from tasks.dedup.stories import StoryConfig, assign_stories
from tasks.dedup.story_index import WarehouseStoryIndex
from tasks.dedup.terms import warm_prior
from tasks.document import Document, Failure, sha256_hex
from tasks.parallel import release_freed_memory
from tasks.sources.fetch import FetchSettings, HostMemory
from tasks.sources.web import fetch_log_after_stages, stored_url
from tasks.stage_names import COUNTS, FAULT_POINTS
from tasks.summarize.length import SummaryLength



@dataclass(frozen=True)
class FaultPoint:
    """A documented test seam: the process dies when batch `batch` reaches `at`.

    With a `marker`, it writes the marker file (whole or absent) and waits there to be killed,
    so a test can SIGKILL the whole process group; without one it SIGKILLs itself."""

    at: str
    batch: int = 1
    marker: Path | None = None

    def __post_init__(self) -> None:
        if self.at not in FAULT_POINTS:
            raise ValueError(f"unknown fault point {self.at!r}; one of {', '.join(FAULT_POINTS)}")

    def reached(self, at: str, batch: int) -> None:
        if at != self.at or batch != self.batch:
            return
        if self.marker is None:
            os.kill(os.getpid(), signal.SIGKILL)
        tmp = self.marker.with_suffix(".tmp")
        tmp.write_text(f"{at}:{batch}")
        os.replace(tmp, self.marker)
        while True:
            time.sleep(1)


@dataclass(frozen=True)
class RunConfig:
    """Everything a run's stages need, built once at the edge (flows/parameters.py) from
    the flow's parameters over the settings, and handed down as values."""

    algorithm: str
    length: SummaryLength
    dedup: DedupConfig
    batch_size: int
    batch_max_bytes: int
    max_file_bytes: int
    workers: int
    writer_wait_s: float
    fetch: FetchSettings
    search_policy: Any  # warehouse.search.RefreshPolicy
    story: StoryConfig
    fault: FaultPoint | None = None
    language: str | None = None  # ISO 639-1 every document of the run is taken to be in; None: detect

    def describe(self) -> dict:
        return {"algorithm": self.algorithm, "summary": self.length.label(),
                "near_dup_threshold": self.dedup.threshold, "batch_size": self.batch_size,
                "language": self.language or "detect"}


class Pending(Protocol):
    def result(self) -> Any: ...


class Stages(Protocol):
    """How a stage runs: `run` now in this thread, `submit` alongside (its `.result()` waits)."""

    def run(self, stage: str, fn: Callable, *args, label: str) -> Any: ...

    def submit(self, stage: str, fn: Callable, *args, label: str) -> Pending: ...


class InlineStages:
    """Stages as plain calls; submitted ones run on a thread, the overlap the flow gets."""

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsflow-stage")

    def run(self, stage: str, fn: Callable, *args, label: str) -> Any:
        return fn(*args)

    def submit(self, stage: str, fn: Callable, *args, label: str) -> Pending:
        return self._threads.submit(fn, *args)


# -- what goes in -----------------------------------------------------------------------------
@dataclass
class BatchInput:
    """One batch as read: documents, the items that failed already, and for fetched pages what
    the store keeps of the fetch (raw pages, fetch log)."""

    label: str
    docs: list[Document]
    failures: list[Failure] = field(default_factory=list)
    unchanged: int = 0  # fetched pages the server said had not changed
    raw_pages: list = field(default_factory=list)
    fetch_log: list = field(default_factory=list)

    @property
    def items(self) -> int:
        return len(self.docs) + len(self.failures) + self.unchanged


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


def chunked(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(store, run_id: str, docs, failures, band_keys, length_label: str, batch: BatchInput, stories,
           before_commit, counts: dict[str, int], current_ids: dict[str, str]) -> None:
    # a page found unchanged after cleaning keeps no bytes; the fetch named a page by its bytes' id,
    # which a page back to an earlier version's bytes is not stored under
    stored = {d.bytes_id: d.doc_id for d in docs}
    pages = [(stored[page[0]], *page[1:]) for page in batch.raw_pages if page[0] in stored]
    named = {**current_ids, **stored}
    fetch_log = [{**e, "doc_id": named.get(e["doc_id"], e["doc_id"])} for e in batch.fetch_log]
    store.write_batch(run_id, docs, failures, band_keys, summary_length=length_label, stories=stories,
                      raw_pages=pages, fetch_log=fetch_log_after_stages(fetch_log, failures, set(stored.values())),
                      before_commit=before_commit, counts=counts)


# -- what comes out ---------------------------------------------------------------------------
@dataclass
class BatchResult:
    label: str
    number: int
    counts: dict[str, int]
    failures: list[Failure]
    docs: list[Document]  # stored this batch (new documents, duplicates marked)


@dataclass
class RunTotals:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    timings: dict[str, float] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def add(self, result: BatchResult) -> None:
        for key, value in result.counts.items():
            self.counts[key] += value
        self.failures.extend(result.failures)


@dataclass
class _InFlight:
    """A batch read, its already-stored documents dropped and its cleaning submitted."""

    batch: BatchInput
    number: int
    cleaning: Pending
    unchanged: int
    current_ids: dict[str, str]  # bytes id -> the stored version holding those bytes now (_drop_stored)


class Pipeline:
    def __init__(self, store, config: RunConfig, stages: Stages, run_id: str):
        self.store = store
        self.config = config
        self.stages = stages
        self.run_id = run_id
        self.totals = RunTotals()
        # the shingles and story terms deduplication will look up, computed in the pool
        self._derive = Derive(shingle_words=config.dedup.shingle_words, language=config.language)
        self._stories = WarehouseStoryIndex(store)
        self.hosts = HostMemory()  # robots.txt, crawl-delay, Retry-After: learned once a run, not a batch
        # the date each feed or sitemap entry gives its article (by stored URL): an undated page's date
        self.listed_dates: dict[str, date] = {}
        # the story terms' prior is built while the first batch is read and cleaned, not after
        threading.Thread(target=warm_prior, name="newsflow-story-prior", daemon=True).start()

    # -- timing and the fault seam --
    def _stage(self, stage: str, fn: Callable, *args, label: str) -> Any:
        started = time.perf_counter()
        try:
            return self.stages.run(stage, fn, *args, label=label)
        finally:
            self._time(stage, started)

    def _wait(self, stage: str, pending: Pending) -> Any:
        started = time.perf_counter()
        try:
            return pending.result()
        finally:
            self._time(stage, started)

    def _time(self, stage: str, started: float) -> None:
        self.totals.timings[stage] = self.totals.timings.get(stage, 0.0) + time.perf_counter() - started

    def _reached(self, point: str, number: int) -> None:
        if self.config.fault is not None:
            self.config.fault.reached(point, number)

    # -- sources: each yields callables that read one batch when called --
    def read_files(self, files: list[Path], pre_failures: list[Failure] = ()) -> list[Callable[[], BatchInput]]:
        groups = list(file_batches(files, self.config.batch_size, self.config.batch_max_bytes))
        readers = []
        for number, group in enumerate(groups, start=1):
            label = f"files batch {number}/{len(groups)} ({len(group)} files)"
            failed = list(pre_failures) if number == 1 else []

            def read(group=group, label=label, failed=failed) -> BatchInput:
                docs, failures = self._stage("read", read_paths, group, self.config.max_file_bytes, label=label)
                for doc in docs:  # a record's or a saved page's URL is stored as a fetched one is
                    if doc.url:
                        doc.url = stored_url(doc.url, self.config.fetch.redact_query_params)
                return BatchInput(label, docs, failed + failures)

            readers.append(read)
        if pre_failures and not groups:
            readers.append(lambda: BatchInput("missing paths", [], list(pre_failures)))
        return readers

    def fetch_urls(self, urls: list[str]) -> list[Callable[[], BatchInput]]:
        from tasks.sources.web import fetch_batch, stored_urls

        groups = list(chunked(list(dict.fromkeys(urls)), self.config.batch_size))
        readers = []
        for number, group in enumerate(groups, start=1):
            label = f"urls batch {number}/{len(groups)} ({len(group)} urls)"

            def fetch(group=group, label=label) -> BatchInput:
                web = self._stage("fetch", fetch_batch, group, self.config.fetch,
                                  self.store.fetch_state(stored_urls(group, self.config.fetch)),
                                  self.hosts, label=label)
                for doc in web.docs:  # the cleaner gives it to a page that carries no date of its own
                    if doc.source in self.listed_dates:
                        doc.meta[FEED_DATE] = self.listed_dates[doc.source]
                return BatchInput(label, web.docs, web.failures, web.unchanged, web.raw_pages, web.fetch_log)

            readers.append(fetch)
        return readers

    def discover_feeds(self, feeds: list[str], given: list[str] = ()) -> tuple[list[str], BatchInput | None]:
        """The article URLs the feeds list, less those fetched well within the revisit window
        (counted unchanged: a 1,000-item feed was re-requested whole each run, 17 minutes at the
        polite rate) and those `given` as URLs too (fetched and counted as such: counted unchanged
        here as well, a re-run counted them twice), and a batch of the feeds' failures and the
        skipped articles."""
        from tasks.sources.web import article_urls, discover_feed_entries, stored_urls

        entries, failures = self._stage("discover-feeds", discover_feed_entries, feeds, self.config.fetch, self.hosts,
                                        label=f"{len(feeds)} feeds")
        listed = article_urls([url for url, _ in entries])
        given_keys = set(stored_urls(article_urls(list(given)), self.config.fetch))
        # each URL with its key in the stored fetch state, computed once for both checks
        kept = [(url, key) for url, key in zip(listed, stored_urls(listed, self.config.fetch)) if key not in given_keys]
        secret = self.config.fetch.redact_query_params
        self.listed_dates.update((stored_url(url, secret), day) for url, day in entries if day is not None)
        hours = self.config.fetch.revisit_after_hours
        recent: set[str] = set()
        if hours and kept:
            since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=hours)
            with self.store.session():
                fresh = self.store.fetched_since([key for _, key in kept], since)
            recent = {url for url, key in kept if key in fresh}
        found = [url for url, _ in kept if url not in recent]
        skipped = BatchInput("feed discovery", [], failures, unchanged=len(recent))
        return found, (skipped if failures or recent else None)

    # -- the choreography --
    def run_batches(self, readers: Iterable[Callable[[], BatchInput]], start: int = 1) -> Iterator[BatchResult]:
        """Run every batch through the stages, reading and cleaning the next one while the
        current one is deduplicated and stored; yields each batch's result as it is committed."""
        readers = list(readers)
        pending = self._start(readers[0](), start) if readers else None
        for offset in range(1, len(readers) + 1):
            following = readers[offset] if offset < len(readers) else None
            result, pending = self.run_batch(
                pending, (lambda r=following, n=start + offset: self._start(r(), n)) if following else None)
            yield result

    def _start(self, batch: BatchInput, number: int) -> _InFlight:
        self._reached("read", number)
        current: dict[str, str] = {}
        with self.store.session():
            docs, unchanged = self._drop_stored(batch.docs, current)
        cleaning = self.stages.submit("clean", clean_docs_parallel, docs, self.config.workers, self._derive,
                                      label=batch.label)
        return _InFlight(batch, number, cleaning, unchanged + batch.unchanged, current)

    def run_batch(self, flight: _InFlight, start_next: Callable[[], _InFlight] | None = None
                  ) -> tuple[BatchResult, _InFlight | None]:
        """clean (waited for) → dedup → stories → store, summaries computed alongside on the
        pool; `start_next` reads the next batch and queues its cleaning behind these summaries."""
        cfg, batch, label, number = self.config, flight.batch, flight.batch.label, flight.number
        following = None
        with self.store.exclusive_writer(cfg.writer_wait_s), self.store.session():
            docs, failures = self._wait("clean", flight.cleaning)
            self._reached("clean", number)
            failures = batch.failures + failures
            # asked again under the lock: another run may have stored some since `_start` looked
            docs, unchanged = self._drop_stored(docs, flight.current_ids)
            docs, same_text = self._follow_versions(docs, flight.current_ids)
            unchanged += same_text + flight.unchanged
            # duplicates found meanwhile are summarized for nothing and keep no summary
            summarizing = self.stages.submit("summarize", summaries_for, docs, cfg.algorithm, cfg.length,
                                             cfg.workers, label=label)
            if start_next is not None:
                following = start_next()
            outcome = self._stage("deduplicate", deduplicate, docs, self.store, cfg.dedup, label=label)
            self._reached("deduplicate", number)
            stories = self._stage("stories", assign_stories, docs, self._stories, cfg.story, label=label)
            # the story stage's matrices, freed, go back before the store: its write and the
            # commit's checkpoint allocate in DuckDB's own heap, which cannot reuse them (at 100k
            # documents the batch peak was there, on top of them)
            release_freed_memory()
            self._reached("stories", number)
            summaries, failed = self._wait("summarize", summarizing)
            self._reached("summarize", number)
            attach_summaries(docs, summaries)
            failures += failed
            counts = {"items_seen": batch.items, "documents_new": len(docs), "unchanged": unchanged,
                      "duplicates": sum(1 for d in docs if d.duplicate_of),
                      "summaries": sum(1 for d in docs if d.summary is not None), "failures": len(failures)}
            self._stage("store", _write, self.store, self.run_id, docs, failures, outcome.band_keys,
                        cfg.length.label(), batch, stories, lambda: self._reached("store", number), counts,
                        flight.current_ids, label=label)
            self._reached("committed", number)
        self._reached("stored", number)
        self.store.let_readers_in()  # an analyst's query waits one batch, not the whole run
        result = BatchResult(label, number, counts, failures, docs)
        self.totals.add(result)
        release_freed_memory()  # a long run's memory stays flat instead of creeping up batch by batch
        return result, following

    def refresh_search_index(self):
        """fts does not follow inserts; this also catches up after an earlier run was killed."""
        started = time.perf_counter()
        try:
            return self.store.refresh_search_index(policy=self.config.search_policy,
                                                   before_commit=lambda: self._reached("search-index", 1))
        finally:
            self._time("search-index", started)

    # -- versions --
    def _drop_stored(self, docs: list[Document], current: dict[str, str]) -> tuple[list[Document], int]:
        """Documents already stored (same source, same bytes) go, unless their source has stored
        other bytes since: those bytes are back (an edit undone, a page returned to its earlier
        text), and are the source's next version. Returns the rest and how many went; `current`
        learns which stored version holds a dropped document's bytes now, when that is not the
        version first stored with them (the fetch log names it)."""
        for doc in docs:  # asked afresh: under the writer's lock, another run may have stored since
            doc.returns_as_version = None
        known = self.store.known_doc_ids([d.doc_id for d in docs])
        newest = self.store.newest_bytes(sorted({d.source for d in docs if d.doc_id in known}))
        fresh = []
        for doc in docs:
            if doc.doc_id in known:
                version, raw_sha256, newest_id = newest.get(doc.source, (0, doc.raw_sha256, doc.doc_id))
                if raw_sha256 == doc.raw_sha256:
                    if newest_id != doc.doc_id:
                        current[doc.bytes_id] = newest_id
                    continue
                doc.returns_as_version = version + 1
            fresh.append(doc)
        return fresh, len(docs) - len(fresh)

    def _follow_versions(self, docs: list[Document], current: dict[str, str]) -> tuple[list[Document], int]:
        """A document from a source stored before is that source's next version, unless its
        headline and clean text are its newest version's: new bytes around the same article (a
        page's per-request token, an ad slot, a re-saved file) are `unchanged`, not a row per run.
        Returns the rest and how many went; `current` learns the version that holds such a text."""
        latest = self.store.latest_versions(sorted({d.source for d in docs}))
        kept: list[Document] = []
        for doc in docs:
            stored = latest.get(doc.source)
            if stored is not None:
                # to the character: the exact-copy fingerprint drops periods, and "$1.13bn" corrected
                # to "$11.3bn" was the same text, the correction never stored
                if (sha256_hex(doc.text.encode()), doc.title) == (stored.text_digest, stored.title):
                    current[doc.bytes_id] = stored.doc_id  # the fetch log names a page by its bytes
                    continue
                doc.meta["version"] = stored.version + 1
                doc.meta["previous_doc_id"] = stored.doc_id
                # an edited article is its source's new version, not a near copy of its old text
                # (tasks/dedup/duplicates.py)
                doc.meta["earlier_versions"] = frozenset(stored.doc_ids)
            kept.append(doc)
        return kept, len(docs) - len(kept)
