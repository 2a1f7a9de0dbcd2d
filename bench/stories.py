"""Same-story benchmark through the product: ingest labelled article pairs with the real pipeline
(tasks.pipeline.Pipeline + InlineStages, the flow's choreography) and read `story_members` back.

    .venv/bin/python bench/stories.py [--pairs PATH] [--limit N] [--threshold T] [--sweep 0.18 0.22 ...]
        [--no-alone] [--runs 4 8]

Prints, for the dev pairs (label 1 = same story):
1. the pair score's ROC-AUC on the texts as stored (headline and cleaned text, read back from an ingest)
   with the shipped prior alone (no corpus: what an empty warehouse sees), and a cross-validated threshold (repeated stratified 5-fold: chosen on 4 folds, F1 on the 5th) with
   its fold spread;
2. "alone": every pair ingested into its own fresh warehouse; "one warehouse": every article in one
   warehouse, in file order, again shuffled, and in two runs (each pair's first article in the first
   run, the rest in the next): pairs whose decision changed are the order and run-split dependence.
   P, R, F1 of "both articles in one story", and the stories that join articles of unrelated pairs
   (articles of different pairs, where no labelled pair connects them);
3. the seeds (seeds/*.txt, two different events about one subject): apart or merged, alone and
   among all the dev articles.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.dedup import best_threshold, folds_of, prf, roc_auc  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"


def ingest(files: list[Path], warehouse: Path, threshold: float | None) -> None:
    """One `newsflow ingest` of these files, as the flow runs it (without Prefect)."""
    from dataclasses import replace

    from flows.parameters import run_config
    from flows.settings import get_settings
    from tasks.pipeline import InlineStages, Pipeline
    from warehouse.store import Warehouse

    settings = get_settings()
    config = run_config(settings)
    if threshold is not None:
        config = replace(config, story=replace(config.story, threshold=threshold))
    config = replace(config, workers=1)  # tiny batches: a process pool costs more than it saves
    store = Warehouse(warehouse, memory_limit=settings.duckdb_memory_limit)
    store.migrate()
    run_id = str(uuid.uuid4())
    pipeline = Pipeline(store, config, InlineStages(), run_id)
    store.start_run(run_id, None, {"bench": "stories"})
    for _ in pipeline.run_batches(pipeline.read_files(files, [])):
        pass
    store.finish_run(run_id, status="completed", counts=pipeline.totals.counts, timings=pipeline.totals.timings)


def stories_by_source(warehouse: Path) -> dict[str, str]:
    from warehouse.store import Warehouse

    _, rows = Warehouse(warehouse).query(
        "SELECT d.source, m.story_id FROM story_members m JOIN documents d ON d.doc_id = m.doc_id")
    return {Path(source).name: story for source, story in rows}


def write_articles(texts: list[str], folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for text, name in zip(texts, names):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def together(story: dict[str, str], a: str, b: str) -> bool:
    """Both articles in one story. An article rejected at ingest (an access wall without a headline)
    is in no story, and two of them are not one story (counting None == None made a false pair)."""
    return story.get(a) is not None and story.get(a) == story.get(b)


def score(rows: list[dict], same: list[bool]) -> tuple[float, float, float]:
    labels = np.array([r["label"] for r in rows])
    return prf(labels, np.array(same))


def unrelated_stories(rows: list[dict], name_of: dict[str, str], story: dict[str, str]) -> list[list[list[str]]]:
    """Stories holding articles that no chain of labelled pairs (any label) connects: unrelated news.
    Each as its articles' names, grouped by the labelled pairs they belong to."""
    pairs = _Chains()
    for r in rows:
        pairs.join(name_of[r["a"]], name_of[r["b"]])
    groups: dict[str, dict[str, list[str]]] = {}
    for name, s in sorted(story.items()):
        if name in pairs.parent:
            groups.setdefault(s, {}).setdefault(pairs.find(name), []).append(name)
    return [list(g.values()) for g in groups.values() if len(g) > 1]


