"""Faults: a warehouse that cannot be written, a warehouse locked by another process, a flaky web.

Each fault must end in a clear error (or a failure row for one item) and leave what was already
stored exactly as it was. The lock wait-then-proceed path at the store level is in
tests/test_warehouse.py (test_lock_held_by_another_process_waits_then_proceeds).
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http_server import Reply, http_server  # noqa: F401  (fixture)
from tests.test_reliability_crash import _open_read_only, child_env, ingest_cmd, run_ingest, report_of
from warehouse.store import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

STORY = ("Storm closes the harbour\n\nA storm closed the harbour on Tuesday, officials said. Ferries were "
         "cancelled and schools shut early. The coast guard said no one was hurt.\n")
NEW_STORY = ("Council approves the bridge\n\nThe council voted on Monday to build a new bridge across the river. "
             "Construction starts next spring, the mayor said.\n")
# root in this sandbox ignores file modes; without these capabilities it obeys them like any user
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def api_url():
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@pytest.fixture
def stored_warehouse(tmp_path):
    """A warehouse holding one document, and a new file that a run would add."""
    from flows.ingest import ingest

    (tmp_path / "old.txt").write_text(STORY)
    (tmp_path / "new.txt").write_text(NEW_STORY)
    wh = tmp_path / "wh" / "news.duckdb"
    ingest(paths=[str(tmp_path / "old.txt")], warehouse=str(wh))
    return wh, tmp_path / "new.txt"


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root's override of file modes")
@pytest.mark.parametrize("readonly", ["file", "directory"])
def test_read_only_warehouse_fails_clearly_and_is_unchanged(stored_warehouse, tmp_path, api_url, readonly):
    wh, new_file = stored_warehouse
    before = _digest(wh)
    target = wh if readonly == "file" else wh.parent
    target.chmod(0o444 if readonly == "file" else 0o555)
    try:
        proc = run_ingest(NO_DAC + ingest_cmd([str(new_file)], wh), child_env(tmp_path, api_url))
    finally:
        target.chmod(0o644 if readonly == "file" else 0o755)
    assert proc.returncode != 0
    assert "Permission denied" in proc.stderr or "read-only" in proc.stderr, proc.stderr[-3000:]
    assert _digest(wh) == before
    assert Warehouse(wh).counts()["documents"] == 1


def test_locked_warehouse_waits_within_bound_then_fails_clearly(stored_warehouse, tmp_path, api_url):
    wh, new_file = stored_warehouse
    before = _digest(wh)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(600)", str(wh)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        env = child_env(tmp_path, api_url, NEWSFLOW_LOCK_TIMEOUT_S="3")
        proc = run_ingest(ingest_cmd([str(new_file)], wh), env)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode != 0
    assert f"is locked by process {holder.pid} for more than 3s" in proc.stderr, proc.stderr[-3000:]
    assert _digest(wh) == before
    # once the holder is gone the same command goes through
    report = report_of(run_ingest(ingest_cmd([str(new_file)], wh), child_env(tmp_path, api_url)))
    assert report["documents_new"] == 1


ARTICLE = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>The {thing} reopened on Thursday morning after a storm closed it for two days, officials said.</p>
<p>Ferries resumed their normal timetable and boats returned to sea before dawn near the {thing}.</p>
<p>Repairs to the {thing} would take several weeks and cost millions, the coast guard said.</p>
</article></body></html>"""


