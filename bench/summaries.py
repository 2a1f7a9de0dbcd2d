"""Benchmark the extractive summarizers on the BBC dev set (issue 6).

    .venv/bin/python bench/summaries.py [path/to/summaries_dev.jsonl] [--limit N]

Default data: ../shared/eval/summaries_dev.jsonl relative to the repo root. Rows whose
`duplicate_of` is set are skipped; the first line of `text` is the title, dropped from the
body and passed as `title`. k = number of reference sentences (`summary_sentences`), the
reference is those sentences joined with spaces. Prints ROUGE-1/2/L F1 (rouge_score, stemmer
on) and the median milliseconds per document for each method, in one table: wall clock
(`ms/doc`, what the issue's budget is about) and process CPU time (`cpu ms`, which is what to
compare when the shared machine is busy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "eval" / "summaries_dev.jsonl"

# (label, algorithm passed to tasks.summarize.algorithms.summarize)
METHODS: tuple[tuple[str, str], ...] = (
    ("lead-k", "lead"),
    ("sumy LexRank", "lexrank"),
    ("sumy TextRank", "textrank"),
    ("sumy LSA", "lsa"),
    ("sumy Luhn", "luhn"),
    ("sumy KL", "kl"),
    ("sumy SumBasic", "sumbasic"),
    ("newsflow (default)", "newsflow"),
)


def load_rows(path: Path | str = DEFAULT_DATA) -> list[dict]:
    """Dev rows as dicts with title, body, k, reference (duplicates skipped)."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("duplicate_of"):
                continue
            title, _, body = r["text"].partition("\n")
            refs = r["summary_sentences"]
            rows.append(
                {
                    "id": r["id"],
                    "category": r.get("category"),
                    "title": title.strip(),
                    "body": body.strip(),
                    "k": len(refs),
                    "reference": " ".join(refs),
                    "summary": r.get("summary", ""),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--limit", type=int, default=None, help="only the first N rows (quick runs)")
    ap.add_argument("--methods", default=None, help="comma-separated algorithm names to run")
    args = ap.parse_args(argv)

    from rouge_score import rouge_scorer

    from tasks.summarize.algorithms import summarize
    from tasks.summarize.length import SENTENCES_RANGE  # one dev row has 57 reference sentences; the cap is 50

    rows = load_rows(args.data)[: args.limit]
    methods = METHODS
    if args.methods:
        wanted = set(args.methods.split(","))
        methods = tuple(m for m in METHODS if m[1] in wanted)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)

    # warm caches (regex compilation, stemmer, weights) outside the timings
    summarize(rows[0]["body"], title=rows[0]["title"], algorithm="newsflow", sentences=min(rows[0]["k"], SENTENCES_RANGE[1]))

    print(f"data: {args.data}  documents: {len(rows)}  (k = number of reference sentences)")
    header = f"{'method':<24} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'ms/doc':>8} {'cpu ms':>8}"
    print(header)
    print("-" * len(header))
    for label, algo in methods:
        r1, r2, rl, ms, cpu = [], [], [], [], []
        for row in rows:
            t0, c0 = time.perf_counter(), time.process_time()
            summary = summarize(row["body"], title=row["title"], algorithm=algo, sentences=min(row["k"], SENTENCES_RANGE[1]))
            ms.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.process_time() - c0) * 1000.0)
            sc = scorer.score(row["reference"], summary.text)
            r1.append(sc["rouge1"].fmeasure)
            r2.append(sc["rouge2"].fmeasure)
            rl.append(sc["rougeL"].fmeasure)
        print(
            f"{label:<24} {statistics.fmean(r1):8.4f} {statistics.fmean(r2):8.4f} "
            f"{statistics.fmean(rl):8.4f} {statistics.median(ms):8.1f} {statistics.median(cpu):8.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
