"""Held-out same-story pairs for bench/stories.py, from a public SemEval-2022 Task 8 CSV.

The dev pairs (../shared/eval/neardup_dev.jsonl) are the 161 English rows of `data/training_set.csv`
in github.com/GeekDream-x/SemEval2022-Task8-TonyX; its `data/testing_set.csv` holds other pairs of the
same kind (texts scraped and cut to ~1.26k characters by that team). This writes one CSV's pairs in
the dev file's format, for one language pair, leaving out every pair that shares an article with the
dev file, so that `bench/stories.py --pairs OUT` measures pairs newsflow was never tuned on:

    .venv/bin/python bench/semeval_pairs.py testing_set.csv --lang en -o /tmp/heldout-en.jsonl
    .venv/bin/python bench/stories.py --pairs /tmp/heldout-en.jsonl

Label 1 (same story) is Overall < 2.5 on the task's 1-4 scale (1 = very similar): that cut gives every
one of the 161 dev labels. The texts are the outlets' copyright: keep the output outside the repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

SAME_STORY_BELOW = 2.5  # Overall score under which a pair is the same story
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "neardup_dev.jsonl"
PREFIX_CHARS = 200  # of a normalised text: two texts opening alike are one article


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[\W_]+", " ", text.casefold())).strip()


def _openings(text: str) -> set[str]:
    """The normalised openings of a text and of its body (after the headline line)."""
    text = text.strip()
    parts = [text] + ([text.split("\n", 1)[1]] if "\n" in text else [])
    return {_normalised(p)[:PREFIX_CHARS] for p in parts if len(_normalised(p)) >= 80}


def pairs(csv_path: Path, langs: tuple[str, str], dev_texts: list[str]) -> tuple[list[dict], Counter]:
    csv.field_size_limit(sys.maxsize)
    dev_openings = set().union(*map(_openings, dev_texts)) if dev_texts else set()
    dev_normalised = [_normalised(t) for t in dev_texts]
    kept, dropped, seen = [], Counter(), set()
    with csv_path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if (row["lang1"], row["lang2"]) != langs:
                continue
            a, b = row["text1"].strip(), row["text2"].strip()
            if row["pair_id"] in seen or not a or not b:
                dropped["repeated or empty"] += 1
                continue
            seen.add(row["pair_id"])
            openings = _openings(a) | _openings(b)
            if openings & dev_openings or any(o in d for o in openings for d in dev_normalised):
                dropped["shares an article with dev"] += 1
                continue
            overall = float(row["Overall"])
            kept.append({"a": a, "b": b, "label": int(overall < SAME_STORY_BELOW), "overall": overall,
                         "pair_id": row["pair_id"]})
    return kept, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="a SemEval-2022 Task 8 CSV with text1/text2 (see above)")
    parser.add_argument("--lang", default="en", help="language pair: 'en', 'de', or 'de-en' (lang1-lang2)")
    parser.add_argument("--dev", type=Path, default=DEV, help="pairs to leave out (default: the dev file)")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args(argv)
    first, _, second = args.lang.partition("-")
    dev_pairs = [json.loads(line) for line in args.dev.open(encoding="utf-8")] if args.dev.is_file() else []
    dev_texts = [pair[side] for pair in dev_pairs for side in ("a", "b")]
    kept, dropped = pairs(args.csv, (first, second or first), dev_texts)
    with args.out.open("w", encoding="utf-8") as f:
        for pair in kept:
            f.write(json.dumps(pair, ensure_ascii=False) + "\n")
    same = sum(p["label"] for p in kept)
    print(f"{len(kept)} pairs ({same} same story) -> {args.out}; left out: {dict(dropped) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
