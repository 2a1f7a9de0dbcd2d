"""Running the ingest flow like operators do: a served, scheduled deployment.

`newsflow serve` builds the deployment here and serves it: the schedule fires while the
serving process lives, and runs triggered from the UI/API are picked up by the same process.

DuckDB allows one writing process per file, and `serve` ignores schedule concurrency
limits (prefect #13327), so a scheduled run and a UI run can overlap. Every batch's
lookup → dedup → summarize → write section holds the warehouse's writer lock
(`warehouse/writer_lock.py`, an OS file lock), so overlapping runs queue batch by batch
instead of racing; the Warehouse's own DuckDB lock retry is the backstop for other
processes (an analyst's open connection).
"""

from __future__ import annotations

import inspect
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from newsflow.settings import Settings

DEPLOYMENT_TAGS = ["newsflow", "ingest"]


# -- the served deployment ---------------------------------------------------------------------
def schedule_for(settings: Settings):
    """The deployment's schedule: cron (with timezone) when set, else the interval."""
    from prefect.schedules import Cron, Interval

    if settings.schedule_cron:
        return Cron(settings.schedule_cron, timezone=settings.schedule_timezone)
    return Interval(timedelta(minutes=settings.schedule_interval_minutes), timezone=settings.schedule_timezone)


def scheduled_parameters(settings: Settings, flow_parameters: set[str]) -> dict:
    """Defaults for scheduled runs (and the UI form): what they read, the inbox folder and the
    configured feeds. Everything else stays empty, which means the setting as the run starts: a
    value put here would be frozen at `serve` time (a run mixed a frozen algorithm with a re-read
    summary length) and a warehouse path here sent a lake's runs to a DuckDB file."""
    params: dict = {"paths": [str(settings.inbox)]}
    # Feeds only when the flow takes them: the parameter is newer than this module's first version.
    if "feeds" in flow_parameters and settings.feeds:
        params["feeds"] = list(settings.feeds)
    return params


def build_deployment(settings: Settings) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType

    from flows.ingest import ingest

    flow_parameters = set(inspect.signature(ingest.fn).parameters)
    return ingest.to_deployment(
        name=settings.deployment_name,
        schedules=[schedule_for(settings)],
        parameters=scheduled_parameters(settings, flow_parameters),
        description="Scheduled ingest of the inbox folder and configured feeds; trigger ad-hoc runs with "
                    "custom parameters from the UI (Run → Custom run).",
        tags=DEPLOYMENT_TAGS,
        # The installed package, not a file path relative to wherever `newsflow serve` was started.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_ingest(settings: Settings, *, limit: int | None = None) -> None:
    """Serve the ingest deployment until interrupted (Ctrl-C pauses its schedule). `settings` are
    the ones the CLI built and checked (`newsflow serve`)."""
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        # Prefect would serve against a throwaway server whose UI nobody can open.
        print("PREFECT_API_URL is not set: serving against a temporary Prefect server without a UI.\n"
              "For the UI: run `prefect server start`, then "
              "`export PREFECT_API_URL=http://127.0.0.1:4200/api` and serve again.", file=sys.stderr)
    # A scheduled run over a missing inbox would log a "missing path" failure every interval.
    settings.inbox.mkdir(parents=True, exist_ok=True)
    serve(build_deployment(settings), limit=limit)
