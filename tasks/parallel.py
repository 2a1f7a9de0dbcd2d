"""Run a pure batch function over chunks of documents on all cores.

Cleaning and summarizing are CPU-bound and independent per document, so a
batch is split into one chunk per worker and mapped over a process pool.
The pool is created once per run and reused across its batches (worker
start-up imports sumy/numpy: about a second), then shut down so idle workers
do not hold memory while the search index is built or between runs. Small
batches run inline, where the pool's pickling would cost more than it saves.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0
_POOL_LOCK = threading.Lock()  # the flow submits one batch's summaries and the next batch's cleaning from two threads


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_MAIN_SWAP_LOCK = threading.Lock()


class _LeanSpawnProcess(SpawnProcess):
    """A spawned worker that does not re-import the parent's ``__main__``.

    A spawned child runs the parent's main script (or module) again so that functions defined
    there can be unpickled. Ours never are: the pool runs functions from ``tasks``. But the main
    is the ``newsflow`` CLI, ``prefect.engine`` under a deployment, or a benchmark, and importing
    it loaded Prefect and the whole flow into every worker (266 MiB before any work, against 155
    with only the pool's own modules). The child's start-up data is taken from ``sys.modules["__main__"]`` inside ``start()``,
    so a bare stand-in is put there for that moment (under a lock: concurrent starts would
    otherwise restore each other's stand-in)."""

    def start(self) -> None:
        with _MAIN_SWAP_LOCK:
            main = sys.modules["__main__"]
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                super().start()
            finally:
                sys.modules["__main__"] = main


class _LeanSpawnContext(SpawnContext):
    Process = _LeanSpawnProcess


# nltk's package __init__ imports these for classifiers and collocation statistics, each inside
# try/except ImportError, and sumy imports nltk for its stemmer. Pool work (cleaning, story terms,
# summaries) uses neither: marked missing, a worker starts in 0.9 s with 69 MiB instead of 2.6 s
# with 155 MiB. Work that did need them fails loudly with ImportError (tests/test_parallel.py).
_NOT_IN_WORKERS = ("sklearn", "scipy")


def _lean_worker() -> None:
    for name in _NOT_IN_WORKERS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "import fails" by design
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()


PARENT_CHECK_S = 1.0


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL, the OOM killer) waits on its task queue forever;
    it leaves within a second of being re-parented. (PR_SET_PDEATHSIG would follow the thread
    that spawned the worker, a Prefect worker thread that ends long before the run.)"""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_WORKERS
    with _POOL_LOCK:
        if _POOL is None or _POOL_WORKERS != workers:
            shutdown_pool()
            # spawn, not fork: the flow process runs Prefect's threads, and forking a threaded process can deadlock
            _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=_LeanSpawnContext(),
                                        initializer=_lean_worker)
            _POOL_WORKERS = workers
        return _POOL


def shutdown_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL = None


atexit.register(shutdown_pool)


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


def release_freed_memory() -> None:
    """Give the heap memory freed since the last call back to the OS (glibc's malloc_trim).

    A batch allocates and frees tens of MB (texts, pickles to and from the pool) in several
    threads, and glibc keeps freed blocks in its per-thread arenas: a 20k-document run's flow
    process crept from 625 to 833 MiB with the Python heap flat at 115 MiB; trimmed after each
    batch, 491 to 567 MiB (the fix Dask documents for "memory not released back to the OS")."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _run_and_release(fn: Callable[..., R], chunk: list, *args) -> R:
    """In a pool worker: one chunk, then its freed memory back to the OS."""
    try:
        return fn(chunk, *args)
    finally:
        release_freed_memory()


def split(items: Sequence[T], parts: int) -> list[list[T]]:
    """Contiguous, near-equal chunks (order is kept so results can be concatenated)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        chunks.append(list(items[start:end]))
        start = end
    return chunks


def map_chunks(fn: Callable[..., R], items: Sequence[T], *args, workers: int = 1, min_items: int = 32) -> list[R]:
    """[fn(chunk, *args) for each chunk], in parallel when worth it. Results in chunk order."""
    if workers <= 1 or len(items) < min_items:
        return [fn(list(items), *args)]
    pool = _pool(workers)
    futures = [pool.submit(_run_and_release, fn, chunk, *args) for chunk in split(items, workers)]
    return [f.result() for f in futures]
