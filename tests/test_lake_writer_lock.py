"""Which writer lock a lake's writers take: a file lock beside a SQLite catalog (one machine)."""

import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.lake import LakeConfig
from warehouse.store import Warehouse
from warehouse.writer_lock import WriterLockTimeout

REPO = Path(__file__).resolve().parent.parent

_HOLD = """
import sys, time
from pathlib import Path
from warehouse.lake import LakeConfig
from warehouse.store import Warehouse
root = Path(sys.argv[1])
cfg = LakeConfig(f"sqlite:{root / 'catalog.sqlite'}", root / "data", root / "search.duckdb")
with Warehouse(cfg.attach_target(), lake=cfg).exclusive_writer(30):
    print("held", flush=True)
    time.sleep(600)
"""


def test_sqlite_lake_writers_take_turns_across_processes(tmp_path):
    cfg = LakeConfig(f"sqlite:{tmp_path / 'catalog.sqlite'}", tmp_path / "data", tmp_path / "search.duckdb")
    store = Warehouse(cfg.attach_target(), lake=cfg)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterLockTimeout, match=f"process {holder.pid}"):
            with store.exclusive_writer(0.5):
                pass
        # a run's schema check queues as long as the run's writer wait, not the lock timeout (120 s)
        with pytest.raises(WriterLockTimeout, match=f"process {holder.pid} for more than 0s"):
            store.migrate(wait_s=0.5)
    finally:
        holder.kill()
        holder.wait()
    with store.exclusive_writer(5):  # the holder's death released it
        assert (tmp_path / "catalog.sqlite.lock").exists()
