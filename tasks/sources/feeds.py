"""Article URL discovery from RSS/Atom feeds and XML sitemaps.

* `parse_feed(xml, base_url)` — RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 → [(url, date)].
* `parse_sitemap(xml, base_url)` — a `<urlset>` gives its page URLs; a
  `<sitemapindex>` gives its CHILD SITEMAP URLs (use `sitemap_kind` to tell them
  apart). `discover_article_entries` is the one that recurses: it fetches the child
  sitemaps of an index through the fetcher (same safety and politeness rules),
  one level deep (an index of indexes goes one more level, up to
  `MAX_SITEMAP_DEPTH`), at most `MAX_CHILD_SITEMAPS` children per index.
* Dates: RSS pubDate (RFC 822), dc:date, Atom published/updated, sitemap
  news:publication_date, else lastmod (ISO 8601). Future dates are dropped (None).
* XML is parsed with lxml without entity resolution, DTD loading or network
  access (no XXE / billion-laughs expansion), in recover mode for sloppy feeds.
* Relative links are resolved against xml:base, then `base_url`; only http(s)
  URLs are returned, de-duplicated, in document order. A gzipped sitemap
  (`.xml.gz`, served as application/gzip or octet-stream, or a gzip body) is
  unpacked up to the fetcher's body limit (`too_large` beyond).
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
import zlib
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

from tasks.sources.fetch import FetchResult, FetchSettings, HostMemory, PreviousFetch, fetch_many

__all__ = [
    "parse_feed",
    "parse_sitemap",
    "sitemap_kind",
    "discover_article_entries",
    "discover_article_entries_async",
]

_NEVER_PAGES = re.compile(r"(?:mailto|javascript|tel|sms|data|about):", re.I)
MAX_SITEMAP_DEPTH = 2
MAX_CHILD_SITEMAPS = 50

_PARSER_KW = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True,
                  remove_comments=True, remove_pis=True)
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


# Feeds are often hand-built: `?id=5&lang=en` unescaped. lxml's recovery drops what follows the
# bare `&` and loses its place for the escaped ones after it too (`?id=6&amp;lang=en` came out
# as `id=6lang=en`); read a bare `&` as the literal it means, as feed readers do.
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z_][\w.-]*;)")


def _parse_xml(xml: bytes | str):
    if isinstance(xml, str):
        # lxml refuses str input with an encoding declaration
        xml = xml.encode("utf-8")
        xml = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", xml, count=1)
    xml = xml.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not xml:
        return None
    if b"\x00" not in xml[:1024]:  # UTF-16 feeds are left to the parser
        xml = _BARE_AMPERSAND.sub(b"&amp;", xml)
    try:
        root = etree.fromstring(xml, etree.XMLParser(**_PARSER_KW))
    except etree.XMLSyntaxError:
        return None
    return root


def _local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _children(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _child_text(el, *names: str) -> str | None:
    for name in names:
        for c in el:
            if _local(c.tag) == name and c.text and c.text.strip():
                return c.text.strip()
    return None


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    value = value.strip()
    d: date | None = None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
        if m:
            try:
                d = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                d = None
        else:
            try:
                d = email.utils.parsedate_to_datetime(value).date()
            except (TypeError, ValueError, IndexError):
                d = None
    if d is not None and d > date.today():
        return None  # field notes: reject future dates
    return d


def _base_for(el, base_url: str | None) -> str | None:
    bases = [a.get(_XML_BASE) for a in reversed(list(el.iterancestors())) if a.get(_XML_BASE)]
    if el.get(_XML_BASE):
        bases.append(el.get(_XML_BASE))
    base = base_url
    for b in bases:
        base = urljoin(base or "", b)
    return base


def _absolute(url: str | None, base: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _dedupe(entries: list[tuple[str, date | None]]) -> list[tuple[str, date | None]]:
    seen: dict[str, date | None] = {}
    for url, d in entries:
        if url not in seen:
            seen[url] = d
    return list(seen.items())


def parse_feed(xml: bytes | str, base_url: str | None = None) -> list[tuple[str, date | None]]:
    """Item links of an RSS 2.0 / RSS 1.0 (RDF) / Atom feed, with their dates. [] if not a feed."""
    root = _parse_xml(xml)
    return [] if root is None else _feed_entries(root, base_url)[0]


def _feed_entries(root, base_url: str | None) -> tuple[list[tuple[str, date | None]], list[str]]:
    """(http(s) item links with their dates, the links given that are not http(s): file:, ftp:, mailto: ...)."""
    kind = _local(root.tag)
    out: list[tuple[str, date | None]] = []
    skipped: list[str] = []
    if kind == "feed":  # Atom
        for entry in root.iter("{*}entry"):
            href = None
            for link in _children(entry, "link"):
                rel = (link.get("rel") or "alternate").lower()
                if rel == "alternate" and link.get("href"):
                    href = link.get("href")
                    break
            if href is None:  # some feeds only give rel="self" or an id URL
                href = next((l.get("href") for l in _children(entry, "link") if l.get("href")), None)
            if href is None:
                ident = _child_text(entry, "id")
                href = ident if ident and ident.startswith(("http://", "https://")) else None
            _add_link(out, skipped, href, _base_for(entry, base_url),
                      lambda: _parse_date(_child_text(entry, "published", "updated", "issued", "modified")))
    elif kind in ("rss", "rdf", "channel"):
        for item in root.iter("{*}item", "item"):
            href = _child_text(item, "link")
            if not href:
                for g in _children(item, "guid"):
                    if g.text and (g.get("isPermaLink", "true").lower() == "true"):
                        href = g.text.strip()
                        break
            if not href:
                href = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            _add_link(out, skipped, href, _base_for(item, base_url),
                      lambda: _parse_date(_child_text(item, "pubdate", "date", "published", "updated")))
    return _dedupe(out), skipped


def _add_link(out: list, skipped: list[str], href: str | None, base: str | None, day) -> None:
    """Append an entry's absolute http(s) link and its date (`day()`), or note the link it gave that is not one."""
    url = _absolute(href, base)
    if url:
        out.append((url, day()))
    elif href and href.strip():
        skipped.append(href.strip())


