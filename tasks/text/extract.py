"""Main text and metadata from an HTML page.

Method (measured by `bench/extraction.py`):

1. trafilatura (the field's reference), comments off, tables kept, first in fast
   mode (main extractor only); its full cascade (readability/justext comparison,
   recall escalation) runs only when the fast text covers < 15% of the page's
   visible text, a sign that the main extractor locked onto a small block.
   The page is parsed once; metadata (title, author, date, site name, language)
   come from meta tags / JSON-LD / <title> via trafilatura's metadata helpers, the
   date from explicit markup first and htmldate (non-extensive) as fallback.
2. A line-level post-cleaner removes what trafilatura leaves behind most often:
   * the headline repeated as the first line(s) of the body (it is kept in `title`);
   * short stand-alone boilerplate lines anywhere: "Advertisement", "Continue
     reading below", "Skip to main content", affiliate disclosures, share/print
     widgets, copyright notices, "Updated: <date>" stamps, tables of contents headings;
   * a boilerplate tail: from the first section heading in the last part of the text
     that introduces related links, newsletters, author boxes, references to other
     posts ("Related articles", "Further reading", "Subscribe", "About the author"...)
     to the end, when what follows is short or list-like.
   Rules are generic patterns of web page furniture, not fitted to individual sites.

`extract_html` never raises for bad HTML: it returns an `Extracted` with empty text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import trafilatura
from lxml import etree

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

__all__ = ["Extracted", "extract_html", "clean_extracted_text"]


@dataclass
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    date: date | None = None
    sitename: str | None = None
    language: str | None = None
    description: str | None = None
    removed_lines: list[tuple[str, str]] = field(default_factory=list)  # (line, rule)


# --- post-cleaning rules -------------------------------------------------------------

_WORD_RE = re.compile(r"\w+", re.UNICODE)

_DATE_WORDS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?|\d{1,4}(?:st|nd|rd|th)?"
)

# Whole short lines that are page furniture wherever they appear.
_LINE_RULES: list[tuple[str, re.Pattern]] = [
    (
        "widget",
        re.compile(
            r"^(?:advertisement|skip advertisement|ad|sponsored|skip to (?:main )?content|"
            r"continue reading(?: below)?|read more\W*|read more \W|back to (?:top|contents)|jump to\W*|"
            r"share(?: this(?: article| post| story)?)?\W*|print|email|tweet|copy url(?: for sharing)?|"
            r"copy link|listen to (?:this )?article|contents|table of contents|in this article\W*|"
            r"toggle|menu|search|close|loading\W*|download(?:download)?|comments?|"
            r"\d+ comments?|leave a (?:reply|comment)|click here.*|scroll to top)\W*$",
            re.I,
        ),
    ),
    (
        "disclosure",
        re.compile(
            r"(?:we may (?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)|"
            r"may contain affiliate links|contains affiliate links|as an amazon associate|"
            r"affiliate links?,? (?:which|meaning)|earn from qualifying purchases)",
            re.I,
        ),
    ),
    ("copyright", re.compile(r"^(?:copyright\b|©|\(c\)\s*\d{4})|all rights reserved\W*$", re.I)),
    (
        "date_stamp",
        re.compile(
            r"^(?:last\s+)?(?:updated|published|posted|modified|reviewed)(?:\s+on)?\s*:?\s*"
            r"(?:(?:" + _DATE_WORDS + r")[\s,./-]*){1,4}(?:·.*read)?\W*$",
            re.I,
        ),
    ),
    (
        "subscribe",
        re.compile(
            r"^(?:subscribe|sign up|join our|get (?:the|our) (?:latest|newsletter)|"
            r"discover more from|follow us|follow me)\b.{0,80}$",
            re.I,
        ),
    ),
]

_CODE_CHARS = re.compile(r"[(){};=<>\[\]]")

# Section headings that start a boilerplate tail.
_TAIL_HEADING = re.compile(
    r"^(?:#+\s*)?(?:"
    r"related(?: (?:articles?|posts?|stories|content|reading|resources|links|topics|guides))?|"
    r"(?:see|read) also|further reading|recommended(?: (?:for you|reading|articles?|posts?))?|"
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|"
    r"more (?:from|on|articles?|stories|posts|news|helpful articles|like this|to read|in)\b.*|"
    r"(?:popular|trending|latest|recent)(?: (?:posts?|articles?|stories|news))?|"
    r"read (?:next|more)|up next|what to read next|keep reading|"
    r"about the authors?|about us|author bio|meet the author|"
    r"(?:media|press) contacts?|"
    r"share (?:this|the) (?:article|post|story)|tags?|filed under|categories|topics|"
    r"(?:leave a |post a )?(?:comments?|reply|responses?)|"
    r"subscribe.*|sign up.*|(?:join|get) our newsletter.*|newsletter|discover more from.*|"
    r"(?:image|photo) (?:references|credits|sources)|additional .{0,30}resources|"
    r"other .{0,30}(?:stories|articles|posts)"
    r")\s*:?\s*$",
    re.I,
)
# Headings whose section is boilerplate even when written as prose (author boxes,
# legal small print): cut from there when it starts in the last part of the text.
_STRONG_TAIL_HEADING = re.compile(
    r"^(?:#+\s*)?(?:about the (?:authors?|reviewers?|writer|contributors?)|author bio(?:graphy)?|"
    r"(?:media|press) (?:contacts?|inquiries)|disclaimers?(?: (?:&|and) disclosures?)?|disclosures?|"
    r"important (?:disclosures?|information))\s*:?\s*$",
    re.I,
)
_STRONG_TAIL_START_SHARE = 0.6
_TAIL_START_SHARE = 0.5  # only consider headings in the last half of the text
_MAX_TAIL_PROSE_WORDS = 80  # a tail with more running prose than this is likely content


def _norm_words(s: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(s)]


def _is_title_line(line: str, title: str | None) -> bool:
    if not title:
        return False
    lw, tw = _norm_words(line), _norm_words(title)
    if not lw or not tw:
        return False
    if lw == tw:
        return True
    # headline with a site suffix or prefix ("Title | Site", "Site: Title")
    n = len(lw)
    if n >= 3 and n <= len(tw) and (tw[:n] == lw or tw[-n:] == lw):
        return n >= 0.6 * len(tw)
    if len(tw) >= 3 and len(tw) <= n and lw[: len(tw)] == tw and n - len(tw) <= 2:
        return True
    return False


def _tail_is_boilerplate(lines: list[str]) -> bool:
    """What follows a tail heading: link lists / short teasers rather than running prose."""
    prose_words = items = 0
    for ln in lines:
        if _CODE_CHARS.search(ln):
            return False  # code listings are content
        words = _WORD_RE.findall(ln)
        if ln.lstrip().startswith(("-", "•", "·", "*", "|")) or len(words) <= 12:
            items += 1
        else:
            prose_words += len(words)
    return prose_words <= _MAX_TAIL_PROSE_WORDS and items >= 0.5 * len(lines)


def clean_extracted_text(text: str, title: str | None = None) -> tuple[str, list[tuple[str, str]]]:
    """Remove leftover boilerplate lines; returns (text, [(removed line, rule)])."""
    removed: list[tuple[str, str]] = []
    lines = [ln.rstrip() for ln in text.split("\n")]
    # 1. headline repeated at the top (within the first 3 non-empty lines)
    seen = 0
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        seen += 1
        if _is_title_line(ln, title):
            removed.append((ln, "title"))
            lines[i] = ""
            break
        if seen >= 3:
            break
    # 2. stand-alone furniture lines
    kept: list[str] = []
    for ln in lines:
        s = ln.strip()
        if not s:
            continue
        rule = None
        words = _WORD_RE.findall(s)
        if len(words) <= 25 and not _CODE_CHARS.search(s):
            for name, pat in _LINE_RULES:
                if pat.search(s):
                    rule = name
                    break
        if rule:
            removed.append((ln, rule))
        else:
            kept.append(ln)
    # 3. boilerplate tail
    total = sum(len(ln) for ln in kept)
    pos = 0
    for i, ln in enumerate(kept):
        if total and pos >= _STRONG_TAIL_START_SHARE * total and _STRONG_TAIL_HEADING.match(ln.strip()):
            removed.extend((x, "tail") for x in kept[i:])
            kept = kept[:i]
            break
        if total and pos >= _TAIL_START_SHARE * total and _TAIL_HEADING.match(ln.strip()):
            if _tail_is_boilerplate(kept[i + 1 :]):
                removed.extend((x, "tail") for x in kept[i:])
                kept = kept[:i]
                break
        pos += len(ln)
    return "\n".join(kept).strip(), removed


# --- extraction ----------------------------------------------------------------------

_TRAFILATURA_KWARGS = dict(
    include_comments=False,
    include_tables=True,
    include_images=False,
    include_links=False,
    with_metadata=False,  # metadata are read by `_metadata` below, more cheaply
    output_format="python",
)
_ESCALATE_SHARE = 0.15
_ESCALATE_MIN_CHARS = 250
# htmldate without its extensive (slow, error-prone) free-text search
_DATE_PARAMS = dict(extensive_search=False, original_date=True, outputformat="%Y-%m-%d")


def _parse_date(value) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    # field note: extractors return future dates; reject them
    if d > date.today():
        return None
    return d


_DATE_META = etree.XPath(
    './/meta[@property="article:published_time" or @name="article:published_time"'
    ' or @property="og:published_time" or @itemprop="datePublished" or @name="pubdate"'
    ' or @name="publishdate" or @name="publish-date" or @name="parsely-pub-date"'
    ' or @name="sailthru.date" or @name="dc.date.issued" or @name="DC.date.issued"]/@content'
    ' | .//*[@itemprop="datePublished"]/@datetime'
)
_JSONLD = etree.XPath('.//script[@type="application/ld+json"]/text()')
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def _published_date(tree) -> date | None:
    """Publication date from explicit markup (meta tags, microdata, JSON-LD): cheap and
    reliable; htmldate is the fallback when none is present."""
    try:
        for value in _DATE_META(tree):
            d = _parse_date(str(value).strip())
            if d:
                return d
        for script in _JSONLD(tree):
            m = _JSONLD_DATE.search(script)
            if m:
                d = _parse_date(m.group(1))
                if d:
                    return d
    except Exception:
        return None
    return None


def _language(tree) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang:
        for el in tree.iterfind(".//meta[@http-equiv]"):
            if el.get("http-equiv", "").lower() == "content-language":
                lang = el.get("content")
                break
    if not lang:
        return None
    lang = lang.strip().split(",")[0].split("-")[0].split("_")[0].lower()
    return lang if re.fullmatch(r"[a-z]{2,3}", lang) else None


def _metadata(tree, url: str | None) -> dict:
    """Title, author, date, site name, description, language from meta tags, JSON-LD,
    <title>/<h1> and htmldate (non-extensive). A lighter version of
    trafilatura.extract_metadata: it skips the categories/tags/licence scans and the
    costly free-text author search, which together doubled extraction time."""
    out: dict = {}
    try:
        from htmldate import find_date
        from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title

        md = examine_meta(tree)
        if md.author and " " not in md.author:
            md.author = None
        try:
            md = extract_meta_json(tree, md)
        except Exception:
            pass
        if not md.title:
            md.title = extract_title(tree)
        if not md.sitename:
            md.sitename = extract_sitename(tree)
        out.update(
            title=md.title, author=md.author, sitename=(md.sitename or "").lstrip("@") or None,
            description=md.description,
        )
        out["date"] = _published_date(tree)
        if out["date"] is None:
            try:
                out["date"] = _parse_date(find_date(tree, url=url, **_DATE_PARAMS))
            except Exception:
                out["date"] = None
    except Exception:  # internal trafilatura API changed: use the public (slower) one
        md = trafilatura.extract_metadata(tree, url)
        out.update(
            title=md.title, author=md.author, sitename=md.sitename, description=md.description,
            date=_parse_date(md.date),
        )
    out["title"] = _trim_title(out.get("title"), out.get("sitename"))
    out["language"] = _language(tree)
    return out


_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


def _trim_title(title: str | None, sitename: str | None) -> str | None:
    """Drop a site-name prefix/suffix ("Headline | Site") from a page title."""
    if not title:
        return None
    title = " ".join(title.split())
    if not sitename:
        return title
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    site = _norm_words(sitename)
    if _norm_words(parts[-1]) == site or (site and _norm_words(parts[-1])[: len(site)] == site):
        return _TITLE_SEPARATORS.split(title)[0] if len(parts) == 2 else title[: title.rfind(parts[-1])].rstrip(" |-–—:·•»")
    if _norm_words(parts[0]) == site:
        return title[len(parts[0]) :].lstrip(" |-–—:·•»")
    return title


_STRIP_BEFORE_EXTRACTION = ("script", "style", "svg", "template", etree.Comment)
def _page_text_chars(tree) -> int:
    """Non-blank characters of the page body (scripts/styles already stripped).
    Stands in for trafilatura.html2txt, which cleans a copy of the tree and costs ~5x more."""
    body = tree.find(".//body")
    if body is None:
        body = tree
    try:
        return len("".join(body.text_content().split()))
    except Exception:
        return 0


def _trafilatura_text(tree, url: str | None, fast: bool) -> str:
    try:
        doc = trafilatura.bare_extraction(tree, url=url, fast=fast, **_TRAFILATURA_KWARGS)
    except Exception:  # trafilatura/lxml raise on some malformed inputs
        return ""
    return (doc.text or "") if doc is not None else ""


def _main_text(tree, url: str | None) -> str:
    """Cheap pass first, full cascade only on suspected under-extraction.

    trafilatura's fast mode (main extractor only) agrees with its full cascade on most
    pages and is ~2x faster. When it returns little of the page's visible text
    (< `_ESCALATE_SHARE`), the main extractor probably locked onto a small block
    (a teaser, a testimonial box): then run the full cascade, which compares with
    readability/justext and escalates to recall mode.
    """
    text = _trafilatura_text(tree, url, fast=True)
    if len(text) < _ESCALATE_MIN_CHARS or len(text) < _ESCALATE_SHARE * _page_text_chars(tree):
        full = _trafilatura_text(tree, url, fast=False)
        if full:
            text = full
    return text


def extract_html(html: str | bytes, url: str | None = None) -> Extracted:
    """Main text and metadata of an HTML page (see module docstring for the method)."""
    if not html or not html.strip():
        return Extracted(text="")
    try:
        tree = trafilatura.load_html(html)
    except Exception:
        tree = None
    if tree is None:
        return Extracted(text="")
    try:
        meta = _metadata(tree, url)
    except Exception:
        meta = {}
    # script/style/svg blocks are never text and trafilatura removes them anyway, but its
    # raw-tree xpath pruning walks them first: dropping them here (after the metadata,
    # which read JSON-LD scripts) saves ~15% of extraction time
    if _STRIP_BEFORE_EXTRACTION:
        etree.strip_elements(tree, *_STRIP_BEFORE_EXTRACTION, with_tail=False)
    raw = _main_text(tree, url)
    text, removed = clean_extracted_text(raw, meta.get("title"))
    return Extracted(text=text, removed_lines=removed, **meta)
