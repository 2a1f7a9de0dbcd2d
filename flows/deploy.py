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
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from flows.settings import Settings

DEPLOYMENT_TAGS = ["newsflow", "ingest"]


# -- the served deployment ---------------------------------------------------------------------
def schedule_for(settings: Settings):
    """The deployment's schedule: cron (with timezone) when set, else the interval."""
    from prefect.schedules import Cron, Interval

    if settings.schedule_cron:
        return Cron(settings.schedule_cron, timezone=settings.schedule_timezone)
    return Interval(timedelta(minutes=settings.schedule_interval_minutes), timezone=settings.schedule_timezone)


def schedule_words(settings: Settings) -> str:
    """The schedule with its timezone, for the deployment's description: the UI's label of a schedule leaves
    the timezone out ("between 06:00 AM and 10:59 PM") and shows the next run in the browser's own."""
    if settings.schedule_cron:
        return f"on cron `{settings.schedule_cron}` ({settings.schedule_timezone})"
    return f"every {settings.schedule_interval_minutes:g} minutes ({settings.schedule_timezone})"


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


def form_fields(properties: dict) -> dict:
    """The flow's parameter schema as Prefect's Custom-run form should show it. An optional parameter
    ("this type, or empty") is the JSON schema `anyOf: [type, null]`, which the form draws as an
    `int | None` switch set to None: no input until the operator finds the switch, and an error that
    names no limit ("0 is not valid under any of the given schemas"). Here it is the type alone, with
    no default: the form shows a number box, a text box or a dropdown, left empty it sends nothing, and
    the server, which reads a typed field without a default as "this type or null", still takes an
    explicit null from the API (but for `algorithm`: leave it out) and names the limit a value breaks."""
    fields = {}
    for name, prop in properties.items():
        typed = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
        if len(typed) != 1 or len(prop["anyOf"]) != 2 or prop.get("default", ...) is not None:
            fields[name] = prop
            continue
        field = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
        field["type"] = typed[0]["type"]
        if "enum" in typed[0]:  # without null: a null among the choices turns the V2 form's dropdown into a text box
            field["enum"] = typed[0]["enum"]
        # the form keeps the limits only under allOf (it drops a field's own minimum, maximum and pattern)
        limits = {key: value for key, value in typed[0].items() if key not in ("type", "enum")}
        if limits:
            field["allOf"] = [limits]
        fields[name] = field
    return fields