class _Chains:
    """Which items a chain of links connects (union-find)."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        while self.parent.setdefault(x, x) != x:
            x = self.parent[x]
        return x

    def join(self, a, b) -> None:
        self.parent[self.find(a)] = self.find(b)


# Two articles of a pairs file are versions of one article (scraped twice, or machine-translated there and
# back) when they share most of their words and of their headline's. Two outlets' reports of one event share
# at most 0.34 of their words among the labelled same-story pairs (English dev 0.31, German 0.34); template
# articles (two companies' share-price notes, two lottery draws) share their words but not their headline's.
COPY_JACCARD = 0.4  # of the words
COPY_HEADLINE_JACCARD = 0.6  # of the first ten words


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def versions(a: str, b: str) -> bool:
    """Whether two texts are versions of one article (see COPY_JACCARD). Judged on the texts as
    given, not by the product."""
    words_a, words_b = a.casefold().split(), b.casefold().split()
    return (_jaccard(set(words_a), set(words_b)) >= COPY_JACCARD
            and _jaccard(set(words_a[:10]), set(words_b[:10])) >= COPY_HEADLINE_JACCARD)


def copies_only(groups: list[list[str]], text_of: dict[str, str]) -> bool:
    """Whether a story's unrelated groups are tied by versions of one article: the pairs files hold
    some articles twice, in pairs of their own, and a story joining those joins no unrelated news."""
    copies = _Chains()
    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            if any(versions(text_of[a], text_of[b]) for a in groups[i] for b in groups[j]):
                copies.join(i, j)
    return len({copies.find(i) for i in range(len(groups))}) == 1


def show_unrelated(stories: list[list[list[str]]], first_words: dict[str, str], text_of: dict[str, str]) -> None:
    """Print each story that joins unrelated pairs, so a reader can judge it: several dev pairs cover
    one event (same-event stories are counted as unrelated too); [copies] marks a story whose pairs
    are tied by versions of one article (`copies_only`)."""
    copies = 0
    for n, groups in enumerate(stories, 1):
        mark = "[copies] " if copies_only(groups, text_of) else ""
        copies += bool(mark)
        print(f"{n}. {mark}" + "  //  ".join(" + ".join(first_words[name] for name in group) for group in groups))
    print(f"\n{copies} of these {len(stories)} join only versions of one article (`versions`: word-set "
          f"Jaccard >= {COPY_JACCARD}, of the first ten words >= {COPY_HEADLINE_JACCARD})\n")


def seeds_apart(work: Path, extra: list[Path], threshold: float | None) -> str:
    seeds = sorted((REPO / "seeds").glob("*.txt"))
    wh = work / f"seeds-{len(extra)}.duckdb"
    ingest(seeds + extra, wh, threshold)
    story = stories_by_source(wh)
    a, b = (story.get(s.name) for s in seeds)
    return "kept apart" if a != b else "merged"


def stored_texts(texts: list[str], name_of: dict[str, str], work: Path) -> dict[str, tuple[str, str | None]]:
    """Each article as the product stores it (headline and cleaned text, language), by input text:
    one ingest of all articles; an article the cleaner rejected (a page with no article) is absent."""
    from tasks.dedup.terms import story_text
    from tasks.document import Document
    from warehouse.store import Warehouse

    folder = work / "stored"
    ingest(write_articles(texts, folder, [name_of[t] for t in texts]), folder / "w.duckdb", None)
    _, found = Warehouse(folder / "w.duckdb").query("SELECT source, title, text, language FROM documents")
    by_name = {Path(source).name: (story_text(Document(source, "file", "", "", text=text, title=title)), language)
               for source, title, text, language in found}
    return {t: by_name[name_of[t]] for t in texts if name_of[t] in by_name}


def pair_cv(rows: list[dict], stored: dict[str, tuple[str, str | None]], repeats: int = 20) -> None:
    from flows.parameters import story_config
    from flows.settings import get_settings
    from tasks.dedup.stories import pair_similarity

    config = story_config(get_settings())
    labels = np.array([r["label"] for r in rows])
    both = np.array([r["a"] in stored and r["b"] in stored for r in rows])
    # a pair whose article was rejected (no article text on the page) can never form a story: score 0
    scores = np.array([pair_similarity(stored[r["a"]][0], stored[r["b"]][0], config, language=stored[r["a"]][1])
                       if ok else 0.0 for r, ok in zip(rows, both)])
    f1s, thresholds = [], []
    for rep in range(repeats):
        fold_of = folds_of(labels, rep)
        for f in range(5):
            train, test = fold_of != f, fold_of == f
            t = best_threshold(labels[train], scores[train])
            thresholds.append(t)
            f1s.append(prf(labels[test], scores[test] >= t)[2])
    print("## Pair score on the stored texts, shipped prior only (what an empty warehouse sees)\n")
    print("| pairs | ROC-AUC | ROC-AUC, pairs with both articles stored | CV threshold median [min, max] "
          "| CV F1 mean ± sd (fold min-max) |")
    print("|---|---|---|---|---|")
    print(f"| {len(rows)} | {roc_auc(labels, scores):.3f} | {roc_auc(labels[both], scores[both]):.3f} "
          f"({int(both.sum())} pairs) | {np.median(thresholds):.3f} [{min(thresholds):.3f}, {max(thresholds):.3f}] "
          f"| {np.mean(f1s):.3f} ± {np.std(f1s):.3f} ({min(f1s):.2f}-{max(f1s):.2f}) |\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=EVAL / "neardup_dev.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="the first N pairs only (while iterating)")
    parser.add_argument("--threshold", type=float, default=None, help="story threshold (default: the setting)")
    parser.add_argument("--sweep", type=float, nargs="*", default=[], help="one-warehouse F1 at these thresholds too")
    parser.add_argument("--no-alone", action="store_true", help="skip the pair-alone mode (slowest)")
    parser.add_argument("--runs", type=int, nargs="*", default=[],
                        help="also: the articles shuffled and dealt into K runs (two shuffles each)")
    args = parser.parse_args(argv)
    if not args.pairs.exists():
        print(f"no pairs at {args.pairs}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.pairs.open(encoding="utf-8")][: args.limit]
    texts = sorted({r["a"] for r in rows} | {r["b"] for r in rows})
    name_of = {t: f"article-{i:04d}.txt" for i, t in enumerate(texts)}
    work = Path(tempfile.mkdtemp(prefix="newsflow-stories-"))
    pair_cv(rows, stored_texts(texts, name_of, work))
    t0 = time.perf_counter()

    print("## Stories stored by ingest (story_members)\n")
    print("| mode | threshold | pairs | P | R | F1 | stories joining unrelated pairs | seeds |")
    print("|---|---|---|---|---|---|---|---|")
    shown = args.threshold if args.threshold is not None else "setting"
    if not args.no_alone:
        same = []
        for i, r in enumerate(rows):
            folder = work / f"alone-{i}"
            ingest(write_articles([r["a"], r["b"]], folder, ["a.txt", "b.txt"]), folder / "w.duckdb", args.threshold)
            story = stories_by_source(folder / "w.duckdb")
            same.append(together(story, "a.txt", "b.txt"))
        p, rc, f1 = score(rows, same)
        print(f"| each pair alone | {shown} | {len(rows)} | {p:.3f} | {rc:.3f} | {f1:.3f} | - | "
              f"{seeds_apart(work, [], args.threshold)} |", flush=True)

    all_files = write_articles(texts, work / "all", [name_of[t] for t in texts])
    first_words = {name_of[t]: " ".join(t.split()[:8]) for t in texts}
    shown_unrelated: dict = {}
    for threshold in [args.threshold, *args.sweep]:
        label = threshold if threshold is not None else "setting"
        results = []
        for order in ("file order", "shuffled", "two runs"):
            names = [name_of[t] for t in texts]
            if order == "two runs":  # every pair's first article in one run, the rest in the next
                folder, back = work / f"all-two-runs-{label}", {n: n for n in names}
                firsts = {name_of[r["a"]] for r in rows}
                folder.mkdir(exist_ok=True)
                ingest([f for f in all_files if f.name in firsts], folder / "w.duckdb", threshold)
                files = [f for f in all_files if f.name not in firsts]
            elif order == "shuffled":  # the same articles under other names: another reading order
                shuffled = names[:]
                random.Random(7).shuffle(shuffled)
                rename = dict(zip(names, shuffled))
                folder = work / f"all-shuffled-{label}"
                files = write_articles(texts, folder, [rename[n] for n in names])
                random.Random(11).shuffle(files)  # read in another order
                back = {v: k for k, v in rename.items()}
            else:
                folder, files, back = work / f"all-{label}", all_files, {n: n for n in names}
            folder.mkdir(exist_ok=True)
            ingest(files, folder / "w.duckdb", threshold)
            story = {back[n]: s for n, s in stories_by_source(folder / "w.duckdb").items() if n in back}
            same = [together(story, name_of[r["a"]], name_of[r["b"]]) for r in rows]
            results.append(same)
            p, rc, f1 = score(rows, same)
            seeds = seeds_apart(work, files, threshold) if order == "file order" else "-"
            unrelated = unrelated_stories(rows, name_of, story)
            print(f"| one warehouse, {order} | {label} | {len(rows)} | {p:.3f} | {rc:.3f} | {f1:.3f} | "
                  f"{len(unrelated)} | {seeds} |", flush=True)
            if order == "file order":
                shown_unrelated[label] = unrelated
        changed = sum(a != b for a, b in zip(results[0], results[1]))
        split = sum(a != b for a, b in zip(results[0], results[2]))
        print(f"\norder dependence at threshold {label}: {changed} of {len(rows)} pair decisions differ "
              f"between file order and shuffled; {split} between one run and two runs\n", flush=True)
        print(f"stories joining unrelated pairs at threshold {label} (file order; each article's first words, "
              f"' + ' joins a labelled pair, '  //  ' separates unrelated ones):\n")
        show_unrelated(shown_unrelated[label], first_words, {name_of[t]: t for t in texts})
    for k in args.runs:  # scheduled ingests: the same articles arriving over many runs
        for seed in (1, 2):
            files = all_files[:]
            random.Random(seed).shuffle(files)
            folder = work / f"runs-{k}-{seed}"
            folder.mkdir()
            for i in range(k):
                ingest(files[i::k], folder / "w.duckdb", args.threshold)
            story = stories_by_source(folder / "w.duckdb")
            p, rc, f1 = score(rows, [together(story, name_of[r["a"]], name_of[r["b"]]) for r in rows])
            print(f"one warehouse, shuffle {seed} dealt into {k} runs: P {p:.3f} R {rc:.3f} F1 {f1:.3f}, "
                  f"{len(unrelated_stories(rows, name_of, story))} stories joining unrelated pairs", flush=True)
    print(f"({time.perf_counter() - t0:.0f} s; work folder {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
