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
   the sole <h1>, og:title, twitter:title, <title>; author (a person first) from JSON-LD,
   meta tags, byline elements; the date from explicit markup first, htmldate (non-extensive) after.
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
import threading
from dataclasses import dataclass, field
from html import unescape as unescape_entities
from datetime import date, datetime

import trafilatura
from lxml import etree

from tasks.text.clean import repair_mojibake
from tasks.text.metadata import BYLINE_WORD, CONJUNCTION
from tasks.text.sentences import TABLE_CELLS
from tasks.text.tokens import COMBINING_MARKS

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

__all__ = ["Extracted", "extract_html", "clean_extracted_text"]


@dataclass
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    date: date | None = None
    date_raw: str | None = None  # the date as the markup wrote it ("2024-09-29T15:27:29.697Z")
    date_source: str | None = None  # markup | htmldate | element (a date line of the page, `_element_date`)
    page_chars: int | None = None  # set when extraction was skipped: the page's text is over `max_text_chars`
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


def _published_date(tree) -> tuple[date | None, str | None]:
    """Publication date from explicit markup (meta tags, microdata, JSON-LD), and the text it
    was read from: cheap and reliable; htmldate is the fallback when none is present."""
    try:
        for value in _DATE_META(tree):
            d = _parse_date(str(value).strip())
            if d:
                return d, str(value).strip()
        for script in _JSONLD(tree):
            m = _JSONLD_DATE.search(script)
            if m:
                d = _parse_date(m.group(1))
                if d:
                    return d, m.group(1)
    except Exception:
        return None, None
    return None, None


# elements a page shows its date in beside the headline: <time>, or a class or id that names a date
# ("published-date", "entry-top-info-time", "fecha", "datum", "data-pubblicazione")
_DATE_ELEMENTS = etree.XPath(
    './/time | .//*[not(self::html or self::body or self::article or self::main or self::section)]'
    '[re:test(concat(@class, " ", @id), "date|time|publi|posted|fecha|datum|data|zeit|hora", "i")]',
    namespaces={"re": "http://exslt.org/regular-expressions"})


def _longer_than(el, limit: int) -> bool:
    """True when the subtree holds more than `limit` non-blank characters, so `_text_of(el)`, which keeps
    each of them, is longer than `limit`; found without reading much more of it than that."""
    seen = 0
    for node in el.iter():
        for text in (node.text if isinstance(node.tag, str) else None, node.tail if node is not el else None):
            for i in range(0, len(text or ""), 256):
                seen += len("".join(text[i:i + 256].split()))
                if seen > limit:
                    return True
    return False


def _element_date(tree) -> tuple[date | None, str | None]:
    """The date a page shows as a line of its own in a date element, when no markup gives one:
    "jueves 2 de abril de 2020", "2020年07月03日", "15 августа 2016, 13:43", "Datum: 18.10.2021".
    trafilatura leaves such a line out of the body (the cleaner's datelines never see it) and
    htmldate's non-extensive search reads only markup. The element's text must be mostly a date
    (`metadata.dateline_match`, month names of `DATE_LOCALES`, CJK dates); the first such element
    after the page's first <h1> wins (a header's "today" date and teaser dates come before the
    article or far after it), else the first before it. Returns (date, the date as written): the
    cleaner parses that text again, so an ambiguous 03/04/2020 is read in the page's language order."""
    from tasks.text.metadata import dateline_match, publication_date

    try:
        found = []
        h1 = tree.find(".//h1")
        order = {el: i for i, el in enumerate(tree.iter())} if h1 is not None else {}
        h1_at = order.get(h1, -1)
        for el in _DATE_ELEMENTS(tree):
            if _IN_COMMENTS(el):
                continue
            # a wrapper of the article ("post-data") is no date line: its text is not read whole (200
            # nested wrappers of a 1 MB page took 6 s, each one's text built to be measured)
            for text in (el.get("datetime") if el.tag == "time" else None,
                         None if _longer_than(el, 160) else _text_of(el)):
                if text and len(text) <= 160:
                    m = publication_date(text) or dateline_match(text)
                    if m:
                        at = order.get(el, 0)
                        found.append((at < h1_at, at, m))
                        break
            if found and not found[-1][0]:
                break  # the first one after the headline
        if found:
            d, raw, _ = min(found, key=lambda f: (f[0], f[1]))[2]
            return _parse_date(d), raw
    except Exception:  # noqa: BLE001 - a last guess: when it trips on a page, the page stays undated as before
        pass
    return None, None


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
      pages: h1 first 172/200 exact, og first 160). Markup that is no headline gives way
      (see `_pick_title`): a blog's name in the <h1>, the site's name in JSON-LD, empty and
      repeated <h1>s; an all-caps <h1> takes og:title's case.
    * author: a person's name from JSON-LD ``author`` (every entry) > author meta tags (``author``,
      ``article:author``, ``itemprop=author`` meta ...) > a byline element in the page
      (``itemprop="author"``, ``rel="author"``, class ``byline``/``author``, outside comments);
      an organisation or the site only when no person is named (see `_pick_author`). The
      cleaner's "By ..." line in the text comes after a person from the markup and before an
      organisation (source ``byline``, see tasks/batch.py).

    Title, site name and description are read with trafilatura's metadata helpers (already a
    dependency); extruct was considered and left out: it pulls rdflib, pyRdfa, mf2py,
    html5lib and BeautifulSoup (10 packages, ~0.5 s import in every worker) to read what
    trafilatura reads already. The author is read from the JSON-LD and meta tags here
    (`_jsonld_authors`, `_meta_authors`): trafilatura's reader keeps only the first level of an
    author list, drops Organization authors and rewrites names ("Miguel A. Herguedas" ->
    "Miguel A Herguedas", "mdr.de" -> "Mdr De"); ~0.8 ms a page. The date: explicit markup first, htmldate (non-extensive)
    as fallback, then a date element's line (`_element_date`)."""
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
        jsonld = _jsonld_authors(tree)
        sitename = _spelled_out(_site_name([ld.sitename, meta.sitename, extract_sitename(tree)], [ld.title, meta.title]),
                                jsonld[2])
        out["sitename"] = sitename
        out["description"] = ld.description or meta.description
        out["title"], out["title_source"] = _pick_title(tree, ld.title, sitename)
        out["author"], out["author_source"] = _pick_author(tree, jsonld, ld.author, meta.author, sitename)
        out["date"], out["date_raw"] = _published_date(tree)
        out["date_source"] = "markup" if out["date"] else None
        if out["date"] is None:
            try:
                out["date"] = _parse_date(find_date(tree, url=url, **_DATE_PARAMS))
            except Exception:
                out["date"] = None
            out["date_source"] = "htmldate" if out["date"] else None
        if out["date"] is None:
            out["date"], out["date_raw"] = _element_date(tree)
            out["date_source"] = "element" if out["date"] else None
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


