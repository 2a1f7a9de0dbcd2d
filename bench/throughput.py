"""Throughput benchmark: the real ingest flow end to end on a synthetic corpus of N documents.

    .venv/bin/python bench/throughput.py                   # N = 1000 and 10000
    .venv/bin/python bench/throughput.py --n 100000        # the memory/linearity point (slow)
    .venv/bin/python bench/throughput.py --task-runner dask

The corpus replicates and perturbs the articles of ../shared/eval/summaries_dev.jsonl (sentence
shuffles, random word substitutions, new titles) so most documents are distinct, plus ~4 % exact
copies and ~4 % near-copies (two words changed) of earlier documents. Files go to a temporary
folder, never into the repository.

For each N it runs (1) the `ingest` flow through Prefect (ephemeral server, fresh warehouse) and
(2) the same stage functions (read_paths + drop_stored/assign_versions, clean, deduplicate, summarize,
Warehouse.write_batch, search-index refresh) in one plain Python loop into another fresh
warehouse, with the same worker count. The difference is what orchestration costs. Peak RSS is
sampled over the whole process tree (pool and Dask workers included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "eval" / "summaries_dev.jsonl"
STAGES = ("read", "clean", "deduplicate", "stories", "summarize", "store", "search-index")  # tasks.pipeline timing keys

# Before prefect is imported: no telemetry, and a Prefect home of our own that survives between
# runs (the first start of the ephemeral server migrates SQLite, which is slow on a busy machine).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_HOME", str(Path(tempfile.gettempdir()) / "newsflow-bench-prefect"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
sys.path.insert(0, str(REPO))


# -- corpus -------------------------------------------------------------------------
def load_articles(source: Path) -> list[tuple[str, str]]:
    articles = []
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            text = record["text"]
            title = record.get("title") or text.split("\n", 1)[0]
            body = text.split("\n", 1)[1].strip() if text.startswith(title) else text
            articles.append((title, body))
    return articles


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def perturb(body: str, rng: random.Random, vocabulary: list[str], p_sub: float = 0.15) -> str:
    """Shuffle sentences within paragraphs and swap ~15 % of words: word 5-gram Jaccard with the
    source article drops to ~0.3, well under the 0.8 near-duplicate threshold."""
    paragraphs = []
    for paragraph in body.split("\n\n"):
        sentences = _SENTENCE.split(paragraph.strip())
        if len(sentences) > 1 and rng.random() < 0.6:
            rng.shuffle(sentences)
        words = " ".join(sentences).split(" ")
        words = [rng.choice(vocabulary) if rng.random() < p_sub else w for w in words]
        paragraphs.append(" ".join(words))
    return "\n\n".join(p for p in paragraphs if p)


def near_copy(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    words = text.split(" ")
    for _ in range(2):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return " ".join(words)


def build_corpus(articles: list[tuple[str, str]], n: int, out: Path, seed: int = 9) -> dict[str, int]:
    """Write n article files under out/ (1000 per folder); keeps only a bounded window of texts."""
    rng = random.Random(seed)
    vocabulary = sorted({w for _, body in articles for w in body.split() if w.isalpha() and len(w) > 3})
    recent: list[str] = []  # earlier texts to copy from; bounded so memory does not grow with n
    kinds = {"distinct": 0, "exact": 0, "near": 0}
    for i in range(n):
        folder = out / f"{i // 1000:04d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        roll = rng.random()
        if recent and roll < 0.04:
            text, kind = rng.choice(recent), "exact"
        elif recent and roll < 0.08:
            text, kind = near_copy(rng.choice(recent), rng, vocabulary), "near"
        else:
            title, body = articles[rng.randrange(len(articles))]
            text = f"{title}: {rng.choice(vocabulary).lower()} {i}\n\n{perturb(body, rng, vocabulary)}\n"
            kind = "distinct"
        kinds[kind] += 1
        (folder / f"doc_{i:06d}.txt").write_text(text, encoding="utf-8")
        if kind == "distinct":
            if len(recent) < 500:
                recent.append(text)
            else:
                recent[rng.randrange(500)] = text
    return kinds


# -- memory -------------------------------------------------------------------------
class PeakRSS:
    """Peak resident memory of this process plus all its descendants, sampled every 0.2 s, and a
    timeline of this process's own RSS (to see whether memory is flat over a run)."""

    def __init__(self, interval_s: float = 0.2):
        self.interval_s = interval_s
        self.peak = 0
        self.peak_self = 0
        self.at_peak = ""  # what each process held when the tree peaked
        self.timeline: list[tuple[float, int]] = []  # (seconds since start, this process's RSS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def _sample(self) -> tuple[int, int, list[tuple[str, int]]]:
        try:
            import psutil
        except ImportError:  # without psutil: this process's own high-water mark only
            own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return own, own, []
        me = psutil.Process()
        own = total = me.memory_info().rss
        parts = [("this process", own)]
        for proc in me.children(recursive=True):
            try:
                rss = proc.memory_info().rss
                total += rss
                parts.append((_process_kind(proc), rss))
            except psutil.Error:
                pass
        return own, total, parts

    def _record(self) -> None:
        own, total, parts = self._sample()
        if total > self.peak:
            self.peak = total
            self.at_peak = ", ".join(f"{name} {_mib(rss)}" for name, rss in parts)
        self.peak_self = max(self.peak_self, own)
        self.timeline.append((time.perf_counter() - self._t0, own))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._record()
            self._stop.wait(self.interval_s)

    def over_time(self) -> str:
        """This process's RSS at 10 %, 50 % and 90 % of the run, and its peak."""
        if not self.timeline:
            return "-"
        end = self.timeline[-1][0]
        at = [next(rss for t, rss in self.timeline if t >= f * end) for f in (0.1, 0.5, 0.9)]
        return f"{' / '.join(_mib(r) for r in at)} MiB at 10/50/90 % of the run, peak {_mib(self.peak_self)} MiB"

    def __enter__(self) -> PeakRSS:
        self._t0 = time.perf_counter()
        self._record()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._record()


