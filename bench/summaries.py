"""Benchmark the extractive summarizers on the BBC dev set, as stored (issue 6).

    .venv/bin/python bench/summaries.py [path/to/summaries_dev.jsonl] [--limit N] [--methods a,b]

Default data: ../shared/eval/summaries_dev.jsonl relative to the repo root. Rows whose
`duplicate_of` is set are skipped. Each article is written as a text file (its first line is
the title, as in the data) and ingested through the flow's own choreography
(`tasks.pipeline.Pipeline` with `InlineStages`) into a fresh warehouse per method: the cleaner
takes the title line off, the deduplicator and the story step run, and the summary is read back
from the `summaries` table. k = number of reference sentences (at most 50, the length range's
cap): one run per k, since a run has one summary length, as a flow run does. The reference is
those sentences joined with spaces. Prints ROUGE-1/2/L F1 (rouge_score, stemmer on) of what is
stored, how many articles got a summary (a near-duplicate of another dev article gets none), and
the median milliseconds the summarizer takes per stored text: wall clock (`ms/doc`) and process
CPU time (`cpu ms`, which is what to compare when the shared machine is busy).
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


def ingest(rows: list[dict], algorithm: str, workdir: Path) -> dict[str, tuple[str, str, str | None]]:
    """Each row through the pipeline into `workdir/<algorithm>.duckdb`; row id -> (summary, stored
    text, title) as the warehouse holds them."""
    import uuid

    from flows.parameters import run_config
    from flows.settings import get_settings
    from tasks.pipeline import InlineStages, Pipeline
    from tasks.sources.files import discover_paths
    from tasks.summarize.length import SENTENCES_RANGE
    from warehouse.store import Warehouse

    store = Warehouse(workdir / f"{algorithm}.duckdb")
    store.migrate()
    settings = get_settings()
    by_k: dict[int, list[dict]] = {}
    for row in rows:
        by_k.setdefault(min(row["k"], SENTENCES_RANGE[1]), []).append(row)
    for k, group in sorted(by_k.items()):
        folder = workdir / algorithm / f"k{k}"
        folder.mkdir(parents=True)
        for row in group:
            (folder / f"{row['id']}.txt").write_text(f"{row['title']}\n\n{row['body']}\n", encoding="utf-8")
        run_id = str(uuid.uuid4())
        store.start_run(run_id, None, {"bench": "summaries", "algorithm": algorithm, "k": k})
        pipeline = Pipeline(store, run_config(settings, algorithm=algorithm, summary_sentences=k), InlineStages(),
                            run_id)
        files, missing = discover_paths([str(folder)])
        for _ in pipeline.run_batches(pipeline.read_files(files, missing)):
            pass
        store.finish_run(run_id, status="completed", counts=pipeline.totals.counts, timings=pipeline.totals.timings)
    _, stored = store.query("SELECT d.source, s.summary, d.text, d.title FROM summaries s JOIN documents d USING (doc_id)")
    return {Path(source).stem: (summary, text, title) for source, summary, text, title in stored}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--limit", type=int, default=None, help="only the first N rows (quick runs)")
    ap.add_argument("--methods", default=None, help="comma-separated algorithm names to run")
    args = ap.parse_args(argv)

    import tempfile

    from rouge_score import rouge_scorer

    from tasks.parallel import shutdown_pool
    from tasks.summarize.algorithms import summarize
    from tasks.summarize.length import SENTENCES_RANGE

    rows = load_rows(args.data)[: args.limit]
    methods = METHODS
    if args.methods:
        wanted = set(args.methods.split(","))
        methods = tuple(m for m in METHODS if m[1] in wanted)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)

    print(f"data: {args.data}  documents: {len(rows)}  (k = number of reference sentences; scored as stored)")
    header = f"{'method':<24} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'stored':>8} {'ms/doc':>8} {'cpu ms':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="newsflow-summaries-") as tmp:
        for label, algo in methods:
            stored = ingest(rows, algo, Path(tmp))
            r1, r2, rl, ms, cpu = [], [], [], [], []
            for row in rows:
                if row["id"] not in stored:
                    continue
                summary, text, title = stored[row["id"]]
                sc = scorer.score(row["reference"], summary)
                r1.append(sc["rouge1"].fmeasure)
                r2.append(sc["rouge2"].fmeasure)
                rl.append(sc["rougeL"].fmeasure)
                # the summarizer's own time on the text the warehouse holds
                t0, c0 = time.perf_counter(), time.process_time()
                summarize(text, title=title, algorithm=algo, sentences=min(row["k"], SENTENCES_RANGE[1]))
                ms.append((time.perf_counter() - t0) * 1000.0)
                cpu.append((time.process_time() - c0) * 1000.0)
            print(
                f"{label:<24} {statistics.fmean(r1):8.4f} {statistics.fmean(r2):8.4f} {statistics.fmean(rl):8.4f} "
                f"{len(r1):>8} {statistics.median(ms):8.1f} {statistics.median(cpu):8.1f}",
                flush=True,
            )
        shutdown_pool()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