_SITE_NAME_EDGES = " |-–—:·•"  # not », which closes a name in quotes: Газета «Коммерсантъ»
_PLACEHOLDER_SITE_NAMES = frozenset({"username", "yourusername", "your_username", "yourhandle", "twitterhandle",
                                     "handle", "sitename", "site name", "yoursite", "your site"})


def _site_name(names: list[str | None], titles: list[str | None]) -> str | None:
    """The first site name that is not the page's headline: JSON-LD's "name" is sometimes the
    WebPage's ("Severe storms escalate in Gauteng", "<headline> | TechCrunch"), not the site's;
    then og:site_name, then what trafilatura reads from the page."""
    heads = {" ".join(t.casefold().split())[:20] for t in titles if t and len(t.split()) >= 3}
    # a separator left over from a "Headline | Site" template ("Parenting OC |"), and a theme's
    # placeholder never filled in (twitter:site "@username") name no site
    found = [n for n in ((name or "").strip().lstrip("@").strip(_SITE_NAME_EDGES) for name in names)
             if n and n.casefold() not in _PLACEHOLDER_SITE_NAMES]

    def headline(name: str) -> bool:
        key = " ".join(name.casefold().split())
        return len(name.split()) > 8 or any(key.startswith(h) for h in heads)

    # a blog's site name is its page title too: kept when nothing else names the site
    return next((n for n in found if not headline(n)), found[0] if found else None)


def _spelled_out(sitename: str | None, publishers: list[str]) -> str | None:
    """The publisher's name as it writes it for a site name that is its slug ("nationalpost",
    "@nationalpost": og:site_name and twitter:site) when the page's JSON-LD publisher is "National Post"."""
    if not sitename or " " in sitename.strip():
        return sitename
    key = re.sub(r"\W|_", "", sitename.casefold())
    return next((p for p in publishers if " " in p.strip() and re.sub(r"\W|_", "", p.casefold()) == key), sitename)


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


# phrasing elements: their text runs on with the text around them ("<b>By</b> <a>Jane Doe</a>");
# any other element is a box of its own, and its text is a word apart from its neighbours'
_INLINE_TAGS = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i ins kbd label mark q s samp small span strike "
    "strong sub sup time tt u var".split())


def _text_of(el) -> str:
    """An element's text as a reader sees it. `text_content()` glued the text of adjacent boxes:
    "<div>Scott Matton</div><div>March 3, 2025</div>" gave the author "Scott MattonMarch"
    (`_NAME_CUT` needs a word boundary), "<span>By</span><div>Maria Stoyanova</div>" gave
    "ByMaria Stoyanova"; a space now separates the text of block elements and <br>."""
    try:
        parts: list[str] = []
        stack = [(el, False)]
        while stack:
            node, closing = stack.pop()
            tag = node.tag.lower() if isinstance(node.tag, str) else None  # None: a comment, its tail counts
            box = tag is not None and tag not in _INLINE_TAGS
            if closing:
                if box:
                    parts.append(" ")
                if node is not el and node.tail:
                    parts.append(node.tail)
                continue
            if box:
                parts.append(" ")
            if tag is not None and node.text:
                parts.append(node.text)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node))
        return " ".join("".join(parts).split())
    except Exception:
        return ""


# a bar, a middle dot or a bullet only: a dash or colon and a few words are often the headline's own
_SECTION_SUFFIX = re.compile(r"\s*[|·•]\s*\S+(?:\s+\S+){0,2}\s*")


