"""One writer per warehouse file, across processes, that dies with its holder.

DuckDB lets one process open a file read-write, but it releases the file between
our short connections, so two runs could still interleave their "what is stored?"
lookups and their writes. This lock spans a whole batch, from lookup to commit.

It is an OS advisory lock (flock) on `<warehouse>.lock`, not a Prefect global
concurrency limit: a SIGKILLed run's flock is released by the kernel at once,
while a Prefect slot stays taken until its lease expires (and never, on the
ephemeral server, which runs no lease reaper); it also needs no API round trip
that a busy server can answer with 503.
"""

from __future__ import annotations

import errno
import fcntl
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterLockTimeout(RuntimeError):
    """Another run held the warehouse's writer lock for longer than the configured wait."""


def lock_path(warehouse: str | Path) -> Path:
    path = Path(warehouse).expanduser().resolve()
    return path.with_name(path.name + ".lock")


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii", "replace").strip()
        return f"process {pid}" if pid else "another process"
    except OSError:
        return "another process"


@contextmanager
def writer_lock(warehouse: str | Path, *, wait_s: float = 3600.0) -> Iterator[None]:
    """Hold the warehouse's writer lock; queue (poll with backoff) while another run holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise WriterLockTimeout(
                        f"warehouse {warehouse} is being written by {_holder(fd)} for more than {wait_s:.0f}s "
                        f"(lock file {path})"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)
        # the holder's pid, for the message another waiting run gives
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
