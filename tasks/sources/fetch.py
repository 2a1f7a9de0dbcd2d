"""Polite, SSRF-safe async HTTP fetcher (httpx), no Prefect/DuckDB here.

`fetch_many(urls, settings, previous)` fetches every URL with ONE shared
`httpx.AsyncClient` and returns one `FetchResult` per input URL, in input order.
It never raises for a single URL: failures are results with `ok=False` and a
short `error` class:

    "unsafe_url"  "unsafe_address"  "dns_error"  "blocked_by_robots"  "timeout"
    "connect_error"  "network_error"  "http_<status>"  "redirect_loop"
    "too_many_redirects"  "bad_redirect"  "content_type"  "too_large"  "too_small"
    "content_encoding"  "host_backoff"

Behaviour (parameters in `FetchSettings` below, set from NEWSFLOW_FETCH__*):

* Timeouts: httpx connect/read timeouts plus a total deadline per attempt
  (`total_timeout_s`, covering every redirect hop and the body).
* Redirects are followed manually (at most `max_redirects`); each hop is
  re-checked for safety and robots; a URL seen twice is a "redirect_loop".
* SSRF: `url_safety.check_url_syntax` on every hop; DNS resolution + address check
  happen inside the transport (`_GuardedBackend.connect_tcp`), which then connects
  to the validated IP itself — the check and the connect use the same resolution,
  so DNS rebinding between them is impossible. TLS SNI / certificate checks and
  the Host header still use the URL's host name (httpcore does TLS on the stream
  with the origin host). Environment proxies are ignored (`trust_env=False`).
* Body: Content-Length checked first, then the decoded stream is counted and cut
  at `max_body_bytes` ("too_large"); bodies under `min_body_bytes` are "too_small".
  One content coding of gzip/deflate only ("content_encoding" otherwise): a stacked
  `gzip, gzip` inflates each chunk through every layer before the cap can count it
  (1.8 KB on the wire took 2.5 GB), and br/zstd would reach the decoder undecoded.
* Content type allow-list: HTML, XHTML, plain text, RSS/Atom/RDF/XML. A missing
  Content-Type is accepted (the body is sniffed by the consumer).
* Charset: Content-Type header, else the document's own declaration (BOM,
  <meta charset>, http-equiv, XML declaration), else charset-normalizer detection;
  latin-1/ascii labels decode as windows-1252 (what browsers do).
* Politeness: User-Agent header; robots.txt fetched once per origin and cached for
  the run (urllib.robotparser). robots.txt 4xx (incl. 404) = allow all; a robots
  fetch failure (network error, 5xx, unsafe redirect) = allow all too — common
  crawler practice (RFC 9309 says 5xx should disallow; we chose availability and
  log it in `detail`). Crawl-delay raises the per-host delay (capped at 30 s).
  Per-host concurrency limit + minimum delay between request starts to one host;
  global concurrency limit over all requests.
* Retries: up to `retries` more attempts on timeouts, connection errors and
  408/425/429/500/502/503/504/522/524, exponential backoff with full jitter
  (`backoff_base_s * 2**n`, capped at `backoff_max_s`), Retry-After honoured; never on
  other 4xx or on safety refusals. A Retry-After longer than `backoff_max_s` is not
  waited for: the URL fails saying so, and the host's other URLs in this run fail as
  "host_backoff" without a request (the host asked for none).
* Conditional GET: If-None-Match / If-Modified-Since from `previous[url]`; a 304
  gives `ok=True, not_modified=True, body=None`; a 200 whose SHA-256 equals
  `previous[url].content_sha256` gives `unchanged=True`. A 304 to a request without
  validators is an error ("http_304"): there is nothing stored it could mean.
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import hashlib
import logging
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from pydantic import BaseModel, BeforeValidator, Field, field_validator
from pydantic_settings import NoDecode

from tasks.sources.url_safety import DEFAULT_MAX_URL_LENGTH, DEFAULT_SECRET_PARAMS, UnsafeURL, check_ips, check_url_syntax, redact_text

log = logging.getLogger(__name__)

__all__ = ["PreviousFetch", "FetchResult", "HostMemory", "fetch_many", "fetch_urls", "decode_body", "ALLOWED_CONTENT_TYPES",
           "HTML_TYPES", "FEED_TYPES"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/x-rss+xml",  # what many CMSs still send for RSS
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
ALLOWED_CONTENT_TYPES = HTML_TYPES | {"text/plain"} | FEED_TYPES
# the codings httpx decodes without optional packages; the request asks for these only
DECODED_CONTENT_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 522, 524})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024
CRAWL_DELAY_CAP_S = 30.0


def _installed_version() -> str:
    """The version pyproject.toml declares, as installed (one place for it)."""
    try:
        return package_version("newsflow")
    except PackageNotFoundError:  # a checkout on sys.path that was never installed
        return "0+unknown"


def _list_from_text(value):
    """A list setting as an environment variable: a JSON list (`["a", "b"]`) or, as people type
    them, comma- or space-separated words (`127.0.0.1, .corp`)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return json.loads(text)
            except ValueError as exc:
                raise ValueError(f"not a JSON list ({exc}); or give the values separated by commas") from None
        return [part for part in re.split(r"[\s,]+", text) if part]
    return value