def _unescape_all(value: str) -> str:
    """HTML entities decoded, twice when the page escaped them twice ("finally&amp;#8230;")."""
    for _ in range(3):
        decoded = unescape_entities(value)
        if decoded == value:
            break
        value = decoded
    return value


def _h1_texts(tree) -> list[str]:
    """The page's <h1> texts, an empty one and a repeat (the same headline for another screen,
    in another case) counted once: neither makes a second headline."""
    out: list[str] = []
    seen: set[str] = set()
    for el in _H1(tree):
        text = _text_of(el)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _markup_titles(tree) -> list[tuple[str, str]]:
    """(text, source) of the page's og:title, twitter:title and first <title>, in that order, each
    its first non-empty value: read once, for the checks on the <h1> and as the last fallbacks."""
    found = []
    for xpath, source in ((_OG_TITLE, "open-graph"), (_TWITTER_TITLE, "twitter")):
        value = next((v for v in (" ".join(str(v).split()) for v in xpath(tree)) if v), "")
        if value:
            found.append((value, source))
    tags = _TITLE_TAG(tree)
    text = _text_of(tags[0]) if tags else ""
    if text:
        found.append((text, "title-tag"))
    return found


def _names_the_site(h1: str, sitename: str | None, titles: list[str]) -> bool:
    """A blog's name in its one <h1> (the post's own headline in an <h2>): the page's site name,
    or the short last part of its og:title/<title> after a separator ("A brief intro to git •
    Cory Dransfeldt" under <h1>Cory Dransfeldt</h1>)."""
    words = _norm_words(h1)
    if not words or len(words) > 4:  # a site's name is short; a headline taken for one is not
        return False
    if sitename and words == _norm_words(sitename):
        return True
    for title in titles:
        parts = _TITLE_SEPARATORS.split(title)
        if len(parts) >= 2 and _norm_words(parts[-1]) == words \
                and len(_norm_words(" ".join(parts[:-1]))) > len(words):
            return True
    return False


def _cased_as_written(h1: str, titles: list[str]) -> str:
    """An <h1> typed in capitals or in lower case ("TIPS FOR ONLINE SUCCESS") with the same
    words in og:title/<title> as they are written ("Tips for Online Success"): the written case."""
    if not (h1.isupper() or h1.islower()):
        return h1
    key = h1.lower()
    for title in titles:
        low = title.lower()
        if len(low) != len(title):
            continue
        i = low.find(key)
        end = i + len(key)
        if i >= 0 and (i == 0 or not low[i - 1].isalnum()) and (end == len(low) or not low[end].isalnum()):
            found = title[i:end]
            if not (found.isupper() or found.islower()):
                return found
    return h1


def _inside_markup_title(h1s: list[str], sitename: str | None, titles: list[str]) -> str:
    """Of several <h1>s (the site's logo, a menu, the headline), the one headline the page's
    og:title/<title> holds with a little more around it ("Garnix Blog: Hardware-Attested Nix
    Builds"): most of that title's words, and not the site's name."""
    found = []
    for h1 in h1s:
        words = _norm_words(h1)
        if len(words) < 2 or _names_the_site(h1, sitename, titles):
            continue
        key = " " + " ".join(words) + " "
        if any(key in " " + " ".join(_norm_words(t)) + " " and len(words) < len(_norm_words(t)) <= 2 * len(words)
               for t in titles):
            found.append(h1)
    return found[0] if len(found) == 1 else ""


def _site_tail(rest: str, title_tag: str) -> bool:
    """Is `rest` (what a JSON-LD headline holds after the page's <h1>) a separator and the same
    last part the page's <title> ends with? A site's suffix; a headline's own second half after a
    dash ("Setback in the title race - Liverpool lose") is not how its <title> ends."""
    if not _TITLE_SEPARATORS.match(rest):
        return False
    parts = _TITLE_SEPARATORS.split(title_tag) if title_tag else []
    return len(parts) >= 2 and _norm_words(parts[-1]) == _norm_words(_TITLE_SEPARATORS.split(rest)[-1])


def _cut_short(jsonld_title: str, fuller: list[str]) -> str | None:
    """The JSON-LD headline cut at schema.org's 110-character guidance (SEO plug-ins cut it
    there: "... Solutions (Including"), where the page's og:title/<h1> carries it whole: the
    whole one. A shorter JSON-LD headline is the publisher's own shorter variant."""
    if len(jsonld_title) < 100:
        return None
    head = jsonld_title.rstrip(" .…")
    for other in fuller:
        rest = other[len(head):]
        if other.startswith(head) and len(rest.split()) >= 1 and not _TITLE_SEPARATORS.match(rest):
            return other
    return None


_QUOTE_MARKS = "\"“”„«»'‘’"


def _cut_at_a_quote(title: str, fuller: list[str]) -> str | None:
    """A markup headline that stops where the headline quotes a word: the page left the quote
    unescaped, and it closed the JSON string or the attribute (`"headline": "… califica a Biden de
    "incapacitado""` reads "… a Biden de"). The <h1> or another title carries it whole."""
    for other in fuller:
        rest = other[len(title):].lstrip()
        if other.startswith(title) and rest[:1] in _QUOTE_MARKS and len(rest) > 1:
            return other
    return None