@pytest.fixture
def fast_fetch(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("NEWSFLOW_FETCH__PER_HOST_DELAY_S", "0")
    monkeypatch.setenv("NEWSFLOW_FETCH__BACKOFF_BASE_S", "0.01")
    monkeypatch.setenv("NEWSFLOW_FETCH__RETRIES", "1")
    monkeypatch.setenv("NEWSFLOW_FETCH__READ_TIMEOUT_S", "2")
    monkeypatch.setenv("NEWSFLOW_FETCH__TOTAL_TIMEOUT_S", "3")
    monkeypatch.setenv("NEWSFLOW_FETCH__PER_HOST_CONCURRENCY", "8")


def route_faults(server) -> dict[str, str]:
    """path -> expected failure reason ("" = stored)."""
    for i, thing in enumerate(("harbour", "bridge", "station", "airport")):
        server.route(f"/good{i}", Reply(200, ARTICLE.format(title=f"The {thing} reopens", thing=thing)))
    server.route("/flaky", [Reply(reset=True), Reply(200, ARTICLE.format(title="Flaky but fine", thing="ferry"))])
    server.route("/reset", Reply(reset=True))
    server.route("/truncated", Reply(200, ARTICLE.format(title="Cut", thing="pier"), truncate_to=120))
    server.route("/drip", Reply(200, chunks=itertools.repeat(b"<p>slow", 10_000), chunk_delay=0.3))
    server.route("/down", Reply(503, "busy"))
    return {"/good0": "", "/good1": "", "/good2": "", "/good3": "", "/flaky": "", "/reset": "network_error",
            "/truncated": "network_error", "/drip": "timeout", "/down": "http_503"}


def test_http_faults_are_each_a_failure_and_the_rest_completes(http_server, warehouse_path, fast_fetch):  # noqa: F811
    from flows.ingest import ingest

    expected = route_faults(http_server)
    urls = [http_server.url(p) for p in expected]
    report = ingest(urls=urls, warehouse=str(warehouse_path), batch_size=4)
    con = _open_read_only(warehouse_path)
    try:
        stored = {r[0] for r in con.execute("SELECT source FROM documents").fetchall()}
        failed = {r[0]: r[1] for r in con.execute("SELECT source, reason FROM failures").fetchall()}
        logged = {r[0] for r in con.execute("SELECT url FROM fetch_log").fetchall()}
        status = con.execute("SELECT status FROM runs").fetchall()
    finally:
        con.close()
    for path, reason in expected.items():
        url = http_server.url(path)
        if reason:
            assert failed.get(url) == reason, (path, failed.get(url))
        else:
            assert url in stored, (path, failed.get(url))
    assert logged == set(urls) and status == [("completed",)]
    assert report["documents_new"] == 5 and report["failures"] == 4


def _three_articles(tmp_path: Path) -> Path:
    """A folder of three short articles: one batch each at batch_size=1."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, thing in enumerate(("harbour", "bridge", "station")):
        (corpus / f"{n}.txt").write_text(f"The {thing} reopens\n\nThe {thing} reopened on Thursday after a storm "
                                         f"closed it for {n + 2} days, officials said. Repairs to the {thing} "
                                         "will take weeks, the council said on Friday.\n")
    return corpus


def test_ctrl_c_while_a_batch_is_in_a_warehouse_query_stops_the_run_as_an_interrupt(tmp_path, monkeypatch):
    """DuckDB answers a Ctrl-C that lands mid-query with RuntimeError('Query interrupted'), raised
    while handling the KeyboardInterrupt (DuckDB 1.4; seen in 6 of 12 Ctrl-Cs of a real run). The
    store step retried that like a lost connection and the run went on to its end (exit 0, status
    completed); elsewhere the run failed as an error (exit 1). Here batch 2's write, inside its
    transaction, raises just that: the run stops as interrupted, batch 2 is rolled back and not
    retried, batch 1 stays, and the next run completes the work. (A real signal at a real query
    lands mid-query only some of the time: tests/test_cli_stop.py sends one to a running ingest.)"""
    import duckdb

    import tasks.pipeline as pipeline
    from flows.ingest import ingest

    corpus = _three_articles(tmp_path)
    wh = tmp_path / "w.duckdb"
    original, writes = pipeline._write, []

    def write(store, run_id, docs, failures, band_keys, length_label, batch, stories, before_commit, counts,
              current_ids):
        writes.append(batch.label)

        def interrupted_mid_query():
            if len(writes) == 2:
                try:
                    raise KeyboardInterrupt
                except KeyboardInterrupt:
                    raise RuntimeError("Query interrupted")  # noqa: B904 - as DuckDB raises it
            before_commit()

        original(store, run_id, docs, failures, band_keys, length_label, batch, stories, interrupted_mid_query,
                 counts, current_ids)

    monkeypatch.setattr(pipeline, "_write", write)
    with pytest.raises(KeyboardInterrupt):
        ingest(paths=[str(corpus)], warehouse=str(wh), batch_size=1)
    assert len(writes) == 2  # batch 2's write was not retried, batch 3 never started
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute("SELECT status, error, documents_new FROM runs").fetchall() == [
            ("failed", "interrupted (Ctrl-C / SIGINT)", 1)]
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    finally:
        con.close()
    monkeypatch.setattr(pipeline, "_write", original)
    ingest(paths=[str(corpus)], warehouse=str(wh), batch_size=1)
    assert Warehouse(wh).counts()["documents"] == 3


def test_a_sigterm_python_drops_in_a_finalizer_still_stops_the_run_after_the_batch(tmp_path, monkeypatch):
    """A signal handler's exception raised while Python runs a finalizer (`__del__`, a weakref callback)
    is printed as "Exception ignored" and dropped: `kill PID` during a run was lost so about one time in
    eight, and the run went on to its end and exited 0. Here the SIGTERM lands inside a `__del__` on the
    flow's own thread right after batch 1 is reported: the run stops there, recorded as terminated."""
    import os
    import signal
    import threading

    import duckdb
    from prefect.exceptions import TerminationSignal

    from flows import artifacts
    from flows.ingest import ingest

    assert threading.current_thread() is threading.main_thread()  # else the signal would not be Prefect's
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, thing in enumerate(("harbour", "bridge", "station")):
        (corpus / f"{n}.txt").write_text(f"The {thing} reopens\n\nThe {thing} reopened on Thursday after a storm "
                                         f"closed it for {n + 2} days, officials said.\n")
    wh = tmp_path / "w.duckdb"
    original, advanced, dropped = artifacts.RunReport.advance, [], []

    class SignalledWhileFinalized:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between these bytecodes: inside the finalizer
                pass

    def advance(self, result, logger):
        original(self, result, logger)
        advanced.append(result)
        if len(advanced) == 1:
            SignalledWhileFinalized()  # made and finalized at once

    def hook(unraisable):  # what Python does with the dropped exception, seen by the test
        dropped.append(unraisable.exc_value)

    resent = []  # Prefect sends SIGTERM again to the handler it replaced (the CLI's exits 143)
    monkeypatch.setattr(artifacts.RunReport, "advance", advance)
    monkeypatch.setattr("sys.unraisablehook", hook)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: resent.append(signum))
    try:
        with pytest.raises(TerminationSignal):
            ingest(paths=[str(corpus)], warehouse=str(wh), batch_size=1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert [type(e) for e in dropped] == [TerminationSignal] and resent == [signal.SIGTERM]
    assert len(advanced) == 1
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute("SELECT status, error, documents_new FROM runs").fetchall() == [
            ("failed", "terminated (SIGTERM)", 1)]
    finally:
        con.close()


def test_a_full_disk_at_commit_is_reported_as_such_and_not_retried(tmp_path, monkeypatch):
    """A write the disk refused was retried on the same database, which still held the failed
    commit's keys: the run ended on 'Duplicate key ... violates primary key constraint' instead of the
    disk's own error. Batch 2's commit fails as DuckDB reports a full disk: the run fails with that
    message, once, batch 1 stays, and the next run completes the work."""
    import duckdb

    import tasks.pipeline as pipeline
    from flows.ingest import ingest

    corpus = _three_articles(tmp_path)
    wh = tmp_path / "w.duckdb"
    original, writes = pipeline._write, []
    full = 'IO Error: Could not write all bytes to file "w.duckdb.wal": No space left on device'

    def write(store, run_id, docs, failures, band_keys, length_label, batch, stories, before_commit, counts,
              current_ids):
        writes.append(batch.label)

        def disk_full():
            if len(writes) >= 2:
                raise duckdb.IOException(full)
            before_commit()

        original(store, run_id, docs, failures, band_keys, length_label, batch, stories, disk_full, counts,
                 current_ids)

    monkeypatch.setattr(pipeline, "_write", write)
    with pytest.raises(duckdb.IOException, match="No space left on device"):
        ingest(paths=[str(corpus)], warehouse=str(wh), batch_size=1)
    assert len(writes) == 2  # not retried
    with duckdb.connect(str(wh), read_only=True) as con:
        status, error = con.execute("SELECT status, error FROM runs").fetchone()
        assert status == "failed" and "No space left on device" in error, error
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    monkeypatch.setattr(pipeline, "_write", original)
    ingest(paths=[str(corpus)], warehouse=str(wh), batch_size=1)
    assert Warehouse(wh).counts()["documents"] == 3
