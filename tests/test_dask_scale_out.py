"""`newsflow ingest --task-runner dask --dask-address …` against a Dask scheduler and two workers
started as separate processes (`dask scheduler`, `dask worker`, as on other machines), loopback only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import dask_cluster
from test_reliability_crash import make_corpus, report_of
from test_reliability_load import expected_outcome
from warehouse.store import Warehouse

REPO = Path(__file__).resolve().parent.parent
CPU_STAGES = ("clean", "summarize")  # the stage tasks' names, as Dask keys them

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def cluster(tmp_path):
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs = dask_cluster.start(2, logs=logs)
    try:
        yield procs
    finally:
        procs.stop()


def ingest_cmd(corpus: Path, warehouse: Path, address: str, batch_size: int) -> list[str]:
    return [sys.executable, "-m", "newsflow.cli", "ingest", str(corpus), "--warehouse", str(warehouse), "--json",
            "--batch-size", str(batch_size), "--task-runner", "dask", "--dask-address", address]


def child_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(PYTHONPATH=str(REPO), PREFECT_API_URL=api_url, PREFECT_LOGGING_LEVEL="WARNING")
    return env


def stored(warehouse: Path) -> dict:
    store = Warehouse(warehouse)
    _, docs = store.query("SELECT doc_id, text_sha256, is_canonical FROM documents")
    _, summaries = store.query("SELECT count(*), count(DISTINCT doc_id) FROM summaries")
    canonical = [d[1] for d in docs if d[2]]
    assert summaries[0][0] == summaries[0][1], "a summary stored twice"
    return {"ids": [d[0] for d in docs], "canonical": canonical, "summaries": summaries[0][0]}


def stage_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def test_cpu_stages_run_on_the_separate_dask_workers(cluster, tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    corpus = tmp_path / "corpus"
    make_corpus(corpus, n=60, seed=3)
    want = expected_outcome(corpus)
    warehouse = tmp_path / "w.duckdb"
    run = subprocess.run(ingest_cmd(corpus, warehouse, cluster.address, 10), cwd=REPO, capture_output=True,
                         text=True, env=child_env(tmp_path, PREFECT_API_URL.value()), timeout=400)
    report = report_of(run)

    got = stored(warehouse)
    assert sorted(got["ids"]) == sorted(want["documents"]) and report["documents_new"] == len(want["documents"])
    assert len(got["canonical"]) == len(set(got["canonical"])) and got["summaries"] == len(got["canonical"])
    # the workers' own logs of what they computed: every batch's clean and summarize ran there
    computed = cluster.worker_tasks()
    stages = [stage_of(k) for keys in computed.values() for k in keys]
    batches = -(-sum(1 for p in corpus.rglob("*") if p.is_file()) // 10)
    assert {stage: stages.count(stage) for stage in CPU_STAGES} == dict.fromkeys(CPU_STAGES, batches), computed
    assert set(computed) == {"w0", "w1"} and all(computed.values()), "both worker processes did work"


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    corpus = tmp_path / "corpus"
    make_corpus(corpus, n=60, seed=9)
    want = expected_outcome(corpus)
    warehouse = tmp_path / "w.duckdb"
    env = child_env(tmp_path, PREFECT_API_URL.value())
    log = open(tmp_path / "run1.out", "w+")
    proc = subprocess.Popen(ingest_cmd(corpus, warehouse, cluster.address, 10), cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    victim = None
    while victim is None:  # wait until the run is under way on both workers, then kill one
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before a worker was killed"
        computed = cluster.worker_tasks()
        if sum(len(keys) for keys in computed.values()) >= 3:
            victim = max(computed, key=lambda name: len(computed[name]))
        time.sleep(0.3)
    cluster.kill_worker(victim)
    proc.wait(timeout=400)
    log.seek(0)
    first = subprocess.CompletedProcess(proc.args, proc.returncode, log.read(), "")
    survivors = cluster.worker_tasks()
    assert victim not in survivors and survivors  # the killed worker is gone, the other carried on
    after_first = len(set(stored(warehouse)["ids"]))
    print(f"killed {victim}; first run rc={first.returncode}, stored {after_first} of {len(want['documents'])}")

    # The run either finished on the surviving worker, or failed with whole batches stored;
    # the next run completes the rest. Either way: every document once, every text canonical once.
    second = subprocess.run(ingest_cmd(corpus, warehouse, cluster.address, 10), cwd=REPO, capture_output=True,
                            text=True, env=env, timeout=400)
    again = report_of(second)
    got = stored(warehouse)
    assert len(got["ids"]) == len(set(got["ids"])), "a document was stored twice"
    assert sorted(got["ids"]) == sorted(want["documents"]), first.stdout[-3000:]
    assert len(got["canonical"]) == len(set(got["canonical"])) and got["summaries"] == len(got["canonical"])
    assert again["documents_new"] == len(want["documents"]) - after_first  # the rest, nothing twice
    if first.returncode == 0:
        assert report_of(first)["documents_new"] == after_first == len(want["documents"])