def sitemap_kind(xml: bytes | str) -> str | None:
    """"urlset", "sitemapindex", or None when the document is not a sitemap."""
    root = _parse_xml(xml)
    if root is None:
        return None
    kind = _local(root.tag)
    return kind if kind in ("urlset", "sitemapindex") else None


def _sitemap_entries(root, base_url: str | None) -> tuple[list[tuple[str, date | None]], list[str]]:
    kind = _local(root.tag)
    child = "url" if kind == "urlset" else "sitemap"
    out: list[tuple[str, date | None]] = []
    skipped: list[str] = []
    for el in root.iter("{*}" + child, child):
        # a news sitemap's publication date first: lastmod is the page's last edit, days later
        _add_link(out, skipped, _child_text(el, "loc"), base_url, lambda: next(
            (_parse_date(news.text) for news in el.iter("{*}publication_date")), None)
            or _parse_date(_child_text(el, "lastmod")))
    return _dedupe(out), skipped


def parse_sitemap(xml: bytes | str, base_url: str | None = None) -> list[tuple[str, date | None]]:
    """Entries of a sitemap: page URLs for a <urlset>, child sitemap URLs for a
    <sitemapindex> (check `sitemap_kind`); [] if not a sitemap."""
    root = _parse_xml(xml)
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return []
    return _sitemap_entries(root, base_url)[0]


def _as_failure(result: FetchResult, error: str, detail: str) -> FetchResult:
    return dataclasses.replace(result, ok=False, error=error, detail=detail)


# most news sites gzip their sitemaps (sitemap-2026-12.xml.gz); their servers call them these
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})


def _gunzipped(body: bytes, max_bytes: int) -> bytes:
    """A gzip body unpacked, at most `max_bytes` of it (a gzip bomb is `too_large`, as a body that
    size is); any other body as it is."""
    if body[:2] != b"\x1f\x8b":
        return body
    unpacker = zlib.decompressobj(wbits=31)
    out = unpacker.decompress(body, max_bytes + 1)
    if len(out) > max_bytes:
        raise ValueError(f"unpacked body over {max_bytes} bytes")
    return out


