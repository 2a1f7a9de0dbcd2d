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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.backoff import Backoff


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
def writer_lock(warehouse: str | Path, *, wait_s: float) -> Iterator[None]:
    """Hold the warehouse's writer lock; queue (poll with backoff) while another run holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        pause = Backoff(wait_s, cap=1.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if not pause.wait():
                    raise WriterLockTimeout(
                        f"warehouse {warehouse} is being written by {_holder(fd)} for more than {wait_s:.0f}s "
                        f"(lock file {path})"
                    ) from exc
        # the holder's pid, for the message another waiting run gives
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- across machines: a PostgreSQL advisory lock --------------------------------------------------
# A flock lives in one kernel: two machines mounting the same share each get it at once, so a
# DuckLake whose catalog is on PostgreSQL takes its writer lock in that database instead. The lock
# belongs to a session: Postgres drops it when the holder's connection ends, at once for a killed
# process (its socket closes) and, through the keepalives below, within about a minute for a
# machine that vanished without closing it.
PG_LOCK_KEY = (0x6E657773, 1)  # ("news", writer); advisory locks are per database, so per lake catalog
_PG_KEEPALIVE = "SET tcp_keepalives_idle = 20; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3"


def _pg_holder(con) -> str:
    row = con.execute(
        "SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = %s::int::oid AND l.objid = %s::int::oid AND l.database = (SELECT oid FROM pg_database WHERE datname = "
        "current_database())", PG_LOCK_KEY).fetchone()
    if row is None:
        return "another writer"
    name, addr, backend = row
    return f"{name or 'a client'} from {addr or 'a local socket'} (backend {backend})"


@contextmanager
def pg_writer_lock(conninfo: str, *, wait_s: float) -> Iterator[None]:
    """Hold the lake's writer lock in its PostgreSQL catalog database; queue up to `wait_s`."""
    import socket

    import psycopg
    from psycopg import errors

    name = f"newsflow writer {socket.gethostname()}:{os.getpid()}"[:63]
    with psycopg.connect(conninfo, autocommit=True, application_name=name, connect_timeout=10) as con:
        con.execute(_PG_KEEPALIVE)
        # a blocking lock, so waiters queue in Postgres's order instead of polling
        con.execute(f"SET lock_timeout = '{max(1, int(wait_s * 1000))}ms'")
        try:
            con.execute("SELECT pg_advisory_lock(%s::int, %s::int)", PG_LOCK_KEY)
        except errors.LockNotAvailable as exc:
            con.execute("SET lock_timeout = 0")
            raise WriterLockTimeout(
                f"lake catalog {conninfo!r} is being written by {_pg_holder(con)} for more than {wait_s:.0f}s"
            ) from exc
        try:
            yield
        finally:
            if not con.closed:
                try:
                    con.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", PG_LOCK_KEY)
                except psycopg.Error:
                    pass  # the connection is going away, and the lock with it
