"""Thin Prefect task wrappers over the batch stage functions in `tasks/batch.py`.

The flow calls these so each batch shows up in the Prefect UI with a name that
says which batch it handled; benchmarks and worker processes call the plain
functions directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.batch import (  # noqa: F401 - re-exported for callers of the plain functions
    Derive, SummaryLength, attach_summaries, clean_docs, clean_docs_parallel, compute_summaries, read_paths,
    summaries_for, summarize_docs,
)
from tasks.dedup.duplicates import DedupConfig, DedupIndex, DedupOutcome, deduplicate
from tasks.document import Document, Failure
from tasks.dedup.stories import StoryIndex, StoryOutcome, assign_stories
from tasks.sources.web import WebBatch, fetch_results_to_batch, previous_fetches


T = TypeVar("T")


class Handoff(Generic[T]):
    """A task's return value, emptied when the flow takes it.

    Prefect keeps each task run's return value reachable until the flow run ends (in the run's
    transaction records), so a long run could hold every batch it had processed
    (tests/test_stages.py: 10, 20 ... 60 documents held without it, none with it). A task returns
    its batch in a Handoff; the flow `take()`s it and Prefect keeps only the empty shell."""

    __slots__ = ("_value",)
    _TAKEN = object()

    def __init__(self, value: T):
        self._value = value

    def take(self) -> T:
        value, self._value = self._value, Handoff._TAKEN
        if value is Handoff._TAKEN:
            raise RuntimeError("this task result was already taken")
        return value

    def __getstate__(self):  # pickled when a Dask worker sends the result back
        return (self._value,)  # a tuple: pickle skips __setstate__ for a false state

    def __setstate__(self, state) -> None:
        (self._value,) = state


@task(name="read-files", task_run_name="read {label}", cache_policy=NO_CACHE)
def read_task(paths: list[Path], max_bytes: int, label: str) -> Handoff[tuple[list[Document], list[Failure]]]:
    return Handoff(read_paths(paths, max_bytes))


@task(name="clean", task_run_name="clean {label}", cache_policy=NO_CACHE)
def clean_task(docs: list[Document], label: str, workers: int = 1, derive: Derive | None = None
               ) -> Handoff[tuple[list[Document], list[Failure]]]:
    return Handoff(clean_docs_parallel(docs, workers, derive))


@task(name="deduplicate", task_run_name="deduplicate {label}", cache_policy=NO_CACHE)
def dedup_task(docs: list[Document], index: DedupIndex, config: DedupConfig, label: str) -> Handoff[DedupOutcome]:
    return Handoff(deduplicate(docs, index, config))


@task(name="stories", task_run_name="stories {label}", cache_policy=NO_CACHE)
def story_task(docs: list[Document], index: StoryIndex, label: str) -> Handoff[StoryOutcome]:
    return Handoff(assign_stories(docs, index))


@task(name="summarize", task_run_name="summarize {label}", cache_policy=NO_CACHE)
def summarize_task(docs: list[Document], algorithm: str, length: SummaryLength, label: str,
                   workers: int = 1) -> Handoff[tuple[dict, list[Failure]]]:
    return Handoff(summaries_for(docs, algorithm, length, workers))


@task(name="fetch", task_run_name="fetch {label}", cache_policy=NO_CACHE)
def fetch_task(urls: list[str], settings, fetch_state: dict, label: str) -> Handoff[WebBatch]:
    from tasks.sources.fetch import fetch_urls

    return Handoff(fetch_results_to_batch(fetch_urls(urls, settings, previous_fetches(fetch_state))))


@task(name="discover-feeds", task_run_name="discover {label}", cache_policy=NO_CACHE)
def discover_feeds_task(feeds: list[str], settings, label: str) -> tuple[list[str], list[Failure]]:
    from tasks.sources.feeds import discover_article_urls

    found, failed = discover_article_urls(feeds, settings)
    return found, [Failure(r.url, "fetch", r.error or f"http_{r.status}", r.detail) for r in failed]
