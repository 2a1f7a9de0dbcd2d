"""Web source: turn fetch results into Documents, Failures and fetch-log rows.

The fetcher (`tasks/sources/fetch.py`) knows HTTP; this module knows what a result
means for the pipeline: a new page version is a Document (the same
clean → dedup → summarize → store path as files), a 304 or an identical body
is "unchanged", and anything else is a Failure with the fetcher's reason.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from tasks.document import Document, Failure
from tasks.sources.content import ReadError, check_content
from tasks.sources.fetch import (FEED_TYPES, HTML_TYPES, FetchResult, FetchSettings, HostMemory, PreviousFetch,
                                 fetch_urls)
from tasks.sources.files import fill_from_html
from tasks.sources.url_safety import DEFAULT_SECRET_PARAMS, redact_text, redact_url

# feeds and sitemaps are fetched as article URLs are (FEED_TYPES); given as an article, one is not
_FEED_ROOT = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|urlset|sitemapindex|rdf:RDF)\b",
                        re.S | re.I)


@dataclass
class WebBatch:
    docs: list[Document] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchanged: int = 0
    fetch_log: list[dict] = field(default_factory=list)
    # (doc_id, url, content_type, zlib-compressed body): kept so pages can be re-extracted later
    raw_pages: list[tuple[str, str, str | None, bytes]] = field(default_factory=list)


# Query parameters that only say where a reader clicked (campaign tags, click ids): feeds and
# newsletters add them, so one article arrived as six sources, each fetched every run.
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl)$",
                             re.I)


def article_url(url: str) -> str:
    """The URL an article is fetched and stored under: no fragment (a server never sees it), no
    tracking parameters, scheme and host lower-cased, dot segments resolved. Anything else is
    kept as written; a URL that does not parse is left to the fetcher to refuse."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    query = parts.query
    if query:
        pairs = [p for p in query.split("&") if not TRACKING_PARAMS.match(p.split("=", 1)[0])]
        query = "&".join(pairs)
    path = parts.path
    if "/." in path:  # RFC 3986 dot segments, as the server would resolve them
        path = urlsplit(urljoin("http://h/", path)).path
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, _percent_encoded(path), _percent_encoded(query), ""))


def _percent_encoded(part: str) -> str:
    """A path or query as the request line carries it: "/café" and "/caf%c3%a9" are the
    page "/caf%C3%A9" (they were two sources, each fetched). Existing escapes and reserved
    characters are kept as written (an escaped "/" is not a "/")."""
    if part.isascii() and "%" not in part:
        return part
    part = quote(part, safe="!#$%&'()*+,/:;=?@[]~")
    return _ESCAPE.sub(lambda m: m.group(0).upper(), part)


_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def article_urls(urls: list[str]) -> list[str]:
    """`article_url` of each, first occurrence kept, in order."""
    return list(dict.fromkeys(article_url(u) for u in urls))


def read_url_file(path: str | Path) -> list[str]:
    """URLs, one per line (several on a line split at whitespace); blank lines and `#` comments,
    whole-line or after a URL, ignored. A URL has no whitespace, and its own `#` (a fragment) none
    before it: "https://x/a # the lead story" was the URL "https://x/a " (a 404)."""
    urls: list[str] = []
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        for word in line.split():
            if word.startswith("#"):
                break
            urls.append(word)
    return urls


def previous_fetches(state: dict[str, tuple[str | None, str | None, str | None]]) -> dict[str, PreviousFetch]:
    return {url: PreviousFetch(etag=e, last_modified=lm, content_sha256=sha) for url, (e, lm, sha) in state.items()}


def _log_entry(result: FetchResult, doc_id: str | None, secret: tuple[str, ...], rejected: str | None = None) -> dict:
    """The fetch log row. A body the pipeline `rejected` (its reason: binary, no article text) leaves
    no validators of its own (an earlier accepted body's stay, and do not match it), so the next run
    fetches it whole and records the failure again rather than counting the same bytes "unchanged"."""
    entry = {
        "url": redact_url(result.url, secret),
        "final_url": result.final_url and stored_url(result.final_url, secret),
        "status": result.status, "etag": result.etag, "last_modified": result.last_modified,
        "content_sha256": result.content_sha256, "doc_id": doc_id,
        "error": result.error, "fetched_at": result.fetched_at.replace(tzinfo=None),
    }
    return entry if rejected is None else _rejected(entry, rejected)


def _rejected(entry: dict, reason: str) -> dict:
    return {**entry, "etag": None, "last_modified": None, "content_sha256": None, "doc_id": None,
            "error": entry["error"] or reason}


def fetch_log_after_stages(fetch_log: list[dict], failures: list[Failure], stored: set[str]) -> list[dict]:
    """The batch's fetch log as it is written: a page fetched whole that a later stage failed
    (too long to clean, no sentences) is rejected there too. Logged as fetched, the next run
    counted the same bytes unchanged and recorded the failure no more."""
    failed = {f.source: f.reason for f in failures}
    return [_rejected(e, failed[e["url"]]) if e["doc_id"] not in stored and e["url"] in failed else e
            for e in fetch_log]


