"""Sentence splitting and word tokenization with no data downloads.

`split_sentences` is built on pysbd (rule-based, no model files) with two additions:

* glued sentences such as ``"...$10.9bn.For the full-year..."`` (scraped text often
  loses the space after a full stop) are split, while decimals (``$10.9bn``), initials
  (``U.S.``) and domain names (``bbc.co.uk``) are left alone;
* long paragraphs are cut into chunks at unambiguous boundaries before pysbd sees them,
  because pysbd's abbreviation pass re-scans the whole string once per abbreviation hit
  (quadratic on a 2,000-sentence paragraph).

pysbd compiles a fresh regex for every abbreviation it meets, which overflows the `re`
module's 512-entry cache and made it spend ~80% of its time compiling. We give pysbd's
modules a private `re` shim with an unbounded (but naturally small: one entry per
abbreviation pattern) compile cache; behaviour is identical, ~4x faster.

`SumyTokenizer` is what sumy's parsers and summarizers need (`to_sentences`,
`to_words`, `language`); sumy's own `Tokenizer("english")` needs NLTK's punkt_tab
download, which is not available offline.
"""

from __future__ import annotations

import re
import sys
import types
from bisect import bisect_left
from collections.abc import Callable, Iterable
from functools import lru_cache

import pysbd
import pysbd.languages

from tasks.text.tokens import LETTER

__all__ = ["split_sentences", "split_paragraphs", "tokenize_words", "SumyTokenizer", "TABLE_CELLS", "LIST_ITEM",
           "is_table_or_list_line", "ends_sentence"]

# How HTML tables and lists are laid out in a document's text (tasks/text/extract.py writes them):
# a table row a line, its cells joined by TABLE_CELLS; a list item a line, after LIST_ITEM.
TABLE_CELLS = " | "
LIST_ITEM = "- "
# A sentence's last mark (. ! ? …, CJK 。！？), then any closing quotes or brackets of any convention
# ("x." 'x.' “x.” „x.“ »x.« «x.» 「x。」 (x.)): what a line needs to read as a sentence, not a heading.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’“‘»«」』）)\]]*$")


def ends_sentence(text: str) -> bool:
    """True when `text` ends the way a sentence does (`_SENTENCE_END`); a heading, a teaser link or a
    kicker ("Street lighting", "Read Grave Empire", "MENINGSMÅLING:") does not."""
    return _SENTENCE_END.search(text.rstrip()) is not None


def is_table_or_list_line(sentence: str) -> bool:
    """A table row, or a list item that is not a sentence of its own: facts worth keeping in the
    text (results, casualties, prices) that read as fragments when lifted into a summary."""
    s = sentence.strip()
    return TABLE_CELLS in s or (s.startswith(LIST_ITEM) and not ends_sentence(s))


# ---------------------------------------------------------------------------
# pysbd speed-up: cached regex compilation inside pysbd only
# ---------------------------------------------------------------------------


def _make_cached_re() -> types.ModuleType:
    shim = types.ModuleType("_newsflow_pysbd_re")
    shim.__dict__.update({k: v for k, v in re.__dict__.items() if not k.startswith("__")})

    @lru_cache(maxsize=20000)
    def _compile(pattern, flags=0):
        return re.compile(pattern, flags)

    def compile(pattern, flags=0):  # noqa: A001 - mirrors re.compile
        if isinstance(pattern, re.Pattern):
            return pattern
        return _compile(pattern, int(flags))

    def sub(pattern, repl, string, count=0, flags=0):
        return compile(pattern, flags).sub(repl, string, count)

    def subn(pattern, repl, string, count=0, flags=0):
        return compile(pattern, flags).subn(repl, string, count)

    def findall(pattern, string, flags=0):
        return compile(pattern, flags).findall(string)

    def finditer(pattern, string, flags=0):
        return compile(pattern, flags).finditer(string)

    def search(pattern, string, flags=0):
        return compile(pattern, flags).search(string)

    def match(pattern, string, flags=0):
        return compile(pattern, flags).match(string)

    def fullmatch(pattern, string, flags=0):
        return compile(pattern, flags).fullmatch(string)

    def split(pattern, string, maxsplit=0, flags=0):
        return compile(pattern, flags).split(string, maxsplit)

    for fn in (compile, sub, subn, findall, finditer, search, match, fullmatch, split):
        setattr(shim, fn.__name__, fn)
    return shim


