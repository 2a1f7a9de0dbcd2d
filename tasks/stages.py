"""The pipeline's stages as Prefect tasks: `PrefectStages` is the stage runner the ingest flow
hands to `tasks.pipeline.Pipeline`, so every stage of every batch is a task run named after
the batch ("clean files batch 2/9 (1000 files)"). The plain functions stay plain; benchmarks
run the same pipeline with `tasks.pipeline.InlineStages`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from tasks.pipeline import Pending
from tasks.stage_names import STAGES

T = TypeVar("T")


class Handoff(Generic[T]):
    """A task's return value, emptied when the flow takes it.

    Prefect keeps each task run's return value reachable until the flow run ends (in the run's
    transaction records), so a long run could hold every batch it had processed
    (tests/test_stages.py: 10, 20 ... 60 documents held without it, none with it). A task returns
    its batch in a Handoff; the flow `take()`s it and Prefect keeps only the empty shell."""

    __slots__ = ("_value",)
    _TAKEN = object()

    def __init__(self, value: T):
        self._value = value

    def take(self) -> T:
        value, self._value = self._value, Handoff._TAKEN
        if value is Handoff._TAKEN:
            raise RuntimeError("this task result was already taken")
        return value

    def __getstate__(self):  # pickled when a Dask worker sends the result back
        return (self._value,)  # a tuple: pickle skips __setstate__ for a false state

    def __setstate__(self, state) -> None:
        (self._value,) = state


def signal_behind(exc: BaseException) -> BaseException | None:
    """The KeyboardInterrupt (Ctrl-C) or Prefect TerminationSignal (SIGTERM) an ordinary error
    was raised while handling, if any. DuckDB (1.4) answers a signal that arrives mid-query with
    `RuntimeError('Query interrupted')` raised while handling the signal's own exception: an ordinary
    error, which the store step retried (the run then went on to its end and exited 0) or
    reported as the run's failure (exit 1, not 130)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if not isinstance(exc, Exception):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _stage_function(stage: str) -> Callable:
    """A module-level function named after the stage: Dask names its tasks (and the dashboard
    its task stream) after the function, and pickles it by that name."""

    def run(fn: Callable, args: tuple, label: str) -> Handoff:
        try:
            return Handoff(fn(*args))
        except Exception as exc:
            interrupt = signal_behind(exc)
            if interrupt is None:
                raise
            raise interrupt from None  # a signal is never retried: the run stops, as asked

    run.__name__ = run.__qualname__ = stage.replace("-", "_")
    globals()[run.__name__] = run
    return run


# a lost connection or lock at commit is worth two more tries; the write is one transaction
_RETRIES = {"store": 2}
# ...a full or read-only disk is not: the retry met the failed commit's keys on the same database and
# reported "Duplicate key" in place of "No space left on device"
_NOT_WORTH_RETRYING = ("No space left on device", "Disk quota exceeded", "Read-only file system",
                       "database has been invalidated")


def worth_retrying(_task, _task_run, state) -> bool:
    """Prefect's retry condition for the stages with retries: not when the disk refused the write."""
    error = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return not any(marker in str(error) for marker in _NOT_WORTH_RETRYING)


TASKS = {name: task(_stage_function(name), name=name, task_run_name=name + " {label}", cache_policy=NO_CACHE,
                    retries=_RETRIES.get(name, 0), retry_delay_seconds=2, retry_condition_fn=worth_retrying)
         for name in STAGES}


class _Taken:
    def __init__(self, future):
        self._future = future

    def result(self):
        return self._future.result().take()


class PrefectStages:
    """`tasks.pipeline.Stages` as Prefect task runs: `run` inline, `submit` on the flow's task runner."""

    def __init__(self, on_dask: bool = False):
        # quote(): Prefect would otherwise walk every document of a batch looking for futures;
        # prefect-dask hands a quoted argument to the task still wrapped, so only quote locally
        self._wrap = (lambda value: value) if on_dask else quote

    def run(self, stage: str, fn: Callable, *args, label: str):
        return TASKS[stage](fn, self._wrap(args), label).take()

    def submit(self, stage: str, fn: Callable, *args, label: str) -> Pending:
        return _Taken(TASKS[stage].submit(fn, self._wrap(args), label))
