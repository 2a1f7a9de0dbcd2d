"""Web source: turn fetch results into Documents, Failures and fetch-log rows.

The fetcher (`tasks/fetch.py`) knows HTTP; this module knows what a result
means for the pipeline: a new page version is a Document (the same
clean → dedup → summarize → store path as files), a 304 or an identical body
is "unchanged", and anything else is a Failure with the fetcher's reason.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tasks.document import Document, Failure
from tasks.sources.fetch import FetchResult, PreviousFetch
from tasks.sources.files import ReadError, fill_from_html

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class WebBatch:
    docs: list[Document] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchanged: int = 0
    fetch_log: list[dict] = field(default_factory=list)
    # (doc_id, url, content_type, zlib-compressed body): kept so pages can be re-extracted later
    raw_pages: list[tuple[str, str, str | None, bytes]] = field(default_factory=list)


def read_url_file(path: str | Path) -> list[str]:
    """One URL per line; blank lines and `#` comments ignored."""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def previous_fetches(state: dict[str, tuple[str | None, str | None, str | None]]) -> dict[str, PreviousFetch]:
    return {url: PreviousFetch(etag=e, last_modified=lm, content_sha256=sha) for url, (e, lm, sha) in state.items()}


def _log_entry(result: FetchResult, doc_id: str | None) -> dict:
    return {
        "url": result.url, "final_url": result.final_url, "status": result.status, "etag": result.etag,
        "last_modified": result.last_modified, "content_sha256": result.content_sha256, "doc_id": doc_id,
        "error": result.error, "fetched_at": result.fetched_at.replace(tzinfo=None),
    }


def fetch_results_to_batch(results: list[FetchResult]) -> WebBatch:
    batch = WebBatch()
    for result in results:
        if result.error or not result.ok:
            batch.failures.append(Failure(result.url, "fetch", result.error or f"http_{result.status}",
                                          result.detail or f"status {result.status}"))
            batch.fetch_log.append(_log_entry(result, None))
            continue
        if result.not_modified or result.unchanged:
            batch.unchanged += 1
            batch.fetch_log.append(_log_entry(result, None))
            continue
        try:
            doc = _result_to_document(result)
        except ValueError as exc:
            batch.failures.append(Failure(result.url, "extract", "no_main_text", str(exc)))
            batch.fetch_log.append(_log_entry(result, None))
            continue
        batch.docs.append(doc)
        batch.fetch_log.append(_log_entry(result, doc.doc_id))
        batch.raw_pages.append((doc.doc_id, result.final_url or result.url, result.content_type,
                                zlib.compress(result.body or b"", 6)))
    return batch


def _result_to_document(result: FetchResult) -> Document:
    media_type = (result.content_type or "").split(";")[0].strip().lower()
    text = result.text or ""
    doc = Document(
        source=result.url, source_kind="url", raw_text=text, raw_sha256=result.content_sha256 or "",
        encoding=result.encoding, media_type=media_type or "text/html", url=result.final_url or result.url,
    )
    if media_type in HTML_TYPES or not media_type or "<html" in text[:2000].lower():
        try:
            fill_from_html(doc, text)
        except ReadError as exc:
            raise ValueError(exc.detail) from exc
    elif not text.strip():
        raise ValueError("empty body")
    return doc


def fetch_batch(urls: list[str], settings, fetch_state: dict) -> WebBatch:
    """Fetch one batch of article URLs (conditional GETs from the stored fetch state)."""
    from tasks.sources.fetch import fetch_urls

    return fetch_results_to_batch(fetch_urls(urls, settings, previous_fetches(fetch_state)))


def discover_feed_urls(feeds: list[str], settings) -> tuple[list[str], list[Failure]]:
    """The article URLs the feeds and sitemaps list, and a failure per feed that could not be read."""
    from tasks.sources.feeds import discover_article_urls

    found, failed = discover_article_urls(feeds, settings)
    return found, [Failure(r.url, "fetch", r.error or f"http_{r.status}", r.detail) for r in failed]