def fetch_results_to_batch(results: list[FetchResult], secret_params=DEFAULT_SECRET_PARAMS) -> WebBatch:
    """What the pipeline keeps of each fetch. Every URL kept (documents, failures, fetch log, raw
    pages) is redacted (`url_safety.redact_url`): credentials and secret query parameters never
    reach the warehouse; a document's source is its redacted URL, the same on every run."""
    secret = tuple(secret_params)
    batch = WebBatch()
    for result in results:
        url = redact_url(result.url, secret)
        if result.error or not result.ok:
            batch.failures.append(Failure(url, "fetch", result.error or f"http_{result.status}",
                                          redact_text(result.detail, secret) or f"status {result.status}"))
            batch.fetch_log.append(_log_entry(result, None, secret))
            continue
        if result.not_modified or result.unchanged:
            batch.unchanged += 1
            batch.fetch_log.append(_log_entry(result, None, secret))
            continue
        try:
            doc = _result_to_document(result, secret)
        except ReadError as exc:
            batch.failures.append(Failure(url, "fetch", exc.reason, exc.detail))
            batch.fetch_log.append(_log_entry(result, None, secret, rejected=exc.reason))
            continue
        except ValueError as exc:
            batch.failures.append(Failure(url, "extract", "no_main_text", str(exc)))
            batch.fetch_log.append(_log_entry(result, None, secret, rejected="no_main_text"))
            continue
        if any(d.doc_id == doc.doc_id for d in batch.docs):  # two URLs differing only in a secret
            batch.unchanged += 1
            batch.fetch_log.append(_log_entry(result, doc.doc_id, secret))
            continue
        batch.docs.append(doc)
        batch.fetch_log.append(_log_entry(result, doc.doc_id, secret))
        batch.raw_pages.append((doc.doc_id, doc.url, result.content_type,
                                zlib.compress(result.body or b"", 6)))
    return batch


def _result_to_document(result: FetchResult, secret: tuple[str, ...] = DEFAULT_SECRET_PARAMS) -> Document:
    """A page as a Document. Raises ReadError when the body is not text (the checks files get),
    ValueError when an HTML page has no article text."""
    media_type = (result.content_type or "").split(";")[0].strip().lower()
    text = check_content(result.body or b"", result.text or "", result.encoding)
    doc = Document(
        source=redact_url(result.url, secret), source_kind="url", raw_text=text,
        raw_sha256=result.content_sha256 or "", encoding=result.encoding, media_type=media_type or "text/html",
        url=stored_url(result.final_url or result.url, secret),  # a redirect's tracking tags go too
    )
    looks_html = "<html" in text[:2000].lower()
    if not looks_html and (media_type in FEED_TYPES or _FEED_ROOT.match(text)):
        raise ReadError("not_an_article", f"a feed or sitemap ({media_type or 'XML'}), not an article page: "
                                          "give it as a feed (`newsflow ingest --feed URL`, the flow's `feeds`)")
    if media_type in HTML_TYPES or not media_type or looks_html:
        try:
            fill_from_html(doc, text)
        except ReadError as exc:
            raise ValueError(exc.detail) from exc
    return doc


def stored_url(url: str, secret_params) -> str:
    """An article URL as the warehouse keeps it, fetched or named by a record's `url` field:
    normalised (`article_url`) and its secrets redacted."""
    return redact_url(article_url(url), secret_params)


def stored_urls(urls: list[str], settings: FetchSettings) -> list[str]:
    """The URLs as the warehouse keeps them (redacted): the keys of the stored fetch state."""
    return [redact_url(u, settings.redact_query_params) for u in urls]


def fetch_batch(urls: list[str], settings: FetchSettings, fetch_state: dict, memory: HostMemory | None = None
                ) -> WebBatch:
    """Fetch one batch of article URLs (conditional GETs from the stored fetch state, which is
    keyed by the redacted URL); `memory` is what the run knows of the hosts so far."""
    stored = previous_fetches(fetch_state)
    previous = {url: stored[key] for url, key in zip(urls, stored_urls(urls, settings)) if key in stored}
    return fetch_results_to_batch(fetch_urls(urls, settings, previous, memory), settings.redact_query_params)


def discover_feed_entries(feeds: list[str], settings: FetchSettings, memory: HostMemory | None = None
                          ) -> tuple[list[tuple[str, date | None]], list[Failure]]:
    """The article URLs the feeds and sitemaps list, each with the date its entry gives (None when
    it gives none), and a failure per feed that could not be read or listed nothing."""
    from tasks.sources.feeds import discover_article_entries

    found, failed, _ = discover_article_entries(feeds, settings, memory=memory)
    secret = settings.redact_query_params
    return found, [Failure(redact_url(r.url, secret), "fetch", r.error or f"http_{r.status}",
                           redact_text(r.detail, secret)) for r in failed]
