"""Scale-out throughput: ingest writers on one DuckLake with a PostgreSQL catalog, and Dask workers.

    .venv/bin/python bench/scale_out.py [--n 400] [--writers 1,2,4] [--dask-workers 1,2]

Writers: N generated article files split into k disjoint parts, k `newsflow ingest` processes
started at once on one Postgres-catalog lake (a PostgreSQL server started in a temporary folder);
docs/s = documents stored / wall time from the first start to the last exit (process start-up
included, as an operator sees it). Dask: one `newsflow ingest --task-runner dask` against a
`dask scheduler` with k `dask worker` processes, into a DuckDB file.

All processes share one Prefect test server. On a 2-core machine more than 2 processes cannot
run faster; the table says how the machine was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newsflow-bench-prefect-"))


def _env(api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(PYTHONPATH=str(REPO), PREFECT_API_URL=api_url, PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


def _wait_all(procs: list[subprocess.Popen], logs: list[Path]) -> None:
    for proc, log in zip(procs, logs):
        if proc.wait(timeout=3600) != 0:
            raise SystemExit(f"ingest failed (rc={proc.returncode}):\n{log.read_text()[-3000:]}")


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file())


def bench_writers(k: int, corpus: Path, tmp: Path, pg, api_url: str) -> tuple[int, float]:
    from warehouse.lake import LakeConfig
    from warehouse.store import Warehouse

    catalog = "postgres:" + pg.create_database(f"bench_{uuid.uuid4().hex[:10]}")
    lake = tmp / f"lake{k}"
    cfg = LakeConfig(catalog, lake / "data", lake / "search.duckdb")
    store = Warehouse(cfg.attach_target(), lake=cfg)
    store.migrate()  # schema creation is not what is measured
    parts = [tmp / f"w{k}-part{i}" for i in range(k)]
    for i, path in enumerate(_files(corpus)):
        target = parts[i % k] / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    env = _env(api_url, NEWSFLOW_STORAGE="ducklake", NEWSFLOW_LAKE__CATALOG=catalog,
               NEWSFLOW_LAKE__DATA_PATH=str(lake / "data"), NEWSFLOW_LAKE__SEARCH_INDEX=str(lake / "search.duckdb"),
               NEWSFLOW_WORKERS="1")
    logs = [tmp / f"w{k}-{i}.log" for i in range(k)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "newsflow.cli", "ingest", str(part), "--batch-size", "50"],
                              cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
             for part, log in zip(parts, logs)]
    _wait_all(procs, logs)
    elapsed = time.perf_counter() - started
    return store.counts()["documents"], elapsed


def bench_dask(k: int, corpus: Path, tmp: Path, api_url: str) -> tuple[int, float, dict[str, int]]:
    import dask_cluster

    from warehouse.store import Warehouse

    cluster = dask_cluster.start(k)
    try:
        warehouse = tmp / f"dask{k}.duckdb"
        log = tmp / f"dask{k}.log"
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "ingest", str(corpus), "--warehouse",
                                 str(warehouse), "--batch-size", "50", "--task-runner", "dask", "--dask-address",
                                 cluster.address], cwd=REPO, env=_env(api_url), stdout=open(log, "w"),
                                stderr=subprocess.STDOUT)
        _wait_all([proc], [log])
        elapsed = time.perf_counter() - started
        per_worker = {name: len(keys) for name, keys in sorted(cluster.worker_tasks().items())}
    finally:
        cluster.stop()
    return Warehouse(warehouse).counts()["documents"], elapsed, per_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="article files")
    parser.add_argument("--writers", default="1,2,4")
    parser.add_argument("--dask-workers", default="1,2")
    args = parser.parse_args()

    import pg_server
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from test_reliability_crash import make_corpus

    tmp = Path(tempfile.mkdtemp(prefix="newsflow-scale-out-"))
    corpus = tmp / "corpus"
    make_corpus(corpus, n=args.n, seed=17)
    print(f"{len(_files(corpus))} files; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    with prefect_test_harness(server_startup_timeout=120):
        api_url = PREFECT_API_URL.value()
        if pg_server.missing_binaries():
            print("no PostgreSQL server binaries on PATH: writer scaling skipped")
        else:
            pg = pg_server.start()
            try:
                print("\n| writers (processes) | documents | seconds | docs/s |\n|---:|---:|---:|---:|")
                for k in (int(x) for x in args.writers.split(",")):
                    docs, seconds = bench_writers(k, corpus, tmp, pg, api_url)
                    print(f"| {k} | {docs} | {seconds:.1f} | {docs / seconds:.1f} |", flush=True)
            finally:
                pg.stop()
        print("\n| dask workers | documents | seconds | docs/s | tasks per worker |\n|---:|---:|---:|---:|---|")
        for k in (int(x) for x in args.dask_workers.split(",")):
            docs, seconds, per_worker = bench_dask(k, corpus, tmp, api_url)
            spread = ", ".join(f"{n}: {c}" for n, c in per_worker.items())
            print(f"| {k} | {docs} | {seconds:.1f} | {docs / seconds:.1f} | {spread} |", flush=True)


if __name__ == "__main__":
    main()
