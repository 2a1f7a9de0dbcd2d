"""The flow's task runner, and which one a flow run is on, by type.

Threads in this process (CPU stages use a local process pool), or Dask via prefect-dask, on an
existing scheduler or a LocalCluster. prefect-dask is imported only when the runner might be one
of its classes: a thread-runner run never pays for importing distributed, and a subclass of
DaskTaskRunner (a site's own wrapper) still counts as Dask.
"""

from __future__ import annotations

import sys
from typing import Literal

TaskRunnerKind = Literal["thread", "dask"]


def make_task_runner(kind: TaskRunnerKind = "thread", dask_address: str | None = None, dask_workers: int = 2):
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner()


def is_dask_runner(runner: object) -> bool:
    # if prefect_dask was never imported, no DaskTaskRunner can exist in this process
    module = sys.modules.get("prefect_dask.task_runners")
    if module is None:
        return False
    return isinstance(runner, module.DaskTaskRunner)


def on_dask() -> bool:
    """Whether the current flow run's tasks go to Dask (a scheduler elsewhere, or a LocalCluster)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return bool(ctx and is_dask_runner(ctx.task_runner))
