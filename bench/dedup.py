"""Duplicate benchmark through the product, and the evaluation helpers the story benchmarks share.

    .venv/bin/python bench/dedup.py [--bbc PATH]

Exact/near/contained duplicates on the BBC summaries dev file: every row written as a file and
ingested with the real pipeline (tasks.pipeline.Pipeline + InlineStages, the flow's choreography)
into a fresh warehouse; the `duplicates` table read back. A labelled duplicate is found when it and
its original end in one duplicate group (either may be the one kept: the pipeline keeps the earlier
by date, then text); any other group is a false duplicate, printed with whether the two texts are
byte-identical. Rows the ingest rejected are counted and named.

Same-story numbers (pair score and stored stories) are bench/stories.py's; duplicates at scale
are bench/throughput.py's (exact and near copies among up to 100k documents, through the flow).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.dedup.terms import _stemmer, term_counts  # noqa: E402

_stem = _stemmer("en")

EVAL = REPO.parent / "shared" / "eval"


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from scipy.stats import rankdata  # average ranks over ties

    ranks = rankdata(scores)
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def prf(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    tp = int((predicted & (labels == 1)).sum())
    fp = int((predicted & (labels == 0)).sum())
    fn = int((~predicted & (labels == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def best_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The lowest unique score that maximises F1 of `scores >= t` (all candidates at once)."""
    cand = np.unique(scores)
    n_ge = len(scores) - np.searchsorted(np.sort(scores), cand, side="left")  # predicted positives per t
    order = np.argsort(-scores, kind="mergesort")
    tp = np.concatenate([[0], np.cumsum(labels[order] == 1)])[n_ge]
    fp = n_ge - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = tp / (tp + fp)
        rec = tp / int((labels == 1).sum())
        f1 = np.where(tp > 0, 2 * prec * rec / (prec + rec), 0.0)
    return float(cand[int(np.argmax(f1))])


def folds_of(labels: np.ndarray, seed: int, folds: int = 5) -> np.ndarray:
    """A stratified fold number per pair for one repeat."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


def cv_runs(labels: np.ndarray, scores: np.ndarray, folds: int = 5, repeats: int = 20):
    """Per repeat, P/R/F1 of held-out predictions (threshold chosen on the training folds); and the thresholds."""
    results, thresholds = [], []
    for seed in range(repeats):
        fold_of = folds_of(labels, seed, folds)
        predicted = np.zeros(len(labels), dtype=bool)
        for f in range(folds):
            train = fold_of != f
            t = best_threshold(labels[train], scores[train])
            thresholds.append(t)
            predicted[~train] = scores[~train] >= t
        results.append(prf(labels, predicted))
    return np.array(results), thresholds


# --- name overlap (used by bench/story_study.py's signal study) ---
_NAME = re.compile(r"[^\W\d_][\w'\u2019-]*")
_NOT_NAMES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "news", "president",
              "minister", "secretary", "chief", "mr", "mrs", "ms", "dr", "sept", "january", "february", "march",
              "april", "june", "july", "august", "september", "october", "november", "december"}


def name_counts(text: str) -> Counter:
    """Capitalised words that do not start a sentence or line (names, places, organisations)."""
    out: Counter = Counter()
    for m in _NAME.finditer(text):
        w = m.group(0)
        if not w[0].isupper() or re.search(r"[.!?:\"\u201c\u201d]\s*$|^\s*$", text[max(0, m.start() - 3): m.start()]):
            continue
        k = _stem(re.sub(r"['\u2019]s$", "", w).strip("'\u2019-").casefold())
        if len(k) > 1 and k not in _NOT_NAMES and term_counts(k):
            out[k] += 1
    return out


def seed_docs() -> list:
    from tasks.batch import clean_docs, read_paths

    docs, _ = read_paths(sorted((REPO / "seeds").glob("*.txt")), 10_000_000)
    return clean_docs(docs)[0]


def seed_pair_texts() -> tuple[str, str]:
    docs = seed_docs()
    return docs[0].text, docs[1].text


def bbc_duplicates(path: Path) -> None:
    from bench.stories import ingest, write_articles
    from warehouse.store import Warehouse

    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    ids = {r["id"] for r in rows}
    label = {r["id"]: (r["duplicate_of"] if r["duplicate_of"] not in (None, "None", "") else None) for r in rows}
    text_of = {r["id"]: r["text"] for r in rows}
    with tempfile.TemporaryDirectory(prefix="newsflow-dedup-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        ingest(write_articles([r["text"] for r in rows], folder / "rows", [f"{r['id']}.txt" for r in rows]),
               folder / "w.duckdb", None)
        elapsed = time.perf_counter() - started
        store = Warehouse(folder / "w.duckdb")
        _, links = store.query(
            "SELECT d.source, o.source, x.method FROM duplicates x JOIN documents d ON d.doc_id = x.doc_id "
            "JOIN documents o ON o.doc_id = x.duplicate_of")
        _, failed = store.query("SELECT source, stage, reason FROM failures")

    def row_id(source: str) -> str:
        return Path(source).stem

    kept_as = {row_id(a): (row_id(b), method) for a, b, method in links}  # copy -> (the one kept, method)

    def group(i: str) -> str:
        return kept_as[i][0] if i in kept_as else i

    labelled = [i for i, o in label.items() if o]
    present = [i for i in labelled if label[i] in ids]
    found = [i for i in present if group(i) == group(label[i])]
    labelled_pairs = {frozenset((i, label[i])) for i in present}
    false = [(a, b, m) for a, (b, m) in sorted(kept_as.items()) if frozenset((a, b)) not in labelled_pairs]
    print(f"## Exact/near duplicates: {path.name} ({len(rows)} rows ingested in {elapsed:.0f} s; "
          f"{len(failed)} rejected)\n")
    print("| rows with duplicate_of | original in the file | found (same duplicate group) | linked, not labelled (below) |")
    print("|---|---|---|---|")
    print(f"| {len(labelled)} | {len(present)} | {len(found)}/{len(present)} | {len(false)} |")
    for i in present:
        if i not in found:
            print(f"\nmissed: {i} (original {label[i]})")
    for a, b, method in false:
        print(f"\nreported but unlabelled: {a} -> {b} ({method}; {how_they_differ(text_of[a], text_of[b])})")
    for source, stage, reason in failed:
        print(f"\nrejected: {row_id(source)} at {stage} ({reason})")
    print(f"\nlabelled duplicates whose original is missing from the file: {len(labelled) - len(present)} "
          f"(of those, marked duplicate of anything: {sum(1 for i in labelled if label[i] not in ids and i in kept_as)})\n")


def how_they_differ(a: str, b: str) -> str:
    """For a reader judging an unlabelled pair: headline (first line) and body lines that differ."""
    if a == b:
        return "byte-identical"
    head_a, _, body_a = a.partition("\n")
    head_b, _, body_b = b.partition("\n")
    lines_a, lines_b = body_a.split("\n"), body_b.split("\n")
    ops = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False).get_opcodes()
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
    return (f"headline {'differs' if head_a.strip() != head_b.strip() else 'same'}, "
            f"{changed} of {max(len(lines_a), len(lines_b))} body lines differ")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bbc", type=Path, default=EVAL / "summaries_dev.jsonl")
    args = parser.parse_args(argv)
    bbc_duplicates(args.bbc)


if __name__ == "__main__":
    main()
