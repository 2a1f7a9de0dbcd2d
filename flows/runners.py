"""Which task runner a flow run is on, by type.

prefect-dask is imported only when the runner might be one of its classes: a thread-runner run
never pays for importing distributed, and a subclass of DaskTaskRunner (a site's own wrapper)
still counts as Dask, which a comparison of class names would miss.
"""

from __future__ import annotations

import sys


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