_CRE = _make_cached_re()


def _patch_pysbd() -> None:
    shim = _CRE
    for name, module in list(sys.modules.items()):
        if (name == "pysbd" or name.startswith("pysbd.")) and getattr(module, "re", None) is re:
            module.re = shim


from pysbd.lang.english import English as _English  # noqa: E402


class _FastEnglish(_English):
    """pysbd's English rules with a cheaper abbreviation scan (same output).

    pysbd's scan visits every word that merely *starts* with an abbreviation ("a", "no",
    "st", ...) and re-runs a substitution over the whole line for each; every one of
    those substitutions needs ``<abbr>.`` in the text, so abbreviations never followed
    by a period are skipped up front.
    """

    class AbbreviationReplacer(_English.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text):
            lowered = text.lower()
            for abbr in self.lang.Abbreviation.ABBREVIATIONS:
                stripped = abbr.strip()
                if stripped + "." not in lowered:
                    continue
                abbrev_match = _CRE.findall(r"(?:^|\s|\r|\n){}".format(stripped), text, flags=re.IGNORECASE)
                if not abbrev_match:
                    continue
                next_word_start = r"(?<={" + str(re.escape(stripped)) + "} ).{1}"
                char_array = _CRE.findall(next_word_start, text)
                for ind, match in enumerate(abbrev_match):
                    text = self.scan_for_replacements(text, match, ind, char_array)
            return text


_SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=False)
_SEGMENTER.language_module = _FastEnglish
_patch_pysbd()  # after the Segmenter so lazily imported pysbd modules are covered too


# ---------------------------------------------------------------------------
# splitting
# ---------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WS = re.compile(r"\s+")

# A full stop / ? / ! glued to the next sentence: "...$10.9bn.For the full-year".
# Left side: a lowercase letter, digit, %, ) or a closing quote right before the mark, and
# at least two letters/digits in the word (so "U.S.Army" or "e.g.The" stay alone).
# Right side: optional quote then an uppercase letter followed by a lowercase letter.
_GLUED = re.compile(
    r"(?<=[a-z0-9%\)][a-z0-9%\)])([.!?]+)([\"'”’]?)(?=[\"“‘]?[A-Z][a-z])"
)
# Domain-ish tokens we must not split: "bbc.co.uk", "Amazon.com", "www.Example.org".
_URLISH = re.compile(r"(?:www\.|https?://)\S*$|\S*\.(?:com|org|net|co|uk|gov|edu|io)\S*$", re.I)

# Cheap unambiguous boundary used only to chunk very long paragraphs for pysbd.
_SAFE_BOUNDARY = re.compile(r"(?<=[a-z]{3}[.!?])\s+(?=[A-Z][a-z])")
_CHUNK_CHARS = 2500
# Bounds for text that is not prose (a 3 MB line with no full stop, pages of "U.S." and
# "No. 5" with no sentence break), which took pysbd minutes (its abbreviation pass is quadratic
# in its input):
# * a stretch without a safe boundary longer than _MAX_CHUNK_CHARS is cut into pieces of at most
#   _MAX_SENTENCE_CHARS before pysbd, after a sentence mark where there is one, else at a space;
# * a sentence longer than _MAX_SENTENCE_CHARS is cut the same way;
# * pysbd, 3-10 µs a character wherever it is needed (abbreviations, numbers, quotes), sees at
#   most _PYSBD_BUDGET_CHARS of one text (8x a long article); after that only safe boundaries split.
# In the dev set the longest stretch without a safe boundary has 1,520 characters and the longest
# sentence (of 896 dev and seed texts) 1,452, so articles are split exactly as before.
_MAX_SENTENCE_CHARS = 2000
_MAX_CHUNK_CHARS = 4 * _CHUNK_CHARS
_MARK_SPACE = re.compile(r"[.!?…][\"'”’)\]]*(?= )")
_PYSBD_BUDGET_CHARS = 200_000


def _pysbd(text: str) -> list[str]:
    # Segmenter.segment(clean=False) maps every sentence back onto the input with a regex
    # compiled per sentence (most of its run time on long texts); the processor's sentences
    # are what it maps, and we strip whitespace anyway.
    return _SEGMENTER.processor(text).process()


