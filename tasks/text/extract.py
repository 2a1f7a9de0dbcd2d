"""Main text and metadata from an HTML page.

Method (measured by `bench/extraction.py`):

1. trafilatura (the field's reference), comments off, tables kept, first in fast
   mode (main extractor only); its full cascade (readability/justext comparison,
   recall escalation) runs only when the fast text covers < 15% of the page's
   visible text, a sign that the main extractor locked onto a small block, or when
   less than a quarter of the fast text is running prose (lines of >= 80 characters),
   a sign that it locked onto a navigation menu or link list instead of the article
   (an article inside an <aside>); in that second case the full text is taken only
   when it holds more prose than the fast one.
   Tables are kept, one row a line ("cell | cell"); list items are "- item" lines.
   The page is parsed once; metadata come from the page's own markup in a fixed order
   of sources, and the source that won is returned (`_metadata`): title from JSON-LD,
   the sole <h1>, og:title, twitter:title, <title>; author from JSON-LD, meta tags,
   byline elements; the date from explicit markup first, htmldate (non-extensive) after.
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
from html import unescape as unescape_entities
from datetime import date, datetime

import trafilatura
from lxml import etree

from tasks.text.sentences import TABLE_CELLS

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
    title_source: str | None = None  # which markup the title came from (see `_metadata`)
    author_source: str | None = None
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
_TABLE_RULE = re.compile(r"^\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?\|?$")

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
    # 2. stand-alone furniture lines; table rows made readable on the way
    kept: list[str] = []
    for ln in lines:
        s = ln.strip()
        if not s or _TABLE_RULE.match(s):
            continue  # blank, or the |---|---| line under a table's header row
        if s.startswith("|") and s.endswith("|") and len(s) > 1:
            # trafilatura writes a table row as "| cell | cell |": one row a line, cells
            # separated by " | ", without the outer bars
            ln = s = TABLE_CELLS.join(c.strip() for c in s[1:-1].split("|") if c.strip())
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
# a line of running prose (a paragraph) rather than a menu item, a link or a heading
_PROSE_LINE_CHARS = 80
_ESCALATE_PROSE_SHARE = 0.25
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
    """Title, author, date, site name, description, language from the page's own markup.

    Title and author each come from the first source that has one, in this order, and the
    winner is recorded (`title_source`, `author_source`, stored with the document):

    * title: JSON-LD ``headline`` (schema.org Article types) > the page's only ``<h1>`` (the
      headline readers see) > Open Graph ``og:title`` > ``twitter:title`` > ``<title>``,
      each without a site-name prefix/suffix. ``og:title`` comes after a sole ``<h1>``
      because it is often a social-media variant of the headline (measured on the dev
      pages: h1 first 172/200 exact, og first 160).
    * author: JSON-LD ``author`` > author meta tags (``author``, ``article:author``,
      ``itemprop=author`` meta ...) > a byline element in the page (``itemprop="author"``,
      ``rel="author"``, class ``byline``/``author``) holding a person's name. The cleaner's
      "By ..." line in the text is the last resort (source ``byline``, see tasks/batch.py).

    JSON-LD and meta tags are read with trafilatura's metadata helpers (already a
    dependency); extruct was considered and left out: it pulls rdflib, pyRdfa, mf2py,
    html5lib and BeautifulSoup (10 packages, ~0.5 s import in every worker) to read what
    trafilatura reads already. The date: explicit markup first, htmldate (non-extensive)
    as fallback."""
    out: dict = {}
    try:
        from htmldate import find_date
        from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename
        from trafilatura.settings import Document as _MetaDoc

        meta = examine_meta(tree)
        try:
            ld = extract_meta_json(tree, _MetaDoc())
        except Exception:
            ld = _MetaDoc()
        sitename = (ld.sitename or meta.sitename or extract_sitename(tree) or "").lstrip("@") or None
        out["sitename"] = sitename
        out["description"] = ld.description or meta.description
        out["title"], out["title_source"] = _pick_title(tree, ld.title, sitename)
        out["author"], out["author_source"] = _pick_author(tree, ld.author, meta.author)
        out["date"] = _published_date(tree)
        if out["date"] is None:
            try:
                out["date"] = _parse_date(find_date(tree, url=url, **_DATE_PARAMS))
            except Exception:
                out["date"] = None
    except Exception:  # internal trafilatura API changed: use the public (slower) one
        md = trafilatura.extract_metadata(tree, url)
        out.update(
            title=_trim_title(md.title, md.sitename), title_source="trafilatura" if md.title else None,
            author=md.author, author_source="trafilatura" if md.author else None,
            sitename=md.sitename, description=md.description, date=_parse_date(md.date),
        )
    out["language"] = _language(tree)
    return out


_H1 = etree.XPath(".//h1")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


def _trim_title(title: str | None, sitename: str | None, guess: bool = True) -> str | None:
    """Drop a site-name prefix/suffix ("Headline | Site", "Site - Headline") from a title.
    Without a known site name and with `guess`, a short last part (<= 4 words) after a
    separator is taken for one when the headline before it has >= 3 words ("Brief History of
    Coffee - Acme"). JSON-LD's headline is not guessed at: it is the headline field itself, and
    a short tail there is the headline's own ("Rückschlag im Titelkampf - Liverpool verliert bei
    Everton"; multilingual dev pages: 76 -> 82 of 95 exact)."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    last, first = parts[-1], parts[0]
    head = title[: title.rfind(last)].rstrip(" |-–—:·•»")
    site = _norm_words(sitename) if sitename else []
    if site and (_norm_words(last)[: len(site)] == site or _norm_words(last) == site):
        return head
    if site and _norm_words(first) == site:
        return title[len(first):].lstrip(" |-–—:·•»")
    if guess and len(last.split()) <= 4 and len(head.split()) >= 3:
        return head
    return title


_OG_TITLE = etree.XPath('.//meta[@property="og:title" or @name="og:title"]/@content')
_TWITTER_TITLE = etree.XPath('.//meta[@name="twitter:title" or @property="twitter:title"]/@content')
_TITLE_TAG = etree.XPath(".//title")
_BYLINE_ELEMENTS = etree.XPath(
    './/*[@itemprop="author"] | .//a[@rel="author"]'
    ' | .//*[contains(@class, "byline") or contains(@class, "author")]'
)


def _text_of(el) -> str:
    try:
        return " ".join(el.text_content().split())
    except Exception:
        return ""


def _pick_title(tree, jsonld_title: str | None, sitename: str | None) -> tuple[str | None, str | None]:
    # JSON-LD is JSON inside a <script>: HTML entities ("zerst&ouml;ren", "&quot;") stay literal
    jsonld_title = " ".join(unescape_entities(jsonld_title or "").split())
    if jsonld_title:
        return _trim_title(jsonld_title, sitename, guess=False), "json-ld"
    h1s = _H1(tree)
    if len(h1s) == 1:
        h1 = _text_of(h1s[0])
        if 2 <= len(h1) <= 300:
            return h1, "h1"
    for xpath, source in ((_OG_TITLE, "open-graph"), (_TWITTER_TITLE, "twitter")):
        values = [" ".join(str(v).split()) for v in xpath(tree)]
        value = next((v for v in values if v), None)
        if value:
            return _trim_title(value, sitename), source
    titles = _TITLE_TAG(tree)
    title = _text_of(titles[0]) if titles else ""
    if title:
        return _trim_title(title, sitename), "title-tag"
    return None, None


_BY_PREFIX = re.compile(r"^.{0,40}?\bby\b[:\s]*", re.I)
_NAME_CUT = re.compile(
    r"\s*(?:[|,;•·(]|\s[-–—]\s|\b(?:and|with|senior|staff|reporter|editor|writer|correspondent|contributor|"
    r"columnist|chief|managing|updated|published|posted|on|jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|"
    r"may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b|\d).*$",
    re.I,
)
# widget and team words that look like a capitalised name in an author box ("Sign In", "Our Team")
_NOT_NAME_WORDS = frozenset(
    "sign log in out up share follow view more posts post read about team all the our us home menu search "
    "subscribe contact editors editorial staff news admin guest author authors comments reply".split()
)
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|[A-ZÀ-ÖØ-Þ]\.|(?:de|da|del|van|von|der|den|la|le|bin|al|dos|du)\b)$")


