"""The terms of a document's story vector, and the document-frequency prior that weighs them.

Terms: content words, lower-cased and Snowball-stemmed in the document's language (cut to five letters
in an alphabetic language without a stemmer: Polish, Turkish...), plus numbers
(scores, counts, dates: an event's own figures), counted. Every story term comes out of one
function, `tokens(text, language)`: a tokenizer for scripts without spaces (CJK) plugs in there.

Prior: how many documents in general use a term, from wordfreq's word-frequency lists (data inside
the wheel, nothing downloaded). A word of frequency f in running text turns up in a fraction
1 - exp(-f * PRIOR_DOC_WORDS) of documents (a Poisson guess), summed over the words that share a
stem. Words rarer than the list's floor (names, places, numbers) get the floor. `blended_df` mixes
that prior with the warehouse's own document frequencies (see its docstring).

Kept apart from the clustering (`tasks.dedup.stories`) because the pool workers compute the term
counts while cleaning, and this module needs neither scipy nor scikit-learn: see `tasks.parallel`.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tasks.document import Document
from tasks.text import tokens as text_tokens

LEAD_WORDS = 100  # the first words, where the event is named, count twice

DEFAULT_LANGUAGE = "en"  # documents whose language is unknown

# words per document in the Poisson guess above: about a news article's length
PRIOR_DOC_WORDS = 400
# a number's prior document fraction: numbers are specific (a score, a toll) but years and small
# counts recur; the warehouse's own counts take over as it grows
NUMBER_DOC_FRACTION = 0.02

# letters with their combining marks (a Hindi word's vowel signs), or a number
_WORD = re.compile(rf"{text_tokens.LETTER}+|\d+(?:[.,:/-]\d+)*", re.UNICODE)
_NUMBER = re.compile(r"\d")


def language_of(language: str | None) -> str:
    """The ISO 639-1 code story terms use for a document's `language` (None and unknown: English)."""
    if not language:
        return DEFAULT_LANGUAGE
    code = language.replace("_", "-").split("-")[0].casefold()
    return code if text_tokens.language_name(code) or _wordfreq_has(code) else DEFAULT_LANGUAGE


def tokens(text: str, language: str | None = None) -> list[str]:
    """Word and number tokens of `text`, in order: the single tokenizer of story terms. Scripts
    written without spaces (Chinese, Japanese, Korean, Thai) come out as character bigrams, as
    everywhere else in the pipeline (`tasks.text.tokens.words`)."""
    if text_tokens.unspaced(text):
        return text_tokens.words(text, language)
    return _WORD.findall(text_tokens.without_joiners(text))


# letters kept of a word in a language without a Snowball stemmer (Polish, Turkish, Czech, Ukrainian,
# Greek...): fixed-prefix stemming. Five letters did as well as a full morphological stemmer
# for Turkish retrieval (Can et al., JASIST 59(3), 2008, "F5") and came close to Snowball across
# European languages (McNamee, Nicholas and Mayfield, SIGIR 2009); left whole, a Polish or Turkish
# name in another case ("Trzaskowskiego", "Erdoğan'ın") shared nothing with itself.
# Only words of the alphabets those studies cover (Latin, Greek, Cyrillic): five code points of a Hindi
# word are not five letters, and Hebrew and Persian attach particles in front of a word.
PREFIX_LETTERS = 5
_PREFIXED_ALPHABETS = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF\u0370-\u03FF\u1F00-\u1FFF\u0400-\u052F]+")


def _prefix(word: str) -> str:
    return word[:PREFIX_LETTERS] if _PREFIXED_ALPHABETS.fullmatch(word) else word


def _unchanged(word: str) -> str:
    return word


@lru_cache(maxsize=None)
def _stemmer(code: str):
    # a Latin word in a Chinese or Japanese text is a name or a brand ("iPhone"): kept whole
    return text_tokens.stemmer(code) or (_unchanged if code in text_tokens.UNSPACED else _prefix)


def _load_english_stop_words() -> frozenset[str]:
    text = resources.files("tasks.dedup").joinpath("data/english_stop_words.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


ENGLISH_STOP_WORDS = _load_english_stop_words()


@lru_cache(maxsize=None)
def stop_words(code: str) -> frozenset[str]:
    """Stop words of a language: ours for English, sumy's list where it ships one, else none
    (the prior already gives the most frequent words almost no weight)."""
    return ENGLISH_STOP_WORDS if code == "en" else text_tokens.stop_words(code)


@lru_cache(maxsize=1 << 18)
def _term(token: str, code: str) -> str | None:
    """The story term of a token, or None for stop words and short words."""
    if _NUMBER.match(token):
        digits = token.replace(",", "")
        return "#" + digits if len(digits) >= 2 else None  # one digit names nothing
    # Turkish "İ" folds to "i" and a combining dot: "İstanbul" opening a sentence is "istanbul"
    word = token.casefold().replace("i\u0307", "i")
    # a character bigram of an unspaced script is a word-sized unit; elsewhere <= 2 letters name nothing
    if (len(word) <= 2 and not text_tokens.unspaced(word)) or word in stop_words(code):
        return None
    return _stemmer(code)(word)


@lru_cache(maxsize=1 << 16)  # a batch's common tokens; rare ones pass once
def _token_terms(token: str, code: str) -> tuple[tuple[str, str], ...]:
    """(story term, the form the text gives it) of each term a token counts for: its own, unless it is
    a bigram no listed word holds, and a compound's two parts (read capitalised, as the nouns they are,
    when the compound is). The one rule `term_counts` counts by and `surface_words` reads back."""
    found = []
    term = _term(token, code)
    known = _known_bigrams(code)
    if term is not None and (known is None or term in known or not text_tokens.unspaced(term)):
        found.append((term, token))
    for piece in _compound_parts(token.casefold(), code) if code in COMPOUNDING else ():
        piece_term = _term(piece, code)
        if piece_term is not None:
            found.append((piece_term, piece.capitalize() if token[:1].isupper() else piece))
    return tuple(found)


def term_counts(text: str, lead_words: int = LEAD_WORDS, language: str | None = None) -> Counter:
    code = language_of(language)
    found = tokens(text, code)
    counts: Counter = Counter()
    # count tokens first (C speed), then map each distinct token once; the lead counts twice
    for part in (found, found[:lead_words]):
        for token, n in Counter(part).items():
            for term, _ in _token_terms(token, code):
                counts[term] += n
    return counts


# languages whose nouns compound, written as one word: a story term also counts a compound's two
# parts, so "Hochwasserschutz" and "Hochwasser", "Bundesregierung" and "Regierung" share a term. German
# only, the language with pairs to measure it (SemEval German pairs, bench/stories.py: AUC 0.804 ->
# 0.824, one warehouse F1 0.699 -> 0.713); Dutch and the Scandinavian languages compound alike and
# would take the same rule once measured.
COMPOUNDING = frozenset({"de"})
COMPOUND_PART_LETTERS = 4  # shorter parts ("ein", "tag") split words that are no compounds
_LINKING = ("es", "s", "n")  # German linking elements: Bund-es-regierung, Arbeit-s-markt


@lru_cache(maxsize=1 << 16)
def _compound_parts(word: str, code: str) -> tuple[str, ...]:
    """The two parts of a compound, or () for a word that is none: the split whose parts' geometric
    mean frequency beats the word's own (Koehn and Knight, "Empirical methods for compound splitting",
    EACL 2003), both parts in the language's word list and `COMPOUND_PART_LETTERS` long or more, a
    linking element dropped from the first."""
    if len(word) < 2 * COMPOUND_PART_LETTERS or not word.isalpha():
        return ()
    frequency = _word_frequencies(code)
    best, parts = frequency.get(word, 0.0), ()
    for cut in range(COMPOUND_PART_LETTERS, len(word) - COMPOUND_PART_LETTERS + 1):
        head = frequency.get(word[cut:], 0.0)
        if not head:
            continue
        first = word[:cut]
        for modifier in (first, *(first[: -len(link)] for link in _LINKING if first.endswith(link))):
            if len(modifier) < COMPOUND_PART_LETTERS:
                continue
            score = math.sqrt(frequency.get(modifier, 0.0) * head)
            if score > best:
                best, parts = score, (modifier, word[cut:])
    return parts


@lru_cache(maxsize=None)
def _word_frequencies(code: str) -> dict[str, float]:
    """wordfreq's small list of a language (word -> frequency): the prior's words and the compound parts."""
    import wordfreq

    return wordfreq.get_frequency_dict(_wordfreq_code(code), "small")


@lru_cache(maxsize=None)
def _known_bigrams(code: str) -> dict[str, float] | None:
    """For a language written without spaces (Chinese, Japanese, Korean), the character bigrams found
    inside the words of its word list; None for the others. Only those bigrams are story terms: a
    bigram across two words ("的街", "了圣" of "英国的街道上堆满了圣诞垃圾") names nothing, yet as a word
    no list holds it weighed as much as a rare name, filled most of a vector and left two reports of
    one event a cosine half an English pair's (SemEval Chinese pairs: median 0.21 against 0.38; at the
    one threshold every language shares, 42% of same-story pairs were missed; bench/stories.py)."""
    if code not in text_tokens.UNSPACED or not _wordfreq_has(code):
        return None
    return _prior_table(code)[0]


def story_text(doc: Document) -> str:
    """Headline and body: the headline names the event more often than any other line."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


def doc_term_counts(doc: Document, lead_words: int = LEAD_WORDS) -> Counter:
    """`term_counts` of the document's headline and body, computed once per document."""
    key = ("story_terms", lead_words)
    if key not in doc.derived:
        doc.derived[key] = term_counts(story_text(doc), lead_words, doc.language)
    return doc.derived[key]


def surface_words(texts: list[tuple[str, str | None]], terms: list[str]) -> list[str]:
    """Each story term as the texts (text, language) write it: the form they use most that the term
    stands for, so that a reader sees "Marseille, wildfire, evacuated, 1,200" where the stage holds
    "marseill, wildfir, evacu, #1200". A German compound's part reads capitalised, as the noun it is;
    a term no text holds stays as it is (a number without its "#")."""
    wanted = set(terms)
    seen: dict[str, Counter] = {}
    for text, language in texts:
        code = language_of(language)
        for token in tokens(text, code):
            for term, form in _token_terms(token, code):
                if term in wanted:
                    seen.setdefault(term, Counter())[form] += 1
    return [seen[t].most_common(1)[0][0] if t in seen else t.removeprefix("#") for t in terms]


# -- the prior -----------------------------------------------------------------------------------
# wordfreq names Norwegian "nb" (Bokmål, also closer to Nynorsk than no list), pages and the
# detector say "no": without this, Norwegian documents got no prior at all and every word, "år"
# as much as a name, weighed as rare. (Tagalog "tl" / wordfreq "fil" and Croatian, Serbian,
# Bosnian / "sh" are left on English rules, stems and prior: see docs/languages.md.)
WORDFREQ_CODES = {"no": "nb", "nn": "nb"}


def _wordfreq_code(code: str) -> str:
    return WORDFREQ_CODES.get(code, code)


@lru_cache(maxsize=None)
def _wordfreq_has(code: str) -> bool:
    import wordfreq

    return _wordfreq_code(code) in wordfreq.available_languages("small")


_PRIOR_TABLES: dict[str, tuple[dict[str, float], float]] = {}
_PRIOR_LOCK = threading.Lock()  # the warm-up thread and the story stage build each table once


def _prior_table(code: str) -> tuple[dict[str, float], float]:
    table = _PRIOR_TABLES.get(code)
    if table is None:
        with _PRIOR_LOCK:
            table = _PRIOR_TABLES.get(code)
            if table is None:
                table = _PRIOR_TABLES[code] = _build_prior_table(code)
    return table


def _cache_file(code: str) -> Path | None:
    try:
        from importlib.metadata import version

        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return base / "newsflow" / f"story-prior-{code}-wordfreq{version('wordfreq')}-v{_PRIOR_FORMAT}.json"
    except Exception:  # noqa: BLE001 no home, no metadata: build every time
        return None


_PRIOR_FORMAT = 4  # bump when the table's recipe (stemming, stop words, doc words) changes


def _build_prior_table(code: str) -> tuple[dict[str, float], float]:
    """The prior table, from a per-user cache when one was built before: stemming a list takes
    ~2-3 s, a first story stage would wait for it in every process."""
    path = _cache_file(code)
    if path is not None and path.is_file():
        try:
            table, floor = json.loads(path.read_text(encoding="utf-8"))
            return table, floor
        except (OSError, ValueError):
            pass
    table, floor = _stemmed_prior_table(code)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([table, floor]), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: no cache, same table
    return table, floor


def _stemmed_prior_table(code: str) -> tuple[dict[str, float], float]:
    """(term -> prior document fraction, the fraction of a term not in the list) for a language.
    wordfreq's "small" lists hold the words of frequency >= 1e-6 (~30k per language)."""
    if not _wordfreq_has(code):
        return {}, _doc_fraction(1e-6)
    table: dict[str, float] = {}
    frequencies = _word_frequencies(code)
    for word, freq in frequencies.items():
        # a listed Japanese or Chinese word counts for each bigram the documents' terms cut from it
        for token in tokens(word, code) if text_tokens.unspaced(word) else (word,):
            term = _term(token, code)
            if term is not None and not term.startswith("#"):
                table[term] = table.get(term, 0.0) + _doc_fraction(freq)
    floor = _doc_fraction(min(frequencies.values()))
    return {t: min(p, 1.0) for t, p in table.items()}, floor


def warm_prior(language: str | None = None) -> None:
    """Build a language's prior table now (stemming its ~30k words takes a few seconds), so that
    the first story stage does not wait for it: the pipeline calls this on a thread at start."""
    _prior_table(language_of(language))


def _doc_fraction(freq: float) -> float:
    return 1.0 - math.exp(-freq * PRIOR_DOC_WORDS)


def prior_fraction(term: str, code: str = DEFAULT_LANGUAGE) -> float:
    """The prior share of documents that contain `term` (a story term of language `code`)."""
    if term.startswith("#"):
        return NUMBER_DOC_FRACTION
    table, floor = _prior_table(code)
    return table.get(term, floor)


MIN_TYING_SHARE = 0.05  # of the heaviest term's weight, below which a shared term is not shown as tying


def idf(df: int | float, n_docs: int, prior: float, prior_docs: float) -> float:
    """The blended IDF of one term (tasks.dedup.stories): log((n + m) / (m·p + df)), n documents
    clustered, df of them holding the term, p its prior share, m = `prior_docs` pseudo-documents."""
    return math.log((n_docs + prior_docs) / max(prior_docs * prior + df, 1e-9))


def heaviest_terms(candidates: list[tuple[str, float, int]], n_docs: int, language: str | None,
                   prior_docs: float) -> list[str]:
    """(term, count, df) candidates by count times the blended IDF, heaviest first: the terms that tie
    a story as the story stage weighs them (`newsflow stories`)."""
    code = language_of(language)
    weight = {term: count * idf(df, n_docs, prior_fraction(term, code), prior_docs) for term, count, df in candidates}
    # a word every text uses weighs next to nothing ("wurd", 0.3 % of "payv" in a German story): it ties nothing
    floor = max(weight.values(), default=0.0) * MIN_TYING_SHARE
    return sorted((t for t, w in weight.items() if w > floor), key=lambda t: (-weight[t], t))


def prior_fractions(terms: list[str], language_of_term: dict[str, str]) -> list[float]:
    """`prior_fraction` of many terms at once (each in its language, default English)."""
    out = []
    tables: dict[str, tuple[dict[str, float], float]] = {}
    for term in terms:
        if term.startswith("#"):
            out.append(NUMBER_DOC_FRACTION)
            continue
        code = language_of_term.get(term, DEFAULT_LANGUAGE)
        table = tables.get(code) or tables.setdefault(code, _prior_table(code))
        out.append(table[0].get(term, table[1]))
    return out


def blended_df(term: str, df: int, n_docs: int, prior_docs: float, code: str = DEFAULT_LANGUAGE) -> float:
    """The document frequency a term's IDF uses: the warehouse's count `df` over `n_docs`
    documents plus `prior_docs` pseudo-documents that follow the prior. IDF = log((n + m) / df'),
    with df' = m·prior + df: an empty warehouse is judged by the prior alone, a big one by its
    own counts, and the weight moves between the two smoothly as documents arrive (at n = m
    each counts half)."""
    return prior_docs * prior_fraction(term, code) + df


__all__ = ["tokens", "term_counts", "surface_words", "warm_prior", "doc_term_counts", "story_text", "language_of",
           "stop_words", "prior_fraction", "prior_fractions", "blended_df", "LEAD_WORDS", "ENGLISH_STOP_WORDS"]