# pydantic-settings would json-decode a list from the environment and fail on `127.0.0.1`
TextList = Annotated[list[str], NoDecode, BeforeValidator(_list_from_text)]


class FetchSettings(BaseModel):
    user_agent: str = f"newsflow/{_installed_version()} (+https://github.com/newsflow/newsflow)"
    # bounded: a negative retry count or timeout was accepted, and then failed every URL of every run
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(15.0, gt=0)
    total_timeout_s: float = Field(30.0, gt=0)
    max_redirects: int = Field(5, ge=0)
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    min_body_bytes: int = Field(10, ge=0)
    max_url_length: int = Field(DEFAULT_MAX_URL_LENGTH, gt=0)
    retries: int = Field(2, ge=0)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(10.0, ge=0)
    global_concurrency: int = Field(8, ge=1)
    per_host_concurrency: int = Field(2, ge=1)
    per_host_delay_s: float = Field(1.0, ge=0)
    obey_robots: bool = True
    # an article a feed or sitemap lists again is fetched again (for an edit) once its last good
    # fetch is this old; 0 = every run. URLs given by --url / --url-file are always fetched.
    revisit_after_hours: float = Field(24.0, ge=0)
    # SSRF guard. Intranet hosts on purpose: host names (".corp" for all under it) and address
    # ranges ("10.1.0.0/16") whose non-public addresses may be fetched. allow_private_addresses
    # lets every non-public address through (tests point at 127.0.0.1). Neither reaches
    # link-local/cloud-metadata addresses unless allow_hosts names them (tasks/sources/url_safety.py).
    allow_hosts: TextList = []
    allow_private_addresses: bool = False
    # query/fragment parameters whose values are secrets: redacted, with URL credentials, from
    # every URL stored or logged
    redact_query_params: TextList = list(DEFAULT_SECRET_PARAMS)

    @field_validator("allow_hosts")
    @classmethod
    def _hosts_or_ranges(cls, entries: list[str]) -> list[str]:
        import ipaddress

        for entry in entries:
            if "/" in entry or ":" in entry.strip("[]") or entry.replace(".", "").isdigit():
                try:
                    ipaddress.ip_network(entry.strip().strip("[]"), strict=False)
                except ValueError as exc:
                    raise ValueError(f"{entry!r} is neither a host name nor an address range: {exc}") from None
        return entries


@dataclass
class PreviousFetch:
    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = None


