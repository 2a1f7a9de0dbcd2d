"""Extractive summarization on top of sumy.

`summarize(text, title=..., algorithm=..., sentences=/ratio=/words=)` returns a
`Summary` whose sentences are (position in the document, text) in document order.
Positions index `tasks.text.sentences.split_sentences(text)`.

Algorithms
----------
* ``lead`` - the first content sentences.
* ``lexrank``, ``textrank``, ``lsa``, ``luhn``, ``kl``, ``sumbasic`` - sumy's summarizers
  with sumy's English Snowball stemmer and stop words, fed our sentence splitter.
* ``newsflow`` (default) - a linear scorer (coefficients in ``tasks/summarize/data/summarizer_weights.json``,
  retrained by ``bench/train_summarizer.py`` with cross-validation) over sumy's TextRank
  score plus signals sumy does not use: overlap with the title, named entities and numbers
  shared with the rest of the article, sentence roles (quote, attribution, question), position
  in article and paragraph, and length.

All algorithms first drop non-content sentences (calls to action, datelines, captions,
bylines; in any language: sub-headings and teaser lines, one- or two-word fragments, number
fragments) and sentences the title or an earlier sentence already says. Documents longer than
``MAX_CANDIDATES`` content sentences are pre-filtered with a cheap linear-time score (position +
word-frequency centrality) so quadratic methods (TextRank, LexRank, KL) see a bounded number of
sentences.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from tasks.document import Summary
from tasks.summarize.length import SummaryLength
from tasks.summarize.registry import ALGORITHMS, DEFAULT_ALGORITHM, SUMY_METHOD_NAMES
from tasks.text import tokens
from tasks.text.sentences import LIST_ITEM, PYSBD_LANGUAGES, SumyTokenizer, ends_sentence, is_table_or_list_line, split_paragraphs
from tasks.text.tokens import layout_words

__all__ = [
    "ALGORITHMS",
    "MAX_CANDIDATES",
    "summarize",
    "is_non_content",
    "prepare",
    "sentence_features",
    "FEATURE_NAMES",
]

# sumy's methods by the name users pick them with (names and their order: tasks.summarize.registry)
SUMY_METHODS = dict(zip(SUMY_METHOD_NAMES, (LexRankSummarizer, TextRankSummarizer, LsaSummarizer, LuhnSummarizer,
                                            KLSummarizer, SumBasicSummarizer), strict=True))
MAX_CANDIDATES = 100  # bound for the quadratic sumy methods on long documents
# KL's greedy loop is O(n^2 * vocabulary) in pure Python: a tighter bound keeps it well under 2 s
_CANDIDATE_LIMITS = {"kl": 60}

WEIGHTS_PATH = Path(__file__).parent / "data" / "summarizer_weights.json"


class Rules:
    """A language's tokenizer, stemmer and stop words for the summarizers, and `note`: what the
    summary had to do without (None when nothing). English is sumy's own Snowball stemmer and stop
    words, as before; another language takes `tasks.text.tokens`' stemmer and stop words where it
    has them; a language with neither, or an unknown one, is summarised language-neutrally
    (sentences cut at punctuation, words unstemmed, no stop words), and the note says so."""

    __slots__ = ("language", "tokenizer", "stem", "stop_words", "note", "english")

    def __init__(self, language: str | None):
        self.language = language
        self.english = language == "en"
        self.tokenizer = SumyTokenizer(language)
        if self.english:
            stemmer = Stemmer("english")
            self.stem = lru_cache(maxsize=50000)(lambda word: stemmer(word.lower()))
            self.stop_words = frozenset(get_stop_words("english"))
            self.note = None
            return
        stem = tokens.stemmer(language)
        self.stem = (lambda word: stem(word.lower())) if stem else str.lower
        self.stop_words = tokens.stop_words(language)
        if language is None:
            self.note = "language unknown: summarised language-neutrally (punctuation sentences, unstemmed words)"
        elif not tokens.has_rules(language):
            self.note = (f"no stemmer or stop words for {language!r}: summarised with unstemmed words"
                         if language in PYSBD_LANGUAGES  # Persian, Hindi: pysbd's sentences still cut it
                         else f"no language rules for {language!r}: summarised language-neutrally "
                              "(punctuation sentences, unstemmed words, no stop words)")
        else:
            missing = [what for what, have in (("stemmer", stem is not None or language in tokens.UNSPACED),
                                               ("stop words", bool(self.stop_words)),
                                               # Thai marks no sentence end: a paragraph is one sentence
                                               ("sentence rules", language not in _NO_SENTENCE_MARKS)) if not have]
            self.note = f"no {' or '.join(missing)} for {language!r}" if missing else None


_NO_SENTENCE_MARKS = frozenset({"th", "lo", "km", "my"})  # scripts whose sentences end in a space, not a mark


@lru_cache(maxsize=None)
def rules(language: str | None) -> Rules:
    return Rules(language)


# ---------------------------------------------------------------------------
# non-content sentences
# ---------------------------------------------------------------------------

_NON_CONTENT = [
    # calls to action / site furniture
    re.compile(
        r"^\W*(read|see|click|tap|watch|listen|find out|learn|follow|subscribe|sign up|join|share|download|visit|"
        r"get the|don'?t miss|related|advertisement|more on this|more from|also read|continue reading)\b.{0,80}"
        r"(below|here|more|now|newsletter|app|link|story|stories|video|podcast|twitter|facebook|instagram|"
        r"updates?|:)\W*$",
        re.I,
    ),
    re.compile(r"\b(sign up|subscribe) (to|for) (our|the) .{0,40}(newsletter|alerts|podcast|channel)\b", re.I),
    re.compile(r"^\W*(read more|more:|related:|advertisement|sponsored|click here|share this|watch:)\W*", re.I),
    re.compile(r"^\W*watch\b.{0,120}\b(below|here|above)\W*:?\W*$", re.I),
    # "Read the full Hyundai Ioniq 5 N review", "Check out our full ... review", "See Technical SEO.",
    # "Related content: ...", "visit RiskWire.com!" (a summaries audit; no BBC dev sentence is one)
    re.compile(r"^\W*(read|watch|listen to|see|view|check out)\s+(the|our)\s+(full|complete|whole|entire|latest)\b", re.I),
    re.compile(r"^\W*(see|more on)\s+\S+(\s+\S+){0,3}[.!]?$", re.I),
    re.compile(r"^\W*related (content|articles?|stories|coverage|reading|posts?|links?)\s*:", re.I),
    re.compile(r"^\W*(visit|go to|head to|head over to)\s+\S+\.(com|org|net|co\.uk|io)\b.{0,40}$", re.I),
    re.compile(r"\b(follow us on|like us on facebook|copyright ©|all rights reserved)\b", re.I),
    # datelines: "LONDON (Reuters) -", "WASHINGTON, Jan 5 (AP) —", a bare "LONDON -"
    re.compile(r"^[A-Z][A-Z .,'-]{2,40}(\([A-Za-z .]+\))?\s*[-—–]+\s*$"),
    re.compile(r"^[A-Z][A-Za-z .'-]{2,30},?\s+\w{3,9}\.? \d{1,2}(, \d{4})?\s*\(?\w*\)?\s*[-—–:]*\s*$"),
    # captions / credits: "Photo: Getty Images", "(Image credit: ...)", "Pictured: ..."
    re.compile(r"^\W*(photo|image|picture|pictured|caption|credit|video|graphic)s?\s*(credit)?\s*[:|/]", re.I),
    re.compile(r"\((photo|image|picture)s?( credit)?:?[^)]*\)\s*$", re.I),
    re.compile(r"^\W*(getty images|reuters|ap photo|afp|pa media|epa)\W*$", re.I),
    # bylines / timestamps
    re.compile(r"^\W*(by|written by|reporting by|edited by)\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3}\W*$"),
    re.compile(r"^\W*(published|updated|last updated|posted)\b.{0,40}\d", re.I),
]


# Shapes of page furniture in any language (`layout_words` counts a Chinese or Japanese line fairly).
# Why: the patterns above are English, and the HTML extractor writes each sub-heading, teaser link and
# call to action as a paragraph of its own with no full stop; a reader audit found one in the summaries
# of 63 of 175 HTML pages, where it ran into the next sentence (a summary joins sentences with spaces).
_SHORT_LINE_WORDS = 15  # headings, teasers and kickers on the dev pages run to 15 words; a prose
#                         paragraph that only lost its full stop is longer
_FRAGMENT_WORDS = 2  # "Berlin." (dateline), "AA" (agency credit), "MENINGSMÅLING:" (kicker)
_NUMBER_FRAGMENT_WORDS = 4  # "Attendance: 12,836.", "Henry 2, 29.": a results line, not a sentence
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")  # "12,836", "5.2", "2024" are one number each
_DOUBLE_QUOTES = "\"“”„«»‹›"
_ASKS = ("?", "？")  # a question's last mark
_CLOSING = " \"'”’»)"  # marks after a sentence's last word or sign


def _is_fragment(s: str) -> bool:
    """A dateline, credit or kicker of one or two words, or a few words that are mostly numbers."""
    n = layout_words(s)
    # why: a sentence of two words says too little to stand in a summary ("They refuse.", "Solution?");
    # 2 of the 3,665 BBC dev reference sentences are that short, and a word budget filled up with them
    if n <= _FRAGMENT_WORDS:
        return True
    if n > _NUMBER_FRAGMENT_WORDS:
        return False
    # why: a score, attendance or results line fills a summary with figures and no event
    numbers = len(_NUMBER.findall(s))
    words = sum(1 for w in tokens.words(s) if not w.isdigit())
    return numbers > 0 and numbers >= words


def is_non_content(sentence: str, english: bool = True) -> bool:
    """True for sentences that must never appear in a summary. The furniture patterns are English
    (other languages' furniture is left to the cleaner's per-language phrases); fragments (a word or
    two, a few words of mostly numbers) are dropped in every language."""
    s = sentence.strip()
    if not s:
        return True
    if not any(ch.isalpha() for ch in s) or is_table_or_list_line(s) or _is_fragment(s):
        return True
    # why: a sentence ending in a colon introduces a list, table or quotation that a summary leaves
    # out ("The only 2 things you need in your training are:", "Putin went on:"); none of the
    # BBC dev set's 5,202 reference sentences ends so, and a reader audit found summaries made of them
    if s.rstrip(_CLOSING).endswith((":", "：")):
        return True
    return english and any(p.search(s) for p in _NON_CONTENT)


def is_heading(paragraph: list[str], last: bool = False) -> bool:
    """True for a paragraph that heads, teases or links rather than tells: one short line with no
    sentence-ending mark or colon ("Street lighting", "Read Grave Empire", "GET MORE FROM YOUR
    MATTRESS"), as `is_table_or_list_line` treats a list item; or a short question standing alone above
    the paragraph that answers it ("How much do Nato members spend on defence?"). `last`: the paragraph
    ends the text (then a question is the author's closing line, not a heading)."""
    if len(paragraph) != 1 or layout_words(paragraph[0]) > _SHORT_LINE_WORDS:
        return False
    s = paragraph[0].strip()
    if not ends_sentence(s):
        # a line ending in a colon introduces the list, table or quotation below it: a sentence ("Relief
        # agencies listed their most urgent needs:"); a one- or two-word kicker is a fragment anyway
        return not s.endswith((":", "："))
    # a quoted question is someone's speech, not a heading
    return not last and s.endswith(_ASKS) and not any(q in s for q in _DOUBLE_QUOTES)


# ---------------------------------------------------------------------------
# document preparation
# ---------------------------------------------------------------------------


class _Prepared:
    """Split document: all sentences plus the content candidates sumy will see."""

    __slots__ = ("sentences", "para_of", "index_in_para", "para_len", "candidates", "title", "rules")

    def __init__(self, text: str, title: str | None, language: str | None = "en"):
        self.rules = rules(language)
        self.title = (title or "").strip() or None
        self.sentences: list[str] = []
        self.para_of: list[int] = []
        self.index_in_para: list[int] = []
        self.para_len: list[int] = []
        headings: set[int] = set()
        paragraphs = split_paragraphs(text, language)
        for p_idx, para in enumerate(paragraphs):
            if is_heading(para, last=p_idx == len(paragraphs) - 1):
                headings.add(len(self.sentences))
            for i, s in enumerate(para):
                self.sentences.append(s)
                self.para_of.append(p_idx)
                self.index_in_para.append(i)
                self.para_len.append(len(para))
        content = [i for i, s in enumerate(self.sentences)
                   if i not in headings and not is_non_content(s, self.rules.english)]
        content = _without_repeats(self.sentences, content, self.title, self.rules)
        self.candidates: list[int] = content if content else list(range(len(self.sentences)))


_KEY_DROP_RE = re.compile(r"[\W_]+")
_REPEAT_HEAD = 20  # characters of a sentence's key: shorter sentences are called repeats only when equal
# Two sentences "say the same words" when the words they share in the same order (the longest common
# subsequence of their content stems: the summarizer's tokenizer, stemmer and stop words, each stem
# once) are at least _SAME_WORDS of the words either uses (their union): Jaccard similarity, counting
# only shared words in order. Why 0.7: on the BBC dev set no reference sentence is that close to its
# title (the closest: 0.67), while the headline variants and reworded repeats of the multilingual pages
# are 0.71-1.0 ("Premier League Rückschlag im Titelkampf - Liverpool verliert bei Everton" against its
# title: 0.71; "Tiktok steht im Verdacht, ausländische Einflüsse ..." against "... ausländische
# Einmischung ...": 0.75; "UKIP leader Roger Knapman says he is glad ..." against "UKIP's leader, Roger
# Knapman, has said he is glad ...": 1.0), and a lead sentence that restates the title in its own words
# stays below ("The first children's commissioner for England has been appointed." against "England
# children's tsar appointed": 0.4). Not containment: a lead holds most of the title's words too, but adds
# its own. In order: a fixture list ("Republic of Ireland v Cyprus; France v Israel; ..." / "Switzerland
# v Republic of Ireland; Israel v Cyprus; ...") names the same teams in other pairings (0.62), and the
# BBC reference summary kept every line.
_SAME_WORDS = 0.7
_SAME_WORDS_MIN = 3  # content stems each side: with fewer, a shared word decides ("Now the figure is 14%.")
_SAME_WORDS_SPAN = 300  # candidates compared pairwise (quadratic): a news article has far fewer
# ... and only sentences of at most this many distinct content stems: a written sentence has far fewer
# (the longest of the dev texts, 1,452 characters); more are pieces a 2,000-character cut made of a text
# without sentence marks (CJK bigrams: up to 2,000 stems each), where the pairwise sets cost seconds
_SAME_WORDS_MAX_STEMS = 400


def _without_repeats(sentences: list[str], candidates: list[int], title: str | None = None,
                     r: Rules | None = None) -> list[int]:
    """The candidates less the sentences the title or an earlier candidate already says: a pull quote
    that repeats a quoted sentence, a standfirst sentence repeated in the body, a headline variant, a
    reworded repeat. A sentence goes when its words (case and punctuation aside) equal, open or are
    opened by an earlier candidate's, or when it says the same words (`_SAME_WORDS`) as the title or
    an earlier candidate: the earlier one keeps its place (the lead's position is what summarizers
    weigh most)."""
    keys = {i: _KEY_DROP_RE.sub("", sentences[i].casefold()) for i in candidates}
    by_head: dict[str, list[int]] = {}
    drop = set()
    seen: set[str] = set()
    for i in candidates:
        if keys[i] in seen:
            drop.add(i)  # "（1月14日就任。" twice: equal, however short
        seen.add(keys[i])
        if len(keys[i]) >= _REPEAT_HEAD:
            by_head.setdefault(keys[i][:_REPEAT_HEAD], []).append(i)
    for group in by_head.values():
        for n, j in enumerate(group):
            if any(i not in drop and (keys[j].startswith(keys[i]) or keys[i].startswith(keys[j]))
                   for i in group[max(0, n - 50):n]):
                drop.add(j)
    # content stems of the title and of the candidates kept so far: in order, as a set and by position
    # (`_Stems`, built once a sentence, not once a pair)
    said: list[_Stems] = []
    title_stems = _distinct_stems(title, r) if title else []
    if len(title_stems) >= _SAME_WORDS_MIN:
        said.append(_Stems(title_stems))
    for i in [i for i in candidates if i not in drop][:_SAME_WORDS_SPAN]:
        stems = _distinct_stems(sentences[i], r)
        if not _SAME_WORDS_MIN <= len(stems) <= _SAME_WORDS_MAX_STEMS:
            continue
        these = _Stems(stems)
        if any(_same_words(these, earlier) for earlier in said):
            drop.add(i)
        else:
            said.append(these)
    return [i for i in candidates if i not in drop]


def _distinct_stems(sentence: str, r: Rules | None) -> list[str]:
    return list(dict.fromkeys(_content_stems(sentence, r)))


class _Stems:
    """A sentence's distinct content stems in order, as a set, and each one's position."""

    __slots__ = ("order", "set", "position")

    def __init__(self, stems: list[str]):
        self.order = stems
        self.set = frozenset(stems)
        self.position = {w: j for j, w in enumerate(stems)}


def _same_words(a: _Stems, b: _Stems) -> bool:
    """True when `a` and `b` (distinct stems in sentence order) say the same words (`_SAME_WORDS`)."""
    if min(len(a.order), len(b.order)) < _SAME_WORDS * max(len(a.order), len(b.order)):
        return False  # sizes alone rule it out (cheap)
    shared = len(a.set & b.set)
    union = len(a.set) + len(b.set) - shared
    if shared < _SAME_WORDS * union:
        return False  # the shared words in any order are too few already
    # longest common subsequence: each list holds a stem once, so it is the longest increasing run of
    # b's positions of a's words in a's order (O(n log n): the O(n*m) table took 243 s on 100 sentences of
    # the same 280 words in other orders, 196 KB)
    position = b.position
    tails: list[int] = []  # tails[k]: the smallest last position of a common run of k + 1 words
    for w in a.order:
        j = position.get(w)
        if j is not None:
            k = bisect_left(tails, j)
            if k == len(tails):
                tails.append(j)
            else:
                tails[k] = j
    return len(tails) >= _SAME_WORDS * union


def prepare(text: str, title: str | None = None, language: str | None = "en") -> _Prepared:
    return _Prepared(text or "", title, language)


def _content_stems(sentence: str, r: Rules | None = None) -> list[str]:
    r = r or rules("en")
    stem, stops = r.stem, r.stop_words
    return [stem(w) for w in r.tokenizer.to_words(sentence) if w.lower() not in stops]


def _prefilter(doc: _Prepared, limit: int) -> list[int]:
    """Bound the candidates for quadratic methods: cheap frequency centrality + lead bonus."""
    cands = doc.candidates
    if len(cands) <= limit:
        return cands
    stems = {i: _content_stems(doc.sentences[i], doc.rules) for i in cands}
    tf = Counter(w for ws in stems.values() for w in set(ws))
    n = len(cands)
    scores = {}
    for rank, i in enumerate(cands):
        ws = stems[i]
        centrality = sum(math.log1p(tf[w]) for w in set(ws)) / (1.0 + len(ws)) if ws else 0.0
        scores[i] = centrality + (1.5 if rank < 3 else 0.0) + 0.5 * (1.0 - rank / n)
    keep = sorted(cands, key=lambda i: -scores[i])[:limit]
    return sorted(keep)


def _sumy_document(doc: _Prepared, cands: list[int]):
    """A sumy document of the given sentences, paragraphs preserved; maps Sentence id -> position."""
    paragraphs: list[Paragraph] = []
    current: list[Sentence] = []
    current_para = None
    by_id: dict[int, int] = {}
    for i in cands:
        if current_para is not None and doc.para_of[i] != current_para and current:
            paragraphs.append(Paragraph(current))
            current = []
        current_para = doc.para_of[i]
        s = Sentence(doc.sentences[i], doc.rules.tokenizer)
        by_id[id(s)] = i
        current.append(s)
    if current:
        paragraphs.append(Paragraph(current))
    return ObjectDocumentModel(paragraphs), by_id


class _CaptureRanking:
    """A sumy `count` callable that records the full rating order instead of truncating."""

    def __init__(self) -> None:
        self.ranked: list = []

    def __call__(self, infos):
        self.ranked = list(infos)
        return infos


@lru_cache(maxsize=None)
def _cached_summarizer(name: str, language: str | None = "en"):
    """Configured sumy summarizers are stateless between calls: build each once per language."""
    return _sumy_summarizer(name, language)


def _sumy_summarizer(name: str, language: str | None = "en"):
    # the stemmer is behind a cache (sumy stems every word on every use)
    r = rules(language)
    s = SUMY_METHODS[name](r.stem)
    if hasattr(s, "stop_words"):
        s.stop_words = r.stop_words
    return s


def _sumy_rank(doc: _Prepared, name: str, cands: list[int]) -> list[int]:
    """Candidate positions ordered best first by a sumy summarizer."""
    if len(cands) <= 1:
        return list(cands)
    sdoc, by_id = _sumy_document(doc, cands)
    summarizer = _cached_summarizer(name, doc.rules.language)
    capture = _CaptureRanking()
    summarizer(sdoc, capture)
    ranked = [by_id[id(info.sentence)] for info in capture.ranked if id(info.sentence) in by_id]
    seen = set(ranked)
    # sumy de-duplicates equal sentences in its rating dicts; keep any leftovers at the end
    ranked.extend(i for i in cands if i not in seen)
    return ranked


# ---------------------------------------------------------------------------
# newsflow features
# ---------------------------------------------------------------------------

FEATURE_NAMES: tuple[str, ...] = (
    "textrank",  # sumy TextRank score / max over the document
    "textrank_rank",  # 1 - rank / n
    "first",  # first content sentence of the article
    "rel_pos",  # position / n
    "log_pos",  # log(1 + position)
    "para_first",  # first sentence of its paragraph
    "para_single",  # paragraph made of this sentence only (BBC lead paragraphs)
    "title_overlap",  # share of the title's content stems found in the sentence
    "title_any",  # any title stem in the sentence
    "ent_shared",  # log(1 + capitalised words of the sentence that recur elsewhere in the article/title)
    "ent_density",  # recurring capitalised words / words
    "num_shared",  # log(1 + numbers of the sentence that recur elsewhere)
    "num_count",  # log(1 + numbers in the sentence)
    "centrality",  # mean log document frequency of the sentence's content stems
    "quote_start",  # sentence opens with a quotation mark
    "quote_inside",  # sentence contains a quotation
    "said",  # reported speech attribution ("said", "told", "added", ...)
    "question",  # ends with "?"
    "log_len",  # log number of words
    "short",  # fewer than 8 words
    "centrality_sum",  # sum of log document frequencies of the content stems / 10
    "lead_sim",  # share of the first sentence's content stems found in the sentence
    "para_rel",  # paragraph index / number of paragraphs
)

_CAP = re.compile(r"\b[A-Z][A-Za-z'’-]*[A-Za-z]\b|\b[A-Z]{2,}\b")
_QUOTE_OPEN = ('"', "“", "‘", "'")
_SAID = re.compile(r"\b(said|says|told|added|according to|explained|insisted|warned|claimed)\b", re.I)


def _textrank(stems: list[list[str]]) -> np.ndarray:
    """sumy's TextRank ratings (same edge weight, damping and power method), from stemmed
    content words, with the pairwise edge weights as one matrix product instead of a
    Python double loop (which was a third of the summarizer's time)."""
    n = len(stems)
    vocab: dict[str, int] = {}
    flat = [vocab.setdefault(w, len(vocab)) for ws in stems for w in ws]
    rows = np.repeat(np.arange(n), [len(ws) for ws in stems])
    # shared[i, j] = sum over w of count_i(w) * count_j(w). A word of one sentence only adds to that
    # sentence's own cell, so the product runs over the words two or more sentences hold: the whole
    # sentences x vocabulary matrix held 100 x 200,000 cells (and copies) for 100 pieces of Chinese
    # without sentence marks, 690 MB a worker. (No scipy.sparse: pool workers run without scipy.)
    size = max(1, len(vocab))
    cells, count = np.unique(rows * size + np.asarray(flat, dtype=np.int64), return_counts=True)
    row, word, count = cells // size, cells % size, count.astype(float)
    own = np.bincount(row, weights=count * count, minlength=n)
    common = np.bincount(word, minlength=size)[word] >= 2
    kept, column = np.unique(word[common], return_inverse=True)
    dense = np.zeros((n, len(kept)))
    dense[row[common], column] = count[common]
    shared = dense @ dense.T
    shared[np.diag_indices(n)] = own
    log_len = np.log(np.maximum(np.bincount(rows, minlength=n).astype(float), 1.0))
    norm = log_len[:, None] + log_len[None, :]
    single = np.abs(norm) <= 1e-8  # both sentences one word long: sumy keeps the raw count
    weights = np.where(shared == 0, 0.0, shared / np.where(single, 1.0, norm))
    weights /= weights.sum(axis=1)[:, None] + TextRankSummarizer._ZERO_DIVISION_PREVENTION
    damping = TextRankSummarizer.damping
    matrix = np.full((n, n), (1.0 - damping) / n) + damping * weights
    return TextRankSummarizer.power_method(matrix, TextRankSummarizer.epsilon)


def sentence_features(doc: _Prepared, cands: list[int]) -> list[list[float]]:
    """Feature rows (FEATURE_NAMES order) for the candidate sentences."""
    n = len(cands)
    if n == 0:
        return []
    r = doc.rules
    stems = [_content_stems(doc.sentences[i], r) for i in cands]
    tr = dict(zip(cands, (float(r) for r in _textrank(stems)))) if n > 1 else {cands[0]: 1.0}
    tr_max = max(tr.values()) or 1.0
    tr_rank = {i: r for r, i in enumerate(sorted(cands, key=lambda i: -tr[i]))}

    title_stems = set(_content_stems(doc.title, r)) if doc.title else set()
    df = Counter(w for ws in stems for w in set(ws))

    caps: list[set[str]] = []
    nums: list[set[str]] = []
    for i in cands:
        words = doc.sentences[i].split()
        # drop the sentence-initial word: capitalised by position, not because it is a name
        body = " ".join(words[1:])
        caps.append({w.lower() for w in _CAP.findall(body) if w.lower() not in r.stop_words})
        nums.append(set(_NUMBER.findall(doc.sentences[i])))
    cap_df = Counter(w for c in caps for w in c)
    num_df = Counter(x for c in nums for x in c)
    title_caps = {w.lower() for w in _CAP.findall(doc.title or "")}
    title_nums = set(_NUMBER.findall(doc.title or ""))

    lead_stems = set(stems[0])
    n_paras = max(doc.para_of[i] for i in cands) + 1
    rows = []
    for k, i in enumerate(cands):
        s = doc.sentences[i]
        ws = stems[k]
        n_words = max(1, len(s.split()))
        ent_shared = sum(1 for w in caps[k] if cap_df[w] > 1 or w in title_caps)
        num_shared = sum(1 for x in nums[k] if num_df[x] > 1 or x in title_nums)
        t_hits = len(set(ws) & title_stems)
        rows.append(
            [
                tr[i] / tr_max,
                1.0 - tr_rank[i] / n,
                1.0 if k == 0 else 0.0,
                k / n,
                math.log1p(k),
                1.0 if doc.index_in_para[i] == 0 else 0.0,
                1.0 if doc.para_len[i] == 1 else 0.0,
                t_hits / len(title_stems) if title_stems else 0.0,
                1.0 if t_hits else 0.0,
                math.log1p(ent_shared),
                ent_shared / n_words,
                math.log1p(num_shared),
                math.log1p(len(nums[k])),
                (sum(math.log(df[w]) for w in ws) / len(ws)) if ws else 0.0,
                1.0 if s.lstrip().startswith(_QUOTE_OPEN) else 0.0,
                1.0 if ('"' in s or "“" in s) else 0.0,
                1.0 if r.english and _SAID.search(s) else 0.0,
                1.0 if s.rstrip().rstrip("\"'”’").endswith("?") else 0.0,
                math.log(n_words),
                1.0 if n_words < 8 else 0.0,
                sum(math.log(df[w]) for w in ws) / 10.0,
                (len(set(ws) & lead_stems) / len(lead_stems)) if (lead_stems and k) else 0.0,
                doc.para_of[i] / n_paras,
            ]
        )
    return rows


@lru_cache(maxsize=1)
def _weights() -> tuple[list[float], list[float], list[float], float]:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURE_NAMES:
        raise RuntimeError(f"{WEIGHTS_PATH} was trained for other features; rerun bench/train_summarizer.py")
    return data["mean"], data["scale"], data["coef"], float(data["intercept"])


def _newsflow_rank(doc: _Prepared, cands: list[int]) -> list[int]:
    if len(cands) <= 1:
        return list(cands)
    mean, scale, coef, intercept = _weights()
    rows = sentence_features(doc, cands)
    scores = {}
    for i, row in zip(cands, rows):
        scores[i] = intercept + sum(c * (x - m) / sd for x, m, sd, c in zip(row, mean, scale, coef))
    return sorted(cands, key=lambda i: (-scores[i], i))


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


MIN_FILL_WORDS = 6  # the shortest sentence that may fill a word budget's rest


def summarize(
    text: str,
    *,
    title: str | None = None,
    algorithm: str = DEFAULT_ALGORITHM,
    sentences: int | None = None,
    ratio: float | None = None,
    words: int | None = None,
    language: str | None = "en",
) -> Summary:
    """Extractive summary of `text` (cleaned article body, title passed separately).

    Exactly one of `sentences` (count), `ratio` (share of the document's sentences, (0, 1])
    or `words` (word budget; at least one sentence is returned) may be given; default is 3
    sentences. The result lists (position, sentence) in document order.

    `language` (ISO 639-1; None: unknown) picks the sentence splitter, stemmer and stop words
    (`Rules`); the summary's `note` says what a language without rules was summarised without.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    # validated even for empty text
    length = SummaryLength.of(sentences, ratio, words)

    doc = prepare(text or "", title, language)
    note = doc.rules.note
    if not doc.sentences:
        return Summary(algorithm=algorithm, sentences=[], language=language, note=note)
    kind, amount = length.resolve(len(doc.sentences))
    cands = doc.candidates

    if kind == "sentences" and amount >= len(cands):
        chosen = list(cands)
    else:
        if algorithm == "lead":
            ranked = list(cands)
        else:
            pool = _prefilter(doc, _CANDIDATE_LIMITS.get(algorithm, MAX_CANDIDATES))
            ranked = _newsflow_rank(doc, pool) if algorithm == "newsflow" else _sumy_rank(doc, algorithm, pool)
            seen = set(ranked)
            ranked += [i for i in cands if i not in seen]
        if kind == "sentences":
            chosen = ranked[: int(amount)]
        else:
            chosen, used, overflowed = [], 0, False
            for i in ranked:
                n = len(doc.sentences[i].split()) if doc.rules.english else len(doc.rules.tokenizer.to_words(doc.sentences[i]))
                # once a better sentence did not fit, the words left go to sentences, not to the
                # lowest-ranked fragments that happen to fit ("Not at all!", "Plaque displayed 1932.")
                if (used + n <= amount and (not overflowed or n >= MIN_FILL_WORDS)) or not chosen:
                    chosen.append(i)
                    used += n
                else:
                    overflowed = True
                if used >= amount:
                    break
    chosen.sort()
    # a list item's marker is the text's layout, not the sentence's ("- Tiktok weist die Vorwürfe zurück.")
    return Summary(algorithm=algorithm, sentences=[(i, doc.sentences[i].removeprefix(LIST_ITEM)) for i in chosen],
                   language=language, note=note)