def _pick_title(tree, jsonld_title: str | None, sitename: str | None) -> tuple[str | None, str | None]:
    # JSON-LD is JSON inside a <script>: HTML entities ("zerst&ouml;ren", "&quot;") stay literal
    jsonld_title = " ".join(_unescape_all(jsonld_title or "").split())
    texts = _h1_texts(tree)
    h1s = [h for h in texts if 2 <= len(h) <= 300]
    h1 = h1s[0] if len(texts) == 1 and h1s else ""
    sourced = _markup_titles(tree)
    markup = [text for text, _ in sourced]
    title_tag = next((text for text, source in sourced if source == "title-tag"), "")
    if h1 and _names_the_site(h1, sitename, markup):
        sitename, h1 = sitename or h1, ""
    trimmed = [_trim_title(t, sitename) for t in markup]  # each without the site's name
    if jsonld_title and sitename and len(sitename.split()) <= 4 and _norm_words(jsonld_title) == _norm_words(sitename):
        jsonld_title = ""  # the site's name in the headline field ("GardenWithMe") is no headline
    if jsonld_title:
        title = _trim_title(jsonld_title, sitename, guess=False)
        # the visible headline with a section after it ("… mit Niemiec | Sport"), or with the
        # tail every <title> of the site ends with ("… Know About - Fastarz"): the headline
        if h1 and title != h1 and title.casefold().startswith(h1.casefold()) and (
                _SECTION_SUFFIX.fullmatch(title[len(h1):]) or _site_tail(title[len(h1):], title_tag)):
            return h1, "h1"
        fuller = trimmed + ([h1] if h1 else [])
        whole = _cut_short(title, fuller) or _cut_at_a_quote(title, fuller)
        return (whole or title), "json-ld"
    if h1:
        return _cased_as_written(h1, trimmed + markup), "h1"
    h1 = _inside_markup_title(h1s, sitename, markup)
    if h1:
        return h1, "h1"
    if sourced:
        text, source = sourced[0]
        return _trim_title(text, sitename), source
    return None, None


# --- author ---------------------------------------------------------------------------

_BY_PREFIX = re.compile(rf"^(?:.{{0,40}}?\bby\b|\s*(?i:{BYLINE_WORD})\b)[:\s]*", re.I)
_NAME_CUT = re.compile(
    r"\s*(?:[|,;•·(]|\s[-–—/]\s|\b(?:with|senior|staff|reporter|editor|writer|correspondent|contributor|"
    r"columnist|chief|managing|updated|published|posted|on|jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|"
    r"may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"stand|aktualisiert|veröffentlicht|redakteur(?:in)?|korrespondent(?:in)?|"
    r"hace|há|vor|il y a)\b|\d).*$",
    re.I,
)
_NAMES_JOIN = re.compile(rf"\s+(?:{CONJUNCTION}|&)\s+", re.I)
# widget and team words that look like a capitalised name in an author box ("Sign In", "Our Team")
_WIDGET_WORDS = frozenset(
    "sign log in out up share follow view more posts post read about all our your us home menu search "
    "subscribe contact admin guest author authors comments reply website profile".split()
)
# "News" and "Newsroom" in the languages of the bylines (tasks.text.metadata.BYLINE_WORDS): a CMS
# account a page credits ("author": "Nachrichten"), never a person
_NEWSROOM_WORDS = frozenset(
    "news newsroom nachrichten redaktion noticias redacción redaccion actualités actualites rédaction "
    "redaction notizie redazione nyheter redaksjonen redaktionen nyheder nieuws redactie haberler "
    "notícias redação redacao wiadomości redakcja uutiset toimitus новости редакция".split()
)
_NOT_NAME_WORDS = _WIDGET_WORDS | _NEWSROOM_WORDS | {"the", "team", "editors", "editorial", "staff"}
# words no person's name holds ("Our Editors", "Your Part-Time Controller"); widget words are
# surnames too (Read, Post, More), and a newsroom or staff a page credits stays credited ("Redaktion
# hessenschau.de", "Guardian staff reporter")
_NEVER_IN_A_NAME = frozenset({"our", "your", "editors"})
# words that make a name an organisation's (a credited newsroom, agency or company), not a person's
_ORG_WORDS = _NEWSROOM_WORDS | frozenset(
    "inc ltd llc gmbh ag corp corporation plc company media agency "
    "presse verlag group desk editorial staff online team".split()
)
_NAME_PARTICLE = re.compile(r"^(?:de|da|del|van|von|der|den|la|le|bin|al|dos|du)$")
_NAME_CHARS = re.compile(rf"^[\w{COMBINING_MARKS}'’.-]+$")


def _capital(char: str) -> bool:
    """A capital letter of any cased script: a range of Latin capitals left out "Łukasz Żak" and
    "Ірина". (A script without case gives no sign of a name: "डिजिटल डेस्क", Digital Desk, would pass.)"""
    return char.isupper()


def _name_word(word: str) -> bool:
    """One word of a person's name: capitalised ("Jane", "O'Neil", "J."), or a particle ("van", "de")."""
    return bool(_NAME_PARTICLE.match(word) or (_capital(word[0]) and _NAME_CHARS.match(word)))
