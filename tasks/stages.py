"""Batch-level stage functions (plain Python) and their thin Prefect task wrappers.

Each stage takes a list of Documents and returns the ones that go on, plus
Failures for the ones that could not; one bad item never stops a batch.
The plain functions are what benchmarks and process pools call; the flow
calls the `@task` versions so each batch shows up in the Prefect UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.clean import clean_document, repeated_lines
from tasks.dedup import DedupConfig, DedupIndex, DedupOutcome, deduplicate
from tasks.document import Document, Failure
from tasks.read import read_file
from tasks.summarize import summarize
from tasks.web_source import WebBatch, fetch_results_to_batch, previous_fetches


@dataclass(frozen=True)
class SummaryLength:
    sentences: int | None = 3
    ratio: float | None = None
    words: int | None = None

    def label(self) -> str:
        if self.ratio is not None:
            return f"ratio={self.ratio}"
        if self.words is not None:
            return f"words={self.words}"
        return f"sentences={self.sentences}"

    def kwargs(self) -> dict:
        if self.ratio is not None:
            return {"ratio": self.ratio}
        if self.words is not None:
            return {"words": self.words}
        return {"sentences": self.sentences}


def read_paths(paths: list[Path], max_bytes: int) -> tuple[list[Document], list[Failure]]:
    docs: list[Document] = []
    failures: list[Failure] = []
    for path in paths:
        got, failed = read_file(path, max_bytes=max_bytes)
        docs.extend(got)
        failures.extend(failed)
    return docs, failures


def clean_docs(docs: list[Document], today: date | None = None) -> tuple[list[Document], list[Failure]]:
    # lines repeated across many documents of a batch are site furniture, not content
    repeated = repeated_lines([d.raw_text for d in docs])
    kept: list[Document] = []
    failures: list[Failure] = []
    for doc in docs:
        try:
            cleaned = clean_document(
                doc.raw_text, title=doc.meta.get("title"), published=doc.meta.get("published"),
                outlet=doc.meta.get("outlet"), repeated_lines=repeated, today=today,
            )
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
            failures.append(Failure(doc.source, "clean", "cleaner_error", f"{type(exc).__name__}: {exc}"[:500]))
            continue
        if not cleaned.text.strip():
            failures.append(Failure(doc.source, "clean", "empty_after_cleaning", "no article text left after removing boilerplate"))
            continue
        doc.text = cleaned.text
        doc.title = cleaned.title
        doc.published_at = cleaned.published_at
        doc.published_raw = cleaned.published_raw
        doc.date_convention = cleaned.date_convention
        doc.outlet = cleaned.outlet
        doc.author = cleaned.author or doc.meta.get("author")
        doc.language = doc.meta.get("language")
        doc.removed_lines = cleaned.removed_lines
        kept.append(doc)
    return kept, failures


def summarize_docs(docs: list[Document], algorithm: str, length: SummaryLength) -> list[Failure]:
    failures: list[Failure] = []
    for doc in docs:
        if doc.duplicate_of is not None:
            continue  # only canonical documents are summarized
        try:
            doc.summary = summarize(doc.text, title=doc.title, algorithm=algorithm, **length.kwargs())
        except Exception as exc:  # noqa: BLE001
            failures.append(Failure(doc.source, "summarize", "summarizer_error", f"{type(exc).__name__}: {exc}"[:500]))
    return failures


@task(name="read-files", task_run_name="read {label}", cache_policy=NO_CACHE)
def read_task(paths: list[Path], max_bytes: int, label: str) -> tuple[list[Document], list[Failure]]:
    return read_paths(paths, max_bytes)


@task(name="clean", task_run_name="clean {label}", cache_policy=NO_CACHE)
def clean_task(docs: list[Document], label: str) -> tuple[list[Document], list[Failure]]:
    return clean_docs(docs)


@task(name="deduplicate", task_run_name="deduplicate {label}", cache_policy=NO_CACHE)
def dedup_task(docs: list[Document], index: DedupIndex, config: DedupConfig, label: str) -> DedupOutcome:
    return deduplicate(docs, index, config)


@task(name="summarize", task_run_name="summarize {label}", cache_policy=NO_CACHE)
def summarize_task(docs: list[Document], algorithm: str, length: SummaryLength, label: str) -> list[Failure]:
    return summarize_docs(docs, algorithm, length)


@task(name="fetch", task_run_name="fetch {label}", cache_policy=NO_CACHE)
def fetch_task(urls: list[str], settings, fetch_state: dict, label: str) -> WebBatch:
    from tasks.fetch import fetch_urls

    return fetch_results_to_batch(fetch_urls(urls, settings, previous_fetches(fetch_state)))


@task(name="discover-feeds", task_run_name="discover {label}", cache_policy=NO_CACHE)
def discover_feeds_task(feeds: list[str], settings, label: str) -> tuple[list[str], list[Failure]]:
    from tasks.feeds import discover_article_urls

    found, failed = discover_article_urls(feeds, settings)
    return found, [Failure(r.url, "fetch", r.error or f"http_{r.status}", r.detail) for r in failed]
