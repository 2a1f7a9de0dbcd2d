"""Who owns a run: process id, host name and the process's start time.

A run records its owner when it starts (`Warehouse.start_run`). A run SIGKILLed, OOM-killed or
lost with its machine never reaches `finish_run`, so its row would say `running` forever; the next
run on the same host checks each `running` row of that host and marks it `abandoned` when its
process is gone. A pid alone is not proof: pids are recycled, so a live process with the recorded
pid but another start time is a different process, and the run is abandoned too.

Rows from other hosts are never judged (their processes cannot be seen from here); rows without
an owner (written before migration 004) are left as they are.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import psutil

# Start times are derived from the boot time, which the kernel may report a second apart on
# different reads; a recycled pid cannot come back this soon (the pid space has to wrap first).
START_TIME_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    started_at: datetime | None  # local time, like runs.started_at; None when it cannot be read


def hostname() -> str:
    return socket.gethostname()


def process_started_at(pid: int) -> datetime | None | bool:
    """Start time of a live process; False if there is no such process (or only its zombie);
    None if it is alive but its start time cannot be read (another user's process, say)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):  # over, only not reaped
            return False
        return datetime.fromtimestamp(proc.create_time())
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return None


def current() -> Owner:
    started = process_started_at(os.getpid())
    return Owner(os.getpid(), hostname(), started if isinstance(started, datetime) else None)


def gone_reason(owner: Owner) -> str | None:
    """Why the owner's process is certainly gone, or None if it may still be running (or the owner
    is on another host, or unknown)."""
    if owner.pid is None or owner.host != hostname():
        return None
    now_started = process_started_at(owner.pid)
    if now_started is False:
        return f"process {owner.pid} on {owner.host} is gone"
    if isinstance(now_started, datetime) and owner.started_at is not None \
            and abs(now_started - owner.started_at) > START_TIME_TOLERANCE:
        return (f"process {owner.pid} on {owner.host} is gone (pid reused by a process started "
                f"{now_started:%Y-%m-%d %H:%M:%S}, the run's started {owner.started_at:%Y-%m-%d %H:%M:%S})")
    return None
