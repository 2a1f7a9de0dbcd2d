"""Words, stems and stop words per language: the one place text is cut into words.

`words(text, language)` is what every stage that counts words uses (near-duplicate shingles,
story terms, search terms, summaries). Scripts written with spaces between words are cut at
word characters, as before; scripts written without them (Chinese, Japanese kana and kanji,
Thai; Korean, whose spaced units glue particles onto nouns) are cut into overlapping character
bigrams, the unit Lucene's CJK analyzer and Elasticsearch's `cjk_bigram` index: a word of two or
more characters is found wherever it occurs, with no dictionary or model to download.

Stemmers are NLTK's Snowball (pure Python, no data files), stop words sumy's lists (inside the
sumy wheel). A language with neither gets neither: its words are used as they are, never
English rules. Language codes are ISO 639-1 (`tasks.text.language`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path


__all__ = ["words", "count_words", "segmented", "stemmer", "stop_words", "search_terms", "search_query", "has_rules",
           "language_name", "unspaced", "UNSPACED"]

# ISO 639-1 -> the names NLTK's Snowball and sumy's stop-word files use
_NAMES = {
    "ar": "arabic", "bg": "bulgarian", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "fi": "finnish", "fr": "french", "he": "hebrew", "hu": "hungarian",
    "it": "italian", "ja": "japanese", "ko": "korean", "nb": "norwegian", "nl": "dutch", "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sk": "slovak", "sv": "swedish", "th": "thai",
    "uk": "ukrainian", "zh": "chinese",
}
# languages whose words are not separated by spaces (or, for Korean, carry particles): bigrams
UNSPACED = frozenset({"ja", "zh", "ko", "th"})

# Han (with extension A and compatibility ideographs) and kana (each character also one counted word) ...
_HAN_KANA_CHARS = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
# ... with Thai, Lao, Myanmar, Khmer and Hangul: the scripts cut into bigrams
_UNSPACED_CHARS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\uac00-\ud7af\u1100-\u11ff" + _HAN_KANA_CHARS
_UNSPACED_RUN = re.compile(f"[{_UNSPACED_CHARS}]+")


def _combining_marks() -> str:
    """The combining marks (Unicode categories Mn, Mc) of the Basic Multilingual Plane, as the body of
    a character class: `\\w` leaves them out, and Hindi, Bengali or Tamil words were cut at every vowel
    sign and virama ("आगरा" -> "आगर", "सरकार" -> "सरक"), so a search matched words no article held.
    Not the emoji variation selectors (U+FE00-FE0F) nor enclosing marks (a keycap): alone, they made
    "❤️" a word."""
    import unicodedata

    ranges: list[tuple[int, int]] = []
    for cp in range(0x10000):  # 10 ms at import
        if unicodedata.category(chr(cp)) in ("Mn", "Mc") and not 0xFE00 <= cp <= 0xFE0F:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


COMBINING_MARKS = _combining_marks()
# a letter of a word: a letter, or a combining mark of its script (a Hindi vowel sign or virama)
LETTER = f"(?:[^\\W\\d_]|[{COMBINING_MARKS}])"
# a word: a run of word characters and combining marks outside those scripts (digits kept: "2024", "G7" count)
_TOKEN = re.compile(f"[{_UNSPACED_CHARS}]+|(?:(?![{_UNSPACED_CHARS}])[\\w{COMBINING_MARKS}])+", re.UNICODE)


# each Han or kana character is counted as a word, as word processors count Chinese and Japanese
_HAN_KANA = re.compile(f"[{_HAN_KANA_CHARS}]")
_WORD_CHAR = re.compile(r"\w")


def count_words(text: str) -> int:
    """Words in `text` as a reader counts them (`documents.word_count`): whitespace-separated, but a
    Chinese or Japanese character counts one each (split on spaces, a Chinese article was one word).
    Thai and the like stay counted by their spaced phrases: their words need a dictionary."""
    if not _HAN_KANA.search(text):
        return len(text.split())
    count = 0
    for token in text.split():
        han_kana = len(_HAN_KANA.findall(token))
        rest = _HAN_KANA.sub(" ", token)
        count += han_kana + len([part for part in rest.split() if _WORD_CHAR.search(part)]) if han_kana else 1
    return count


def layout_words(text: str) -> int:
    """Words for layout rules (is this line a headline, a menu item, a short fragment?): spaced
    words, or, for Chinese and Japanese, one per two characters (their words average about two), so
    a 12-character Japanese headline is six words, not one."""
    if not _HAN_KANA.search(text):
        return len(text.split())
    return (count_words(text) + 1) // 2


def unspaced(text: str) -> bool:
    """True when `text` holds a script written without spaces between words."""
    return _UNSPACED_RUN.search(text) is not None


def language_name(language: str | None) -> str | None:
    return _NAMES.get(language or "")


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def without_joiners(text: str) -> str:
    """`text` without zero-width (non-)joiners: they shape letters, they do not part words. Persian
    "زمین‌لرزه" is one word with one or without (HTML extraction drops it, people type it either way)."""
    return text.replace("\u200c", "").replace("\u200d", "")


def words(text: str, language: str | None = None) -> list[str]:
    """Lower-cased word tokens of `text`; runs of unspaced scripts as character bigrams.

    The cut follows the script, not `language`: a Japanese article quoting an English name, or an
    English one quoting a Chinese place, gets each part cut its own way, and text whose language is
    unknown is cut the same as when it is known."""
    text = without_joiners(text.casefold())
    if not _UNSPACED_RUN.search(text):
        return _TOKEN.findall(text)
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if _UNSPACED_RUN.match(token):
            out.extend(_bigrams(token))
        else:
            out.append(token)
    return out


def segmented(text: str, language: str | None = None) -> str:
    """`text` unchanged when it holds no unspaced script (no cost), else with a space between the
    characters of its unspaced runs, so word n-gram shingles see one unit per character there.

    Characters rather than `words`' bigrams: an edited character then touches n shingles, not
    n + 1, which is what keeps a Japanese copy with one character in sixty changed above the
    0.8 Jaccard a near-duplicate needs (0.82-0.83 against 0.79-0.81 with bigrams on the dev articles)."""
    if not _UNSPACED_RUN.search(text):
        return text
    return _UNSPACED_RUN.sub(lambda m: " " + " ".join(m.group(0)) + " ", text)


@lru_cache(maxsize=None)
def _snowball(name: str) -> Callable[[str], str] | None:
    # imported when a stem is needed: NLTK's package import costs 1-2 s (SciPy, scikit-learn), which an
    # English `newsflow search` paid before answering
    from nltk.stem.snowball import SnowballStemmer

    if name not in SnowballStemmer.languages:
        return None
    return lru_cache(maxsize=1 << 16)(SnowballStemmer(name).stem)


def stemmer(language: str | None) -> Callable[[str], str] | None:
    """The Snowball stemmer of `language` (cached per word), or None when there is none."""
    name = language_name(language)
    return _snowball(name) if name else None


@lru_cache(maxsize=None)
def stop_words(language: str | None) -> frozenset[str]:
    """sumy's stop words of `language` (lower-cased), empty when sumy has no list for it."""
    name = language_name(language)
    if not name:
        return frozenset()
    import sumy

    path = Path(sumy.__file__).parent / "data" / "stopwords" / f"{name}.txt"
    if not path.is_file():
        return frozenset()
    return frozenset(w.strip().casefold() for w in path.read_text(encoding="utf-8").splitlines() if w.strip())


