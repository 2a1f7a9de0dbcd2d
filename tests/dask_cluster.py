"""A Dask scheduler and workers started as separate processes (`dask scheduler`, `dask worker`),
as they run on other machines, on loopback: for tests and bench/scale_out.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.pg_server import free_port

REPO = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")


def _env() -> dict[str, str]:
    # workers unpickle the flow's tasks, so they import this checkout's packages
    return {**os.environ, "PYTHONPATH": str(REPO), "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
            "PREFECT_LOGGING_LEVEL": "WARNING"}


@dataclass
class DaskProcesses:
    address: str
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Path | None = None

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30)

    def add_worker(self, name: str) -> subprocess.Popen:
        log = open(self.logs / f"worker-{name}.log", "w") if self.logs else subprocess.DEVNULL
        proc = subprocess.Popen(
            [str(DASK), "worker", self.address, "--name", name, "--nthreads", "1", "--nworkers", "1",
             "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0"],
            env=_env(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers[name] = proc
        return proc

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        with self.client() as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_worker(self, name: str) -> None:
        # the whole group: `dask worker` is a nanny that would restart its worker process
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()

    def worker_tasks(self) -> dict[str, list[str]]:
        """Per worker name: the keys of the tasks it computed (from its own state machine's log)."""
        def computed(dask_worker):
            return [entry[0] for entry in dask_worker.state.log
                    if len(entry) > 1 and entry[1] == "compute-task"]

        with self.client() as client:
            by_address = client.run(computed)
            names = {addr: info["name"] for addr, info in client.scheduler_info()["workers"].items()}
        return {str(names.get(addr, addr)): keys for addr, keys in by_address.items()}

    def stop(self) -> None:
        for proc in [*self.workers.values(), self.scheduler]:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in [*self.workers.values(), self.scheduler]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def start(n_workers: int = 2, logs: Path | None = None) -> DaskProcesses:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(logs / "scheduler.log", "w") if logs else subprocess.DEVNULL
    scheduler = subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], env=_env(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    cluster = DaskProcesses(address, scheduler, logs=logs)
    try:
        deadline = time.monotonic() + 60
        import socket

        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dask scheduler did not start") from None
                time.sleep(0.2)
        for i in range(n_workers):
            cluster.add_worker(f"w{i}")
        cluster.wait_for_workers(n_workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster
