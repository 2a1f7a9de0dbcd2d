"""Batch-level stage functions: plain Python, no Prefect, safe to run in worker processes.

Each stage takes a list of Documents and returns the ones that go on, plus
Failures for the ones that could not; one bad item never stops a batch.
Functions return their results (rather than only mutating) so they can run
in another process and be mapped over chunks (`tasks/parallel.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tasks.text.clean import HTML, PLAIN, clean_document, repair_mojibake, repeated_lines
from tasks.dedup.duplicates import doc_shingles, doc_text_hash
from tasks.document import MAX_TEXT_CHARS, Document, Failure, Summary, too_long_detail
from tasks.parallel import map_chunks
from tasks.sources.files import read_file
from tasks.dedup.terms import LEAD_WORDS, doc_term_counts
from tasks.summarize.algorithms import summarize
from tasks.summarize.length import SummaryLength
from tasks.text.language import detect
from tasks.text.metadata import in_language_order
from tasks.text.tokens import count_words, search_terms


def read_paths(paths: list[Path], max_bytes: int) -> tuple[list[Document], list[Failure]]:
    docs: list[Document] = []
    failures: list[Failure] = []
    for path in paths:
        try:
            got, failed = read_file(path, max_bytes=max_bytes)
        except Exception as exc:  # noqa: BLE001 - a reader's bug is this file's failure, not the batch's
            got, failed = [], [Failure(str(path), "read", "reader_error", f"{type(exc).__name__}: {exc}"[:300])]
        docs.extend(got)
        failures.extend(failed)
    return docs, failures


@dataclass(frozen=True)
class Derive:
    """What to precompute per document for the main-process stages (see `derive_features`)."""
    shingle_words: int
    story_lead_words: int = LEAD_WORDS
    language: str | None = None  # the run's language (`--language`): overrides detection when set


def derive_features(docs: list[Document], derive: Derive) -> None:
    """Text hash, shingle hashes and story term counts, cached on each document.

    Deduplication and story clustering run in the flow's process, one batch at a time, while
    the pool sits idle; their per-document text work is done here, in the pool, right after
    cleaning, so the main process is left with the lookups and the batch-wide arithmetic."""
    for doc in docs:
        doc_text_hash(doc)
        doc_shingles(doc, derive.shingle_words)
        doc_term_counts(doc, derive.story_lead_words)


def text_kind(doc: Document) -> str:
    """What the cleaner is given: the HTML extractor's output (files and fetched pages it
    read as HTML) or a plain-text dump (.txt/.md files, JSON records, plain-text responses)."""
    return HTML if doc.meta.get("text_kind") == "html" or doc.media_type in ("text/html", "application/xhtml+xml") \
        else PLAIN


# Document.meta key: the date a feed or sitemap entry gives a fetched page, used when the page has none
FEED_DATE = "feed_published"


def clean_docs(docs: list[Document], today: date | None = None, repeated: frozenset[str] | None = None,
               derive: Derive | None = None) -> tuple[list[Document], list[Failure]]:
    if repeated is None:
        # lines repeated across many documents of a batch are site furniture, not content
        repeated = repeated_lines([d.raw_text for d in docs])
    kept: list[Document] = []
    failures: list[Failure] = []
    for doc in docs:
        if len(doc.raw_text) > MAX_TEXT_CHARS:
            failures.append(Failure(doc.source, "clean", "too_long", too_long_detail(len(doc.raw_text))))
            continue
        try:
            cleaned = clean_document(
                doc.raw_text, title=doc.meta.get("title"), published=doc.meta.get("published"),
                outlet=doc.meta.get("outlet"), repeated_lines=repeated, today=today, kind=text_kind(doc),
            )
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
            failures.append(Failure(doc.source, "clean", "cleaner_error", f"{type(exc).__name__}: {exc}"[:500]))
            continue
        if not cleaned.text.strip():
            failures.append(Failure(doc.source, "clean", "empty_after_cleaning", "no article text left after removing boilerplate"))
            continue
        doc.text = cleaned.text
        doc.title = cleaned.title
        doc.title_source = (doc.meta.get("title_source") or "record") if doc.meta.get("title") else (
            "text" if cleaned.title else None)
        doc.published_at = cleaned.published_at
        # the markup's own spelling of the date the extractor read (the cleaner saw it as ISO)
        given = doc.meta.get("published")
        doc.published_raw = doc.meta.get("published_raw", given) if given and cleaned.published_raw == given \
            else cleaned.published_raw
        if doc.published_at is None and doc.meta.get(FEED_DATE):  # the page's own date first, the feed's after
            doc.published_at = doc.meta[FEED_DATE]
            doc.published_raw = f"{doc.published_at.isoformat()} (feed entry)"
        doc.date_convention = cleaned.date_convention
        doc.outlet = cleaned.outlet
        # the page's markup (or the record's field) first, the "By ..." line of the text after it; a
        # markup author that is not a person's name (source "<markup>:organization" / ":single-word",
        # tasks/text/extract._pick_author) gives way to a "By Jane Doe" line
        weak = ":" in (doc.meta.get("author_source") or "")
        if doc.meta.get("author") and not (weak and cleaned.author):
            doc.author, doc.author_source = repair_mojibake(doc.meta["author"]), doc.meta.get("author_source") or "record"
        else:
            doc.author, doc.author_source = cleaned.author, ("byline" if cleaned.author else None)
        guess = detect(cleaned.text, markup=doc.meta.get("language"), override=derive.language if derive else None)
        doc.language, doc.language_confidence, doc.language_source = guess.code, guess.confidence, guess.source
        if doc.published_at is not None:
            doc.published_at, doc.date_convention = in_language_order(
                doc.published_at, doc.date_convention, doc.language, today or date.today())
        doc.search_text = search_text(doc)
        doc.word_count = count_words(doc.text)
        doc.removed_lines = cleaned.removed_lines
        doc.headline_only = cleaned.headline_only
        kept.append(doc)
    if derive is not None:
        derive_features(kept, derive)
    return kept, failures


def search_text(doc: Document) -> str | None:
    """Headline and body as the search index holds them for a language other than English: stems
    of its content words, bigrams for unspaced scripts. English is indexed from title and text
    as they are (the index's own Porter stemmer), so it needs none."""
    if doc.language == "en":
        return None
    return " ".join(search_terms(f"{doc.title or ''}\n{doc.text}", doc.language)) or None


def _length_kwargs(length: SummaryLength) -> dict:
    return {name: getattr(length, name) for name in length.given()}


def compute_summaries(docs: list[Document], algorithm: str, length: SummaryLength
                      ) -> tuple[dict[str, Summary], list[Failure]]:
    summaries: dict[str, Summary] = {}
    failures: list[Failure] = []
    for doc in docs:
        if doc.duplicate_of is not None or doc.headline_only:
            continue  # only canonical articles are summarized (a headline-only page has nothing to summarize)
        try:
            summaries[doc.doc_id] = summarize(doc.text, title=doc.title, algorithm=algorithm, language=doc.language,
                                             **_length_kwargs(length))
        except Exception as exc:  # noqa: BLE001
            failures.append(Failure(doc.source, "summarize", "summarizer_error", f"{type(exc).__name__}: {exc}"[:500]))
    return summaries, failures


def summaries_for(docs: list[Document], algorithm: str, length: SummaryLength, workers: int = 1
                  ) -> tuple[dict[str, Summary], list[Failure]]:
    """Summaries of the canonical documents by doc_id, computed on `workers` processes.

    Returned rather than set on the documents, so it works when the caller's documents
    live in another process (a Dask worker ran this)."""
    canonical = [d for d in docs if d.duplicate_of is None]
    by_id: dict[str, Summary] = {}
    failures: list[Failure] = []
    for summaries, failed in map_chunks(compute_summaries, canonical, algorithm, length, workers=workers):
        by_id.update(summaries)
        failures += failed
    return by_id, failures


def attach_summaries(docs: list[Document], by_id: dict[str, Summary]) -> None:
    """Give canonical documents their summary (a duplicate may have been summarized before
    deduplication marked it; it keeps none)."""
    for doc in docs:
        if doc.doc_id in by_id and doc.duplicate_of is None:
            doc.summary = by_id[doc.doc_id]


def clean_docs_parallel(docs: list[Document], workers: int = 1, derive: Derive | None = None
                        ) -> tuple[list[Document], list[Failure]]:
    # the cross-document line statistics need the whole batch, so they are computed here, once
    repeated = repeated_lines([d.raw_text for d in docs])
    kept: list[Document] = []
    failures: list[Failure] = []
    for got, failed in map_chunks(clean_docs, docs, None, repeated, derive, workers=workers):
        kept += got
        failures += failed
    return kept, failures