def has_rules(language: str | None) -> bool:
    """Whether the pipeline has language rules for `language` (a stemmer, stop words or a script
    segmentation); other languages are handled by language-neutral methods."""
    return bool(language) and (language in UNSPACED or stemmer(language) is not None or bool(stop_words(language)))


def search_terms(text: str, language: str | None) -> list[str]:
    """The words of `text` as the search index holds them for `language`: stop words dropped,
    Snowball stems where the language has a stemmer, bigrams for unspaced scripts."""
    stem = stemmer(language)
    stops = stop_words(language)
    out = []
    for w in words(text, language):
        if w in stops or w.isdigit():
            continue
        out.append(stem(w) if stem is not None and not _UNSPACED_RUN.match(w) else w)
    return out


_PUNCTUATION = "\"'.,;:!?()[]{}«»„“”‚‘’–—-"


# A query written wholly in one of these scripts, without a language, is analysed as the one
# stemmed language written in it: "Малайзия" found no article saying "Малайзии" unless the user
# added --language ru. Latin-script queries guess nothing (a dozen stemmed languages share it).
_SCRIPT_LANGUAGES = ((re.compile(r"[\u0400-\u04ff]"), "ru"), (re.compile(r"[\u0600-\u06ff]"), "ar"))


def _script_language(query: str) -> str | None:
    letters = [c for c in query if c.isalpha()]
    for script, language in _SCRIPT_LANGUAGES:
        if letters and all(script.match(c) for c in letters):
            return language
    return None


def search_query(query: str, language: str | None = None) -> str:
    """A user's query for the search index: its words as typed, less the language's stop words
    (matched in title and text, which the index Porter-stems as English) plus, unless the language is English, the same words
    analysed as `search_terms` analysed the stored texts (matched in `documents.search_text`)."""
    if language is None and not _UNSPACED_RUN.search(query):
        language = _script_language(query)
        if language is None:
            return query
    if language == "en":
        return query
    # the index drops English stop words only: the language's own go here, or "der die das"
    # would match every German article
    stops = stop_words(language)
    typed = " ".join(w for w in query.split() if w.casefold().strip(_PUNCTUATION) not in stops) if stops else query
    extra = [t for t in search_terms(query, language) if t not in typed.casefold().split()]
    return " ".join([typed, *extra]).strip()