@dataclass
class FetchResult:
    url: str
    final_url: str | None = None
    status: int | None = None
    ok: bool = False
    not_modified: bool = False
    unchanged: bool = False
    content_type: str | None = None
    encoding: str | None = None
    body: bytes | None = None
    text: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    attempts: int = 0
    error: str | None = None
    detail: str = ""
    redirects: list[str] = field(default_factory=list)  # every hop after `url`

    def as_previous(self) -> PreviousFetch:
        """Validators to pass as `previous` next run."""
        return PreviousFetch(self.etag, self.last_modified, self.content_sha256)


def _timeout_detail(exc: BaseException, s: FetchSettings) -> str:
    """Which limit ran out, and its setting ("ReadTimeout" alone named neither)."""
    if isinstance(exc, httpx.ConnectTimeout):
        limit = f"no connection within the {s.connect_timeout_s:g} s connect timeout (NEWSFLOW_FETCH__CONNECT_TIMEOUT_S)"
    elif isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
        limit = f"no data for the {s.read_timeout_s:g} s read timeout (NEWSFLOW_FETCH__READ_TIMEOUT_S)"
    else:  # the deadline of a whole attempt: every redirect hop and the body
        limit = f"not fetched within the {s.total_timeout_s:g} s total timeout (NEWSFLOW_FETCH__TOTAL_TIMEOUT_S)"
    return f"{type(exc).__name__}: {limit}" + (f"; {exc}" if str(exc) else "")


class _FetchError(Exception):
    def __init__(self, error: str, detail: str = "", *, retry: bool = False, retry_after: float | None = None,
                 status: int | None = None, final_url: str | None = None):
        super().__init__(f"{error}: {detail}")
        self.error, self.detail, self.retry, self.retry_after = error, detail, retry, retry_after
        self.status, self.final_url = status, final_url


