"""Deployments for real: a Prefect server process on 127.0.0.1, `newsflow serve` as a subprocess,
runs triggered through the API the way the UI triggers them, on real DuckDB files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from warehouse.store import Warehouse
from warehouse.writer_lock import writer_lock

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEPLOYMENT = "newsflow-ingest-test"
FEED = "https://feeds.example.org/world.rss"

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited {proc.returncode}\n{log.read_text()[-4000:] if log else ''}")
        try:
            result = predicate()
            if result:
                return result
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout}s\n{log.read_text()[-4000:] if log else ''}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this test started for it
            proc.wait(timeout=10)


def _client_env(api_url: str, home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update(PREFECT_API_URL=api_url, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", **extra)
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real `prefect server start` on a free loopback port with its own PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    log = home / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_UI_ENABLED="false",
               # a queued writer retries after up to this long (default 30 s): keep the queue short here
               PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS="2")
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        _wait(lambda: urllib.request.urlopen(f"{api_url}/health", timeout=2).status == 200, 120,
              "prefect server", proc, log)
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield api_url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def served(prefect_server, tmp_path_factory):
    """`newsflow serve` in a subprocess, as `make serve` runs it, against the fixture server."""
    root = tmp_path_factory.mktemp("served")
    log = root / "serve.log"
    env = _client_env(
        prefect_server, root / "prefect-home",
        NEWSFLOW_INBOX=str(root / "inbox"), NEWSFLOW_WAREHOUSE=str(root / "scheduled.duckdb"),
        NEWSFLOW_DEPLOYMENT_NAME=DEPLOYMENT, NEWSFLOW_FEEDS=json.dumps([FEED]),
        NEWSFLOW_SUMARY_SENTENCES="2",  # a misspelt setting: serve warns, as every command does
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "newsflow"), "serve"], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from prefect import get_client

        def deployment():
            with get_client(sync_client=True) as client:
                return client.read_deployment_by_name(f"ingest/{DEPLOYMENT}")

        _wait(deployment, 120, "served deployment", proc, log)
        yield {"root": root, "log": log, "proc": proc, "env": env}
    finally:
        _stop(proc)


def _run(parameters: dict, *, wait: bool = True):
    from prefect.deployments import run_deployment

    # Ad-hoc parameters are merged over the deployment's defaults (as the UI form pre-fills
    # them): clear the configured feed so these runs read only their own files.
    return run_deployment(f"ingest/{DEPLOYMENT}", parameters={"feeds": [], **parameters}, timeout=240 if wait else 0,
                          poll_interval=1, as_subflow=False)


def _final(flow_run_id, timeout: float = 240):
    from prefect import get_client

    def done():
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
        return run if run.state and run.state.is_final() else None

    return _wait(done, timeout, f"flow run {flow_run_id}")


def _story(path: Path, title: str, body: str) -> None:
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")


def _artifacts(flow_run_id) -> dict:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in artifacts if a.key}  # not Prefect's keyless record of a failed run's exception


def test_serve_checks_the_settings_as_every_command_does(served):
    assert ("newsflow: warning: NEWSFLOW_SUMARY_SENTENCES is not a newsflow setting and is ignored; "
            "did you mean NEWSFLOW_SUMMARY_SENTENCES?") in served["log"].read_text()


def test_a_second_serve_of_the_same_deployment_refuses_and_leaves_the_first_serving(served):
    """A second `newsflow serve` with the same settings took over the deployment's schedule, and its
    Ctrl-C paused the deployment: the first serve lived on without a word and never ran again."""
    from prefect import get_client

    def polled():
        with get_client(sync_client=True) as client:
            return client.read_deployment_by_name(f"ingest/{DEPLOYMENT}").last_polled

    _wait(polled, 60, "the first serve's poll", served["proc"], served["log"])
    second = subprocess.run([str(BIN / "newsflow"), "serve"], cwd=served["root"], env=served["env"],
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 2, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"newsflow serve: ingest/{DEPLOYMENT} is served by another process" in second.stderr
    with get_client(sync_client=True) as client:
        assert not client.read_deployment_by_name(f"ingest/{DEPLOYMENT}").paused
    assert served["proc"].poll() is None


def test_serve_pauses_its_deployment_on_the_real_server(served):
    """What serve's first Ctrl-C calls (`flows.deploy.pause`), against the fixture's Prefect server."""
    from prefect import get_client

    from flows.deploy import pause

    pause(f"ingest/{DEPLOYMENT}")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"ingest/{DEPLOYMENT}")
        assert deployment.paused
        client.resume_deployment(deployment.id)  # the other tests use the served schedule


def test_served_deployment_has_its_schedule_and_a_typed_form(served):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"ingest/{DEPLOYMENT}")
    assert len(deployment.schedules) == 1
    schedule = deployment.schedules[0]
    assert schedule.active and schedule.schedule.interval == timedelta(minutes=15)
    # scheduled runs read the inbox (created by serve) and the configured feeds
    # ... and nothing else: an empty field is the setting as the run starts (a warehouse path here sent
    # a lake's runs to a DuckDB file; an algorithm here stayed what it was when serve started)
    assert deployment.parameters == {"paths": [str(served["root"] / "inbox")], "feeds": [FEED]}
    assert (served["root"] / "inbox").is_dir()
    assert deployment.entrypoint == "flows.ingest.ingest"
    form = deployment.parameter_openapi_schema["properties"]
    def typed(prop: dict) -> dict:  # an optional parameter is "this type, or empty"
        return next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)

    assert typed(form["algorithm"])["enum"][:3] == ["newsflow", "lead", "lexrank"]
    sentences = typed(form["summary_sentences"])
    assert sentences["type"] == "integer" and sentences["allOf"] == [{"minimum": 1, "maximum": 50}]
    assert all(prop.get("description") for prop in form.values())
    # an operator leaving a field empty reads which setting it falls back to
    backed = ("warehouse", "algorithm", "summary_sentences", "summary_ratio", "summary_words", "near_dup_threshold",
              "batch_size", "language")
    assert [name for name in backed if "empty means NEWSFLOW_" not in form[name]["description"]] == []
    assert deployment.enforce_parameter_schema


def test_api_triggered_run_with_custom_parameters_lands_rows_and_artifacts(served, seeds_dir, tmp_path):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    warehouse = tmp_path / "custom.duckdb"
    (seeds_dir / "broken.jsonl").write_text('{"title": "cut off", "text": "trunc\n', encoding="utf-8")
    run = _run({"paths": [str(seeds_dir)], "warehouse": str(warehouse), "algorithm": "lead",
                "summary_sentences": 2, "batch_size": 1})
    assert run.state.is_completed(), run.state

    store = Warehouse(warehouse)
    _, rows = store.query("SELECT s.algorithm, s.length, count(ss.rank) FROM summaries s "
                          "JOIN summary_sentences ss USING (doc_id, algorithm) GROUP BY s.doc_id, s.algorithm, s.length")
    assert rows == [("lead", "sentences=2", 2)] * 2
    _, runs = store.query("SELECT flow_run_id, status, items_seen, documents_new, failures FROM runs")
    assert runs == [(str(run.id), "completed", 3, 2, 1)]

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {"ingest-report", "ingest-new-articles", "ingest-progress"}
    report = by_key["ingest-report"].data
    assert by_key["ingest-report"].type == "markdown"
    assert "| read | 3 |" in report and "| new articles | 2 |" in report and "| failed | 1 |" in report
    assert "| read | invalid_json | 1 |" in report and "broken.jsonl#L1" in report
    assert "| summarize |" in report  # time per stage
    table = json.loads(by_key["ingest-new-articles"].data)
    assert sorted(row["title"] for row in table) == [
        "Russia, U.S. Reach Agreement Over UN Draft on Chemical Attacks in Syria",
        "US, Russia agree on Syria deal, sources say"]
    assert all(row["summary"] for row in table)
    # three one-file batches: the progress artifact ends at 100 %
    assert by_key["ingest-progress"].type == "progress" and float(by_key["ingest-progress"].data) == 100.0


def test_overlapping_runs_queue_on_one_warehouse_and_count_each_document_once(served, seeds_dir, tmp_path):
    for n, town in enumerate(("Harbourton", "Millbrook")):
        _story(seeds_dir / f"local_{n}.txt", f"{town} opens a new library",
               f"The town of {town} opened a new public library on Saturday, the mayor said. "
               f"About {400 + n} residents attended the opening. The library holds {20_000 + n} books.")
    warehouse = tmp_path / "shared.duckdb"
    params = {"paths": [str(seeds_dir)], "warehouse": str(warehouse), "batch_size": 2}
    first, second = _run(params, wait=False), _run(params, wait=False)
    finals = [_final(first.id), _final(second.id)]
    assert all(r.state.is_completed() for r in finals), [r.state for r in finals]

    store = Warehouse(warehouse)
    _, runs = store.query("SELECT status, documents_new, unchanged, error FROM runs ORDER BY documents_new")
    assert [r[0] for r in runs] == ["completed", "completed"] and all(r[3] is None for r in runs)
    # each document is new for exactly one of the runs, and already stored for the other
    assert sum(r[1] for r in runs) == 4 and sum(r[2] for r in runs) == 4
    _, counts = store.query("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM duplicates), "
                            "(SELECT count(*) FROM summaries), (SELECT count(*) FROM failures)")
    assert counts == [(4, 0, 4, 0)]
    with writer_lock(warehouse, wait_s=1):  # both runs let go of the writer lock
        pass


def test_bad_parameters_fail_fast_with_a_clear_message(served, seeds_dir, tmp_path):
    warehouse = tmp_path / "never.duckdb"
    # out of range or not in the dropdown: the server refuses to create the run at all
    with pytest.raises(Exception, match="summary_sentences"):
        _run({"paths": [str(seeds_dir)], "warehouse": str(warehouse), "summary_sentences": 0})
    with pytest.raises(Exception, match="algorithm"):
        _run({"paths": [str(seeds_dir)], "warehouse": str(warehouse), "algorithm": "gpt"})
    # valid one by one, contradictory together: the flow refuses before touching the warehouse
    run = _run({"paths": [str(seeds_dir)], "warehouse": str(warehouse), "summary_ratio": 0.2, "summary_words": 60})
    assert run.state.is_failed()
    assert ("contradictory summary length: summary_ratio and summary_words are both set; give one of "
            "summary_sentences, summary_ratio or summary_words") in run.state.message
    assert not warehouse.exists()
    # a run that failed still leaves its report, saying why
    artifacts = _artifacts(run.id)
    assert set(artifacts) == {"ingest-report", "ingest-new-articles", "ingest-progress"}
    report = artifacts["ingest-report"].data
    assert "failed" in report.splitlines()[0] and "summary_ratio and summary_words are both set" in report


def test_a_missing_url_file_fails_the_run_before_it_writes_with_a_report(served, seeds_dir, tmp_path):
    warehouse = tmp_path / "never.duckdb"
    missing = tmp_path / "urls.txt"
    run = _run({"paths": [str(seeds_dir)], "url_file": str(missing), "warehouse": str(warehouse)})
    assert run.state.is_failed()
    reason = f"url_file {str(missing)!r} does not exist; give a text file with one article URL per line"
    assert reason in run.state.message
    assert not warehouse.exists()  # the seeds were not ingested first
    report = _artifacts(run.id)["ingest-report"].data
    assert "failed" in report.splitlines()[0] and reason in report and "| new articles | 0 |" in report


def test_prefect_yaml_deploys_to_a_process_work_pool(prefect_server, tmp_path):
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="newsflow-process", type="process"))
    before = (REPO / "prefect.yaml").read_text()
    result = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=REPO,
                            env=_client_env(prefect_server, tmp_path / "prefect-home"),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (REPO / "prefect.yaml").read_text() == before
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest/newsflow-ingest-pool")
    assert deployment.work_pool_name == "newsflow-process"
    assert deployment.schedules[0].schedule.interval == timedelta(minutes=15)
    assert deployment.parameters == {"paths": ["inbox"]}
    assert deployment.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $NEWSFLOW_HOME }}"}},
        {"prefect.deployments.steps.run_shell_script": {"script": "mkdir -p inbox", "stream_output": False}}]
    assert "summary_words" in deployment.parameter_openapi_schema["properties"]


# Serve's part, in a process of its own: the handler waits for every child process of the one it runs
# in, and a test worker's children include the session's Prefect test server, which never ends; the
# wait then always ran out its whole `timeout` (10 s of every suite run) before it stopped.
_FIRST_CTRL_C = """
import json, os, signal, subprocess, sys, time
from flows.deploy import runs_finish_on_ctrl_c

events = []
run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
try:
    try:
        with runs_finish_on_ctrl_c(timeout=10, on_stop=lambda: events.append(("paused", run.poll()))):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # serve's loop
                time.sleep(0.05)
        events.append(("not interrupted", run.poll()))
    except KeyboardInterrupt:
        events.append(("stopped", run.poll()))
finally:
    run.kill()
print(json.dumps(events))
"""


def test_the_first_ctrl_c_on_serve_stops_new_runs_before_it_waits_for_running_ones():
    """Serve's first Ctrl-C waits for its runs to record their end; a scheduled run due meanwhile was
    started, then killed as serve exited (its runs row `running`). Serve pauses its deployment (which
    deletes its scheduled runs) first now: `on_stop` runs while the run is still running."""
    proc = subprocess.run([sys.executable, "-c", _FIRST_CTRL_C], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [tuple(e) for e in json.loads(proc.stdout)]
    assert events == [("paused", None), ("stopped", 0)]