def _person_name(text: str) -> str | None:
    """A person's name out of a byline element's text ("By Jane Doe | Reporter, 2 May 2024"),
    or None when it does not look like one (2-4 capitalised words)."""
    s = _BY_PREFIX.sub("", " ".join(text.split()))
    s = _NAME_CUT.sub("", s).strip(" .:-–—")
    words = s.split()
    if not 2 <= len(words) <= 4 or len(s) > 60:
        return None
    if not all(_NAME_WORD.match(w) for w in words) or not words[-1][0].isupper():
        return None
    if any(w.casefold().strip(".") in _NOT_NAME_WORDS for w in words):
        return None
    return s


def _pick_author(tree, jsonld_author: str | None, meta_author: str | None) -> tuple[str | None, str | None]:
    for value, source in ((unescape_entities(jsonld_author or ""), "json-ld"), (meta_author, "meta")):
        value = " ".join((value or "").split())
        # a single word is usually a site or a handle, not a person's name
        if value and " " in value and not value.startswith("http"):
            return value, source
    try:
        for el in _BYLINE_ELEMENTS(tree)[:20]:
            name = _person_name(_text_of(el))
            if name:
                return name, "byline-markup"
    except Exception:
        return None, None
    return None, None


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


def _prose_chars(text: str) -> int:
    """Characters in lines of running prose (>= `_PROSE_LINE_CHARS`): paragraphs, not menu items."""
    return sum(n for n in map(len, text.split("\n")) if n >= _PROSE_LINE_CHARS)


def _main_text(tree, url: str | None) -> str:
    """Cheap pass first, full cascade only on suspected under-extraction.

    trafilatura's fast mode (main extractor only) agrees with its full cascade on most
    pages and is ~2x faster. Two signs that it went wrong, and then the full cascade runs
    (it compares with readability/justext and escalates to recall mode):

    * it returns little of the page's visible text (< `_ESCALATE_SHARE`): the main
      extractor probably locked onto a small block (a teaser, a testimonial box); the
      full text is taken whenever there is one;
    * less than `_ESCALATE_PROSE_SHARE` of its text is running prose: it probably
      locked onto the site's menus or a link list (seen when the article sits in an
      element the main extractor prunes, such as <aside>); the full text is taken only
      when it holds more prose, so a real list- or table-shaped article stays as it was.
    """
    text = _trafilatura_text(tree, url, fast=True)
    small = len(text) < _ESCALATE_MIN_CHARS or len(text) < _ESCALATE_SHARE * _page_text_chars(tree)
    prose = _prose_chars(text)
    if small or prose < _ESCALATE_PROSE_SHARE * len(text):
        full = _trafilatura_text(tree, url, fast=False)
        if full and (small or _prose_chars(full) > prose):
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
