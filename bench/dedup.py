"""Deduplication and story benchmark: prints one table per question.

    .venv/bin/python bench/dedup.py [--pairs PATH] [--bbc PATH] [--docs 100000] [--batch 5000]

1. Story decision on SemEval-2022 news-similarity dev pairs (label 1 = same story):
   TF-IDF story score (IDF fitted on the unlabelled texts being clustered, labels never
   seen) vs the word 5-gram shingle Jaccard baseline. Thresholds are chosen on the
   training folds of a repeated stratified 5-fold split and applied to the held-out
   fold: the P/R/F1 printed are those cross-validated numbers. ROC-AUC needs no threshold.
2. Exact/near dedup on the BBC summaries dev file: labelled duplicates found against the
   right original, and duplicates reported for rows labelled as none.
3. Time and peak memory (RSS high-water mark) of deduplicating N synthetic documents
   (random articles plus edited, truncated and exact copies) into a fresh warehouse.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import re

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tasks.dedup.duplicates import DedupConfig, EmptyIndex, deduplicate, jaccard, word_shingles  # noqa: E402
from tasks.document import Document, sha256_hex  # noqa: E402
from tasks.dedup.stories import (  # noqa: E402
    EmptyStoryIndex, StoryConfig, assign_stories, pair_similarity, story_text, term_counts,
)
from tasks.dedup.terms import _stemmer  # noqa: E402

_stem = _stemmer("en")
from warehouse.store import Warehouse  # noqa: E402

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


def cross_validated(labels: np.ndarray, scores: np.ndarray, folds: int = 5, repeats: int = 20):
    """Mean P/R/F1 on held-out folds, and the median of the chosen thresholds."""
    results, thresholds = cv_runs(labels, scores, folds, repeats)
    return tuple(results.mean(axis=0)), float(np.median(thresholds))


def story_pairs(path: Path) -> None:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    labels = np.array([r["label"] for r in rows])
    texts = [r["a"] for r in rows] + [r["b"] for r in rows]
    df: Counter = Counter()
    for t in texts:  # IDF from the corpus being clustered, as the warehouse keeps it
        df.update(term_counts(t).keys())
    from flows.parameters import story_config
    from newsflow.settings import get_settings

    config = story_config(get_settings())
    story = np.array([pair_similarity(r["a"], r["b"], config, df, len(texts)) for r in rows])
    shingle = np.array([jaccard(word_shingles(r["a"], 5), word_shingles(r["b"], 5)) for r in rows])

    print(f"## Same-story decision: {path.name} ({len(rows)} pairs, {labels.sum()} same story)\n")
    print("| method | CV precision | CV recall | CV F1 | ROC-AUC | CV threshold (median) | F1 at best in-sample threshold |")
    print("|---|---|---|---|---|---|---|")
    for name, scores in (("word 5-gram Jaccard (baseline)", shingle), ("newsflow story score (TF-IDF, lead x2)", story)):
        (p, r, f), t = cross_validated(labels, scores)
        best = prf(labels, scores >= best_threshold(labels, scores))[2]
        print(f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} | {roc_auc(labels, scores):.3f} | {t:.3f} | {best:.3f} |")
    p, r, f = prf(labels, story >= config.threshold)
    print(f"\nshipped threshold {config.threshold}: P {p:.3f} R {r:.3f} F1 {f:.3f} (in-sample)\n")
    seed_pair_decision(texts, config)


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


def seed_pair_decision(texts: list[str], config: StoryConfig) -> None:
    """The two seed articles (a 2013 deal, a 2015 resolution) through the real story stage,
    with the dev texts around them for a realistic IDF."""
    seeds = seed_docs()
    background = [Document(source=f"dev{i}", source_kind="record", raw_text=t, raw_sha256=sha256_hex(t))
                  for i, t in enumerate(texts)]
    for d in background:
        d.text = d.raw_text
    everything = seeds + background
    deduplicate(everything, EmptyIndex())
    outcome = assign_stories(everything, EmptyStoryIndex(), config)
    story = {m["doc_id"]: m["story_id"] for m in outcome.members}
    df: Counter = Counter()
    for d in everything:
        df.update(term_counts(story_text(d)).keys())
    score = pair_similarity(story_text(seeds[0]), story_text(seeds[1]), config, df, len(everything))
    dates = " / ".join(str(d.published_at or "none (taken as the ingest day)") for d in seeds)
    verdict = "merged" if story[seeds[0].doc_id] == story[seeds[1].doc_id] else "kept apart"
    print(f"seed pair (2013 deal / 2015 resolution): story score {score:.3f} vs threshold {config.threshold}; "
          f"dates {dates}; story stage: **{verdict}**"
          + (" by the publication-date gate" if verdict == "kept apart" and score >= config.threshold else "") + "\n")


def bbc_duplicates(path: Path) -> None:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    ids = {r["id"] for r in rows}
    docs = []
    for r in rows:
        d = Document(source=r["id"], source_kind="record", raw_text=r["text"], raw_sha256=sha256_hex(r["text"]))
        d.text = r["text"]
        docs.append(d)
    by_id = {d.doc_id: d.source for d in docs}
    deduplicate(docs, EmptyIndex(), DedupConfig())
    label = {r["id"]: (r["duplicate_of"] if r["duplicate_of"] not in (None, "None", "") else None) for r in rows}
    found = {d.source: (by_id[d.duplicate_of], d.duplicate_method) for d in docs if d.duplicate_of}
    labelled = [i for i, o in label.items() if o]
    present = [i for i in labelled if label[i] in ids]
    right = sum(1 for i in present if found.get(i, (None,))[0] == label[i])
    false = [(i, found[i]) for i in found if not label[i]]
    print(f"## Exact/near duplicates: {path.name} ({len(rows)} rows)\n")
    print("| rows with duplicate_of | original in the file | marked duplicate of the right document | false duplicates among the rest |")
    print("|---|---|---|---|")
    print(f"| {len(labelled)} | {len(present)} | {right}/{len(present)} | {len(false)} |")
    for i, (orig, method) in false:
        same = sha256_hex(next(r["text"] for r in rows if r["id"] == i)) == sha256_hex(
            next(r["text"] for r in rows if r["id"] == orig))
        print(f"\nreported but unlabelled: {i} -> {orig} ({method}; texts byte-identical: {same})")
    print(f"\nlabelled duplicates whose original is missing from the file: {len(labelled) - len(present)} "
          f"(of those, marked duplicate of anything: {sum(1 for i in labelled if label[i] not in ids and i in found)})\n")


WORDS = None


def synthetic(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(source, text): ~70% fresh articles, the rest exact, lightly edited or truncated copies."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20000)]
    out: list[tuple[str, str]] = []
    originals: list[str] = []
    for i in range(n):
        roll = rng.random()
        if originals and roll < 0.1:
            text = rng.choice(originals)
        elif originals and roll < 0.25:
            words = rng.choice(originals).split()
            for _ in range(3):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            text = " ".join(words)
        elif originals and roll < 0.3:
            words = rng.choice(originals).split()
            text = " ".join(words[: len(words) * 2 // 3])
        else:
            text = " ".join(rng.choice(vocab) for _ in range(rng.randint(150, 400)))
            originals.append(text)
        out.append((f"synthetic/{i}", text))
    return out


def scale(n: int, batch: int) -> None:
    items = synthetic(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = Warehouse(Path(tmp) / "bench.duckdb")
        store.migrate()
        start = time.perf_counter()
        dups = Counter()
        for at in range(0, n, batch):
            docs = []
            for source, text in items[at : at + batch]:
                d = Document(source=source, source_kind="file", raw_text=text, raw_sha256=sha256_hex(text))
                d.text = text
                docs.append(d)
            outcome = deduplicate(docs, store)
            store.write_batch("bench", docs, [], outcome.band_keys, summary_length="sentences=3")
            dups.update(d.duplicate_method for d in docs if d.duplicate_of)
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"## Scale: {n:,} synthetic documents, batches of {batch:,}, into a fresh DuckDB warehouse\n")
    print("| documents | seconds | docs/s | peak RSS MiB | exact | near | contained |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n:,} | {elapsed:.1f} | {n / elapsed:,.0f} | {peak:,.0f} | {dups['exact']:,} | {dups['near']:,} | "
          f"{dups['contained']:,} |\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=EVAL / "neardup_dev.jsonl")
    parser.add_argument("--bbc", type=Path, default=EVAL / "summaries_dev.jsonl")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args(argv)
    story_pairs(args.pairs)
    bbc_duplicates(args.bbc)
    if args.docs:
        scale(args.docs, args.batch)


if __name__ == "__main__":
    main()