def _process_kind(proc) -> str:
    cmdline = " ".join(proc.cmdline())
    if "prefect" in cmdline and ("uvicorn" in cmdline or "server" in cmdline):
        return "Prefect server"
    if "multiprocessing" in cmdline or "spawn_main" in cmdline:
        return "pool worker"
    return proc.name()


def cpu_calibration() -> float:
    """Milliseconds for a fixed pure-Python loop. This machine's speed drifts (a shared host): runs
    are comparable when this number is, and a table is read next to it."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return 1000 * best


# -- the two ways of running the same work --------------------------------------------
def _task_runner(kind: str | None):
    from flows.runners import make_task_runner

    return None if kind is None else make_task_runner(kind)


def run_flow(corpus: Path, warehouse: Path, batch_size: int, runner_kind: str | None) -> tuple[float, dict]:
    from flows.ingest import ingest

    runner = _task_runner(runner_kind)
    flow = ingest.with_options(task_runner=runner) if runner is not None else ingest
    start = time.perf_counter()
    report = flow(paths=[str(corpus)], warehouse=str(warehouse), batch_size=batch_size)
    return time.perf_counter() - start, report


def _workers() -> int:
    from flows.settings import get_settings
    from tasks.parallel import default_workers

    return get_settings().workers or default_workers()


def run_plain(corpus: Path, warehouse: Path, batch_size: int) -> tuple[float, dict]:
    """The flow's own choreography (tasks.pipeline.Pipeline) with plain stage calls
    (InlineStages): the same batches, order and overlap, no flow, no task runs, no API calls."""
    import uuid

    from flows.parameters import run_config
    from flows.settings import get_settings
    from tasks.parallel import shutdown_pool
    from tasks.pipeline import InlineStages, Pipeline
    from tasks.sources.files import discover_paths
    from warehouse.store import Warehouse

    settings = get_settings()
    config = run_config(settings, batch_size=batch_size)
    start = time.perf_counter()
    store = Warehouse(warehouse, memory_limit=settings.duckdb_memory_limit)
    store.migrate()
    run_id = str(uuid.uuid4())
    pipeline = Pipeline(store, config, InlineStages(), run_id)
    store.start_run(run_id, None, {"bench": "plain loop"})
    files, missing = discover_paths([str(corpus)])
    for _result in pipeline.run_batches(pipeline.read_files(files, missing)):
        pass
    shutdown_pool()  # as the flow does before the index build
    pipeline.refresh_search_index()
    totals = pipeline.totals
    store.finish_run(run_id, status="completed", counts=totals.counts, timings=totals.timings)
    return time.perf_counter() - start, {**totals.counts, "timings": totals.timings}


# -- report ---------------------------------------------------------------------------
def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def row(n: int, mode: str, wall: float, report: dict, rss: int, overhead: str) -> str:
    cells = [f"{n:,}", mode, f"{wall:,.1f}", f"{n / wall:,.0f}"]
    for stage in STAGES:
        seconds = report["timings"].get(stage, 0.0)
        cells.append(f"{n / seconds:,.0f} ({100 * seconds / wall:.0f}%)" if seconds else "-")
    cells += [_mib(rss), f"{report['duplicates']}/{report['summaries']}", overhead]
    return "| " + " | ".join(cells) + " |"


HEADER = ("| N | mode | wall s | docs/s | " + " | ".join(f"{stage} docs/s (share)" for stage in STAGES)
          + " | peak RSS MiB | dups/summaries | Prefect overhead |\n|" + "---|" * (7 + len(STAGES)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10_000], help="corpus sizes (default 1000 10000)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="JSONL articles to replicate")
    parser.add_argument("--batch-size", type=int, default=1000, help="the flow's default")
    parser.add_argument("--task-runner", choices=["thread", "process", "dask"], default=None,
                        help="passed to the flow's make_task_runner() (default: the flow's own default)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-loop comparison")
    parser.add_argument("--workdir", type=Path, default=None, help="where corpus and warehouses go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"no articles at {args.source} (expected ../shared/eval next to the repository)", file=sys.stderr)
        return 2

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    articles = load_articles(args.source)
    print(f"{len(articles)} source articles; work folder {workdir}; workers {_workers()}; "
          f"task runner {args.task_runner or 'flow default'}; batch size {args.batch_size}", flush=True)
    try:
        # one-off costs kept out of the per-N numbers: ephemeral server start, imports, worker pool
        warm = workdir / "warmup"
        build_corpus(articles, 20, warm / "corpus")
        t0 = time.perf_counter()
        run_flow(warm / "corpus", warm / "flow.duckdb", args.batch_size, args.task_runner)
        print(f"warm-up (Prefect server start, imports, worker pool): {time.perf_counter() - t0:.1f}s", flush=True)
        if not args.no_plain:
            run_plain(warm / "corpus", warm / "plain.duckdb", args.batch_size)

        lines, per_doc = [], {}
        for n in args.n:
            corpus = workdir / f"corpus-{n}"
            t0 = time.perf_counter()
            kinds = build_corpus(articles, n, corpus)
            print(f"N={n:,}: corpus {kinds} in {time.perf_counter() - t0:.0f}s", flush=True)
            calibration = cpu_calibration()
            with PeakRSS() as flow_rss:
                flow_wall, report = run_flow(corpus, workdir / f"flow-{n}.duckdb", args.batch_size, args.task_runner)
            print(f"  flow  {flow_wall:.1f}s {json.dumps(report['timings'])}", flush=True)
            print(f"  flow process RSS {flow_rss.over_time()}; CPU calibration {calibration:.0f} ms before, "
                  f"{cpu_calibration():.0f} ms after", flush=True)
            print(f"  at the tree's peak ({_mib(flow_rss.peak)} MiB): {flow_rss.at_peak}", flush=True)
            overhead = "-"
            if not args.no_plain:
                with PeakRSS() as plain_rss:
                    plain_wall, plain = run_plain(corpus, workdir / f"plain-{n}.duckdb", args.batch_size)
                print(f"  plain {plain_wall:.1f}s {json.dumps({k: round(v, 3) for k, v in plain['timings'].items()})}",
                      flush=True)
                print(f"  plain process RSS {plain_rss.over_time()}; CPU calibration {cpu_calibration():.0f} ms after",
                      flush=True)
                overhead = f"{100 * (flow_wall / plain_wall - 1):+.0f}%"
            lines.append(row(n, "flow", flow_wall, report, flow_rss.peak, overhead))
            if not args.no_plain:
                lines.append(row(n, "plain loop", plain_wall, plain, plain_rss.peak, ""))
            per_doc[n] = flow_wall / n
            shutil.rmtree(corpus, ignore_errors=True)

        print("\n" + HEADER)
        print("\n".join(lines))
        if len(per_doc) > 1:
            small, large = min(per_doc), max(per_doc)
            print(f"\nflow time per document: {1000 * per_doc[small]:.2f} ms at N={small:,}, "
                  f"{1000 * per_doc[large]:.2f} ms at N={large:,} (x{per_doc[large] / per_doc[small]:.2f}; 1.0 = linear)")
        self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"ru_maxrss: this process {self_kb / 1024:,.0f} MiB, largest child {children_kb / 1024:,.0f} MiB")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