# --- SSRF-guarded transport ------------------------------------------------------------


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a validated IP literal."""

    def __init__(self, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None,
                 allow_hosts: tuple[str, ...] = ()):
        self.allow_private = allow_private
        self.allow_hosts = tuple(allow_hosts)
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        except asyncio.TimeoutError:
            raise httpcore.ConnectTimeout(f"DNS timeout for {host}") from None
        except OSError as exc:
            raise UnsafeURL("dns_error", f"cannot resolve {host}: {exc}") from None
        ips = list(dict.fromkeys(info[4][0] for info in infos))
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        check_ips(host, ips, allow_private=self.allow_private, allow_hosts=self.allow_hosts)  # raises UnsafeURL: fail closed
        last_exc: Exception | None = None
        for ip in ips:
            try:
                return await self.inner.connect_tcp(ip, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    async def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never used
        raise UnsafeURL("unsafe_address", "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connection pool connects only to checked addresses."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits | None = None, allow_hosts: tuple[str, ...] = ()):
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(trust_env=False, limits=limits)
        import certifi

        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_GuardedBackend(allow_private, allow_hosts=allow_hosts),
        )


# --- charset ---------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WINDOWS_1252_ALIASES = {"latin_1", "iso8859_1", "ascii", "cp1252"}


def _normalise_codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # WHATWG encoding standard: these labels mean windows-1252
    if name.replace("-", "_") in _WINDOWS_1252_ALIASES:
        return "cp1252"
    if name in ("utf-16-le", "utf-16-be"):
        return "utf-16"  # let the BOM decide
    return name


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^;\"'\s]+)", content_type, re.I)
    return m.group(1) if m else None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode with BOM → UTF-16 without a BOM → header charset → document declaration → UTF-8 (a
    few stray bytes allowed, in a declared or an undeclared UTF-8 page) →
    detection (`files.detect_encoding`, shared with the file reader). Returns (text, codec).

    The text never holds U+0000: a NUL in the first 8 KB still makes the page binary
    (`content.check_bytes` on the raw body), later stray NULs are dropped, as for files."""
    from tasks.sources.files import detect_encoding, drop_nul_bytes, sniff_utf16, strip_nul, utf8_with_stray_bytes

    candidates: list[str | None] = [_normalise_codec(_header_charset(content_type))]
    bom = next((name for mark, name in _BOMS if body.startswith(mark)), None)
    wide = None if bom else sniff_utf16(body)
    if bom or wide:
        candidates.insert(0, bom or wide)  # a BOM or a NUL every other byte outranks any label
    elif not body.isascii():
        # Bytes that are valid UTF-8 with multi-byte characters are UTF-8 whatever a label says: a legacy
        # label (windows-1251, koi8-r, latin-2) decodes anything without an error, so a wrong one was
        # stored as mojibake; and a UTF-16 label with no BOM and no NUL pattern is wrong too
        try:
            return strip_nul(body.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            candidates = [enc for enc in candidates if not (enc or "").startswith(("utf-16", "utf-32"))]
    head = body[:4096]
    m = _XML_DECL.search(head) or _META_CHARSET.search(head)
    if m:
        candidates.append(_normalise_codec(m.group(1).decode("ascii", "ignore")))
    for enc in candidates:
        if not enc:
            continue
        try:
            return strip_nul(body.decode(enc)), enc
        except (UnicodeDecodeError, LookupError):
            # declared UTF-8 with a stray byte stays UTF-8; mostly invalid, the label is wrong
            text = utf8_with_stray_bytes(body) if enc in ("utf-8", "utf-8-sig") else None
            if text is not None:
                return strip_nul(text.removeprefix("\ufeff")), "utf-8"
    body = drop_nul_bytes(body)  # no UTF-16/32 from here on: 0x00 is only ever U+0000
    text = utf8_with_stray_bytes(body)
    if text is not None:
        return text, "utf-8"
    try:
        detected = detect_encoding(body)
        if detected:
            enc = _normalise_codec(detected) or detected
            return body.decode(enc, errors="replace"), enc
    except Exception:  # pragma: no cover - detection is best effort
        pass
    return body.decode("cp1252", errors="replace"), "cp1252"


# --- politeness ------------------------------------------------------------------------


class _Host:
    def __init__(self, concurrency: int):
        self.sem = asyncio.Semaphore(max(1, concurrency))
        self.lock = asyncio.Lock()
        self.next_start = 0.0


@dataclass
class HostMemory:
    """What a run learns about each origin, kept from one `fetch_many` call to the next: a run
    fetches its feeds, then its articles batch by batch, each call with its own client and event
    loop. Kept per call, robots.txt was fetched again for every batch and a host that asked for no
    requests for an hour (Retry-After) was asked again by the next batch."""

    robots: dict[str, RobotFileParser | None] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # crawl-delay, where robots.txt set one
    closed_until: dict[str, float] = field(default_factory=dict)  # monotonic time a Retry-After names


def _origin(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), "", "", ""))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


