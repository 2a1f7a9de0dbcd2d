"""Cleaning of scraped article text: pure functions, no Prefect, no DuckDB.

`clean_document(raw, ...)` turns the text of a scraped page into body paragraphs plus
metadata (title, publication date, outlet, author) and a list of what was removed and
why. Every removed line is recorded as `(line, rule)` in `Cleaned.removed_lines`.

Units are *lines* of the normalised text (hard-wrapped plain text is unwrapped first);
the cleaned body is the kept lines joined by a blank line ("\\n\\n").

The caller says what the text is (`kind`): `PLAIN`, a scraped dump that still carries its
page's menus and widgets (all rules below), or `HTML`, the HTML extractor's output, where
only the rules in `RULES[HTML]` run (see the comment at `RULES`; measured per rule by
`bench/extraction.py --rules`).

Rules, in priority order (the first one that fires names the removal):

``title``                     the title line (given, or guessed by `metadata.guess_title`)
``dateline``                  a short line that is mostly a date near the top
                              ("Syria resolution news - 09/26/2013", "Published 26 Sep 2013");
                              the first one gives the date, later ones ("Updated ...") go too;
                              a date after "Published" in one of them, above the article, wins
``byline``                    "By Jane Doe" near the top, or a name next to the date line
                              under the headline with the writer's job beside it ("Jane Doe,
                              Business reporter"), and a job or bio line under it (sets `author`)
``pattern:<section>``         a regex of tasks/text/data/boilerplate_patterns.txt (browser
                              warnings, newsletter/subscription/donation/cookie/share/follow
                              prompts, payment widgets, "Read more", "Watch ... below:",
                              "Advertisement", "Click here", copyright/privacy, menus ...)
``repeated_across_documents`` `line_key(line)` is in the `repeated_lines` set built by
                              `repeated_lines()` over a batch. Safeguard: not applied when it
                              would remove more than half of the body's characters (that is a
                              syndicated/duplicate story, left to the deduplicator).
``duplicate_paragraph``       exact repeat (same `line_key`, >= 40 chars) of an earlier line
``truncated_prefix``          a line of >= 30 chars (trailing "..."/"…"/"[…]" ignored) that is a
                              strict prefix of another, longer line: a cut-off teaser/lead
``short_line_run``            2+ consecutive short lines (<= 4 words, <= 40 chars, no
                              sentence punctuation at the end): menus, widget words
``menu_line``                 one line of 3+ short items separated by | • · / › →
``short_line``                an isolated line of <= 2 words without sentence punctuation
                              (3-4 word isolated lines are kept: probably sub-headings)
``access_wall``               a line over 400 chars (a page dumped on one line) that is a
                              cookie, log-in or paywall prompt: the `:wall` pattern sections
                              match two of its sentences from its start, or a third of it
                              (a lone prompt inside a paragraph is removed alone, rule
                              ``pattern:<section>``). A page left with only its title after
                              a wall rule is kept headline-only (`Cleaned.headline_only`)
``trailing_block``            everything from a header line (sections marked ``:header`` in
                              the pattern file, e.g. "Sign up for our ... newsletter",
                              "A Message from X:", "Related stories") to the end, when at
                              least 70% of the block's lines and 50% of its characters are
                              boilerplate (flagged by a rule above, appeal vocabulary
                              addressed to the reader, or headline-like link lines).
``tail_teasers``              (plain text) two or more headline-shaped lines (<= 15 words, no
                              final punctuation) and short lines ending the page under a line
                              a pattern took ("Most viewed", "Les også", a newsletter prompt)
``cut_lead``                  (plain text) a teaser under the headline cut off with an ellipsis
                              that the page does not repeat whole (half a sentence)
``above_title``               (plain text) what is left above a guessed headline that is not
                              a body paragraph: site furniture ("Skip to content", a section
                              or outlet name), which a page has only above its story

A line ending with sentence punctuation (. ! ? … : ; quotes) is never removed by the
structural short-line rules, so real short paragraphs survive. If every line would be
removed only by the soft structural rules, the document is kept as is.

Photo captions: KEPT in `text` by default and listed in `Cleaned.captions` (the summarizer
also filters them); `clean_document(..., drop_captions=True)` removes them with rule
``caption``, and in plain text (rule set ``caption_credit``) so does a caption that ends with
its photo's credit in any language ("... Foto: TT", "(AP Photo/Evan Vucci)"). A caption is a short single sentence with a photo credit ("(AP Photo/...)",
"Getty Images", "Photo: ..."), or one ending with a date ("... Aleppo, Sept. 20, 2013."), or
a present-tense scene description ("Residents walk past ...") placed before the first
body paragraph, or the line after a bare "Image caption," label (BBC). A label with the
caption on the same line ("Image caption, ...") is boilerplate (pattern rule).

Cost is linear in the input size: one combined regex per line (lines > 400 chars are not
pattern-matched), dictionary look-ups for duplicates/prefixes, constant work per line.
Nothing here raises on odd input (any `str`; non-str input is treated as empty).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from tasks.text import metadata as md
from tasks.text.tokens import layout_words, unspaced

PATTERNS_PATH = Path(__file__).with_name("data") / "boilerplate_patterns.txt"
PATTERN_MAX_LINE_CHARS = 400

# What a text is decides which rules may touch it. A plain-text dump (the seeds, JSON
# records, .txt files) still carries the page's navigation, menus and teasers; text from
# the HTML extractor has lost them, and there the structural rules would remove real
# content: table rows and list items (short_line_run, menu_line, short_line), a quote
# repeated in a story (duplicate_paragraph), a lead restated by the next paragraph
# (truncated_prefix), sub-headings shared by pages on one topic ("Frequently Asked
# Questions": repeated_across_documents, whose target, site furniture, the extractor has
# removed already); its lines are paragraphs already, so nothing is unwrapped.
# The effect of every rule on each kind is measured by `bench/extraction.py --rules`
# (table in docs/benchmarks.md).
PLAIN = "plain"
HTML = "html"
# Pattern sections that match what authors write into an article body ("Read more: <link>",
# "..., click here.", "Follow X on Instagram", "Watch the video above", "Image credit: ...").
# In a dump they are teasers and widgets around the story; in the extractor's output they
# sit where the page's markup put them, inside the article: rule "pattern:editorial" (off for HTML).
_EDITORIAL_SECTIONS = frozenset({"read_more", "click_here", "follow", "watch_below", "newsletter_blurb"})
# One-word lines ("Monthly", "x") and code ("register: openssl_csr_result") that a pattern
# matches: in a dump, widget words; in extractor output, table cells, list items and code
# listings: rule "pattern:fragments" (off for HTML).
_CODE_LINE_RE = re.compile(r"\w_\w|[{};=<>]|^\s*[\w.-]+:\s+\S+$")
# ... except a skip link ("Hauptinhalt") and a credit ("Photo: AFP", "Image: © Jane Roe/Getty Images"):
# furniture in any text, unless the credit is a lower-case key of code ("image: mailhog/mailhog", YAML)


def _furniture_in_any_text(section: str, line: str) -> bool:
    return section == "skip_link" or (section == "media_label" and " " in line and not line[:1].islower())


ALL_RULES = frozenset({
    "unwrap", "title", "above_title", "cut_lead", "dateline", "byline", "pattern", "pattern:editorial", "pattern:fragments",
    "repeated_across_documents",
    "duplicate_paragraph", "truncated_prefix", "short_line_run", "menu_line", "short_line",
    "trailing_block", "access_wall", "tail_teasers", "caption_credit",
})
RULES: dict[str, frozenset[str]] = {
    PLAIN: ALL_RULES,
    HTML: ALL_RULES - {"unwrap", "above_title", "cut_lead", "pattern:editorial", "pattern:fragments", "repeated_across_documents",
                       "duplicate_paragraph", "truncated_prefix", "short_line_run", "menu_line", "short_line",
                       "tail_teasers", "caption_credit"},
}


@dataclass
class Cleaned:
    text: str = ""  # body paragraphs joined by "\n\n"; the title is NOT included
    title: str | None = None
    published_at: date | None = None
    published_raw: str | None = None
    date_convention: str | None = None
    outlet: str | None = None
    author: str | None = None
    removed_lines: list[tuple[str, str]] = field(default_factory=list)  # (line, rule)
    captions: list[str] = field(default_factory=list)  # photo captions found (kept in text unless dropped)
    # the page is an access wall (cookie, log-in or paywall prompt) with a headline and no article:
    # `text` is the headline, so the outlet's item still counts (stories, search)
    headline_only: bool = False


# ------------------------------------------------------------------ normalisation

_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_NEWLINES = "\u2028\u2029\x85\x0b\x0c"
# Invisible format characters that carry no text: zero-width space, word joiner, BOM,
# soft hyphen, bidi embeddings/isolates/marks, invisible operators, Mongolian vowel sep.
_DROP = (
    "\u200b\u2060\ufeff\u00ad\u180e\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\u2061\u2062\u2063\u2064\ufff9\ufffa\ufffb\ufffc"
)


@lru_cache(maxsize=1)
def _translate_table() -> dict[int, str | None]:
    t: dict[int, str | None] = {}
    for c in range(0x20):
        if chr(c) not in "\n\r":
            t[c] = None
    for c in range(0x7F, 0xA0):
        t[c] = None
    for ch in _SPACES:
        t[ord(ch)] = " "
    for ch in _NEWLINES:
        t[ord(ch)] = "\n"
    for ch in _DROP:
        t[ord(ch)] = None
    t[0x85] = "\n"
    # Compatibility forms that are pure presentation: ligatures, fullwidth/halfwidth
    # forms, mathematical alphanumerics ("fancy" social-media text). Superscripts,
    # fractions, ellipsis, curly quotes and dashes are kept (they carry meaning), and so is
    # fullwidth punctuation: it is how Chinese and Japanese write a comma or a "！" ("，" -> ","
    # rewrote every Chinese text, and "你好!他说" no longer ended a sentence at the mark).
    ranges = [(0xFB00, 0xFB06), (0xFF01, 0xFF5E), (0xFF61, 0xFFDC), (0x1D400, 0x1D7FF)]
    for lo, hi in ranges:
        for c in range(lo, hi + 1):
            ch = chr(c)
            n = unicodedata.normalize("NFKC", ch)
            if n != ch and not (0xFF01 <= c <= 0xFF5E and not n.isalnum()):
                t[c] = n
    return t


# superset of the characters in _translate_table(), plus lone surrogates
_SUSPECT_RE = re.compile(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\xa0\xad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f"
    "\u205f-\u206f\u3000\ufb00-\ufb06\ufeff\uff01-\uffdc\ufff9-\ufffc\U0001d400-\U0001d7ff\ud800-\udfff]"
)
_ASCII_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\t]")


_MULTISPACE_RE = re.compile(r"  +")
_MANY_NL_RE = re.compile(r"\n{3,}")
# A zero-width (non-)joiner is meaningful between letters of scripts like Persian, Hindi,
# and inside emoji sequences; anywhere else it is noise.
_JOINABLE = r"(?:[^\W\d_]|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F])"
_ZWJ_STRAY_RE = re.compile(rf"(?<!{_JOINABLE})[\u200c\u200d]|[\u200c\u200d](?!{_JOINABLE})")


# UTF-8 that was read as windows-1252 or latin-1 on its way here ("weâ€™ll", "EspaÃ±ol"; a page's
# own bytes, broken before we got them): a UTF-8 lead byte's letter (Â-ô), then a continuation
# byte's character. Only the words holding such a pair go to ftfy (its own check costs ~30 ms a page,
# and on a whole text one broken word made it "repair" correct ones: Portuguese "AMANHÃ VAI").
_MOJIBAKE_PAIR = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                            "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
                            "\u2039\u203a\u20ac\u2122]")
_WORD = re.compile(r"\S+")


def repair_mojibake(text: str) -> str:
    """Text whose UTF-8 was decoded as a legacy code page, decoded as meant ("we’ll", "Español"),
    word by word; any other text as it is (ftfy's encoding fix leaves what it cannot explain alone)."""
    if not _MOJIBAKE_PAIR.search(text):
        return text
    import ftfy

    # word by word, each looked at once: a pattern finding the pair inside a word backtracked over
    # every start of a long word (173 s on a page with a 184 KB script line; 0.02 s now)
    return _WORD.sub(lambda m: ftfy.fix_encoding(m.group()) if _MOJIBAKE_PAIR.search(m.group()) else m.group(), text)


def normalize_text(raw: str) -> str:
    """Meaning-preserving normalisation: drop BOM / zero-width / control characters, turn
    CRLF, CR and Unicode line separators into "\\n", NBSP and other spaces into " ",
    NFC-compose, unfold presentation-only compatibility forms (ligatures, fullwidth,
    math-alphanumerics), collapse runs of spaces, strip spaces at line ends and collapse
    3+ newlines to a single blank line. Curly quotes, dashes, "…", "½", "²" stay."""
    if not isinstance(raw, str) or not raw:
        return ""
    s = raw.replace("\r\n", "\n").replace("\r", "\n")
    table = _translate_table()
    if s.isascii():
        if _ASCII_CTRL_RE.search(s):
            s = s.translate(table)
    else:
        # distinct offending characters are few even in long texts: str.replace each (C speed)
        found = set(_SUSPECT_RE.findall(s))
        if found:
            for ch in found:
                if "\ud800" <= ch <= "\udfff":
                    s = s.replace(ch, "")  # lone surrogate (undecodable input)
                elif ord(ch) in table:
                    s = s.replace(ch, table[ord(ch)] or "")
        if not unicodedata.is_normalized("NFC", s):
            s = unicodedata.normalize("NFC", s)
            s = s.translate(table) if _SUSPECT_RE.search(s) else s
        if "\u200c" in s or "\u200d" in s:
            s = _ZWJ_STRAY_RE.sub("", s)
    if "  " in s:
        s = _MULTISPACE_RE.sub(" ", s)
    if " \n" in s or "\n " in s:
        s = "\n".join(x.strip(" ") for x in s.split("\n"))
    if "\n\n\n" in s:
        s = _MANY_NL_RE.sub("\n\n", s)
    return s.strip(" \n")


_KEY_DIGITS_RE = re.compile(r"\d+")
_KEY_NONWORD_RE = re.compile(r"[\W_]+")


def line_key(line: str) -> str:
    """Key for comparing lines across/within documents: NFKC, casefold, punctuation and
    whitespace runs -> one space, digit runs -> "0" (so "© 2013 X" == "© 2014 X")."""
    if not isinstance(line, str):
        return ""
    s = unicodedata.normalize("NFKC", line).casefold()
    s = _KEY_NONWORD_RE.sub(" ", s)
    s = _KEY_DIGITS_RE.sub("0", s)
    return s.strip()


_FP_DROP = str.maketrans("", "", "'’‘`´.·\u00ad")


def fingerprint_text(text: str) -> str:
    """String to hash for exact-duplicate detection: normalise_text, NFKC, casefold,
    apostrophes/periods deleted ("U.S." == "US", "don’t" == "don't"), every other run of
    punctuation/whitespace -> one space. Different wording gives different strings."""
    if not isinstance(text, str):
        return ""
    s = unicodedata.normalize("NFKC", normalize_text(text)).casefold()
    s = s.translate(_FP_DROP)
    return _KEY_NONWORD_RE.sub(" ", s).strip()


def repeated_lines(texts: Iterable[str], min_documents: int = 3, min_chars: int = 20) -> frozenset[str]:
    """`line_key`s of lines that occur in at least `min_documents` distinct documents.

    Chosen defaults: a line repeated in >= 3 documents (trafilatura's "more than 2") is
    cross-document boilerplate; unlike trafilatura's 100-char threshold we use 20 chars of
    key because news boilerplate lines are short ("Support The Moscow Times!", footers);
    shorter generic lines are the pattern list's job. Exact-duplicate documents (same
    `fingerprint_text`) are counted once, so a story fetched three times does not turn its
    own paragraphs into boilerplate; syndicated copies are protected in clean_document by
    the "more than half of the body" safeguard. Call it on a batch from the same
    site(s) for best results.
    """
    counts: dict[str, int] = {}
    seen_docs: set[str] = set()
    docs: list[tuple[dict[str, int], int, set[str]]] = []  # (chars per line key, chars, prose keys)
    for t in texts:
        if not isinstance(t, str) or not t:
            continue
        fp = fingerprint_text(t)
        if fp in seen_docs:
            continue
        seen_docs.add(fp)
        keys: dict[str, int] = {}
        prose: set[str] = set()
        lines = normalize_text(repair_mojibake(t)).split("\n")  # the lines clean_document will see
        for line in lines:
            if len(line) < min_chars:
                continue
            k = line_key(line)
            if len(k) >= min_chars:
                keys[k] = len(line)
                if _body_paragraph(line):
                    prose.add(k)
        for k in keys:
            counts[k] = counts.get(k, 0) + 1
        docs.append((keys, sum(map(len, lines)), prose))
    repeated = {k for k, c in counts.items() if c >= max(1, min_documents)}
    # Article paragraphs that most of some document is made of are shared content, not furniture: a
    # full report and two teasers of it in one batch lost their lead to this rule in the full report
    # (whose body the lead is not most of), and the teasers were then no copies of it.
    shared: set[str] = set()
    for keys, chars, prose in docs:
        hits = repeated.intersection(keys)
        if prose & hits and sum(keys[k] for k in hits) > 0.5 * chars:
            shared |= prose & hits
    return frozenset(repeated - shared)


# ------------------------------------------------------------------ pattern list


@dataclass(frozen=True)
class _Patterns:
    # Patterns starting with "^" are tried with .match (position 0 only). To keep the cost
    # per line low they are bucketed by the characters a match can start with (computed
    # from the regex parse tree); a line is tried against one combined regex made of its
    # bucket plus the patterns whose first character is unknown. The few unanchored
    # patterns are searched one by one after a cheap `literal in line` pre-check.
    sections: tuple[tuple[str, tuple[tuple[str, frozenset[str] | None], ...]], ...]
    floating: tuple[tuple[str | None, re.Pattern, str], ...]  # (required lowercase literal, regex, section)
    group_to_section: dict[str, str]
    header_sections: frozenset[str]
    vocab: re.Pattern | None
    wall_sections: frozenset[str] = frozenset()
    _cache: dict = field(default_factory=dict, compare=False, hash=False)

    def anchored_for(self, first: str, walls_only: bool = False) -> re.Pattern | None:
        key = (first, walls_only)
        rx = self._cache.get(key, False)
        if rx is False:
            parts = []
            for i, (name, pats) in enumerate(self.sections):
                if walls_only and name not in self.wall_sections:
                    continue
                chosen = [q for q, fs in pats if fs is None or first in fs]
                if chosen:
                    parts.append(f"(?P<s{i}>" + "|".join(f"(?:{q})" for q in chosen) + ")")
            rx = re.compile("|".join(parts), re.IGNORECASE) if parts else None
            if len(self._cache) < 8192:
                self._cache[key] = rx
        return rx


def _first_chars(pattern: str) -> frozenset[str] | None:
    """Lowercased characters a match of `pattern` can start with; None if unknown/any."""
    try:
        from re import _parser as P  # CPython 3.11+

        def seq_first(seq):
            acc: set[str] = set()
            for op, av in seq:
                got, nullable = item_first(op, av)
                if got is None:
                    return None, False
                acc |= got
                if not nullable:
                    return acc, False
            return acc, True

        def item_first(op, av):
            if op is P.AT:
                return set(), True
            if op is P.LITERAL:
                c = chr(av)
                return {c.lower(), c.upper().lower()}, False
            if op is P.IN:
                out: set[str] = set()
                for iop, iav in av:
                    if iop is P.LITERAL:
                        out.add(chr(iav).lower())
                    elif iop is P.CATEGORY and iav is P.CATEGORY_DIGIT:
                        out.update("0123456789")  # boilerplate_rule maps any digit to "0"
                    elif iop is P.RANGE and iav[1] - iav[0] <= 256:
                        out.update(chr(c).lower() for c in range(iav[0], iav[1] + 1))
                    else:
                        return None, False
                return out, False
            if op is P.SUBPATTERN:
                return seq_first(av[-1])
            if op is P.BRANCH:
                acc: set[str] = set()
                nullable = False
                for alt in av[1]:
                    got, n = seq_first(alt)
                    if got is None:
                        return None, False
                    acc |= got
                    nullable = nullable or n
                return acc, nullable
            if op in (P.MAX_REPEAT, P.MIN_REPEAT) or getattr(P, "POSSESSIVE_REPEAT", None) is op:
                lo, _hi, sub = av
                got, n = seq_first(sub)
                if got is None:
                    return None, False
                return got, n or lo == 0
            if op in (P.ASSERT, P.ASSERT_NOT):
                return set(), True
            return None, False

        got, nullable = seq_first(P.parse(pattern, re.IGNORECASE))
        if got is None or nullable:
            return None
        return frozenset(got)
    except Exception:
        return None


def load_patterns(path: Path | str = PATTERNS_PATH) -> _Patterns:
    """Parse the pattern file (syntax documented at its top)."""
    sections: dict[str, list[str]] = {}
    headers: set[str] = set()
    walls: set[str] = set()
    vocab: list[str] = []
    current: str | None = None
    kind = ""
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name, _, kind = line[1:-1].partition(":")
            current = name.strip()
            kind = kind.strip()
            if kind == "header":
                headers.add(current)
            if kind == "wall":
                walls.add(current)
            if kind != "vocab":
                sections.setdefault(current, [])
            continue
        if current is None:
            raise ValueError(f"{path}:{n}: pattern outside a [section]")
        try:
            re.compile(line, re.IGNORECASE)
        except re.error as e:
            raise ValueError(f"{path}:{n}: bad regex {line!r}: {e}") from e
        if kind == "vocab":
            vocab.append(line)
        else:
            sections[current].append(line)

    g2s = {f"s{i}": name for i, name in enumerate(sections)}
    anchored = tuple(
        (name, tuple((q, _first_chars(q)) for q in pats if q.startswith("^"))) for name, pats in sections.items()
    )
    floating = tuple(
        (_required_literal(q), re.compile(q, re.IGNORECASE), name)
        for name, pats in sections.items()
        for q in pats
        if not q.startswith("^")
    )
    vocab_re = re.compile("|".join(f"(?:{q})" for q in vocab), re.IGNORECASE) if vocab else None
    return _Patterns(anchored, floating, g2s, frozenset(headers), vocab_re, frozenset(walls))


def _required_literal(pattern: str) -> str | None:
    """Longest run of top-level literal characters (>= 4) that every match must contain,
    used as a cheap `in` pre-check before searching an unanchored pattern."""
    try:
        from re import _parser as sre_parse  # CPython 3.11+

        best, cur = "", ""
        for op, arg in sre_parse.parse(pattern, re.IGNORECASE):
            if op is sre_parse.LITERAL:
                cur += chr(arg)
            else:
                best, cur = max(best, cur, key=len), ""
        best = max(best, cur, key=len).lower()
        return best if len(best.strip()) >= 4 else None
    except Exception:  # internal API changed: always search
        return None


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return load_patterns()


# a sentence end inside a one-line dump: cheap, and only used to find wall prompts
_SENTENCE_GAP_RE = re.compile(r"(?<=[.!?])\s+(?=[\"“'‘(\[]?[A-Z0-9])")


def wall_sentences(line: str) -> list[tuple[str, str]]:
    """(sentence, section) for each sentence of a long line that a wall section's pattern matches
    (the wall sections only: a long line has many sentences, and all sections on each doubled the
    cleaner's time)."""
    found = []
    for sentence in _SENTENCE_GAP_RE.split(line):
        section = boilerplate_rule(sentence, walls_only=True)
        if section is not None:
            found.append((sentence, section))
    return found


# a list item's bullet ("• Read more articles", "- Get our newsletter"): the patterns read the item, or
# every anchored one would need its own optional bullet
_LIST_BULLET = re.compile(r"^[-•*·▪◦►]\s+")


def boilerplate_rule(line: str, walls_only: bool = False) -> str | None:
    """Section name of the first boilerplate pattern matching `line` (stripped, a list bullet dropped,
    whitespace-collapsed), or None; of the `:wall` sections only with `walls_only`. Lines over
    400 chars never match."""
    if not isinstance(line, str):
        return None
    line = _LIST_BULLET.sub("", line.strip(), count=1)
    if not line or len(line) > PATTERN_MAX_LINE_CHARS:
        return None
    p = _patterns()
    first = line[0].lower()[:1]  # Turkish "İ" lowers to two characters, "i" and a dot above
    rx = p.anchored_for("0" if first.isdigit() else first, walls_only)
    m = rx.match(line) if rx is not None else None
    if m is not None:
        return p.group_to_section[m.lastgroup]
    low = line.lower()
    for lit, rx, section in p.floating:
        if (not walls_only or section in p.wall_sections) and (lit is None or lit in low) and rx.search(line):
            return section
    return None


# ------------------------------------------------------------------ structure helpers

_END_PUNCT = tuple(".!?…:;\"'”’»)]。！？」』")
_WORDS_RE = re.compile(r"\S+")
_LETTER_START_LOWER_RE = re.compile(r"^[^\W\d_]")


_HEAD = 15  # characters of a paragraph's key that index it for the truncated-prefix look-up


def _local_key(line: str) -> str:
    # a teaser's ellipsis ("...", "…", a blog excerpt's "[…]") is not part of the text it repeats
    s = line.casefold()
    return md.ELLIPSIS_END_RE.sub("", s).rstrip() if s.endswith(("...", "…", "]", ")")) else s


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(_END_PUNCT)


def _body_paragraph(line: str) -> bool:
    """Prose: twelve words or more ending as a sentence does."""
    return layout_words(line) >= 12 and _ends_sentence(line)


def _teaser_headline(line: str) -> bool:
    """A linked headline: headline-shaped (`metadata.title_candidate`), at most 15 words, one sentence
    and no final punctuation."""
    return md.title_candidate(line) and not _ends_sentence(line) and layout_words(line) <= 15 and ". " not in line


def _is_short(line: str) -> bool:
    if len(line) > 40 or _ends_sentence(line):
        return False
    return layout_words(line) <= 4


def _is_menu_line(line: str) -> bool:
    return not _ends_sentence(line) and md.menu_line(line)


def _unwrap(text: str) -> list[str]:
    """Non-empty lines; hard-wrapped paragraphs are joined back together.

    A document is hard-wrapped when it has >= 8 lines, its 95th-percentile line length W
    is 50-120 chars, its 99th percentile is <= 1.2*W and >= 60% of lines are at least
    0.7*W long; then inside a block (no blank line between) a line of >= 0.7*W chars
    continues onto the next one. In any document a line of >= 5 words not ending in
    sentence punctuation joins a next line (same block) that starts with a lowercase letter.
    """
    raw_lines = text.split("\n")
    nonempty = sorted(len(x) for x in raw_lines if x)
    wrapped_w = 0
    if len(nonempty) >= 8:
        w = nonempty[min(len(nonempty) - 1, int(len(nonempty) * 0.95))]
        w99 = nonempty[min(len(nonempty) - 1, int(len(nonempty) * 0.99))]
        if 50 <= w <= 120 and w99 <= 1.2 * w and sum(1 for n in nonempty if n >= 0.7 * w) >= 0.6 * len(nonempty):
            wrapped_w = w
    out: list[str] = []
    parts: list[str] = []  # physical lines of the paragraph being built

    def flush() -> None:
        if parts:
            out.append(" ".join(parts) if len(parts) > 1 else parts[0])
            parts.clear()

    for line in raw_lines:
        if not line:
            flush()
            continue
        if parts:
            last = parts[-1]
            join = bool(wrapped_w) and len(last) >= 0.7 * wrapped_w
            if not join and line[0].islower() and not _ends_sentence(last):
                words = last.count(" ") + 1
                k = len(parts) - 2
                while words < 5 and k >= 0:
                    words += parts[k].count(" ") + 1
                    k -= 1
                join = words >= 5
            if join:
                if last.endswith("-") and line[0].islower():
                    parts[-1] = last + line
                else:
                    parts.append(line)
                continue
            flush()
        parts.append(line)
    flush()
    return out



_CREDIT_RE = re.compile(
    r"\((?:[^()]{0,60}\b(?:photo|reuters|ap|afp|getty|epa|file|pool|credit)\b[^()]{0,60})\)\.?$"
    r"|\b(?:photo|photograph|image|picture)\s*(?:credit)?\s*[:/]\s*\S"
    r"|\b(?:getty images|ap photo|afp photo|reuters/|epa/|shutterstock|file photo|photo illustration)\b",
    re.IGNORECASE,
)
_CREDIT_HINTS = ("photo", "getty", "reuters", "afp", "epa", "(ap", "ap/", "image", "picture", "file", "pool", "credit", "shutterstock")
_CAPTION_DATE_END_RE = re.compile(
    r",\s*(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2},\s*\d{4}"
    r"|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{4}"
    r"|\d{1,2}/\d{1,2}/\d{2,4})\.?$",
    re.IGNORECASE,
)
_SCENE_VERB_RE = re.compile(
    r"\b(?:walks?|stands?|sits?|gathers?|holds?|looks? (?:on|at)|waits?|poses?|marches|march|"
    r"attends?|arrives?|leaves|rides?|carr(?:y|ies)|plays?|watch(?:es)?|reacts?|shakes? hands|"
    r"greets?|speaks? (?:during|at|to)|gestures?|chants?|wave|waves|queues?|inspects?|"
    r"is seen|are seen|is pictured|are pictured|pictured|seen (?:here|during|at|in)|"
    r"lies|lie|rest|rests|burns?|smokes?|rises|past damaged)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"[.!?](?:\s+[A-Z\"“]|$)")


# the credit a caption ends with, in any of the cleaner's languages: "... Foto: dpa/Michael Kappeler",
# "... Photograph: Toby Melville/Reuters", "... Fotoğraf: AA", "(AP Photo/Evan Vucci)", "(ANTARA/Foto)",
# "写真：共同". Only at the end, after a sentence ("laut Bild/BamS" and "described the image: a world in
# chaos" are no credit), with a photo word (a paragraph of wire copy may end with "(Reuters)." or
# "(ANSA).") and, in brackets, a credit's "/" or ":" or Getty ("eco labels (see photo above)" is text)
_CREDIT_END_RE = re.compile(
    r"\((?=[^()]*(?:[/:]|getty))(?:[^()]{0,60}\b(?:photo|foto|getty|pool|credit)\b[^()]{0,60})\)\.?$"
    r"|(?:^|[.!?]\s+)(?:photo(?:graph)?|image|picture|foto|bild(?:quelle)?|ljósmynd|kuva|фото|zdjęcie|fotoğraf)"
    r"\s*(?:credit)?\s*[:/]\s*[^.!?:]{1,80}$"
    r"|(?:写真|사진)\s*[:：/][^。]{1,40}$",
    re.IGNORECASE,
)
_SAID_RE = re.compile(r"\b(?:said|says|told|according to|will|would|could)\b|[\"“”]", re.IGNORECASE)


def looks_like_caption(line: str, *, before_body: bool = False) -> bool:
    """Photo-caption heuristic (see module docstring). `before_body`: the line sits before
    the first real body paragraph, which allows the weaker scene-verb signal."""
    line = line.strip()
    if not line or len(line) > 300 or len(line.split()) < 4:
        return False
    low = line.lower()
    if (any(k in low for k in _CREDIT_HINTS) and _CREDIT_RE.search(line)) or _CREDIT_END_RE.search(line):
        return True
    if not line.endswith("."):
        return False
    dated = bool(_CAPTION_DATE_END_RE.search(line[-40:]))
    if not dated and not (before_body and _SCENE_VERB_RE.search(line)):
        return False
    # one sentence, no quotes or reported speech
    if len(_SENTENCE_END_RE.findall(line)) > 1 or _SAID_RE.search(line):
        return False
    return True


def _bare_byline(lines: list[str], rule: list[str | None], pat: list[str | None], t_idx: int,
                 anchor: int | None) -> tuple[int, str] | None:
    """(index, author) of a byline without its "By" ("Jane Doe, Business reporter", or the job on a line
    of its own): the line next to the page's date line (or its age, "2 hours ago": `anchor`), above or
    below it, under the headline; lines a rule or pattern took already and a job line between do not count."""
    if anchor is None:
        return None
    for step in (-1, 1):
        j = anchor + step
        while t_idx < j < len(lines):
            if rule[j] is None and pat[j] is None:
                author = md.bare_name_author(lines[j])
                if author and _named_as_a_writer(lines, j):
                    return j, author
                if not md.job_line(lines[j]):
                    break
            j += step
    return None


# A capitalised line alone next to the date is a writer's name, a dateline's place, an outlet or a
# section's heading ("Jane Smith", "San Francisco", "Le Monde", "Budget Battle"), and nothing in the line
# tells which (word frequencies and "named again in the text" both let places and outlets through, and
# lost "John Roberts"). It is the byline only with the writer's job after a comma or on the line next
# to it: no author rather than a wrong one.
def _named_as_a_writer(lines: list[str], j: int) -> bool:
    return md.job_after_comma(lines[j]) or any(0 <= k < len(lines) and md.job_line(lines[k]) for k in (j - 1, j + 1))


# ------------------------------------------------------------------ main entry point

_CAPTION_LABEL_RE = re.compile(r"^(?:image|media|photo|video) caption\s*[,:]?$", re.IGNORECASE)
_SOFT_RULES = {"above_title", "short_line", "short_line_run", "menu_line", "trailing_block", "repeated_across_documents",
               "tail_teasers"}
_ADDRESS_RE = re.compile(r"\b(?:we|our|us|you|your|you're|yours)\b", re.IGNORECASE)
_TITLE_SUFFIX_SEP_RE = re.compile(r"\s+[|–—-]\s+")


def _match_title(lines: Sequence[str], title: str) -> int | None:
    tk = line_key(title)
    if not tk:
        return None
    head = _TITLE_SUFFIX_SEP_RE.split(title)[0]
    hk = line_key(head)
    for i, line in enumerate(lines[:25]):
        if len(line) > 400:
            continue
        lk = line_key(line)
        if not lk:
            continue
        if lk == tk or lk == hk:
            return i
        if len(lk) >= 15 and (tk.startswith(lk) or lk.startswith(tk)) and min(len(lk), len(tk)) >= 0.6 * max(len(lk), len(tk)):
            return i
    return None


def clean_document(
    raw: str,
    *,
    title: str | None = None,
    published: str | None = None,
    outlet: str | None = None,
    repeated_lines: frozenset[str] = frozenset(),
    today: date | None = None,
    drop_captions: bool = False,
    kind: str = PLAIN,
    rules: frozenset[str] | None = None,
) -> Cleaned:
    """Clean one scraped page. Known metadata (title/published/outlet from the source)
    wins over guessing; see the module docstring for the rules. `kind` says what the text
    is (`PLAIN` dump or `HTML` extractor output) and picks the rules of `RULES[kind]`;
    `rules` overrides that set (used to measure one rule's effect). Never raises on str input."""
    on = rules if rules is not None else RULES.get(kind, RULES[PLAIN])
    # before normalising, which drops control characters: latin-1 mojibake keeps its bytes as C1
    # controls ("we\u00e2\x80\x99ll")
    text = normalize_text(repair_mojibake(raw) if isinstance(raw, str) else raw)
    title = " ".join(repair_mojibake(title).split()) if isinstance(title, str) and title.strip() else None
    outlet = " ".join(repair_mojibake(outlet).split()) if isinstance(outlet, str) and outlet.strip() else None
    published = published.strip() if isinstance(published, str) and published.strip() else None
    today = today or date.today()
    rep = repeated_lines if isinstance(repeated_lines, (set, frozenset)) else frozenset()

    out = _known_metadata(title, published, outlet, today)
    if not text:
        if published and out.published_raw is None:
            out.published_raw = published
        return out

    doc = _split(text, on, today)
    _access_walls(doc)
    t_idx = _title(doc, title, out)
    furniture_above = t_idx if t_idx is not None and not title and "above_title" in on else 0
    dl = _datelines(doc, out)
    if published and out.published_raw is None:
        out.published_raw = published  # unparseable source value: keep it visible
    _byline(doc, t_idx, dl, out)
    # from all the lines, the marked ones too: self-references live in boilerplate
    if out.outlet is None:
        out.outlet = md.guess_outlet(doc.lines, text)

    _pattern_rules(doc)
    _cross_document_repeats(doc, rep)
    _duplicates_and_truncated_prefixes(doc)
    _short_lines_and_menus(doc)
    # taken before the trailing block marks lines: the tail teasers look up to the same line
    first_body = next((i for i in range(doc.n) if doc.rule[i] is None and len(doc.lines[i]) >= 80), None)
    _trailing_block(doc, first_body, out.outlet)
    _tail_teasers(doc, first_body)
    _cut_lead(doc, t_idx)
    _above_title(doc, furniture_above)
    kept = _never_empty(doc)
    _captions(doc, kept, out, drop_captions)
    return _assemble(doc, out)


@dataclass
class _Doc:
    """One document's lines as the passes of `clean_document` see them: each pass reads the
    lines and the marks the passes before it left, and marks more."""
    lines: list[str]
    rule: list[str | None]  # the rule that removed each line; None while it is kept
    pat: list[str | None]  # the boilerplate section each line (as first split) matches
    on: frozenset[str]  # the rules that run
    today: date
    boilerplate: Callable[[str], str | None]  # boilerplate_rule, memoised for this document
    sentence_removed: list[tuple[str, str]] = field(default_factory=list)  # (sentence, rule) cut out of lines

    @property
    def n(self) -> int:
        return len(self.lines)

    def unmarked(self) -> list[str]:
        """The lines, with the ones a rule took already blanked."""
        return [x if self.rule[i] is None else "" for i, x in enumerate(self.lines)]


def _known_metadata(title: str | None, published: str | None, outlet: str | None, today: date) -> Cleaned:
    out = Cleaned(title=title, outlet=outlet)
    if published:
        d, conv = md.parse_date(published, today=today)
        if d is not None:
            out.published_at, out.date_convention, out.published_raw = d, conv, published
    return out


def _split(text: str, on: frozenset[str], today: date) -> _Doc:
    lines = _unwrap(text) if "unwrap" in on else [x for x in text.split("\n") if x]
    n = len(lines)
    # matched first: title guessing and trailing blocks look at them
    memo: dict[str, str | None] = {}

    def bp(x: str) -> str | None:
        r = memo.get(x, "?")
        if r == "?":
            r = memo[x] = boilerplate_rule(x)
        return r

    pat: list[str | None] = [bp(x) for x in lines]
    return _Doc(lines=lines, rule=[None] * n, pat=pat, on=on, today=today, boilerplate=bp)


def _access_walls(doc: _Doc) -> None:
    """Access walls inside lines too long to match whole (one-line page dumps): sentence by
    sentence, wall sections only. A line that opens with two or more wall sentences, or is a
    third wall sentences, is the wall (its other sentences are the wall's form fields and
    instructions); prompts inside a paragraph ("Please enable JavaScript to view the
    comments") go alone."""
    lines, rule = doc.lines, doc.rule
    if "access_wall" not in doc.on:
        return
    for i in range(doc.n):
        if len(lines[i]) <= PATTERN_MAX_LINE_CHARS:
            continue
        found = wall_sentences(lines[i])
        if not found:
            continue
        if 3 * sum(len(x) for x, _ in found) >= len(lines[i]) or (
                len(found) >= 2 and lines[i].startswith(found[0][0])):
            rule[i] = "access_wall"
            continue
        for sentence, section in found:
            doc.sentence_removed.append((sentence, "pattern:" + section))
            lines[i] = lines[i].replace(sentence, " ", 1)
        lines[i] = " ".join(lines[i].split())


def _title(doc: _Doc, title: str | None, out: Cleaned) -> int | None:
    """Index of the headline's line (the known title's, or a guessed one's); marks it."""
    if "title" not in doc.on:
        t_idx = None
    elif title:
        t_idx = _match_title(doc.lines, title)
    else:
        t_idx = md.guess_title_index(doc.lines, today=doc.today, boilerplate=doc.boilerplate)
    if t_idx is not None:
        doc.rule[t_idx] = "title"
        if out.title is None:
            out.title = doc.lines[t_idx]
    return t_idx


def _datelines(doc: _Doc, out: Cleaned) -> tuple[int, date, str, str | None] | None:
    """The date line near the top (md.find_date_line's answer) and the date lines near it; marks them."""
    lines, rule, n, today = doc.lines, doc.rule, doc.n, doc.today
    dl = md.find_date_line(doc.unmarked(), today=today) if "dateline" in doc.on else None
    if dl is None:
        return None
    i, d, raw_date, conv = dl
    rule[i] = "dateline"
    dated_here = out.published_at is None
    if dated_here:
        out.published_at, out.published_raw, out.date_convention = d, raw_date, conv
    a = md.byline_author(lines[i])
    if a:
        out.author = a
    # a second date line near the top ("Last modified on ...", "Actualizado: ...") is furniture too
    dated = [i]
    for j in range(i + 1, min(n, i + md.DATELINE_SCAN_LINES)):
        if rule[j] is None and md.dateline_match(lines[j], today=today) is not None:
            rule[j] = "dateline"
            dated.append(j)
    # ... and when one of the header's date lines says which date is the publication's ("Updated 12 March
    # 2021" above "Published 10 March 2021"), that one is; not a footer's "First published on ..."
    # under a short story, which may be a syndicated copy's first date
    if dated_here:
        for j in dated:
            if any(rule[k] is None and _body_paragraph(lines[k]) for k in range(i + 1, j)):
                break
            got = md.publication_date(lines[j], today=today)
            if got is not None:
                out.published_at, out.published_raw, out.date_convention = got
                break
    return dl


def _byline(doc: _Doc, t_idx: int | None, dl: tuple | None, out: Cleaned) -> None:
    lines, rule, n = doc.lines, doc.rule, doc.n
    bl = md.find_byline(doc.unmarked()) if "byline" in doc.on else None
    if bl is None and "byline" in doc.on and t_idx is not None:
        bl = _bare_byline(lines, rule, doc.pat, t_idx, dl[0] if dl is not None else next(
            (j for j in range(t_idx + 1, min(n, t_idx + md.DATELINE_SCAN_LINES)) if md.RELATIVE_TIME_RE.match(lines[j])),
            None))
    if bl is None:
        return
    rule[bl[0]] = "byline"
    out.author = out.author or bl[1]
    # the author's job or one-line bio under the byline ("Political correspondent", "Daniel Okafor
    # covers city government ...")
    first_name = bl[1].split("; ")[0]
    for j in range(bl[0] + 1, min(n, bl[0] + 3)):
        if rule[j] is None and (md.job_line(lines[j]) or (
                len(lines[j]) <= 300 and lines[j].startswith(first_name + " "))):
            rule[j] = "byline"
            break


def _pattern_rules(doc: _Doc) -> None:
    lines, rule, pat, on = doc.lines, doc.rule, doc.pat, doc.on
    for i in range(doc.n):
        if rule[i] is None and pat[i] is not None and "pattern" in on:
            if pat[i] in _EDITORIAL_SECTIONS and "pattern:editorial" not in on:
                continue
            # a notice in angle brackets ("<Copyright ⓒ 한국일보. All rights reserved. 무단 전재 및 재배포
            # 금지>", as Korean outlets close an article) is not code for its brackets
            bare = lines[i][1:-1] if lines[i].startswith("<") and lines[i].endswith(">") else lines[i]
            if "pattern:fragments" not in on and not _furniture_in_any_text(pat[i], lines[i]) and (
                    " " not in lines[i] or _CODE_LINE_RE.search(bare)):
                continue
            rule[i] = "pattern:" + pat[i]


def _cross_document_repeats(doc: _Doc, rep: frozenset[str]) -> None:
    """Lines repeated across the batch's documents, unless they are most of this one's body."""
    lines, rule, n = doc.lines, doc.rule, doc.n
    if rep and "repeated_across_documents" in doc.on:
        hits = [i for i in range(n) if rule[i] is None and line_key(lines[i]) in rep]
        if hits:
            body_chars = sum(len(lines[i]) for i in range(n) if rule[i] is None)
            hit_chars = sum(len(lines[i]) for i in hits)
            if hit_chars <= 0.5 * body_chars:
                for i in hits:
                    rule[i] = "repeated_across_documents"


def _duplicates_and_truncated_prefixes(doc: _Doc) -> None:
    lines, rule, on = doc.lines, doc.rule, doc.on
    # within one document a cheap key is enough: the text is already normalised
    # lengths in characters of spaced scripts; a Chinese or Japanese character carries about two
    # letters' worth, so half as many (a 31-character Japanese lead sentence is a paragraph)
    scale = [2 if unspaced(x) else 1 for x in lines]
    keys = [_local_key(x) if len(x) * sc >= 30 and rule[i] is None else "" for i, (x, sc) in enumerate(zip(lines, scale))]
    # a paragraph also counts without its wire dateline: the standfirst repeats "Chile's copper
    # output fell…" above "SANTIAGO, Dec 1 (Reuters) - Chile's copper output fell…"
    undated = [_local_key(md.strip_wire_dateline(x)) if k else "" for x, k in zip(lines, keys)]
    seen_full: set[str] = set()
    by_head: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        for head in {k[:_HEAD], undated[i][:_HEAD]}:
            if len(head) >= _HEAD:
                by_head.setdefault(head, []).append(i)
    for i, k in enumerate(keys):
        if not k:
            continue
        if len(k) * scale[i] >= 40 and k in seen_full and "duplicate_paragraph" in on:
            rule[i] = "duplicate_paragraph"
            continue
        seen_full.add(k)
        if len(k) < _HEAD or "truncated_prefix" not in on:
            continue
        probe = k
        for j in by_head.get(k[:_HEAD], [])[:50]:
            if j != i and any(len(x) > len(probe) and x.startswith(probe) for x in (keys[j], undated[j])):
                # cut-off teaser, or a lead sentence repeated at the start of a longer paragraph
                rule[i] = "truncated_prefix"
                break


def _short_lines_and_menus(doc: _Doc) -> None:
    """Short lines and menus: maximal runs of lines that are pattern-flagged or short."""
    lines, rule, n, on = doc.lines, doc.rule, doc.n, doc.on
    i = 0
    while i < n:
        j = i
        shorts: list[int] = []
        while j < n and (
            (rule[j] is not None and rule[j].startswith("pattern:")) or (rule[j] is None and _is_short(lines[j]))
        ):
            if rule[j] is None:
                shorts.append(j)
            j += 1
        if len(shorts) >= 2 or (len(shorts) == 1 and j - i >= 3):
            if "short_line_run" in on:
                for s in shorts:
                    rule[s] = "short_line_run"
        elif len(shorts) == 1 and len(lines[shorts[0]].split()) <= 2 and "short_line" in on:
            rule[shorts[0]] = "short_line"
        i = max(j, i + 1)
    for i in range(n):
        if "menu_line" in on and rule[i] is None and _is_menu_line(lines[i]):
            rule[i] = "menu_line"


def _trailing_block(doc: _Doc, first_body: int | None, outlet: str | None) -> None:
    """The block after an appeal/newsletter/related header, when most of it is furniture."""
    lines, rule, pat, n = doc.lines, doc.rule, doc.pat, doc.n
    p = _patterns()
    if first_body is None or "trailing_block" not in doc.on:
        return
    out_key = outlet.casefold() if outlet else None
    headers = [h for h in range(first_body + 1, n) if pat[h] is not None and pat[h] in p.header_sections]
    h0 = headers[0] if headers else n
    bad = [False] * n
    for i in range(h0, n):
        ln = lines[i]
        if rule[i] is not None:
            bad[i] = True
        elif p.vocab is not None and p.vocab.search(ln) and (
            _ADDRESS_RE.search(ln) or (out_key and out_key in ln.casefold())
        ):
            bad[i] = True
        elif not _ends_sentence(ln) and len(ln.split()) <= 15:
            bad[i] = True  # headline-like link line
    # suffix sums
    suf_n = [0] * (n + 1)
    suf_c = [0] * (n + 1)
    suf_bn = [0] * (n + 1)
    suf_bc = [0] * (n + 1)
    for i in range(n - 1, h0 - 1, -1):
        suf_n[i] = suf_n[i + 1] + 1
        suf_c[i] = suf_c[i + 1] + len(lines[i])
        suf_bn[i] = suf_bn[i + 1] + (1 if bad[i] else 0)
        suf_bc[i] = suf_bc[i + 1] + (len(lines[i]) if bad[i] else 0)
    for h in headers:
        if suf_bn[h] >= 0.7 * suf_n[h] and suf_bc[h] >= 0.5 * suf_c[h]:
            for k in range(h, n):
                if rule[k] is None:
                    rule[k] = "trailing_block"
            break


def _tail_teasers(doc: _Doc, first_body: int | None) -> None:
    """The headlines a page lists under the article, below a line a pattern took ("Mehr zum Thema" under
    another name, "Most viewed", "Read also: …", a newsletter prompt) where no header section starts a
    trailing block: two or more headline-shaped lines from that line to the end of the text, with
    only furniture and short lines among them. Not without such a line: the list an article ends with."""
    lines, rule = doc.lines, doc.rule
    if "tail_teasers" in doc.on and first_body is not None:
        tail: list[int] = []  # from the end up: unflagged headline-shaped or short lines
        headed = 0  # how many of them lie below the top pattern line with two headlines under it
        for i in range(doc.n - 1, first_body, -1):
            if rule[i] is None:
                if not (_teaser_headline(lines[i]) or _is_short(lines[i])):
                    break
                tail.append(i)
            elif rule[i].startswith("pattern:") and sum(_teaser_headline(lines[j]) for j in tail) >= 2:
                headed = len(tail)
        for i in tail[:headed]:
            rule[i] = "tail_teasers"


def _cut_lead(doc: _Doc, t_idx: int | None) -> None:
    """A teaser cut off under the headline whose whole text the page does not repeat (when it
    does, the truncated-prefix rule took it): half a sentence is no article text."""
    lines, rule, n = doc.lines, doc.rule, doc.n
    if t_idx is not None and "cut_lead" in doc.on:
        k = next((i for i in range(t_idx + 1, min(n, t_idx + 3)) if rule[i] is None), None)
        if k is not None and md.cut_off(lines[k]) and any(
                rule[i] is None and _body_paragraph(lines[i]) for i in range(k + 1, n)):
            rule[k] = "cut_lead"  # only with the article below it: a page cut off there is all there is


def _above_title(doc: _Doc, furniture_above: int) -> None:
    """What the rules before left over the guessed headline (a page has only its furniture there)."""
    for i in range(furniture_above):
        if doc.rule[i] is None and not _body_paragraph(doc.lines[i]):
            doc.rule[i] = "above_title"


def _never_empty(doc: _Doc) -> list[int]:
    """The indexes of the lines kept. Safeguard: never empty a document with the soft structural rules alone."""
    rule, n = doc.rule, doc.n
    kept = [i for i in range(n) if rule[i] is None]
    if not kept:
        soft = [i for i in range(n) if rule[i] in _SOFT_RULES]
        if soft and all(rule[i] in _SOFT_RULES or rule[i] in ("title", "dateline", "byline") for i in range(n)):
            for i in soft:
                rule[i] = None
            kept = soft
    return kept


def _captions(doc: _Doc, kept: list[int], out: Cleaned, drop_captions: bool) -> None:
    """Captions among the kept lines: flagged (kept) or dropped."""
    lines, rule = doc.lines, doc.rule
    first_long = next((i for i in kept if len(lines[i]) >= 80 and not looks_like_caption(lines[i], before_body=True)), None)
    for i in kept:
        labelled = i > 0 and rule[i - 1] == "pattern:media_label" and _CAPTION_LABEL_RE.match(lines[i - 1])
        if labelled or looks_like_caption(lines[i], before_body=first_long is None or i < first_long):
            out.captions.append(lines[i])
            # a caption that ends with its photo's credit ("Polisen på plats i Uddevalla. Foto: TT") is the
            # page's picture, not its text, in any language; a summary of a Swedish page opened with it
            if drop_captions or ("caption_credit" in doc.on and _CREDIT_END_RE.search(lines[i])):
                rule[i] = "caption"


def _assemble(doc: _Doc, out: Cleaned) -> Cleaned:
    lines, rule = doc.lines, doc.rule
    out.removed_lines = [(lines[i], r) for i, r in enumerate(rule) if r is not None] + doc.sentence_removed
    out.text = "\n\n".join(lines[i] for i in range(doc.n) if rule[i] is None)
    if not out.text and out.title:
        walls = {"pattern:" + w for w in _patterns().wall_sections} | {"access_wall"}
        out.headline_only = any(r in walls for _, r in out.removed_lines)
        if out.headline_only:
            out.text = out.title
    return out