# A boundary pysbd always takes: a full word of 3+ lowercase letters (not an abbreviation such
# as "capt." or "dept."), the mark, a space, and a capitalised word, outside quotes and brackets.
_CONFIDENT = re.compile(r"(?<=[a-z]{3}[.!?])\s+(?=[A-Z][a-z])")
# ... and where a quotation's next paragraph opens ('... same direction. "That's happened ...'):
# the boundary holds even though a quotation is open before it. The reopened quotation may start
# with a one-letter word ('... too soon. "I won't take any risks', '... "A draw is fair'), which
# the capital-then-lowercase test missed: the whole paragraph stayed one "sentence".
_REOPENED = re.compile(r"(?<=[a-z]{2}[.!?])\s+(?=\"[A-Z](?:[a-z]|[\s'’]))")
# ... and where one closed quotation is followed by another ('... a problem." "Consumer spending is
# still high.'): a quotation closed after its sentence mark ends that sentence
_QUOTE_AFTER_QUOTE = re.compile(r"(?<=[a-z0-9%)]{2}[.!?][\"”])\s+(?=[\"“][A-Z](?:[a-z]|[\s'’]))")


def _quoted_sentence_before(text: str, end: int, quotes: list[int], taken: set[int]) -> bool:
    """The quotation that closes at `end` is a sentence of its own: opened at the start, after a colon, a
    sentence's end or a quoted sentence (`taken`: the ends of those), or in an earlier paragraph (an odd
    number of straight quotes before `end`; `quotes` holds their positions). A quoted title inside a
    sentence is not ('The band played "Help!" "Yesterday" and ...' is one sentence). Looks back at most a
    sentence's length: no pass over the text per match."""
    close = text[end - 1]
    if close == '"' and bisect_left(quotes, end) % 2:
        return True
    opener = text.rfind('"' if close == '"' else "“", max(0, end - _MAX_SENTENCE_CHARS), end - 1)
    if opener < 0:
        return True
    at = opener
    while at > max(0, opener - 20) and text[at - 1].isspace():
        at -= 1
    return at == 0 or at in taken or text[at - 1] in ":.!?…;"


_WORD_BEFORE = re.compile(r"([A-Za-z]+)[.!?]$")
_ABBREVIATIONS = frozenset(a.lower() for a in pysbd.lang.english.English.Abbreviation.ABBREVIATIONS)
# what sends a piece to pysbd: a sentence mark, or a bracket/quote closing before a capital
# a mark pysbd may cut at: besides . ! ? …, the sentence ends of other scripts (Devanagari danda,
# Arabic question mark, Urdu full stop, Armenian, Ethiopic, Burmese): a Hindi paragraph of five
# sentences stayed one, never shown to pysbd
_INNER_MARK = re.compile(r"[.!?…\u0964\u0965\u061f\u06d4\u0589\u1362\u104b]|[)\]\"”'’]\s+[A-Z]")
# pysbd reads "1. ", "2) " as list items from the whole paragraph: leave such paragraphs to it
_LIST_ITEM = re.compile(r"(?:^|\s)\(?\d{1,3}[.)]\s")
_OPENERS, _CLOSERS = "“([{", "”)]}"
_STRAIGHT_QUOTE = re.compile('"')
_OPENS_AFTER = "([{—–-:/"  # a straight quote right after one of these opens a quotation
# lower-case abbreviations that do not end a sentence before a quotation ('compared vs. "Avatar"')
_INSIDE_SENTENCE = frozenset({"vs", "cf", "ca", "approx", "incl", "viz", "vol", "pp", "ed", "eds", "tr", "trans"})


def _enclosed(text: str) -> bool:
    """True when the end of `text` is inside a quotation or brackets. A straight quote before a word
    opens a quotation and one after a word closes it; one that opens while a quotation is open starts
    the next paragraph of the same quotation ('... contacted me. "If they want to ...'), as a
    quotation running over several paragraphs reopens at each: counting marks two by two, that one
    mark put every later sentence of the paragraph "inside a quotation", and pysbd glued them all."""
    depth = sum(text.count(c) for c in _OPENERS) - sum(text.count(c) for c in _CLOSERS)
    if depth > 0:
        return True
    quoted = False
    for m in _STRAIGHT_QUOTE.finditer(text):
        before, after = text[m.start() - 1: m.start()], text[m.end(): m.end() + 1]
        if after.strip() and (not before.strip() or before in _OPENS_AFTER):  # 'said "We', 'replied—"We'
            quoted = True
        elif before.strip():  # after a word or mark: a closing quote
            quoted = False
    return quoted