async def discover_article_entries_async(
    feed_or_sitemap_urls: list[str],
    settings: FetchSettings | None = None,
    previous: dict[str, PreviousFetch] | None = None,
    memory: HostMemory | None = None,
) -> tuple[list[tuple[str, date | None]], list[FetchResult], list[FetchResult]]:
    """Returns (entries, failures, fetched) where `fetched` are the successful source
    fetches (their validators can be stored as next run's `previous`)."""
    settings = settings or FetchSettings()
    entries: list[tuple[str, date | None]] = []
    failures: list[FetchResult] = []
    fetched: list[FetchResult] = []
    todo = [(u, 0) for u in dict.fromkeys(feed_or_sitemap_urls)]
    visited: set[str] = set()
    while todo:
        batch = [(u, d) for u, d in todo if u not in visited]
        todo = []
        if not batch:
            break
        visited.update(u for u, _ in batch)
        results = await fetch_many([u for u, _ in batch], settings, previous, memory, also_types=GZIP_TYPES)
        for (url, depth), r in zip(batch, results):
            if not r.ok:
                failures.append(r)
                continue
            fetched.append(r)
            if r.not_modified or r.unchanged:
                continue  # nothing new since last run
            base = r.final_url or url
            try:
                body = _gunzipped(r.body or b"", settings.max_body_bytes)
            except ValueError as exc:
                failures.append(_as_failure(r, "too_large", str(exc)))
                continue
            except zlib.error as exc:
                failures.append(_as_failure(r, "not_a_feed", f"a gzip body that does not unpack: {exc}"))
                continue
            root = _parse_xml(body)
            kind = _local(root.tag) if root is not None else ""
            if kind in ("rss", "rdf", "feed", "channel"):
                listed, skipped = _feed_entries(root, base)
            elif kind == "urlset":
                listed, skipped = _sitemap_entries(root, base)
            elif kind == "sitemapindex":
                if depth >= MAX_SITEMAP_DEPTH:
                    failures.append(_as_failure(r, "sitemap_too_deep", f"index nesting over {MAX_SITEMAP_DEPTH}"))
                    continue
                children, skipped = _sitemap_entries(root, base)
                if len(children) > MAX_CHILD_SITEMAPS:  # said, not dropped quietly
                    failures.append(_as_failure(r, "sitemaps_skipped", f"the index lists {len(children)} sitemaps; "
                                                f"the first {MAX_CHILD_SITEMAPS} were read"))
                    children = children[:MAX_CHILD_SITEMAPS]
                todo.extend((child, depth + 1) for child, _ in children)
                listed = children
            else:
                failures.append(_as_failure(r, "not_a_feed", f"root element {kind or '(unparseable)'!r}"))
                continue
            # links that could be pages, said rather than dropped quietly (mailto:, javascript: ... never are)
            skipped = [h for h in skipped if not _NEVER_PAGES.match(h)]
            said = (f"{len(skipped)} listed link(s) not http(s), not fetched: "
                    f"{', '.join(repr(h[:80]) for h in skipped[:3])}{' ...' if len(skipped) > 3 else ''}")
            if not listed:
                # an empty feed, or one whose content was stripped (entities left unexpanded,
                # recovered XML), would otherwise look like a quiet day
                what = "sitemap" if kind in ("urlset", "sitemapindex") else "feed"
                failures.append(_as_failure(r, f"empty_{what}", f"<{kind}> lists no http(s) links"
                                            + (f"; {said}" if skipped else "")))
                continue
            if skipped:
                failures.append(_as_failure(r, "links_skipped", said))
            if kind != "sitemapindex":
                entries.extend(listed)
    return _dedupe(entries), failures, fetched


def discover_article_entries(feed_or_sitemap_urls, settings=None, previous=None, memory=None):
    """Sync wrapper of `discover_article_entries_async`."""
    from tasks.sources.fetch import _run_sync

    return _run_sync(discover_article_entries_async(list(feed_or_sitemap_urls), settings, previous, memory))