def build_deployment(settings: Settings) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType

    from flows.ingest import ingest

    flow_parameters = set(inspect.signature(ingest.fn).parameters)
    deployment = ingest.to_deployment(
        name=settings.deployment_name,
        schedules=[schedule_for(settings)],
        parameters=scheduled_parameters(settings, flow_parameters),
        description=f"Ingest of the inbox folder and configured feeds {schedule_words(settings)}; trigger ad-hoc "
                    "runs with custom parameters from the UI (Run → Custom run).",
        tags=DEPLOYMENT_TAGS,
        # The installed package, not a file path relative to wherever `newsflow serve` was started.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    schema = deployment._parameter_openapi_schema  # noqa: SLF001 - what the form is drawn from
    schema.properties = form_fields(schema.properties)
    return deployment


class BadInbox(ValueError):
    """The inbox folder is a file or cannot be created (a bad NEWSFLOW_INBOX)."""


def make_inbox(settings: Settings) -> None:
    """Create the inbox: a scheduled run over a missing one would log a "missing path" failure every
    interval. Raises BadInbox, naming the setting, when it cannot be."""
    try:
        settings.inbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInbox(f"NEWSFLOW_INBOX={settings.inbox}: the folder cannot be created "
                       f"({exc.strerror or exc})") from None


class AlreadyServed(RuntimeError):
    """Another live process serves the deployment (a second `newsflow serve` with the same settings)."""


def refuse_if_served_elsewhere(deployment: str) -> None:
    """Raise AlreadyServed when a runner asked the server for `deployment`'s runs lately. A second
    serve of one deployment replaced its schedule with its own, and stopping it paused the
    deployment: the first serve lived on and never ran again, without a word."""
    from datetime import datetime, timezone

    from prefect import get_client
    from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY

    try:
        with get_client(sync_client=True) as client:
            polled = client.read_deployment_by_name(deployment).last_polled
    except Exception:  # noqa: BLE001 - not deployed yet, or no server: serve itself says what is wrong
        return
    if polled is None:
        return
    recent = max(3 * PREFECT_RUNNER_POLL_FREQUENCY.value(), 30)  # a live runner polls every few seconds
    age = (datetime.now(timezone.utc) - polled).total_seconds()
    if age < recent:
        raise AlreadyServed(
            f"{deployment} is served by another process (it asked for runs {max(age, 0):.0f} s ago): a second "
            "serve would take over its schedule and pause it when stopped. Stop the other one first (stopped "
            f"just now? try again in {recent - max(age, 0):.0f} s), or give this one its own NEWSFLOW_DEPLOYMENT_NAME")


def serve_ingest(settings: Settings, *, limit: int | None = None) -> None:
    """Serve the ingest deployment until interrupted (Ctrl-C pauses its schedule). `settings` are
    the ones the CLI built and checked (`newsflow serve`). Raises AlreadyServed when another process
    serves it on the same Prefect server."""
    import os

    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.ingest import ingest

    deployment = f"{ingest.name}/{settings.deployment_name}"
    make_inbox(settings)
    if PREFECT_API_URL.value():
        refuse_if_served_elsewhere(deployment)
        with runs_finish_on_ctrl_c(on_stop=lambda: pause(deployment)):
            serve(build_deployment(settings), limit=limit)
        return
    # Prefect would serve against a throwaway server whose UI nobody can open.
    print("PREFECT_API_URL is not set: serving against a temporary Prefect server without a UI.\n"
          "For the UI: run `prefect server start`, then "
          "`export PREFECT_API_URL=http://127.0.0.1:4200/api` and serve again.", file=sys.stderr)
    from prefect.server.api.server import SubprocessASGIServer

    # Each run is a process of its own: without the server's address each started one more temporary
    # server, in serve's process group, so Ctrl-C killed that server first and an interrupted run could
    # neither tell Prefect nor always record its end. Started here (stopped at exit), its address goes to
    # every run through the environment.
    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    with temporary_settings({PREFECT_API_URL: server.api_url}), runs_finish_on_ctrl_c(
            server, on_stop=lambda: pause(deployment)):
        serve(build_deployment(settings), limit=limit)


def pause(deployment: str) -> None:
    """Pause `deployment` (which deletes its scheduled runs), as serve does when it stops: a run due
    while serve waited for its runs to end was started, then killed as serve exited."""
    from prefect import get_client

    try:
        with get_client(sync_client=True) as client:
            client.pause_deployment(client.read_deployment_by_name(deployment).id)
    except Exception as exc:  # noqa: BLE001 - serve still stops; Prefect pauses it on its way out
        print(f"could not pause {deployment} at once: {exc}", file=sys.stderr)


RUNS_FINISH_S = 60  # an interrupted run records its end in a second or two; a stuck one is left behind


@contextmanager
def runs_finish_on_ctrl_c(server=None, timeout: float = RUNS_FINISH_S, on_stop=None):
    """Ctrl-C stops `serve` once its flow runs (its child processes, but `server`'s) have recorded their
    end. Prefect's serve stops its event loop at the first SIGINT, and asyncio kills (SIGKILL) the child
    processes still running then: a run the same Ctrl-C had interrupted died while writing its runs row
    or its Crashed state, and stayed `running` in the warehouse and Running in Prefect for good. The
    first Ctrl-C now waits for them (at most `timeout` seconds; the runs got the same Ctrl-C, being in
    the terminal's process group); a second one stops at once. `on_stop` runs first, in the
    background (serve pauses its deployment: no new run starts while these end)."""
    import _thread
    import contextvars
    import signal
    import threading

    import psutil

    exclude = server.server_process.pid if server is not None and server.server_process else None
    waiting: list[threading.Thread] = []

    def wait_then_stop(runs: list) -> None:
        if on_stop is not None:
            on_stop()
        psutil.wait_procs(runs, timeout=timeout)
        _thread.interrupt_main(signal.SIGINT)  # back in the handler, which now raises

    def on_sigint(signum, frame):
        if waiting:
            raise KeyboardInterrupt
        runs = [child for child in psutil.Process().children() if child.pid != exclude]
        if not runs:
            raise KeyboardInterrupt
        print(f"stopping: waiting up to {timeout:g} s for {len(runs)} flow run(s) to record their end "
              "(Ctrl-C again stops at once)", file=sys.stderr)
        # in this context: the temporary server's address is a context setting, which a thread lacks
        waiting.append(threading.Thread(target=contextvars.copy_context().run, args=(wait_then_stop, runs),
                                        daemon=True))
        waiting[0].start()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