def _segment(text: str) -> list[str]:
    """pysbd's sentences, asking pysbd only about the stretches between confident boundaries.

    Most news sentences end in a plain word, a full stop and a capitalised next word; cutting
    there first and sending only the pieces that still hold a mark (abbreviations, numbers,
    quotes) through pysbd gives the same sentences in a fraction of the time (pysbd cost
    about half of summarizing)."""
    if _LIST_ITEM.search(text):
        return _pysbd(text)
    after_quotes = list(_QUOTE_AFTER_QUOTE.finditer(text))
    if after_quotes:
        quotes = [i for i, c in enumerate(text) if c == '"']
        taken: set[int] = set()
        for m in after_quotes:
            if _quoted_sentence_before(text, m.start(), quotes, taken):
                taken.add(m.start())
        after_quotes = [m for m in after_quotes if m.start() in taken]
    boundaries = sorted([*_CONFIDENT.finditer(text), *_REOPENED.finditer(text), *after_quotes],
                        key=lambda m: m.start())
    return _cut_at_confident_boundaries(text, boundaries, _WORD_BEFORE, _ABBREVIATIONS, _enclosed,
                                        _pysbd, closers="\"'”’)]", reopens='"')


def _cut_at_confident_boundaries(text: str, boundaries: Iterable[re.Match], word_end: re.Pattern,
                                 abbreviations: frozenset[str], enclosed: Callable[[str], bool],
                                 pysbd_split: Callable[[str], list[str]], closers: str, reopens: str = "") -> list[str]:
    """Cut `text` at the `boundaries` that follow no abbreviation and close no quote (unless the next
    piece opens with a mark of `reopens`: a quotation's next paragraph), then send only the pieces
    that still hold a mark (abbreviations, numbers, quotes) through pysbd."""
    pieces: list[str] = []
    start = 0
    for m in boundaries:
        left = text[start : m.start()]
        word = word_end.search(left)
        reopened = text[m.end(): m.end() + 1] in reopens
        # a lower-case word before a reopened quotation ends a sentence even if it spells an
        # abbreviation: "me." is Maine's in pysbd's list
        if word and word.group(1).lower() in abbreviations and not (
                reopened and word.group(1).islower() and word.group(1) not in _INSIDE_SENTENCE):
            continue
        if enclosed(left) and not reopened:
            continue
        pieces.append(left)
        start = m.end()
    pieces.append(text[start:])
    out: list[str] = []
    for piece in pieces:
        if _INNER_MARK.search(piece.rstrip().rstrip(closers).rstrip(".!?…")):
            out.extend(pysbd_split(piece))
        else:
            out.append(piece)
    return out


