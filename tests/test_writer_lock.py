"""The warehouse writer lock: queues other processes, dies with its holder, fails clearly when held too long."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from warehouse.writer_lock import WriterLockTimeout, lock_path, writer_lock

HOLD = """
import sys, time
from warehouse.writer_lock import writer_lock
with writer_lock(sys.argv[1], wait_s=3600):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_in_subprocess(warehouse, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), str(seconds)], stdout=subprocess.PIPE,
                            text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_waits_for_the_first(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = hold_in_subprocess(warehouse, 1.5)
    start = time.monotonic()
    with writer_lock(warehouse, wait_s=30):
        waited = time.monotonic() - start
        assert holder.poll() is not None  # we only got in after the holder finished
    holder.wait()
    assert waited > 0.3


def test_a_killed_holder_releases_the_lock_at_once(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = hold_in_subprocess(warehouse, 600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with writer_lock(warehouse, wait_s=5):
        pass


def test_timeout_names_the_holder(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = hold_in_subprocess(warehouse, 600)
    try:
        with pytest.raises(WriterLockTimeout, match=rf"process {holder.pid}"):
            with writer_lock(warehouse, wait_s=0.5):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert lock_path(warehouse).name == "w.duckdb.lock"


def test_a_run_starting_while_another_writes_queues_for_its_schema_check_and_its_runs_row(tmp_path):
    """migrate and start_run take the writer lock like a batch: a run started mid-run waited on
    DuckDB's file lock instead, racing the other run's batches, and gave up after the 120 s lock
    timeout rather than queueing for NEWSFLOW_WRITER_WAIT_S."""
    from warehouse.store import Warehouse

    warehouse = tmp_path / "w.duckdb"
    Warehouse(warehouse).migrate()
    holder = hold_in_subprocess(warehouse, 1.5)
    store = Warehouse(warehouse)
    store.migrate(wait_s=30)
    assert holder.poll() is not None  # it got in only after the holder let go
    holder = hold_in_subprocess(warehouse, 1.5)
    began = datetime.now()
    store.start_run("r1", None, {}, wait_s=30, started_at=began)
    assert holder.poll() is not None
    # the row says when the run began, not when it got the lock (two queued runs looked simultaneous)
    assert store.query("SELECT started_at FROM runs WHERE run_id = 'r1'")[1] == [(began,)]
    holder.wait()
    holder = hold_in_subprocess(warehouse, 600)
    try:
        with pytest.raises(WriterLockTimeout):
            store.migrate(wait_s=0.5)
    finally:
        holder.kill()
        holder.wait()


READER = r"""
import sys, time
from warehouse.store import Warehouse
store, stop = Warehouse(sys.argv[1], lock_timeout_s=120), sys.argv[2]
import os
while not os.path.exists(stop):
    _, rows = store.query("SELECT count(*) FROM documents")
    print(rows[0][0], flush=True)
    time.sleep(0.05)  # an analyst's loop, not a spin: a spinning reader took a core from the suite
"""


def test_a_reader_gets_in_between_a_runs_batches_not_only_after_the_run(tmp_path):
    """An analyst's `newsflow sql` during a scheduled run waited out the whole run (21-58 s): the writer
    took the file back within milliseconds of each commit, while the reader polled every 2 s. Now the
    file stays free a moment between batches and a queued reader polls often enough to get in."""
    from tests.test_dedup import ingest_files
    from tests.test_reliability_crash import make_corpus

    make_corpus(tmp_path / "corpus", n=96, seed=4)
    files = sorted(p for p in (tmp_path / "corpus").rglob("*") if p.is_file())
    warehouse = tmp_path / "w.duckdb"
    ingest_files(files[:6], warehouse, batch_size=6)  # the file exists, with some documents
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        time.sleep(3)  # the reader is up and reading
        ingest_files(files[6:], warehouse, batch_size=10)  # 9 batches, 9 commits
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    counts = [int(line) for line in out.split()]
    before, after = counts[0], counts[-1]
    between = sorted(set(c for c in counts if before < c < after))
    assert len(between) >= 4, (before, between, after)  # it read between most of the 9 commits
