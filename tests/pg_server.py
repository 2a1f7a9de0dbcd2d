"""A real PostgreSQL server in a temporary directory, for tests and benchmarks.

PostgreSQL refuses to run as root, and CI runs as root, so as root the server runs as `nobody`
(its directory is handed to that user); as anyone else it runs as the caller. It listens on
127.0.0.1 only, on a free port, with trust authentication: nothing outside the machine can reach it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BINARIES = ("initdb", "pg_ctl", "postgres")
SERVER_USER = "nobody"


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: str = "postgres"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user={self.user}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.conninfo(name)

    def stop(self) -> None:
        _run(["pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    as_other = os.geteuid() == 0
    # the user's own group and no supplementary ones, so the server keeps none of root's groups
    ids = {"user": SERVER_USER, "group": pwd.getpwnam(SERVER_USER).pw_gid, "extra_groups": []} if as_other else {}
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120, **ids,
                          # `nobody` cannot read root's cwd or home
                          cwd="/", env={**os.environ, "HOME": "/tmp"} if as_other else None)


def start() -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER)
    data = root / "data"
    port = free_port()
    try:
        _run(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='{root}' -c fsync=off " \
                  "-c max_connections=200"
        _run(["pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start"])
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"postgres did not start: {exc.stderr or exc.stdout}\n{log}") from exc
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return PostgresServer(root, port)