def _split_glued(sentence: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _GLUED.finditer(sentence):
        left = sentence[start : m.start()]
        last_token = left.rsplit(None, 1)[-1] if left.split() else ""
        if _URLISH.search(last_token + m.group(1) + sentence[m.end() : m.end() + 4]):
            continue
        quote = m.group(2)
        cut = m.end(1)
        if quote:
            # A straight quote right after the mark closes the sentence when the sentence
            # so far has an odd number of quotes; otherwise it opens the next one.
            piece = sentence[start : m.end(1)]
            if quote in "”’" or piece.count('"') % 2 == 1:
                cut = m.end(2)
        piece = sentence[start:cut].strip()
        if piece:
            out.append(piece)
        start = cut
    rest = sentence[start:].strip()
    if rest:
        out.append(rest)
    return out


def _chunks(paragraph: str) -> list[str]:
    if len(paragraph) <= _CHUNK_CHARS:
        return [paragraph]
    chunks: list[str] = []
    start = 0
    last_cut = 0
    for m in _SAFE_BOUNDARY.finditer(paragraph):
        if m.start() - start >= _CHUNK_CHARS:
            chunks.append(paragraph[start : m.start()])
            start = m.end()
        last_cut = m.end()
    del last_cut
    chunks.append(paragraph[start:])
    if any(len(c) > _MAX_CHUNK_CHARS for c in chunks):
        chunks = [piece for c in chunks
                  for piece in (_cut_at_words(c) if len(c) > _MAX_CHUNK_CHARS else [c])]
    return chunks


def _cut_at_words(text: str, limit: int = _MAX_SENTENCE_CHARS) -> list[str]:
    """`text` in pieces of at most `limit` characters: cut after the last sentence mark in the
    second half of the window, else at the last space (inside one giant token, at the limit)."""
    pieces: list[str] = []
    start, n = 0, len(text)
    while n - start > limit:
        cut = -1
        for m in _MARK_SPACE.finditer(text, start + limit // 2, start + limit):
            cut = m.end()
        if cut <= start:
            cut = text.rfind(" ", start + 1, start + limit + 1)
        if cut <= start:
            cut = start + limit
        pieces.append(text[start:cut].strip())
        start = cut
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


_LEADING_NUMBER = re.compile(r"^(\d{1,4}[.)])\s+(\S.*)$")
_ENDS_SENTENCE = re.compile(r"[.!?:;\"'”’)\]]$")


# A closing quotation mark -> the mark that opens it. Which of “ ” « » closes depends on the convention
# (“x” and „x“, «x» and »x«): a mark only closes a quotation the paragraph so far left open.
_CLOSING_QUOTES = {'"': '"', "”": "“", "“": "„", "’": "‘", "»": "«", "«": "»", "」": "「", "』": "『"}
_STRAIGHT_OPENS = re.compile(r'(?:^|(?<=[\s(\[]))"(?=\S)')
_STRAIGHT_CLOSES = re.compile(r'(?<=\S)"')


def _quotes_open(text: str) -> dict[str, int]:
    """For each closing mark, the quotations `text` opens minus those it closes with it. Straight
    quotes open and close: one before a word opens, one after a word closes (a quotation running over
    several sentences may open again at each, '"They have ... positive. "So we ...')."""
    open_ = {mark: text.count(opener) - text.count(mark) for mark, opener in _CLOSING_QUOTES.items()}
    open_['"'] = len(_STRAIGHT_OPENS.findall(text)) - len(_STRAIGHT_CLOSES.findall(text))
    return open_


def _closes_quote(piece: str, open_: dict[str, int]) -> bool:
    """True when `piece` starts with the mark that closes a quotation the paragraph so far left open
    (`open_`, from `_quotes_open`): pysbd cuts after the sentence mark inside a quotation, so the
    closing mark starts the next piece ('" Scotland secured ...', '”总理说。')."""
    mark = piece[:1]
    if open_.get(mark, 0) <= 0:
        return False
    return mark != '"' or len(piece) == 1 or piece[1].isspace()  # '"So' opens a quotation


def _repair_list_numbers(sentences: list[str]) -> list[str]:
    """Re-attach stray closing quotes and brackets, and undo pysbd's numbered-list guess on prose:
    "... in region 1. Report 2 ..." is split by pysbd as "... in region" / "1. Report 2 ..."; give the
    number back to the sentence it ends."""
    out: list[str] = []
    before_last = dict.fromkeys(_CLOSING_QUOTES, 0)  # `_quotes_open` of the pieces before out[-1]
    for s in sentences:
        if out and not any(ch.isalnum() for ch in s) and len(s) <= 3:
            # a lone closing quote/bracket pysbd split off: it belongs to the sentence before
            out[-1] += s
            continue
        if out and s[:1] in _CLOSING_QUOTES:
            if _closes_quote(s, {mark: before_last[mark] + n for mark, n in _quotes_open(out[-1]).items()}):
                # a closing quote opening a longer piece: it ends the sentence before
                out[-1] += s[0]
                s = s[1:].lstrip()
                if not s:
                    continue
        if out and out[-1].count("（") > out[-1].count("）") and "）" in s:
            # a CJK aside "（1月14日就任。小林裕明社長は解任）" cut at its inner 。: one unit, not two fragments
            out[-1] += s
            continue
        m = _LEADING_NUMBER.match(s)
        if m and out and not _ENDS_SENTENCE.search(out[-1]):
            out[-1] = f"{out[-1]} {m.group(1)}"
            s = m.group(2)
        if out:
            before_last = {mark: before_last[mark] + n for mark, n in _quotes_open(out[-1]).items()}
        out.append(s)
    return out


def split_paragraphs(text: str, language: str | None = "en") -> list[list[str]]:
    """Sentences grouped by paragraph (paragraphs are separated by blank lines).

    English takes the tuned path below; another language takes pysbd's rules for it when pysbd
    has them (23 languages), else the language-neutral punctuation rule (`_split_neutral`)."""
    if language != "en":
        return _split_paragraphs_other(text, language)
    return _paragraphs(text, _split_english_chunk)


def _split_english_chunk(chunk: str, within_budget: bool) -> list[str]:
    out: list[str] = []
    for s in _segment(chunk) if within_budget else _SAFE_BOUNDARY.split(chunk):
        s = s.strip()
        if s:
            out.extend(_split_glued(s))
    return out


def _paragraphs(text: str, split_chunk: Callable[[str, bool], list[str]]) -> list[list[str]]:
    """Sentences per paragraph, each paragraph cut in chunks by `split_chunk(chunk, within_budget)`;
    past `_PYSBD_BUDGET_CHARS` of text (`within_budget` false) it must not call pysbd, whose cost
    grows with odd text, so a huge document stays fast."""
    paragraphs: list[list[str]] = []
    budget = _PYSBD_BUDGET_CHARS
    for raw in _PARAGRAPH_BREAK.split(text or ""):
        para = _WS.sub(" ", raw).strip()
        if not para:
            continue
        sentences: list[str] = []
        for chunk in _chunks(para):
            budget -= len(chunk)
            sentences.extend(split_chunk(chunk, budget >= 0))
        if sentences:
            sentences = _repair_list_numbers(sentences)  # a lone closing quote pysbd split off, "region 1."
            if any(len(x) > _MAX_SENTENCE_CHARS for x in sentences):
                sentences = [piece for x in sentences for piece in _cut_at_words(x)]
            paragraphs.append(sentences)
    return paragraphs


def split_sentences(text: str, language: str | None = "en") -> list[str]:
    """Split cleaned article text into sentences (paragraphs separated by blank lines).

    Single newlines inside a paragraph are treated as spaces. Never downloads anything.
    """
    return [s for para in split_paragraphs(text, language) for s in para]


# ---------------------------------------------------------------------------
# other languages
# ---------------------------------------------------------------------------

# pysbd's languages besides English (pysbd.languages.LANGUAGE_CODES)
PYSBD_LANGUAGES = frozenset(pysbd.languages.LANGUAGE_CODES) - {"en"}
# A boundary any alphabet shares: ., !, ? or … (plus closing quotes/brackets) and a space; taken
# unless the next word starts in lower case or the mark ends a number or a single letter
# ("am 3. Oktober", "J. Smith"). Sentence marks of CJK text end a sentence with no space after.
# A run of marks is tried from its first mark only (the lookbehind): tried from every mark of it, a run
# of 2,000 full stops with no space after cost 2,000 scans of the rest of the run (126 ms a 2,000-character
# piece of a text of dots, 15 s at 400 KB); the matches are the same, a shorter run fails as the whole did.
_NEUTRAL_MARK = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[」』”’）)]*\s*|[۔؟\u0964\u0965]+\s*")
_NUMBER_OR_INITIAL = re.compile(r"(?:^|\s)(?:\d+|\w)[.]$")


def _split_neutral(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _NEUTRAL_MARK.finditer(text):
        end = m.end()
        if end >= len(text):
            break
        following = text[end : end + 2].lstrip("\"'“‘«(„[")
        if following[:1].islower():
            continue
        mark_end = m.start() + len(m.group(0).rstrip())
        # the number or initial is the last word before the mark: looked for from the last space on, not in
        # the whole sentence so far (which grows while marks are skipped: "A. B. C. ..." re-read it at each
        # mark, 32 s at 400 KB); the same answer, as neither holds a space
        if text[m.start()] == "." and _NUMBER_OR_INITIAL.search(
                text[max(start, text.rfind(" ", start, m.start())) : m.start() + 1]):
            continue
        out.append(text[start:mark_end])
        start = end
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


@lru_cache(maxsize=None)
def _pysbd_segmenter(language: str) -> pysbd.Segmenter:
    segmenter = pysbd.Segmenter(language=language, clean=False, char_span=False)
    _patch_pysbd()  # this language's rules module was imported just now
    return segmenter


# A boundary pysbd takes in any cased alphabet: three lower-case letters, the mark, a space and a
# capitalised word (checked with str methods: `re` has no Unicode case classes).
_CANDIDATE = re.compile(r"(?<=\w{3}[.!?])\s+(?=\w\w)")
_WORD_END = re.compile(r"(\w+)[.!?]$")


@lru_cache(maxsize=None)
def _abbreviations(language: str) -> frozenset[str]:
    module = pysbd.languages.Language.get_language_code(language)
    return frozenset(a.strip().lower() for a in getattr(module.Abbreviation, "ABBREVIATIONS", ()))


# Double quotation marks of any convention ("x", “x”, „x“, «x», »x«): which of “ ” opens depends on
# the language, but every quotation has two, so an odd count means the text ends inside one.
_DOUBLE_QUOTES = "\"“”„«»‹›"


def _inside_quotes(text: str) -> bool:
    return (sum(text.count(c) for c in _DOUBLE_QUOTES) % 2 == 1 or text.count("(") > text.count(")")
            or text.count("[") > text.count("]"))


def _segment_other(text: str, language: str, segmenter: pysbd.Segmenter) -> list[str]:
    """`_segment` for pysbd's other languages: cut at confident boundaries first and ask pysbd
    only about the pieces that still hold a mark (its rules cost 10-70 ms an article otherwise)."""
    if language in ("ja", "zh") or _LIST_ITEM.search(text):
        return segmenter.processor(text).process()
    # the English boundary regex, for every alphabet: three lower-case letters, a mark, a capital
    boundaries = (m for m in _CANDIDATE.finditer(text)
                  if (before := text[m.start() - 4 : m.start() - 1]).isalpha() and before.islower()
                  and (after := text[m.end() : m.end() + 2])[0].isupper() and after[1].islower())
    return _cut_at_confident_boundaries(text, boundaries, _WORD_END, _abbreviations(language), _inside_quotes,
                                        lambda piece: segmenter.processor(piece).process(), closers="\"'”’)]»")


def _split_paragraphs_other(text: str, language: str | None) -> list[list[str]]:
    segmenter = _pysbd_segmenter(language) if language in PYSBD_LANGUAGES else None

    def split_chunk(chunk: str, within_budget: bool) -> list[str]:
        if segmenter is not None and within_budget:
            found = _segment_other(chunk, language, segmenter)
            if language in ("ja", "zh"):  # pysbd's rules for them miss marks followed by a quote or a space
                found = [piece for s in found for piece in _split_neutral(s.strip())]
        else:
            found = _split_neutral(chunk)
        return _rejoined([s.strip() for s in found if s.strip()])

    return _paragraphs(text, split_chunk)


# a sentence never ends in a comma or a colon: pysbd's Arabic (and Persian, Urdu) rules cut at the
# Arabic comma "،" and at ":" ("وقال والي الجهة،" | "إن فرق الوقاية…"), and summaries took the halves
_NOT_AN_END = ("،", ",", ":", "؛", ";")
# nor in a short abbreviation before a lower-case word: pysbd's Polish list lacks "r." (year) and
# "tys." (thousand), and "7 października 2025 r." | "doszło do awarii…" were two sentences
_ABBREVIATED_END = re.compile(r"(?:^|\s)\w{1,4}\.$")


def _rejoined(pieces: list[str]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        first = piece.split(None, 1)[0] if piece.strip() else ""
        # a word all in lower case, not a brand ("iPhone-Verkäufe", "eBay")
        if out and (out[-1].endswith(_NOT_AN_END) or (first.islower() and first[:1].isalpha()
                                                         and _ABBREVIATED_END.search(out[-1]))):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


# ---------------------------------------------------------------------------
# words
# ---------------------------------------------------------------------------

# Same notion of a word as sumy's Tokenizer (letters, inner apostrophes/hyphens).
_WORD = re.compile(f"{LETTER}(?:{LETTER}|['’-]{LETTER})*", re.UNICODE)


def tokenize_words(sentence: str) -> list[str]:
    return _WORD.findall(sentence)


class SumyTokenizer:
    """Drop-in for `sumy.nlp.tokenizers.Tokenizer` that needs no NLTK data, for any language:
    sentences as `split_sentences` cuts them, words as `tasks.text.tokens.words` does (character
    bigrams for unspaced scripts)."""

    def __init__(self, language: str | None = "en") -> None:
        code = {"english": "en"}.get((language or "").lower(), language)
        self._code = code
        self._language = "english" if code == "en" else (code or "und")

    @property
    def language(self) -> str:
        return self._language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph, self._code))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        if self._code == "en":
            return tuple(tokenize_words(sentence))
        from tasks.text.tokens import words

        return tuple(words(sentence, self._code))
