"""How long a summary is: the one owner of the length rules.

A length is a sentence count, a share of the document's sentences, or a word budget,
never two at once. The ranges here feed the flow's typed parameters (the UI form), the
CLI's checks before anything starts, the settings' validation and the summarizer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_SENTENCES = 3
SENTENCES_RANGE = (1, 50)
WORDS_RANGE = (5, 2000)
# a ratio is in (0, 1]: the lower bound is exclusive


def both_set(names: list[str]) -> str:
    """"a and b are both set" / "a, b and c are all set": two or more summary lengths given at once,
    in the names the caller's user typed (parameters, settings, fields)."""
    listed = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} are {'both' if len(names) == 2 else 'all'} set"


@dataclass(frozen=True)
class SummaryLength:
    sentences: int | None = None
    ratio: float | None = None
    words: int | None = None

    def __post_init__(self) -> None:
        given = self.given()
        if len(given) > 1:
            raise ValueError(f"contradictory summary length: {both_set(given)}; give one of sentences, ratio or words")
        for name, (low, high) in (("sentences", SENTENCES_RANGE), ("words", WORDS_RANGE)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not low <= value <= high):
                raise ValueError(f"summary {name} must be an integer from {low} to {high}, got {value!r}")
        ratio = self.ratio
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, (int, float))
                                  or math.isnan(ratio) or not 0.0 < float(ratio) <= 1.0):
            raise ValueError(f"summary ratio must be in (0, 1], got {ratio!r}")

    def given(self) -> list[str]:
        return [name for name in ("sentences", "ratio", "words") if getattr(self, name) is not None]

    @classmethod
    def of(cls, sentences: int | None = None, ratio: float | None = None, words: int | None = None,
           default: SummaryLength | None = None) -> SummaryLength:
        """The length asked for, else `default`, else DEFAULT_SENTENCES sentences."""
        asked = cls(sentences, ratio, words)
        if asked.given():
            return asked
        return default if default is not None else cls(sentences=DEFAULT_SENTENCES)

    def label(self) -> str:
        if self.ratio is not None:
            return f"ratio={self.ratio}"
        if self.words is not None:
            return f"words={self.words}"
        return f"sentences={self.sentences if self.sentences is not None else DEFAULT_SENTENCES}"

    def resolve(self, n_sentences: int) -> tuple[str, float]:
        """("sentences", count) or ("words", budget) for a document of `n_sentences` sentences."""
        if self.words is not None:
            return "words", self.words
        if self.ratio is not None:
            return "sentences", max(1, round(float(self.ratio) * n_sentences))
        return "sentences", self.sentences if self.sentences is not None else DEFAULT_SENTENCES
