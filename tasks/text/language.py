"""The language of a document: ISO 639-1 code, confidence and where it came from.

Page markup (`<html lang>`, `Content-Language`) is what the publisher says, but templates are
shared across editions and often left at "en"; a detector reads the text itself. So the markup is
taken when the detector finds it plausible for the text, else the detector's answer; a run may
also name the language outright (`newsflow ingest --language de`). Plainly English text is
recognised by its function words before the model is loaded (see `_ENGLISH_WORDS`).

Detector: py3langid 0.4 (langid.py's naive Bayes over byte n-grams, 97 languages, model inside
the wheel). Measured on the 95 multilingual dev pages (16 languages): 95/95 right on the
article body, 94/95 on the headline alone; lingua 2.1 (low-accuracy mode) got 93/95 at ~30 ms a
page (it says "nb" where the pages say "no"), py3langid ~18 ms on whole bodies, 0.4 ms on the
sample below. (The dev labels were themselves made with py3langid restricted to each
publisher's country's languages, so 95/95 overstates its accuracy on unseen pages.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["LanguageGuess", "detect", "normalise", "SOURCES"]

# what `documents.language_source` may hold
SOURCES = ("run", "markup", "detector", "function-words", "unknown")
# langid is linear in its input (~1.3 µs a character): an article's first 300 characters named
# the language of all 95 dev pages (and all 547 English BBC dev articles) as well as the whole text
# did, at a third of the cost of 1,000 (0.4 ms a document, the only per-document cost English pays)
SAMPLE_CHARS = 300
# below this many letters the detector is guessing (a caption, a headline fragment)
MIN_LETTERS = 20
# markup is kept when the detector gives its language at least this probability, or ranks it in
# its top three: close languages (no/da, id/ms, hr/sr/bs, cs/sk) are where markup knows better
MARKUP_MIN_PROBABILITY = 0.01
# English recognised from its function words, before the model: py3langid's model takes ~95 MiB in
# every process that loads it (each pool worker), which an English-only run then never pays, nor
# its 0.25-0.4 ms a document. Words common in English and rare as words elsewhere ("for" is
# Norwegian, "was" German, "to" Polish, "is" Dutch: left out). In the first 1,000 characters they
# are >= 10 % of the words of all 574 English dev articles and <= 1.3 % of every other dev page's.
_ENGLISH_WORDS = frozenset(
    "the and that with this from which were their they have has been would said after but not had than its "
    "who when into there could what you our she his be are of".split())
ENGLISH_SAMPLE_CHARS = 1000
ENGLISH_MIN_WORDS = 40  # fewer words than this: the model decides
ENGLISH_MIN_SHARE = 0.05
_WORDS = re.compile(r"[^\W\d_]+")
# codes langid or page markup write for what ISO 639-1 and our rules call one language
_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro",
            # py3langid's ISO 639-3 classes that ISO 639-1 writes with two letters: a member of a
            # macrolanguage (Wu and Cantonese are "zh", Egyptian and Moroccan Arabic "ar") or a
            # language of its own. A Mandarin headline under a Latin name was stored as "wuu" ("Avatar 3
            # 官方预告片将于本日发布！"), and every such code got English stems, stop words and prior
            "wuu": "zh", "yue": "zh", "arz": "ar", "ary": "ar", "uzs": "uz", "sdh": "ku", "ltg": "lv",
            "fuv": "ff", "gug": "gn", "kik": "ki"}
_TAG = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class LanguageGuess:
    code: str | None  # ISO 639-1 (or 639-3 where there is no two-letter code); None: unknown
    confidence: float | None  # the detector's probability for `code`; 1.0 when the run named it; None
    # when the model was not asked (too little text, or English recognised by its function words)
    source: str  # one of SOURCES


def normalise(tag: str | None) -> str | None:
    """'de-AT', 'pt_BR', 'NB' -> 'de', 'pt', 'no'; None for what is not a language tag."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].split(",")[0].lower()
    if not _TAG.fullmatch(primary):
        return None
    return _ALIASES.get(primary, primary)


def not_a_language(tag: str) -> ValueError:
    return ValueError(f"{tag!r} is not a language code; give an ISO 639-1 code such as de, fr or pt-BR")


def run_language(tag: str | None) -> str | None:
    """The bare code of a language a run or a setting names ('pt-BR' -> 'pt', 'nb' -> 'no'); None
    when none is named. ValueError for a tag no language has ('xx', 'ge' for German): every
    document of the run would be stored, stemmed and summarised as that language."""
    if not tag:
        return None
    code = normalise(tag)
    if code is None or code not in _iso_639_codes():
        raise not_a_language(tag)
    return code


@lru_cache(maxsize=1)
def _iso_639_codes() -> frozenset[str]:
    from babel import Locale  # CLDR's list of languages, inside the wheel

    return frozenset(Locale("en").languages) | frozenset(_ALIASES.values())


def _plainly_english(text: str) -> bool:
    words = _WORDS.findall(text[:ENGLISH_SAMPLE_CHARS].lower())
    if len(words) < ENGLISH_MIN_WORDS or not all(w.isascii() for w in words[:ENGLISH_MIN_WORDS]):
        return False
    return sum(w in _ENGLISH_WORDS for w in words) >= ENGLISH_MIN_SHARE * len(words)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def detect(text: str, markup: str | None = None, override: str | None = None) -> LanguageGuess:
    """The language of `text` (cleaned article text, headline first if wanted).

    `override` (the run's `--language`) wins; else plainly English text (unmarked or marked "en")
    is English; else `markup` when the text is consistent with it; else the detector. Text too
    short to judge keeps its markup, or is unknown."""
    if override:
        return LanguageGuess(normalise(override), 1.0, "run")
    markup = normalise(markup)
    if markup in (None, "en") and _plainly_english(text or ""):
        return LanguageGuess("en", None, "markup" if markup else "function-words")
    sample = (text or "")[:SAMPLE_CHARS]
    if _letters(sample) < MIN_LETTERS:
        return LanguageGuess(markup, None, "markup") if markup else LanguageGuess(None, None, "unknown")
    ranked: dict[str, float] = {}
    for code, p in _identifier().rank(sample)[:10]:
        code = _ALIASES.get(code, code)
        ranked[code] = ranked.get(code, 0.0) + float(p)
    best = max(ranked, key=ranked.get)
    if markup is not None:
        top3 = sorted(ranked, key=ranked.get, reverse=True)[:3]
        p = ranked.get(markup, 0.0)
        if markup in top3 and p >= MARKUP_MIN_PROBABILITY:
            return LanguageGuess(markup, round(p, 4), "markup")
    return LanguageGuess(best, round(ranked[best], 4), "detector")