class _Run:
    """State shared by one fetch_many call: client, limits, and the run's `HostMemory`."""

    def __init__(self, settings: FetchSettings, client: httpx.AsyncClient, memory: HostMemory,
                 also_types: frozenset[str] = frozenset()):
        self.s = settings
        self.client = client
        self.memory = memory
        self.allowed_types = ALLOWED_CONTENT_TYPES | also_types
        self.global_sem = asyncio.Semaphore(max(1, settings.global_concurrency))
        self.hosts: dict[str, _Host] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}

    def host(self, origin: str) -> _Host:
        h = self.hosts.get(origin)
        if h is None:
            h = self.hosts[origin] = _Host(self.s.per_host_concurrency)
        return h

    # one HTTP exchange, polite, returns (response, body) with the body streamed and capped
    async def request(self, url: str, headers: dict[str, str], *, max_bytes: int,
                      check_type: bool) -> tuple[httpx.Response, bytes | None]:
        origin = _origin(url)
        host = self.host(origin)
        async with host.sem:
            async with host.lock:
                now = time.monotonic()
                wait = host.next_start - now
                delay = self.memory.delays.get(origin, self.s.per_host_delay_s)
                host.next_start = max(now, host.next_start) + delay
            if wait > 0:
                await asyncio.sleep(wait)
            if self.memory.closed_until.get(origin, 0.0) > time.monotonic():  # once this request's turn came
                raise _FetchError("host_backoff", f"{origin} asked for no requests for now (Retry-After); "
                                  "no request (or no further one) in this run", final_url=url)
            async with self.global_sem:
                # total deadline per HTTP exchange (connect + headers + whole body), started
                # once the request holds its slots, so queueing for a busy host never times out
                async with asyncio.timeout(self.s.total_timeout_s):
                    return await self._exchange(url, headers, max_bytes=max_bytes, check_type=check_type)

    async def _exchange(self, url, headers, *, max_bytes, check_type):
        req = self.client.build_request("GET", url, headers=headers)
        resp = await self.client.send(req, stream=True, follow_redirects=False)
        try:
            if resp.status_code in REDIRECT_STATUSES or resp.status_code == 304 or resp.status_code >= 400:
                return resp, None
            codings = [c.strip().lower() for c in resp.headers.get("content-encoding", "").split(",")]
            codings = [c for c in codings if c and c != "identity"]
            if len(codings) > 1 or (codings and codings[0] not in DECODED_CONTENT_CODINGS):
                raise _FetchError("content_encoding", f"Content-Encoding {', '.join(codings)}: only one of "
                                  f"{', '.join(sorted(DECODED_CONTENT_CODINGS))} is accepted",
                                  status=resp.status_code, final_url=url)
            if check_type:
                mt = _media_type(resp.headers.get("content-type"))
                if mt is not None and mt not in self.allowed_types:
                    raise _FetchError("content_type", f"{mt} is not an allowed content type",
                                      status=resp.status_code, final_url=url)
            length = resp.headers.get("content-length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise _FetchError("too_large", f"Content-Length {length} > {max_bytes}",
                                  status=resp.status_code, final_url=url)
            chunks: list[bytes] = []
            total = 0
            async for chunk in resp.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise _FetchError("too_large", f"body over {max_bytes} bytes (stream cut)",
                                      status=resp.status_code, final_url=url)
                chunks.append(chunk)
            return resp, b"".join(chunks)
        finally:
            await resp.aclose()

    async def allowed_by_robots(self, url: str) -> tuple[bool, str]:
        origin = _origin(url)
        lock = self.robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self.memory.robots:
                self.memory.robots[origin] = await self._load_robots(origin)
        rp = self.memory.robots[origin]
        if rp is None:
            return True, ""
        return rp.can_fetch(self.s.user_agent, url), ""

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """None = allow all (404/4xx, or fetch failure — see module docstring)."""
        url = origin + "/robots.txt"
        try:
            for _ in range(self.s.max_redirects + 1):
                check_url_syntax(url, allow_private=self.s.allow_private_addresses, max_length=self.s.max_url_length,
                                 allow_hosts=self.s.allow_hosts)
                resp, body = await self.request(url, {}, max_bytes=ROBOTS_MAX_BYTES, check_type=False)
                if resp.status_code in REDIRECT_STATUSES and resp.headers.get("location"):
                    url = urljoin(url, resp.headers["location"])
                    continue
                break
            else:
                return None
        except (UnsafeURL, _FetchError, httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
            log.info("robots.txt for %s unavailable (%s): allowing", redact_text(origin, self.s.redact_query_params),
                     redact_text(str(exc), self.s.redact_query_params))
            return None
        if resp.status_code >= 400 or body is None:
            return None
        rp = RobotFileParser()
        rp.parse(decode_body(body, resp.headers.get("content-type"))[0].splitlines())
        delay = rp.crawl_delay(self.s.user_agent)
        if delay:
            self.memory.delays[origin] = max(self.s.per_host_delay_s, min(float(delay), CRAWL_DELAY_CAP_S))
        return rp

    # ---- one URL ----
    async def fetch(self, url: str, prev: PreviousFetch | None) -> FetchResult:
        result = FetchResult(url=url)
        s = self.s
        for attempt in range(s.retries + 1):
            result.attempts = attempt + 1
            try:
                await self._attempt(url, prev, result)
                result.error, result.detail = None, ""
                return result
            except _FetchError as exc:
                result.error, result.detail = exc.error, exc.detail
                result.status = exc.status if exc.status is not None else result.status
                result.final_url = exc.final_url or result.final_url
                retry, retry_after = exc.retry, exc.retry_after
            except UnsafeURL as exc:
                result.error = "unsafe_address" if exc.reason == "unsafe_address" else (
                    "dns_error" if exc.reason == "dns_error" else "unsafe_url")
                result.detail = str(exc)
                return result
            except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
                result.error, result.detail = "timeout", _timeout_detail(exc, s)
                retry, retry_after = True, None
            except httpx.DecodingError as exc:  # a body its Content-Encoding does not fit
                result.error, result.detail = "content_encoding", f"body does not decode: {exc}"
                return result
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                result.error, result.detail = "unsafe_url", str(exc)
                return result
            except httpx.ConnectError as exc:
                result.error, result.detail = "connect_error", str(exc) or type(exc).__name__
                retry, retry_after = True, None
            except (httpx.TransportError, OSError) as exc:
                result.error, result.detail = "network_error", f"{type(exc).__name__}: {exc}"
                retry, retry_after = True, None
            except Exception as exc:  # never let one URL break the batch
                log.error("unexpected error fetching %s: %s", redact_text(url, s.redact_query_params),
                          redact_text(f"{type(exc).__name__}: {exc}", s.redact_query_params))
                result.error, result.detail = "internal_error", f"{type(exc).__name__}: {exc}"
                return result
            if retry and retry_after is not None and retry_after > s.backoff_max_s:
                # waiting an hour inside a run helps no one; the next scheduled run asks again
                self.memory.closed_until[_origin(result.final_url or url)] = time.monotonic() + retry_after
                result.detail = (f"{result.detail}; " if result.detail else "") + (
                    f"Retry-After {retry_after:.0f} s is longer than this run waits ({s.backoff_max_s:g} s)")
                return result
            if not retry or attempt >= s.retries:
                if retry and result.attempts > 1:  # "http_500" alone did not say it was asked three times
                    result.detail = f"{result.detail} (after {result.attempts} attempts)"
                return result
            backoff = min(s.backoff_max_s, s.backoff_base_s * (2**attempt))
            pause = random.uniform(0, backoff)  # full jitter
            if retry_after is not None:
                pause = max(pause, retry_after)
            await asyncio.sleep(pause)
        return result

    async def _attempt(self, url: str, prev: PreviousFetch | None, result: FetchResult) -> None:
        s = self.s
        validators: dict[str, str] = {}  # the request's only headers beyond the client's
        if prev is not None:
            if prev.etag:
                validators["If-None-Match"] = prev.etag
            if prev.last_modified:
                validators["If-Modified-Since"] = prev.last_modified
        current = url
        seen = {url}
        hops: list[str] = []
        for _hop in range(s.max_redirects + 1):
            check_url_syntax(current, allow_private=s.allow_private_addresses, max_length=s.max_url_length,
                             allow_hosts=s.allow_hosts)
            if s.obey_robots:
                allowed, _ = await self.allowed_by_robots(current)
                if not allowed:
                    raise _FetchError("blocked_by_robots", f"robots.txt disallows {current}", final_url=current)
            resp, body = await self.request(current, validators, max_bytes=s.max_body_bytes, check_type=True)
            # when the answer came (fetch_log.fetched_at): the result was made before the host's turn,
            # robots.txt and retries, so three URLs of one batch all read the batch's start
            result.fetched_at = datetime.now(timezone.utc)
            status = resp.status_code
            result.status, result.final_url = status, current
            if status in REDIRECT_STATUSES:
                location = resp.headers.get("location")
                if not location:
                    raise _FetchError("bad_redirect", f"{status} without Location", status=status, final_url=current)
                nxt = urljoin(current, location.strip())
                nxt = urlunsplit(urlsplit(nxt)._replace(fragment=""))
                if nxt in seen:
                    raise _FetchError("redirect_loop", f"{current} -> {nxt} was already visited",
                                      status=status, final_url=current)
                seen.add(nxt)
                hops.append(nxt)
                result.redirects = list(hops)
                current = nxt
                continue
            result.etag = resp.headers.get("etag")
            result.last_modified = resp.headers.get("last-modified")
            result.content_type = resp.headers.get("content-type")
            if status == 304:
                if not validators:
                    raise _FetchError("http_304", "Not Modified to a request without validators: nothing "
                                      "stored that it could mean", status=status, final_url=current)
                result.ok, result.not_modified = True, True
                if prev is not None:
                    result.etag = result.etag or prev.etag
                    result.last_modified = result.last_modified or prev.last_modified
                    result.content_sha256 = prev.content_sha256
                return
            if status >= 400 or status < 200:
                retry_after = _retry_after(resp.headers.get("retry-after")) if status in RETRY_STATUSES else None
                raise _FetchError(f"http_{status}", resp.reason_phrase or "", retry=status in RETRY_STATUSES,
                                  retry_after=retry_after, status=status, final_url=current)
            body = body or b""
            if len(body) < s.min_body_bytes:
                raise _FetchError("too_small", f"{len(body)} bytes < {s.min_body_bytes}", status=status,
                                  final_url=current)
            result.body = body
            result.content_sha256 = hashlib.sha256(body).hexdigest()
            result.text, result.encoding = decode_body(body, result.content_type)
            result.unchanged = bool(prev is not None and prev.content_sha256 == result.content_sha256)
            result.ok = True
            return
        raise _FetchError("too_many_redirects", f"more than {s.max_redirects} redirects", final_url=current)


def _client(settings: FetchSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_s,
        read=settings.read_timeout_s,
        write=settings.read_timeout_s,
        pool=settings.total_timeout_s,
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=settings.allow_private_addresses,
                                   allow_hosts=tuple(settings.allow_hosts)),
        timeout=timeout,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate", "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"},
        follow_redirects=False,
        trust_env=False,
    )


