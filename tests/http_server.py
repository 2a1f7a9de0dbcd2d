"""A real HTTP server on 127.0.0.1 in a background thread, with scripted routes.

    from tests.http_server import Reply, serve, http_server   # fixture import

    def test_x(http_server):
        http_server.route("/a", Reply(200, b"<html>...</html>", content_type="text/html"))
        http_server.route("/flaky", [Reply(500), Reply(200, b"ok body")])  # replies in turn, last repeats
        http_server.route("/echo", lambda req: Reply(200, req.headers.get("User-Agent", "").encode()))
        url = http_server.url("/a")
        ...
        assert http_server.hits("/flaky") == 2
        http_server.requests  # every Request(method, path, headers) received, in order

`Reply` options: `delay` (seconds before the status line), `chunks` (an iterable
of bytes streamed without Content-Length, with `chunk_delay` between them — use
`itertools.repeat(b"x" * 1024)` for an endless body), `headers`; faults: `reset` (send nothing,
abort the connection with a TCP RST), `truncate_to` (announce the whole body's Content-Length, send
only its first N bytes, then close).
Unknown paths answer 404. `serve()` is the context manager behind the
`http_server` fixture, for use outside pytest.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Iterator, Union

import pytest

__all__ = ["Reply", "Request", "ScriptedServer", "serve", "http_server"]


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: Iterable[bytes] | None = None
    chunk_delay: float = 0.0
    reset: bool = False
    truncate_to: int | None = None

    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


Handler = Union[Reply, list, Callable[[Request], Reply]]


class ScriptedServer:
    def __init__(self, host: str = "127.0.0.1"):
        self._routes: dict[str, Handler] = {}
        self._cursor: dict[str, Iterator[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                outer._handle(self)

            def do_HEAD(self):
                outer._handle(self, head=True)

        self.httpd = ThreadingHTTPServer((host, 0), _H)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="test-http", daemon=True
        )

    # -- scripting --
    def route(self, path: str, handler: Handler) -> "ScriptedServer":
        """Register `path` (exact path, query string ignored)."""
        with self._lock:
            self._routes[path] = handler
            if isinstance(handler, list):
                seq = list(handler)
                self._cursor[path] = itertools.chain(seq, itertools.repeat(seq[-1]))
        return self

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)

    # -- lifecycle --
    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- serving --
    def _reply_for(self, req: Request) -> Reply:
        path = req.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(req)
            handler = self._routes.get(path)
            if isinstance(handler, list):
                return next(self._cursor[path])
        if handler is None:
            return Reply(404, b"not found", content_type="text/plain")
        if callable(handler) and not isinstance(handler, Reply):
            return handler(req)
        return handler

    def _handle(self, h: BaseHTTPRequestHandler, head: bool = False) -> None:
        req = Request(h.command, h.path, {k: v for k, v in h.headers.items()})
        reply = self._reply_for(req)
        try:
            if reply.delay:
                time.sleep(reply.delay)
            if reply.reset:
                # SO_LINGER 0: close() sends RST, what a crashing proxy or middlebox does
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.close_connection = True
                h.connection.close()
                return
            h.send_response(reply.status)
            if reply.content_type:
                h.send_header("Content-Type", reply.content_type)
            for k, v in reply.headers.items():
                h.send_header(k, v)
            if reply.chunks is not None:
                h.send_header("Connection", "close")
                h.close_connection = True
                h.end_headers()
                if not head:
                    for chunk in reply.chunks:
                        h.wfile.write(chunk)
                        h.wfile.flush()
                        if reply.chunk_delay:
                            time.sleep(reply.chunk_delay)
                return
            body = b"" if reply.status in (204, 304) else reply.body_bytes()
            if reply.status not in (204, 304):
                h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if not head and body:
                h.wfile.write(body if reply.truncate_to is None else body[: reply.truncate_to])
            if reply.truncate_to is not None:
                h.wfile.flush()
                h.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            h.close_connection = True  # the client hung up (timeouts, size limits): expected


@contextlib.contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[ScriptedServer]:
    server = ScriptedServer(host).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    """A fresh scripted server on 127.0.0.1 for one test."""
    with serve() as server:
        yield server
