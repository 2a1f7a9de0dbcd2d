"""The terms of a document's story vector: Snowball-stemmed content words, counted.

Kept apart from the clustering (`tasks.dedup.stories`) because the pool workers compute them while
cleaning, and this module needs neither scipy nor scikit-learn: see `tasks.parallel`.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources

from nltk.stem.snowball import SnowballStemmer

from tasks.document import Document

LEAD_WORDS = 100  # the first words, where the event is named, count twice

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_STEMMER = SnowballStemmer("english")


def _load_stop_words() -> frozenset[str]:
    text = resources.files("tasks.dedup").joinpath("data/english_stop_words.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


ENGLISH_STOP_WORDS = _load_stop_words()


def _stem(word: str) -> str:
    return _STEMMER.stem(word)


@lru_cache(maxsize=1 << 18)
def _term(token: str) -> str | None:
    """The index term of a word token, or None for stop words and short words."""
    word = token.casefold()
    if len(word) <= 2 or word in ENGLISH_STOP_WORDS:
        return None
    return _stem(word)


def _add_terms(counts: Counter, text: str) -> None:
    # count tokens first (C speed), then map each distinct token once
    for token, n in Counter(_TOKEN.findall(text)).items():
        term = _term(token)
        if term is not None:
            counts[term] += n


def term_counts(text: str, lead_words: int = LEAD_WORDS) -> Counter:
    counts: Counter = Counter()
    _add_terms(counts, text)
    _add_terms(counts, " ".join(text.split()[:lead_words]))
    return counts


def story_text(doc: Document) -> str:
    """Headline and body: the headline names the event more often than any other line."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


def doc_term_counts(doc: Document, lead_words: int = LEAD_WORDS) -> Counter:
    """`term_counts` of the document's headline and body, computed once per document."""
    key = ("story_terms", lead_words)
    if key not in doc.derived:
        doc.derived[key] = term_counts(story_text(doc), lead_words)
    return doc.derived[key]
