"""The warehouse writer lock: queues other processes, dies with its holder, fails clearly when held too long."""

import os
import signal
import subprocess
import sys
import time

import pytest

from warehouse.writer_lock import WriterLockTimeout, lock_path, writer_lock

HOLD = """
import sys, time
from warehouse.writer_lock import writer_lock
with writer_lock(sys.argv[1]):
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
    store.start_run("r1", None, {}, wait_s=30)
    assert holder.poll() is not None
    holder.wait()
    holder = hold_in_subprocess(warehouse, 600)
    try:
        with pytest.raises(WriterLockTimeout):
            store.migrate(wait_s=0.5)
    finally:
        holder.kill()
        holder.wait()
