"""A run records the process that owns it; the next run marks runs whose process is gone `abandoned`.

The real SIGKILL case is in tests/test_reliability_crash.py; these cases set the owner columns by
hand: a pid that no longer exists, a pid reused by another process, another host, a live owner,
and a row from before the owner was recorded.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta

from warehouse import run_owner
from warehouse.store import Warehouse


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _add_run(store: Warehouse, run_id: str, host: str | None, pid: int | None, started: datetime | None) -> None:
    with store.transaction() as con:
        con.execute("INSERT INTO runs (run_id, started_at, status, owner_host, owner_pid, owner_started_at) "
                    "VALUES (?, now(), 'running', ?, ?, ?)", [run_id, host, pid, started])


def test_current_owner_is_this_process_with_its_start_time():
    me = run_owner.current()
    assert me.pid == os.getpid() and me.host == run_owner.hostname()
    assert me.started_at is not None and me.started_at <= datetime.now()
    assert run_owner.gone_reason(me) is None


def test_next_run_marks_only_this_hosts_dead_runs_abandoned(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    me = run_owner.current()
    host = run_owner.hostname()
    dead = _dead_pid()
    _add_run(store, "dead", host, dead, datetime.now())
    _add_run(store, "reused", host, os.getpid(), me.started_at - timedelta(hours=1))  # same pid, other process
    _add_run(store, "alive", host, os.getpid(), me.started_at)
    _add_run(store, "elsewhere", "another-host", dead, datetime.now())
    _add_run(store, "before-v4", None, None, None)
    store.start_run("next", None, {})
    _, rows = store.query("SELECT run_id, status, finished_at IS NOT NULL, error FROM run_history ORDER BY run_id")
    got = {r[0]: r[1:] for r in rows}
    assert got["dead"] == ("abandoned", True, f"abandoned: process {dead} on {host} is gone; noticed by run next")
    assert got["reused"][:2] == ("abandoned", True) and "pid reused" in got["reused"][2]
    for run_id in ("alive", "elsewhere", "before-v4", "next"):
        assert got[run_id] == ("running", False, None), run_id
    _, rows = store.query("SELECT owner_host, owner_pid, owner_started_at FROM runs WHERE run_id = 'next'")
    assert rows == [(host, os.getpid(), me.started_at)]


def test_finished_runs_are_never_touched_and_abandoning_twice_is_a_no_op(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    _add_run(store, "done", run_owner.hostname(), _dead_pid(), datetime.now())
    store.finish_run("done", status="completed", counts={"documents_new": 1}, timings={})
    dead = _dead_pid()
    _add_run(store, "dead", run_owner.hostname(), dead, datetime.now())
    with store.transaction() as con:  # a run Prefect ran: the flow hears of it, to close it in Prefect too
        con.execute("UPDATE runs SET flow_run_id = 'flow-run-of-dead' WHERE run_id = 'dead'")
    why = f"abandoned: process {dead} on {run_owner.hostname()} is gone; noticed by run next-1"
    assert store.start_run("next-1", None, {}) == [("flow-run-of-dead", why)]
    assert store.start_run("next-2", None, {}) == []  # abandoned once; "next-1" is this live process
    _, rows = store.query("SELECT run_id, status, error FROM runs ORDER BY run_id")
    assert rows[0] == ("dead", "abandoned", why)
    assert rows[1] == ("done", "completed", None)


def test_upgrade_from_version_3_keeps_old_running_rows_as_they_are(tmp_path, monkeypatch):
    from warehouse import store as store_module

    every = store_module.migrations()
    monkeypatch.setattr(store_module, "migrations", lambda: [m for m in every if m[0] <= 3])
    store = Warehouse(tmp_path / "w.duckdb")
    assert store.migrate() == 3
    with store.transaction() as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES ('old', now(), 'running')")
    monkeypatch.setattr(store_module, "migrations", lambda: every)
    assert store.migrate() == max(m[0] for m in every)
    store.start_run("new", None, {})
    _, rows = store.query("SELECT run_id, status, owner_pid FROM runs ORDER BY run_id")
    assert rows == [("new", "running", os.getpid()), ("old", "running", None)]  # no owner: cannot tell, left alone
