"""The work-pool profile end to end: a real `prefect server start` on a loopback port (its own
PREFECT_HOME), a process work pool, `prefect deploy` of prefect.yaml, a `prefect worker`, and a
run triggered through the API with parameters whose report artifact is read back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.pg_server import free_port

REPO = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).with_name("prefect")
POOL = "newsflow-process"  # prefect.yaml's work pool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_API_URL=url, PYTHONPATH=str(REPO),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_UI_ENABLED="false",
               # no scheduled runs of the 15-minute schedule: the test triggers the one run it checks
               PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        yield url, env
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group this test started, SIGKILL it if it lingers: how fast a worker or
    server shuts down is not what these tests check (a busy machine took a worker past 30 s once)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def prefect(env: dict, *args: str, cwd: Path = REPO) -> str:
    done = subprocess.run([str(PREFECT), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def test_deploy_to_a_process_pool_run_through_the_api_and_read_the_report(server, tmp_path, seeds_dir):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url, env = server
    prefect(env, "work-pool", "create", POOL, "--type", "process")
    prefect(env, "--no-prompt", "deploy", "--all")
    warehouse = tmp_path / "pool.duckdb"
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest/newsflow-ingest-pool")
        assert deployment.work_pool_name == POOL and deployment.parameters == {"paths": ["inbox"]}
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"paths": [str(seeds_dir)], "warehouse": str(warehouse),
                                       "algorithm": "lead", "summary_sentences": 2})
        # and a scheduled run's parameters in a fresh checkout, which has no inbox/ (every such run failed
        # read/not_found until someone made the folder)
        home = tmp_path / "checkout"
        shutil.copytree(REPO, home, ignore=shutil.ignore_patterns(".git", ".venv", "inbox", "*.duckdb*", "__pycache__"))
        scheduled = client.create_flow_run_from_deployment(deployment.id)

        worker_log = open(tmp_path / "worker.log", "w")
        worker = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", POOL, "--limit", "1"],
                                  env={**env, "NEWSFLOW_HOME": str(home)}, cwd=tmp_path, stdout=worker_log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while not all((state := client.read_flow_run(r.id).state).is_final() for r in (scheduled, run)):
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, f"flow run still {state.name}"
                time.sleep(1)
        finally:
            _stop(worker)
        for state in (client.read_flow_run(r.id).state for r in (scheduled, run)):
            assert state.is_completed(), f"{state.name}: {state.message}\n{(tmp_path / 'worker.log').read_text()[-3000:]}"
        assert (home / "inbox").is_dir()
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    by_key = {a.key: a for a in artifacts}
    report = by_key["ingest-report"].data
    assert f"Warehouse: `{warehouse}`" in report and "| new articles | 2 |" in report, report
    assert "ingest-new-articles" in by_key
    # the worker's flow-run process wrote the warehouse named by the API call's parameters
    from warehouse.store import Warehouse

    _, rows = Warehouse(warehouse).query("SELECT count(*), count(summary) FROM articles")
    assert rows == [(2, 2)]
