"""The one record every stage passes along (datatrove-style).

A `Document` is created by a source (file reader or URL fetcher), filled in by
the cleaner, marked by the deduplicator, given a summary by the summarizer and
written by the store. Items that cannot go further become a `Failure` carrying
the stage and a human-readable reason; they are stored, never dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime


# The longest news features run to ~30,000 words (~200,000 characters). A text far beyond that is
# not an article (a 10 MB page dump was stored as one: its cleaning took 15 s and every later
# search-index build 40 s instead of 4); it fails before the cleaner spends time on it, and an HTML
# page with more than twice that much text fails before extraction (a 3.2 MB page took 60 s).
MAX_TEXT_CHARS = 500_000
MAX_PAGE_TEXT_CHARS = 2 * MAX_TEXT_CHARS  # all the text of an HTML page, menus and comments included


def too_long_detail(chars: int, where: str = "of text") -> str:
    """The `too_long` failure's detail."""
    return f"{chars:,} characters {where}; an article has at most {MAX_TEXT_CHARS:,} (a page dump, a log, a book?)"


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")  # the same bytes as utf-8 for every valid string
    return hashlib.sha256(data).hexdigest()


def printable(text: str) -> str:
    """`text` as valid Unicode, so that it can be hashed and stored. Python keeps a file name's
    undecodable bytes as lone surrogates ('bad\\udcffname.txt'): they become '\\xff' escapes, the
    same each run; any other lone surrogate (a JSON "\\ud800") becomes U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF
                       else "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


@dataclass
class Summary:
    algorithm: str
    # (position of the sentence in the cleaned document, sentence text), in document order
    sentences: list[tuple[int, str]]
    language: str | None = "en"  # whose rules cut and scored the sentences (None: unknown)
    note: str | None = None  # what a language without rules was summarised without

    @property
    def text(self) -> str:
        return " ".join(s for _, s in self.sentences)


@dataclass
class Document:
    source: str  # file path or URL the item came from
    source_kind: str  # "file" | "url" | "record" (one record of a .json/.jsonl file)
    raw_text: str  # decoded text as read/extracted, before cleaning
    raw_sha256: str  # hash of the raw bytes: identity of this version of the source
    encoding: str | None = None
    media_type: str = "text/plain"
    url: str | None = None
    # filled by the cleaner
    text: str = ""
    title: str | None = None
    published_at: date | None = None
    published_raw: str | None = None
    date_convention: str | None = None  # e.g. "MDY" for 09/26/2013
    outlet: str | None = None
    author: str | None = None
    # where title and author came from: json-ld, h1, open-graph, twitter, title-tag, meta,
    # byline-markup (HTML markup), record (a JSON field), text (guessed by the cleaner), byline ("By ..." line);
    # an author that is not a person's name has the markup's name and its kind: json-ld:organization,
    # meta:organization, byline-markup:organization, byline-markup:single-word, meta:single-word
    title_source: str | None = None
    author_source: str | None = None
    language: str | None = None  # ISO 639-1 (tasks/text/language.py)
    language_confidence: float | None = None
    language_source: str | None = None  # "run" | "markup" | "detector" | "unknown"
    search_text: str | None = None  # what the search index holds for a non-English text (tasks/batch.py)
    word_count: int | None = None  # words in `text` (tokens.count_words); None: not cleaned yet
    removed_lines: list[tuple[str, str]] = field(default_factory=list)  # (line, rule)
    headline_only: bool = False  # an access wall in place of the article: text is the headline
    # filled by the deduplicator
    text_sha256: str | None = None
    duplicate_of: str | None = None
    duplicate_method: str | None = None  # "exact" | "near"
    similarity: float | None = None
    # filled by the summarizer
    summary: Summary | None = None
    # extra source metadata (e.g. JSON record fields, fetch headers)
    meta: dict = field(default_factory=dict)
    # per-text values computed once, in a pool worker, for the stages that run in the main process
    # (shingle hashes, story term counts; see tasks/batch.derive_features); never stored
    derived: dict = field(default_factory=dict, repr=False, compare=False)
    # set when these bytes are an older version's coming back (an edit undone): the version they
    # are stored as, which the id includes, since the older version keeps the bytes' own id
    returns_as_version: int | None = None
    # (source, raw_sha256, returns_as_version, doc_id): stages ask for doc_id hundreds of thousands of times per run
    _id_memo: tuple | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.source = printable(self.source)

    @property
    def bytes_id(self) -> str:
        """The id of this source with these bytes, the first time it holds them."""
        return _id(self.source, self.raw_sha256)

    @property
    def doc_id(self) -> str:
        """Stable id: same source with the same bytes gives the same id, so re-runs are idempotent;
        bytes a source held before and holds again after another version get one for that return."""
        memo = self._id_memo
        key = (self.source, self.raw_sha256, self.returns_as_version)
        if memo is None or memo[:3] != key:
            memo = (*key, _id(*key))
            self._id_memo = memo
        return memo[3]


def _id(source: str, raw_sha256: str, returns_as_version: int | None = None) -> str:
    parts = (source, raw_sha256) if returns_as_version is None else (source, raw_sha256, str(returns_as_version))
    return sha256_hex("\x00".join(parts))[:32]


@dataclass
class Failure:
    source: str
    stage: str  # "read" | "fetch" | "extract" | "clean" | "dedup" | "summarize" | "store"
    reason: str  # short machine-friendly class, e.g. "binary", "empty", "too_large", "http_404"
    detail: str = ""
    at: datetime = field(default_factory=datetime.now)

    def __post_init__(self) -> None:
        self.source, self.detail = printable(self.source), printable(self.detail)