_ARTICLES = frozenset("the der die das le la les el los il lo de het".split())
_IN_COMMENTS = etree.XPath(
    'boolean(ancestor-or-self::*[not(self::body or self::html)]'
    '[contains(translate(@class, "COMENT", "coment"), "comment")'
    ' or contains(translate(@id, "COMENT", "coment"), "comment")])'
)
_DOMAIN = re.compile(r"^(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.I)
_EMAIL_OR_URL = re.compile(r"^(?:https?:|www\.)|\S+@\S+\.\w+")
# several names in one field: "Jane Doe; John Roe", "Jane Doe, MDR SACHSEN-ANHALT", "Jane Doe and John Roe"
_FIELD_SPLIT = re.compile(rf"\s*(?:[;|,/]|\s&\s|\s(?:{CONJUNCTION})\s)\s*", re.I)


def _once(s: str) -> str:
    """A name a page writes twice, for two screen sizes, read as one text: "Kristen Falc'honKristen
    Falc'hon", "Olivier Minot Olivier Minot"."""
    half = len(s) // 2
    if half >= 3 and s[:half] == s[half:]:
        return s[:half]
    words = s.split()
    n = len(words) // 2
    return " ".join(words[:n]) if n >= 1 and len(words) % 2 == 0 and words[:n] == words[n:] else s


def _one_name(s: str) -> str | None:
    s = _once(_NAME_CUT.sub("", s).strip(" .:-–—"))
    words = s.split()
    if not 2 <= len(words) <= 4 or len(s) > 60:
        return None
    if not all(_name_word(w) for w in words) or not _capital(words[-1][0]):
        return None
    if any(w.casefold().strip(".") in _NOT_NAME_WORDS or w.casefold().strip(".") in _ORG_WORDS for w in words):
        return None
    return s


def _person_names(text: str) -> list[str]:
    """Every person's name of a byline element's text: "By Jane Doe and John Roe / Staff Writers",
    "Von Jana Muster, Berlin", "Por Juan Pérez y Ana Gómez" (byline and joining words of the
    languages in `tasks.text.metadata.BYLINE_WORDS`)."""
    s = _BY_PREFIX.sub("", " ".join(text.split()), count=1)
    names: list[str] = []
    parts = _NAMES_JOIN.split(s, maxsplit=3)
    if len(parts) > 1 and "," in parts[0]:
        # "Isabel Caro, Rocío Latorre y José Miguel Wilson": an enumeration when every comma-separated
        # part before the joining word is a whole name ("Jane Doe, Berlin and ..." is not: one word)
        listed = [p.strip() for p in parts[0].split(",")]
        if all(_one_name(p) == p.strip(" .:-–—") for p in listed):
            parts = listed + parts[1:]
    for part in parts:
        name = _one_name(part)
        if not name:
            break
        names.append(name)
    return names


def _clean_field(value) -> list[str]:
    """Names out of one author field of the markup (a JSON-LD name, a meta tag's content): HTML
    entities decoded, white space collapsed, split on ";", ",", "|", "/", "and"..., a byline word
    in front dropped, e-mail addresses and links dropped. Unlike trafilatura's `normalize_authors`,
    the names keep their case and punctuation ("Miguel A. Herguedas", "mdr.de")."""
    if not isinstance(value, str):
        return []
    value = " ".join(unescape_entities(value).split())
    if not value or len(value) > 200 or _EMAIL_OR_URL.match(value) or re.match(r"^[\w.-]+\.\w{2,}/", value):
        return []  # a profile link ("https://www.facebook.com/jane", "www.facebook.com/jane")
    out: list[str] = []
    for part in _FIELD_SPLIT.split(value):
        part = re.sub(rf"^(?i:{BYLINE_WORD})\s*:?\s+", "", part).strip(" .,:;-–—")
        if part and not _EMAIL_OR_URL.search(part) and part not in out:
            out.append(part)
    return out


# schema.org types whose `author` is the article's (not an image's, a comment's or a review's)
_ARTICLE_TYPE = re.compile(r"Article|Posting|Report|CreativeWork|WebPage|Story|Blog", re.I)


def _as_list(value) -> list:
    """Flattened: JSON-LD lists may nest ([{Person}, [{Person}]])."""
    if isinstance(value, list):
        return [x for v in value for x in _as_list(v)]
    return [value] if value is not None else []


def _types(node: dict) -> list[str]:
    return [t for t in _as_list(node.get("@type")) if isinstance(t, str)]


def _jsonld_authors(tree) -> tuple[list[str], list[str], list[str], bool]:
    """(persons, organisations, publisher names, parsed) from the page's JSON-LD.

    The author of the first article-typed object (NewsArticle, BlogPosting, WebPage ...) is read
    whole: every entry of a list (nested lists flattened), "@id" references resolved within the
    page, a Person's (or untyped) name kept apart from an Organization's. `parsed` is False when a
    script was not valid JSON (the caller falls back to trafilatura's tolerant reader)."""
    import json

    nodes: list[dict] = []
    parsed = True

    def walk(x):
        if isinstance(x, dict):
            nodes.append(x)
            for v in x.values():
                if isinstance(v, (dict, list)):
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for script in _JSONLD(tree):
        try:
            walk(json.loads(script, strict=False))
        except ValueError:
            parsed = False
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
    publishers = [n for node in nodes for p in _as_list(node.get("publisher")) if isinstance(p, dict)
                  for n in _clean_field(by_id.get(p.get("@id"), p).get("name"))]
    persons: list[str] = []
    orgs: list[str] = []
    articles = [n for n in nodes if "author" in n and any(_ARTICLE_TYPE.search(t) for t in _types(n))]
    # a real article type before a WebPage wrapper
    articles.sort(key=lambda n: not any(re.search(r"Article|Posting|Report", t) for t in _types(n)))
    for node in articles[:1]:
        for entry in _as_list(node["author"]):
            if isinstance(entry, str):
                entry = {"name": entry}
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("@id"), str) and "name" not in entry:
                entry = by_id.get(entry["@id"], entry)
            name = entry.get("name")
            if isinstance(name, dict):
                name = name.get("name")
            if not name and entry.get("familyName"):
                name = " ".join(str(entry[k]) for k in ("givenName", "additionalName", "familyName") if entry.get(k))
            names = [x for v in _as_list(name) for x in _clean_field(v)]
            types = _types(entry)
            target = persons if not types or any("Person" in t for t in types) else orgs
            target.extend(n for n in names if n not in target)
    return persons, orgs, publishers, parsed