async def fetch_many(
    urls: Iterable[str],
    settings: FetchSettings | None = None,
    previous: dict[str, PreviousFetch] | None = None,
    memory: HostMemory | None = None,
    also_types: frozenset[str] = frozenset(),
) -> list[FetchResult]:
    """Fetch all URLs concurrently with one shared client; one result per input URL, in order.
    A URL listed twice is fetched once (both positions get the same result object). `memory`
    carries what is known of the hosts from the run's earlier calls, and takes what this one learns;
    `also_types` are media types accepted beside `ALLOWED_CONTENT_TYPES` (gzipped sitemaps)."""
    settings = settings or FetchSettings()
    previous = previous or {}
    urls = list(urls)
    unique = list(dict.fromkeys(urls))
    async with _client(settings) as client:
        run = _Run(settings, client, HostMemory() if memory is None else memory, also_types)
        done = await asyncio.gather(*(run.fetch(u, previous.get(u)) for u in unique))
    by_url = dict(zip(unique, done))
    return [by_url[u] for u in urls]


def _run_sync(coro):
    """Run a coroutine to completion from sync code: `asyncio.run`, or a worker thread
    with its own loop when a loop is already running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop_here = False
    else:
        loop_here = True
    if not loop_here:  # run outside the `except`: a Ctrl-C's traceback read "no running event loop"
        return asyncio.run(coro)
    box: dict[str, object] = {}

    def worker() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=worker, name="newsflow-fetch", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]


def fetch_urls(
    urls: Iterable[str],
    settings: FetchSettings | None = None,
    previous: dict[str, PreviousFetch] | None = None,
    memory: HostMemory | None = None,
) -> list[FetchResult]:
    """Synchronous wrapper of `fetch_many` (works inside a running event loop too,
    e.g. a Prefect async task or Jupyter, by using a worker thread)."""
    return _run_sync(fetch_many(list(urls), settings, previous, memory))
