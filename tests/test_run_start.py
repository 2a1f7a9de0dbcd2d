"""What a run checks before it starts, and what a run that fails leaves behind: `newsflow`
subprocesses with the user's environment, and the flow through Prefect's test harness."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.store import Warehouse

REPO = Path(__file__).resolve().parent.parent
NEWSFLOW = Path(sys.executable).with_name("newsflow")
# a Prefect API nobody answers, no retries: a command that gets as far as Prefect fails fast
NO_PREFECT = {"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_CLIENT_MAX_RETRIES": "0"}


def _env(tmp: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PYTHONPATH=str(REPO), **NO_PREFECT)
    env.update(extra)
    return env


def _newsflow(tmp: Path, *args: str, timeout: float = 90, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEWSFLOW), *args], env=_env(tmp, **env), cwd=tmp, capture_output=True, text=True,
                          timeout=timeout)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("newsflow: warning:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


# -- url_file: checked before Prefect starts (CLI) -----------------------------------------------
def _not_utf8(tmp: Path) -> Path:
    path = tmp / "latin1.txt"
    path.write_bytes("https://example.org/caf\xe9\n".encode("latin-1"))
    return path


@pytest.mark.parametrize(("make", "says"), [
    (lambda tmp: tmp / "nope.txt", "does not exist"),
    (lambda tmp: tmp, "is a folder"),
    (_not_utf8, "is not UTF-8 text"),
])
def test_a_url_file_that_cannot_be_read_exits_2_before_prefect_starts(tmp_path, seeds_dir, make, says):
    url_file = make(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    proc = _newsflow(tmp_path, "ingest", str(seeds_dir), "--url-file", str(url_file), "--warehouse", str(warehouse),
                     "--no-progress")
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = _one_line(proc.stderr)
    assert line.startswith("newsflow ingest: url_file") and str(url_file) in line and says in line, line
    assert not warehouse.exists()  # nothing ingested


# -- settings: `serve` goes through the same checks as the other commands --------------------------
def test_serve_refuses_a_bad_setting_in_one_line_and_warns_on_a_misspelt_one(tmp_path):
    proc = _newsflow(tmp_path, "serve", NEWSFLOW_SUMARY_SENTENCES="2", NEWSFLOW_SUMMARY_SENTENCES="0")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert ("newsflow: warning: NEWSFLOW_SUMARY_SENTENCES is not a newsflow setting and is ignored; "
            "did you mean NEWSFLOW_SUMMARY_SENTENCES?") in proc.stderr
    assert _one_line(proc.stderr).startswith("newsflow: bad setting: NEWSFLOW_SUMMARY_SENTENCES:")


@pytest.mark.parametrize("command", [["search", "harbour"], ["reindex"], ["export"], ["stories"], ["sql", "SELECT 1"]])
def test_every_reading_command_says_a_bad_setting_in_one_line(tmp_path, command):
    """search, reindex and export built their settings past the check every other command makes:
    a bad NEWSFLOW_* value was a pydantic traceback (exit 1)."""
    proc = _newsflow(tmp_path, *command, NEWSFLOW_BATCH_SIZE="0")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert _one_line(proc.stderr).startswith("newsflow: bad setting: NEWSFLOW_BATCH_SIZE"), proc.stderr[-3000:]


# -- settings: one default summary length ---------------------------------------------------------
@pytest.mark.parametrize("command", [["config"], ["serve"], ["ingest", "{seeds}", "--warehouse", "{tmp}/w.duckdb"]])
@pytest.mark.parametrize(("env", "named"), [
    ({"NEWSFLOW_SUMMARY_RATIO": "0.2", "NEWSFLOW_SUMMARY_WORDS": "60"},
     "NEWSFLOW_SUMMARY_RATIO and NEWSFLOW_SUMMARY_WORDS are both set"),
    ({"NEWSFLOW_SUMMARY_SENTENCES": "5", "NEWSFLOW_SUMMARY_WORDS": "60"},
     "NEWSFLOW_SUMMARY_SENTENCES and NEWSFLOW_SUMMARY_WORDS are both set"),
])
def test_two_default_summary_lengths_are_one_bad_setting_for_every_command(tmp_path, seeds_dir, command, env, named):
    args = [a.format(seeds=seeds_dir, tmp=tmp_path) for a in command]
    proc = _newsflow(tmp_path, *args, **env)
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = _one_line(proc.stderr)
    assert line.startswith(f"newsflow: bad setting: {named}"), line
    assert not (tmp_path / "w.duckdb").exists()
    if "RATIO" in named and command == ["config"]:  # the line docs/operations.md quotes
        assert f"`{line}`" in " ".join((REPO / "docs" / "operations.md").read_text().split())


def test_one_default_summary_length_is_fine_and_a_run_parameter_wins_over_it(monkeypatch):
    from flows.parameters import run_config
    from flows.settings import get_settings

    monkeypatch.setenv("NEWSFLOW_SUMMARY_WORDS", "60")
    settings = get_settings()  # summary_sentences keeps its default 3: not a second length
    assert run_config(settings).length.label() == "words=60"
    assert run_config(settings, summary_sentences=2).length.label() == "sentences=2"
    assert run_config(settings, summary_ratio=0.5).length.label() == "ratio=0.5"
    monkeypatch.setenv("NEWSFLOW_SUMMARY_SENTENCES", "3")  # typed, even at the default: a second length
    with pytest.raises(ValueError, match="NEWSFLOW_SUMMARY_SENTENCES and NEWSFLOW_SUMMARY_WORDS are both set"):
        get_settings()


# -- the flow: checks at its start, and a report for a run that failed -----------------------------
def _artifacts(flow_run_id) -> dict:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in artifacts if a.key}  # not Prefect's own keyless record of the exception


def _failed_run(**parameters):
    from flows.ingest import ingest

    state = ingest(**parameters, return_state=True)
    assert state.is_failed(), state
    return state, _artifacts(state.state_details.flow_run_id)


def _counts(markdown: str) -> dict[str, str]:
    part = markdown.split("| documents | count |", 1)[1]
    rows = [line for line in part.splitlines()[2:] if line.startswith("|")]
    rows = rows[: next((i for i, r in enumerate(rows) if not r.startswith("| ") or "---" in r), len(rows))]
    return {c[0]: c[1] for c in ([x.strip() for x in r.strip("|").split("|")] for r in rows)}


@pytest.mark.usefixtures("prefect_harness")
def test_a_missing_url_file_fails_the_run_before_it_writes_and_the_report_says_why(seeds_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    missing = tmp_path / "nope.txt"
    state, artifacts = _failed_run(paths=[str(seeds_dir)], url_file=str(missing), warehouse=str(warehouse))
    assert f"url_file {str(missing)!r} does not exist" in state.message
    assert "\n" not in state.message.strip()
    assert not warehouse.exists()  # checked at the start: nothing ingested, nothing written
    assert set(artifacts) == {"ingest-report", "ingest-new-articles", "ingest-progress"}
    report = artifacts["ingest-report"].data
    assert "failed" in report.splitlines()[0]
    assert f"url_file {str(missing)!r} does not exist" in report
    assert _counts(report)["new articles"] == "0"
    # refused by the run's own checks: the same parameters are refused again, "the next run does the rest" is wrong
    assert "The run was refused" in report and "refused the same way" in report and "does the rest" not in report


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_where_every_item_failed_is_a_failed_flow_run_with_its_report(tmp_path):
    """A dead feed or a folder of broken files went to its end and showed Completed in the UI (only the
    CLI said so, exit 4): the flow run is Failed now, with the reasons as its message, and its report."""
    from flows.artifacts import EveryItemFailed

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    state, artifacts = _failed_run(paths=[str(folder)], warehouse=str(tmp_path / "w.duckdb"))
    assert state.message.startswith("every item failed: 2 failures (read/empty 1, read/binary 1)"), state.message
    failed = state.result(raise_on_failure=False)
    assert isinstance(failed, EveryItemFailed) and failed.report["failures"] == 2
    report = artifacts["ingest-report"].data
    assert "failed" not in report.splitlines()[0]  # it ran to its end: the usual report, failures listed
    assert "| read | empty | 1 |" in report and "| read | binary | 1 |" in report
    _, runs = Warehouse(tmp_path / "w.duckdb").query("SELECT status, failures FROM runs")
    assert runs == [("completed", 2)]


@pytest.mark.usefixtures("prefect_harness")
def test_a_folder_as_warehouse_fails_with_a_report(seeds_dir, tmp_path):
    state, artifacts = _failed_run(paths=[str(seeds_dir)], warehouse=str(tmp_path))
    assert "is a folder" in state.message
    assert "is a folder" in artifacts["ingest-report"].data


@pytest.mark.usefixtures("prefect_harness")
def test_a_writer_lock_timeout_fails_with_a_report_naming_the_holder(seeds_dir, tmp_path, monkeypatch):
    from warehouse.writer_lock import writer_lock

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("NEWSFLOW_WRITER_WAIT_S", "1")
    with writer_lock(warehouse, wait_s=1):  # another run is writing, for longer than this one waits
        state, artifacts = _failed_run(paths=[str(seeds_dir)], warehouse=str(warehouse))
    report = artifacts["ingest-report"].data
    assert "WriterLockTimeout" in report and f"process {os.getpid()}" in report
    assert _counts(report)["new articles"] == "0"


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_failing_after_batches_were_committed_reports_what_it_committed(seeds_dir, tmp_path, monkeypatch):
    from tasks.pipeline import Pipeline

    def disk_full(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Pipeline, "refresh_search_index", disk_full)  # after both file batches committed
    warehouse = tmp_path / "w.duckdb"
    state, artifacts = _failed_run(paths=[str(seeds_dir)], warehouse=str(warehouse), batch_size=1)
    assert "No space left on device" in state.message
    assert set(artifacts) == {"ingest-report", "ingest-new-articles", "ingest-progress"}
    report = artifacts["ingest-report"].data
    assert "failed" in report.splitlines()[0] and "No space left on device" in report
    counts = _counts(report)
    assert counts["read"] == "2" and counts["new articles"] == "2"
    assert "| store |" in report  # time per stage, so far
    assert "(no new articles" not in artifacts["ingest-new-articles"].data
    progress = artifacts["ingest-progress"]
    assert float(progress.data) == 100.0 and progress.description == "2 of 2 items; last: files batch 2/2 (1 files)"
    # docs/operations.md shows the same shape
    doc = (REPO / "docs" / "operations.md").read_text()
    assert re.search(r'\("\d+ of \d+ items; last: files batch \d+/\d+ \(\d+ files\)"\)', doc)


@pytest.mark.usefixtures("prefect_harness")
def test_newsflow_ingest_that_fails_once_running_says_why_in_one_line(seeds_dir, tmp_path):
    """The writer lock held longer than the run waits (another run writing): exit 1 and one line
    naming the holder, not the flow's traceback raised a second time."""
    from prefect.settings import PREFECT_API_URL

    from warehouse.writer_lock import writer_lock

    warehouse = tmp_path / "w.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               NEWSFLOW_WRITER_WAIT_S="1", PREFECT_API_URL=PREFECT_API_URL.value())  # the session's server
    with writer_lock(warehouse, wait_s=1):
        proc = subprocess.run([str(NEWSFLOW), "ingest", str(seeds_dir), "--warehouse", str(warehouse), "--no-progress"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    ours = [line for line in proc.stderr.splitlines() if line.startswith("newsflow ingest:")]
    assert len(ours) == 1 and "the run failed: WriterLockTimeout" in ours[0], proc.stderr[-2000:]
    assert f"process {os.getpid()}" in ours[0]
    assert not proc.stderr.rstrip().splitlines()[-1].startswith("warehouse.writer_lock.WriterLockTimeout")


def test_an_interrupted_runs_row_keeps_what_its_batches_committed(tmp_path):
    """Ctrl-C between a batch's commit and the run's tally of it: the runs row was closed with the
    lagging tally, one batch short of the warehouse (a reliability audit: 10,016 against 10,036 stored).
    It keeps what the batches committed, and the failed run's report says the same."""
    import logging

    from flows.ingest import record_failure
    from flows.artifacts import RunReport
    from tasks.pipeline import RunTotals

    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    store.start_run("r1", None, {})
    # a batch of two new documents, committed with its counts; the run's own tally never took it
    store.write_batch("r1", [], [], {}, summary_length="3 sentences",
                      counts={"items_seen": 2, "documents_new": 2, "summaries": 2})
    report = RunReport("r1", store.name, RunTotals())
    published = []
    report.publish_failure = lambda exc, logger, refused=False, counts=None: published.append(counts)
    assert isinstance(record_failure(KeyboardInterrupt(), store, "r1", report, logging.getLogger("test")),
                      KeyboardInterrupt)
    _, rows = store.query("SELECT status, error, items_seen, documents_new, summaries FROM runs")
    assert rows == [("failed", "interrupted (Ctrl-C / SIGINT)", 2, 2, 2)]
    assert published[0]["documents_new"] == 2