_AUTHOR_META_NAMES = frozenset(
    "author authors article:author og:article:author citation_author dc.creator dcterms.creator byl "
    "parsely-author sailthru.author dcsext.author rbauthors shareaholic:article_author_name".split()
)


def _meta_authors(tree) -> list[str]:
    """Names of the author meta tags (name=, property= or itemprop=), as written."""
    out: list[str] = []
    for el in tree.iterfind(".//meta[@content]"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().casefold()
        if key in _AUTHOR_META_NAMES:
            out.extend(n for n in _clean_field(el.get("content")) if n not in out)
    return out


def _site_names(tree, sitename: str | None, publishers: list[str]) -> list[list[str]]:
    sites = [sitename or "", *publishers]
    for el in tree.iterfind(".//meta[@content]"):
        if (el.get("property") or el.get("name") or "").casefold() in ("og:site_name", "og:url", "application-name"):
            sites.append(el.get("content"))
    link = tree.find('.//link[@rel="canonical"]')
    if link is not None and link.get("href"):
        sites.append(link.get("href"))
    out = []
    for site in sites:
        site = re.sub(r"^\w+://(?:www\.)?", "", (site or "").strip().casefold()).split("/")[0]
        if site:
            out.append(_norm_words(site))
            out.append(_norm_words(site.rsplit(".", 1)[0]))  # "mbl.is" -> "mbl"
    return [s for s in out if s]


def _is_site(name: str, sites: list[list[str]], org_words: bool = True) -> bool:
    """An organisation's or the site's own name rather than a person's: a domain ("mdr.de"), the
    site or publisher name ("n-tv NACHRICHTEN", "Euronews Staff"), or, with `org_words`, a name with
    a company/newsroom word ("Nikkei Inc.", "Redaktion hessenschau.de"). A site named after a person
    (a personal blog, "Jane Doe") is not taken for an organisation."""
    words = _norm_words(name)
    if not words or _DOMAIN.match(name.strip()):
        return True
    if org_words and any(w in _ORG_WORDS for w in words):
        return True
    # the site's name: a site named after its author ("Jane Doe", a personal blog) is a person's,
    # one that starts with an article ("The Daily Example", "Der Postillon") is not
    squashed = "".join(words)  # "El Colombiano" for elcolombiano.com, "La República" for LaRepública.pe
    return any(words == s or squashed == "".join(s) or (words[: len(s)] == s and len(words) <= len(s) + 1)
               for s in sites) and (
        len(words) == 1 or words[0] in _ARTICLES or _one_name(name) is None)


def _is_person(name: str, sites: list[list[str]], single_word_ok: bool, org_words: bool = True) -> bool:
    words = name.split()
    if _is_site(name, sites, org_words) or any(_WORD_RE.sub("", w) == w for w in words):  # a bare "-" or "&"
        return False
    if len(words) == 1 and (not single_word_ok or name.casefold() in _NOT_NAME_WORDS):
        return False
    if any(w.casefold().strip(".,:") in _NEVER_IN_A_NAME for w in words):
        return False
    return len(words) <= 6 and not re.search(r"\d", name)


def _credited_name(text: str) -> str | None:
    """A name that is not a person's full name, out of a byline element: a newsroom or team
    ("Ambassador Team", 1-4 capitalised words) or, after an explicit byline word, one name ("By Anthony")."""
    t = " ".join(text.split())
    s = _BY_PREFIX.sub("", t, count=1)
    explicit = s != t
    s = _NAME_CUT.sub("", s).strip(" .:-–—")
    words = s.split()
    if not 1 <= len(words) <= 4 or len(s) > 60 or (len(words) == 1 and not explicit):
        return None
    if not all(_name_word(w) for w in words) or not _capital(words[-1][0]):
        return None
    if any(w.casefold().strip(".").removesuffix("'s").removesuffix("’s") in _WIDGET_WORDS for w in words):
        return None
    if len(words) == 1 and s.casefold() in _NOT_NAME_WORDS:
        return None
    return s


def _pick_author(tree, jsonld: tuple[list[str], list[str], list[str], bool], jsonld_author: str | None,
                 meta_author: str | None, sitename: str | None = None) -> tuple[str | None, str | None]:
    """The article's author(s), "; "-joined, and the markup they came from.

    Persons first, in source order: JSON-LD author (every entry; a single word is taken there,
    names in CJK scripts have no space: "구현모", "新間") > author meta tags (two words or more: one
    word is usually a site or a handle) > byline elements outside comment sections.

    Only when no person is named anywhere in the markup, what the page credits instead, in this
    order: an organisation or the site itself in JSON-LD ("BBC News", "sportschau.de"; source
    "json-ld:organization"), in meta tags (a domain or the site's name, "meta:organization"), a
    newsroom or team in a byline element ("byline-markup:organization"), a single name in a byline
    element after a byline word or in a meta tag ("By Anthony", "byline-markup:single-word",
    "meta:single-word"). A newsroom stands in for a reporter's name too often to beat one, and the
    text's "By Jane Doe" line (tasks/batch.py) beats these too.

    `jsonld_author` / `meta_author` (trafilatura's readings) are used only when the JSON-LD is not
    valid JSON / when the page has no author meta tag this reader knows."""
    persons, orgs, publishers, parsed = jsonld
    if not parsed and not persons and jsonld_author:
        persons = _clean_field(jsonld_author)
    sites = _site_names(tree, sitename, publishers)
    # a Person of the publisher's own JSON-LD is taken as credited ("Guardian staff reporter",
    # "Deutsche Presse-Agentur" beside the reporter) unless it is the site itself
    ld_people = [n for n in persons if _is_person(n, sites, single_word_ok=True, org_words=False)]
    if ld_people:
        return "; ".join(ld_people), "json-ld"
    metas = _meta_authors(tree) or _clean_field(meta_author)
    meta_people = [n for n in metas if _is_person(n, sites, single_word_ok=False)]
    if meta_people:
        return "; ".join(meta_people), "meta"
    credited: list[tuple[int, str]] = []  # (element text length, name)
    try:
        for el in _BYLINE_ELEMENTS(tree)[:20]:
            if _IN_COMMENTS(el):
                continue  # a commenter, not the author
            text = _text_of(el)
            names = [n for n in _person_names(text) if not _is_site(n, sites)]
            if names:
                return "; ".join(names), "byline-markup"
            name = _credited_name(text)
            if name:
                credited.append((len(text), name))  # the tersest element: "By Anthony", not "By AnthonyJanuary 4"
    except Exception:
        pass
    ld_orgs = [n for n in [*persons, *orgs] if n.casefold() not in _NOT_NAME_WORDS]
    if ld_orgs:
        return "; ".join(ld_orgs), "json-ld:organization"
    meta_orgs = [n for n in metas if _is_site(n, sites) and (" " in n or _DOMAIN.match(n))]
    if meta_orgs:
        return "; ".join(meta_orgs), "meta:organization"
    if credited:
        name = min(credited)[1]
        single = len(name.split()) == 1
        return name, "byline-markup:single-word" if single else "byline-markup:organization"
    meta_single = [n for n in metas if " " not in n and n.casefold() not in _NOT_NAME_WORDS]
    if meta_single:
        return "; ".join(meta_single), "meta:single-word"
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


def _trafilatura_text(tree, url: str | None, fast: bool, recall: bool = False) -> str:
    try:
        doc = trafilatura.bare_extraction(tree, url=url, fast=fast, favor_recall=recall, **_TRAFILATURA_KWARGS)
    except Exception:  # trafilatura/lxml raise on some malformed inputs
        return ""
    return (doc.text or "") if doc is not None else ""


# trafilatura's main pass looks for the article in known containers (<article>, class "entry-content"
# ...); when none holds 250 characters it falls back to `recover_wild_text`, which in the default
# focus keeps only the page's <p>, tables, code and quotes: headings and lists are lost (a page
# whose article sits in a plain <div>: "1. QuickBooks" and its bullet list gone), and the fast pass
# has nothing to compare with. The fallback is seen by wrapping that module function.
_WILD = threading.local()
try:
    import trafilatura.main_extractor as _traf_main

    _recover_wild_text = _traf_main.recover_wild_text

    def _seen_recover_wild_text(*args, **kwargs):
        _WILD.used = True
        return _recover_wild_text(*args, **kwargs)

    _traf_main.recover_wild_text = _seen_recover_wild_text
except (ImportError, AttributeError):  # another trafilatura layout: no signal, the fast text stays
    pass


def _wild_text_recall(tree, url: str | None, text: str) -> str:
    """The fast pass found no article container: the recall focus's wild-text search also keeps
    headings, lists and divs. It keeps menus and link lists too: a line it adds that is nothing
    but one link's text ("- Home", a related headline) goes."""
    recall = _trafilatura_text(tree, url, fast=True, recall=True)
    if not recall:
        return text
    links = {" ".join(words) for words in _link_words(tree)}
    had = set(text.split("\n"))
    return "\n".join(ln for ln in recall.split("\n")
                     if ln in had or " ".join(_WORDS.findall(ln.lower())) not in links) or text


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
    _WILD.used = False
    text = _trafilatura_text(tree, url, fast=True)
    if _WILD.used:
        text = _wild_text_recall(tree, url, text)
    small = len(text) < _ESCALATE_MIN_CHARS or len(text) < _ESCALATE_SHARE * _page_text_chars(tree)
    prose = _prose_chars(text)
    if small or prose < _ESCALATE_PROSE_SHARE * len(text):
        full = _trafilatura_text(tree, url, fast=False)
        if full and (small or _prose_chars(full) > prose):
            text = full
    return text


_ANCHORS = etree.XPath(".//a")
_WORDS = re.compile(r"\w+")
_LINK_TEXT_MAX_WORDS = 300  # a menu the extractors fell back to is short; longer texts are not checked


def _link_words(tree) -> list[list[str]]:
    """Each link's text on the page as its lower-cased words (links without words left out)."""
    return [words for a in _ANCHORS(tree) if (words := _WORDS.findall(_text_of(a).lower()))]


def _only_link_text(tree, text: str) -> bool:
    """True when `text` is nothing but the page's link texts one after another ("Home News" from a
    <nav>): what readability/justext fall back to on a page with no article. Every word must be
    covered by whole link texts in order, so a short article whose words also occur in links stays."""
    words = _WORDS.findall(text.lower())
    if not words or len(words) > _LINK_TEXT_MAX_WORDS:
        return False
    links = {tuple(words) for words in _link_words(tree) if len(words) <= 40}
    lengths = sorted({len(link) for link in links})
    reach = [True] + [False] * len(words)
    for i in range(len(words)):
        if reach[i]:
            for n in lengths:
                if i + n <= len(words) and tuple(words[i:i + n]) in links:
                    reach[i + n] = True
    return reach[-1]


# Classes that hide an element from the eye and keep it for screen readers (Bootstrap, WordPress,
# Drupal, H5BP, USWDS, and a site's own "go-vh"): "(öffnet im neuen Fenster)" after every link, a
# repeated headline in "Continue reading", "Advertisement". A page's readers never see that text, and
# the hand-checked bodies never hold it. A variant for some screens only ("tablet-visuallyhidden",
# Tailwind's "sm:sr-only", "focus:not-sr-only") hides nothing everywhere, so it is not matched.
_SCREEN_READER_ONLY = re.compile(
    r"^(?:[a-z0-9]+-)*?(?:sr-only|visually-hidden|visuallyhidden|screen-reader-text|element-invisible|vh)$")
_SOME_SCREENS = re.compile(r":|^(?:tablet|palm|lap|desk|mobile|phone|small|medium|large|sm|md|lg|xl)-")


def _drop_screen_reader_text(tree) -> None:
    hidden = [el for el in tree.iter() if isinstance(el.tag, str) and el.get("class") and any(
        _SCREEN_READER_ONLY.match(c) and not _SOME_SCREENS.search(c) for c in el.get("class").lower().split())]
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()  # its tail, the visible text after it, stays


def _inline_ruby(tree) -> None:
    """Ruby annotations (furigana over a Japanese name or a rare kanji) as the inline text a reader
    sees: trafilatura took each <ruby> for a block and cut its paragraph in three there ("韓国の" /
    "尹錫悦" / "大統領は…"), so summaries began without their subject. The reading stays in the
    parentheses the page's <rp> gives ("尹錫悦（ユンソンニョル）", as browsers without ruby show it, and
    searchable); without <rp> it is dropped, since it would run into the base text."""
    rubies = list(tree.iter("ruby"))
    for ruby in rubies:
        if ruby.find(".//rp") is None:
            etree.strip_elements(ruby, "rt", with_tail=False)
    if rubies:
        etree.strip_tags(tree, "ruby", "rb", "rp", "rt", "rtc")


def extract_html(html: str | bytes, url: str | None = None, max_text_chars: int | None = None) -> Extracted:
    """Main text and metadata of an HTML page (see module docstring for the method). A page whose
    text (every text node, scripts and styles aside) is over `max_text_chars` is not extracted: no
    text, its size in `page_chars` (trafilatura's passes over such a tree grow faster than its size)."""
    if not html or not html.strip():
        return Extracted(text="")
    if isinstance(html, str):  # before parsing: the parser keeps latin-1 mojibake's C1 bytes nowhere
        html = repair_mojibake(html)
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
    if max_text_chars is not None:
        chars = sum(len(t.strip()) for t in tree.itertext())
        if chars > max_text_chars:
            return Extracted(text="", page_chars=chars, **meta)
    _inline_ruby(tree)
    _drop_screen_reader_text(tree)
    raw = _main_text(tree, url)
    text, removed = clean_extracted_text(raw, meta.get("title"))
    if _only_link_text(tree, text):  # a menu is not an article: the caller fails it as no_main_text
        removed, text = removed + [(line, "link-text") for line in text.splitlines() if line.strip()], ""
    return Extracted(text=text, removed_lines=removed, **meta)
