"""The flow's task runner: threads in this process (CPU stages use a local process pool),
or Dask via prefect-dask, on an existing scheduler or a LocalCluster."""

from __future__ import annotations

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


def on_dask() -> bool:
    """Whether the running flow's tasks go to Dask (then the cluster is the parallelism)."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None:
        return False
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:  # prefect-dask not installed: nothing can be on Dask
        return False
    return isinstance(ctx.task_runner, DaskTaskRunner)
