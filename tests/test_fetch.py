"""Fetcher tests against a real HTTP server on 127.0.0.1 (tests/http_server.py)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from tasks.sources.fetch import FetchSettings
from tasks.sources.fetch import FetchResult, PreviousFetch, decode_body, fetch_many, fetch_urls

try:
    from tests.http_server import Reply, http_server  # noqa: F401  (fixture)
except ImportError:  # pragma: no cover - tests/ itself on sys.path
    from http_server import Reply, http_server  # noqa: F401

PAGE = "<html><head><title>T</title></head><body><p>" + "Hello news world. " * 20 + "</p></body></html>"


def fast_settings(**kw) -> FetchSettings:
    base = dict(
        allow_private_addresses=True,  # the test server is on loopback
        obey_robots=False,
        per_host_delay_s=0.0,
        connect_timeout_s=1.0,
        read_timeout_s=0.5,
        total_timeout_s=2.0,
        retries=2,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        max_body_bytes=64 * 1024,
    )
    base.update(kw)
    return FetchSettings(**base)


def one(url: str, settings: FetchSettings | None = None, previous=None) -> FetchResult:
    (r,) = fetch_urls([url], settings or fast_settings(), previous)
    return r


def test_200_html(http_server):
    http_server.route("/a", Reply(200, PAGE, headers={"ETag": '"v1"', "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    r = one(http_server.url("/a"))
    assert r.ok and r.status == 200 and r.error is None
    assert r.text == PAGE and r.body == PAGE.encode()
    assert r.encoding == "utf-8" and r.content_type.startswith("text/html")
    assert r.etag == '"v1"' and r.last_modified.startswith("Wed")
    assert r.content_sha256 and len(r.content_sha256) == 64
    assert r.attempts == 1 and r.final_url == http_server.url("/a")
    ua = http_server.requests[-1].headers.get("User-Agent")
    assert ua and ua.startswith("newsflow/")


def test_304_on_refetch_and_unchanged_hash(http_server):
    def handler(req):
        if req.headers.get("If-None-Match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, PAGE, headers={"ETag": '"v1"'})

    http_server.route("/a", handler)
    first = one(http_server.url("/a"))
    assert first.ok and not first.not_modified
    prev = {http_server.url("/a"): first.as_previous()}
    second = one(http_server.url("/a"), previous=prev)
    assert second.ok and second.not_modified and second.status == 304 and second.body is None
    assert second.content_sha256 == first.content_sha256
    assert http_server.requests[-1].headers.get("If-None-Match") == '"v1"'

    # server ignores validators but body is identical -> unchanged
    http_server.route("/b", Reply(200, PAGE))
    b1 = one(http_server.url("/b"))
    b2 = one(http_server.url("/b"), previous={http_server.url("/b"): PreviousFetch(None, "x", b1.content_sha256)})
    assert b2.ok and b2.unchanged and not b2.not_modified
    assert http_server.requests[-1].headers.get("If-Modified-Since") == "x"


def test_404_not_retried(http_server):
    r = one(http_server.url("/missing"))
    assert not r.ok and r.error == "http_404" and r.status == 404 and r.attempts == 1
    assert http_server.hits("/missing") == 1


def test_500_then_200_is_retried(http_server):
    http_server.route("/flaky", [Reply(500, "boom"), Reply(200, PAGE)])
    r = one(http_server.url("/flaky"))
    assert r.ok and r.attempts == 2 and http_server.hits("/flaky") == 2


def test_503_retry_after_is_honoured(http_server):
    http_server.route("/busy", [Reply(503, "busy", headers={"Retry-After": "1"}), Reply(200, PAGE)])
    t0 = time.monotonic()
    r = one(http_server.url("/busy"), fast_settings(backoff_max_s=2.0))
    assert r.ok and r.attempts == 2
    assert 0.9 <= time.monotonic() - t0 < 5  # waited the Retry-After, not only the backoff


def test_retry_after_beyond_the_backoff_is_not_waited_for_and_spares_the_host(http_server):
    """A 429 asking for an hour: no retry within the run, the reason says why, and the same
    host's other URLs are not requested (they fail as host_backoff); other hosts go on."""
    http_server.route("/limited", Reply(429, "slow down", headers={"Retry-After": "3600"}))
    http_server.route("/other", Reply(200, PAGE))
    settings = fast_settings(backoff_max_s=0.3, global_concurrency=1, per_host_concurrency=1)
    limited, other = fetch_urls([http_server.url("/limited"), http_server.url("/other")], settings)
    assert (limited.ok, limited.error, limited.attempts) == (False, "http_429", 1)
    assert "Retry-After 3600 s is longer than this run waits" in limited.detail
    assert (other.ok, other.error) == (False, "host_backoff") and http_server.hits("/other") == 0
    assert http_server.hits("/limited") == 1


def test_content_codings_other_than_one_gzip_or_deflate_are_refused(http_server):
    import gzip

    body = gzip.compress(PAGE.encode())
    http_server.route("/gz", Reply(200, body, headers={"Content-Encoding": "gzip"}))
    http_server.route("/double", Reply(200, gzip.compress(body), headers={"Content-Encoding": "gzip, gzip"}))
    http_server.route("/br", Reply(200, b"\x1b\x03\x00" * 40, headers={"Content-Encoding": "br"}))
    http_server.route("/fake-gz", Reply(200, PAGE, headers={"Content-Encoding": "gzip"}))
    gz, double, br, fake = fetch_urls([http_server.url(p) for p in ("/gz", "/double", "/br", "/fake-gz")],
                                      fast_settings())
    assert gz.ok and gz.text == PAGE
    assert (double.error, br.error, fake.error) == ("content_encoding",) * 3
    assert "gzip, gzip" in double.detail and "Content-Encoding br" in br.detail
    assert "does not decode" in fake.detail
    assert http_server.requests[0].headers.get("Accept-Encoding") == "gzip, deflate"


def test_unsolicited_304_is_an_error(http_server):
    http_server.route("/nm", Reply(304))
    r = one(http_server.url("/nm"))
    assert (r.ok, r.error, r.status) == (False, "http_304", 304) and "without validators" in r.detail


def test_persistent_500_gives_up(http_server):
    http_server.route("/down", Reply(500, "boom"))
    r = one(http_server.url("/down"), fast_settings(retries=2))
    assert not r.ok and r.error == "http_500" and r.attempts == 3 and http_server.hits("/down") == 3
    assert r.detail.endswith("(after 3 attempts)")  # the failure row says it was asked three times


def test_slow_response_times_out(http_server):
    http_server.route("/slow", Reply(200, PAGE, delay=1.5))
    t0 = time.monotonic()
    r = one(http_server.url("/slow"), fast_settings(read_timeout_s=0.3, retries=0))
    assert not r.ok and r.error == "timeout"
    assert time.monotonic() - t0 < 1.4
    assert r.detail.startswith("ReadTimeout: no data for the 0.3 s read timeout (NEWSFLOW_FETCH__READ_TIMEOUT_S)")


def test_total_deadline_on_trickling_body(http_server):
    # every chunk arrives within the read timeout, but the whole body never ends
    http_server.route("/trickle", Reply(200, chunks=itertools.repeat(b"x" * 10), chunk_delay=0.05))
    t0 = time.monotonic()
    r = one(http_server.url("/trickle"), fast_settings(total_timeout_s=0.5, retries=0, max_body_bytes=10**9))
    assert r.error == "timeout" and time.monotonic() - t0 < 2
    assert "not fetched within the 0.5 s total timeout (NEWSFLOW_FETCH__TOTAL_TIMEOUT_S)" in r.detail


def test_endless_body_cut_at_limit(http_server):
    http_server.route("/endless", Reply(200, chunks=itertools.repeat(b"a" * 4096)))
    r = one(http_server.url("/endless"), fast_settings(max_body_bytes=100_000, retries=0))
    assert not r.ok and r.error == "too_large" and r.body is None


def test_declared_length_too_large(http_server):
    http_server.route("/big", Reply(200, "x" * 5000))
    r = one(http_server.url("/big"), fast_settings(max_body_bytes=1000))
    assert r.error == "too_large" and "Content-Length" in r.detail


def test_too_small_body(http_server):
    http_server.route("/tiny", Reply(200, "hi"))
    r = one(http_server.url("/tiny"))
    assert r.error == "too_small"


def test_redirect_followed_and_loop_detected(http_server):
    http_server.route("/r1", Reply(302, headers={"Location": "/r2"}))
    http_server.route("/r2", Reply(301, headers={"Location": http_server.url("/a")}))
    http_server.route("/a", Reply(200, PAGE))
    r = one(http_server.url("/r1"))
    assert r.ok and r.final_url == http_server.url("/a") and len(r.redirects) == 2

    http_server.route("/loop1", Reply(302, headers={"Location": "/loop2"}))
    http_server.route("/loop2", Reply(302, headers={"Location": "/loop1"}))
    r = one(http_server.url("/loop1"))
    assert not r.ok and r.error == "redirect_loop" and r.attempts == 1


def test_too_many_redirects(http_server):
    for i in range(10):
        http_server.route(f"/h{i}", Reply(302, headers={"Location": f"/h{i + 1}"}))
    r = one(http_server.url("/h0"), fast_settings(max_redirects=5))
    assert r.error == "too_many_redirects" and http_server.hits("/h6") == 0


def test_wrong_content_type(http_server):
    http_server.route("/img", Reply(200, b"\x89PNG" + b"\0" * 100, content_type="image/png"))
    r = one(http_server.url("/img"))
    assert not r.ok and r.error == "content_type" and "image/png" in r.detail


def test_windows_1252_page_decoded(http_server):
    text = "Caf\u00e9 \u201cquoted\u201d \u2014 na\u00efve r\u00e9sum\u00e9 \u20ac5 " * 5
    body_1252 = f"<html><head><title>x</title></head><body><p>{text}</p></body></html>".encode("cp1252")
    # declared as iso-8859-1 (browsers read it as windows-1252)
    http_server.route("/hdr", Reply(200, body_1252, content_type="text/html; charset=iso-8859-1"))
    # no header charset: the meta tag decides
    meta = body_1252.replace(b"<head>", b'<head><meta charset="windows-1252">')
    http_server.route("/meta", Reply(200, meta, content_type="text/html"))
    # nothing declared: detection
    http_server.route("/none", Reply(200, body_1252, content_type="text/html"))
    for path in ("/hdr", "/meta", "/none"):
        r = one(http_server.url(path))
        assert r.ok, (path, r.error, r.detail)
        assert text in r.text, (path, r.encoding)
        assert r.encoding == "cp1252", (path, r.encoding)


def test_a_utf8_page_under_a_wrong_legacy_label_is_read_as_utf8(http_server):
    """A legacy codec decodes any bytes without an error, so a wrong label made mojibake
    ('BrГјcke') that search could not find; valid multi-byte UTF-8 is UTF-8 whatever the label."""
    text = "Über die Brücke fuhr Müller am Dienstag — zum ersten Mal seit März. " * 5
    body = f"<html><head><meta charset='utf-8'><title>x</title></head><body><p>{text}</p></body></html>".encode()
    for label in ("windows-1251", "koi8-r", "iso-8859-2", "utf-16"):
        http_server.route(f"/{label}", Reply(200, body, content_type=f"text/html; charset={label}"))
        r = one(http_server.url(f"/{label}"))
        assert r.ok and r.encoding == "utf-8" and text in r.text, (label, r.encoding, r.text[:80])
    # a real legacy page under its own label is still read by the label
    cyrillic = "Над мостом через реку прошёл первый трамвай, сообщили в мэрии города. " * 5
    http_server.route("/cp1251", Reply(200, f"<p>{cyrillic}</p>".encode("cp1251"),
                                       content_type="text/html; charset=windows-1251"))
    r = one(http_server.url("/cp1251"))
    assert r.encoding == "cp1251" and cyrillic in r.text


def test_xml_declaration_charset():
    body = '<?xml version="1.0" encoding="ISO-8859-15"?><rss><t>\u20ac</t></rss>'.encode("iso8859_15")
    text, enc = decode_body(body, "application/rss+xml")
    assert "\u20ac" in text and enc == "iso8859-15"


def test_robots_disallow_and_cache(http_server):
    http_server.route("/robots.txt", Reply(200, "User-agent: *\nDisallow: /private\n", content_type="text/plain"))
    http_server.route("/private/x", Reply(200, PAGE))
    http_server.route("/public", Reply(200, PAGE))
    s = fast_settings(obey_robots=True)
    blocked, allowed = fetch_urls([http_server.url("/private/x"), http_server.url("/public")], s)
    assert blocked.error == "blocked_by_robots" and not blocked.ok
    assert allowed.ok
    assert http_server.hits("/private/x") == 0
    assert http_server.hits("/robots.txt") == 1  # cached per host


def test_robots_404_allows_all(http_server):
    http_server.route("/a", Reply(200, PAGE))
    r = one(http_server.url("/a"), fast_settings(obey_robots=True))
    assert r.ok and http_server.hits("/robots.txt") == 1


def test_per_host_delay_and_concurrency(http_server):
    http_server.route("/p", Reply(200, PAGE))
    urls = [http_server.url(f"/p?{i}") for i in range(4)]
    t0 = time.monotonic()
    results = fetch_urls(urls, fast_settings(per_host_delay_s=0.15, per_host_concurrency=1))
    assert all(r.ok for r in results)
    assert time.monotonic() - t0 >= 0.45  # 3 gaps of 0.15 s between 4 request starts
    # each says when its answer came (fetch_log.fetched_at): all four read the batch's start before
    times = sorted(r.fetched_at for r in results)
    assert (times[-1] - times[0]).total_seconds() >= 0.25, times  # 0.45 s between the first and last start


def test_results_in_input_order_and_failures_isolated(http_server):
    http_server.route("/ok", Reply(200, PAGE))
    urls = [http_server.url("/ok"), "file:///etc/passwd", http_server.url("/nope"), "http://[::1", http_server.url("/ok")]
    results = fetch_urls(urls, fast_settings())
    assert [r.url for r in results] == urls
    assert [r.error for r in results] == [None, "unsafe_url", "http_404", "unsafe_url", None]


def test_sync_wrapper_inside_running_loop(http_server):
    http_server.route("/a", Reply(200, PAGE))

    async def inside():
        return fetch_urls([http_server.url("/a")], fast_settings())

    (r,) = asyncio.run(inside())
    assert r.ok


def test_connect_error_is_retried_then_reported():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = one(f"http://127.0.0.1:{port}/", fast_settings(retries=1))
    assert r.error == "connect_error" and r.attempts == 2


# --- SSRF: the allow setting off ---------------------------------------------------------


@pytest.mark.parametrize(
    "url, error",
    [
        ("http://127.0.0.1/", "unsafe_address"),
        ("http://10.1.2.3/", "unsafe_address"),
        ("http://169.254.169.254/latest/meta-data/", "unsafe_address"),
        ("http://[::1]/", "unsafe_address"),
        ("http://[::ffff:127.0.0.1]/", "unsafe_address"),
        ("http://localhost/", "unsafe_address"),  # a name resolving to loopback: caught at connect
        ("file:///etc/passwd", "unsafe_url"),
        ("gopher://example.com/", "unsafe_url"),
        ("http://example.com/" + "a" * 3000, "unsafe_url"),
        ("http://no-such-host.invalid/", "dns_error"),  # fail closed
    ],
)
def test_ssrf_refusals(url, error):
    r = one(url, fast_settings(allow_private_addresses=False, retries=0))
    assert not r.ok and r.error == error, (r.error, r.detail)
    assert r.attempts == 1


def test_ssrf_real_server_refused_when_private_disallowed(http_server):
    http_server.route("/a", Reply(200, PAGE))
    r = one(http_server.url("/a"), fast_settings(allow_private_addresses=False))
    assert r.error == "unsafe_address"
    assert http_server.hits("/a") == 0


def test_ssrf_redirect_to_loopback_refused(http_server):
    """An allowed-looking public URL that redirects to loopback must be refused at the hop.

    The first hop has to be reachable, so the test server stands in for a public host:
    the guard is told that 127.0.0.1:<port> is public only for the connect-time check,
    and the redirect goes to a different loopback name (localhost / [::1] / 127.0.0.2)."""
    from tasks.sources import fetch as fetch_mod

    http_server.route("/go", Reply(302, headers={"Location": "http://127.0.0.1:1/secret"}))
    http_server.route("/go-name", Reply(302, headers={"Location": "http://localhost:1/secret"}))

    real_check = fetch_mod.check_ips
    real_syntax = fetch_mod.check_url_syntax
    server_prefix = f"http://127.0.0.1:{http_server.port}/"

    def check_url_syntax(url, *, allow_private, max_length=2083, allow_hosts=()):
        if url.startswith(server_prefix):  # the stand-in "public" first hop
            return "127.0.0.1"
        return real_syntax(url, allow_private=allow_private, max_length=max_length, allow_hosts=allow_hosts)

    def check_ips(host, ips, *, allow_private, allow_hosts=()):
        if host == "127.0.0.1":  # only reachable through the stand-in above
            return None
        return real_check(host, ips, allow_private=allow_private, allow_hosts=allow_hosts)

    mp = pytest.MonkeyPatch()
    mp.setattr(fetch_mod, "check_ips", check_ips)
    mp.setattr(fetch_mod, "check_url_syntax", check_url_syntax)
    try:
        r1 = one(http_server.url("/go"), fast_settings(allow_private_addresses=False, retries=0))
        r2 = one(http_server.url("/go-name"), fast_settings(allow_private_addresses=False, retries=0))
    finally:
        mp.undo()
    assert http_server.hits("/go") == 1 and r1.error == "unsafe_address", (r1.error, r1.detail)
    assert r1.final_url == http_server.url("/go") and r1.status == 302
    assert http_server.hits("/go-name") == 1 and r2.error == "unsafe_address", (r2.error, r2.detail)


def test_fetch_many_shares_one_client(http_server, monkeypatch):
    import httpx

    created = []
    real_init = httpx.AsyncClient.__init__

    def init(self, *a, **kw):
        created.append(1)
        real_init(self, *a, **kw)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", init)
    http_server.route("/a", Reply(200, PAGE))
    http_server.route("/robots.txt", Reply(200, "User-agent: *\nAllow: /\n", content_type="text/plain"))
    results = asyncio.run(fetch_many([http_server.url(f"/a?{i}") for i in range(5)], fast_settings(obey_robots=True)))
    assert all(r.ok for r in results) and len(created) == 1


def test_a_url_file_takes_comments_after_a_url_and_several_urls_on_a_line(tmp_path):
    """"https://x/a # the lead story" was fetched as "https://x/a " (a 404 under a source with a
    trailing space); two URLs a tab apart were glued into one."""
    from tasks.sources.web import read_url_file

    path = tmp_path / "urls.txt"
    path.write_text("# morning list\nhttps://x.test/a # the lead story\n\nhttps://x.test/b\thttps://x.test/c\n"
                    "  https://x.test/d#section  \n", encoding="utf-8")
    assert read_url_file(path) == ["https://x.test/a", "https://x.test/b", "https://x.test/c",
                                   "https://x.test/d#section"]


def test_one_page_typed_with_and_without_percent_escapes_is_one_source():
    """"/café" pasted from a browser and "/caf%C3%A9" from a feed were two sources, each fetched
    and stored (the second an exact duplicate); an escaped "/" is kept, it is not a path step."""
    from tasks.sources.web import article_urls

    assert article_urls(["https://x.test/a/café", "https://x.test/a/caf%c3%a9", "https://x.test/a/caf%C3%A9#top",
                         "https://x.test/s?q=ü"]) == ["https://x.test/a/caf%C3%A9", "https://x.test/s?q=%C3%BC"]
    assert article_urls(["https://x.test/a%2Fb"]) == ["https://x.test/a%2Fb"]


def test_an_interrupt_during_a_fetch_reads_as_itself_not_as_a_missing_event_loop():
    """Ctrl-C on `serve` mid-fetch printed 'RuntimeError: no running event loop' above the
    KeyboardInterrupt: the fetch loop was started inside the `except` that found no loop running."""
    from tasks.sources.fetch import _run_sync

    async def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        _run_sync(interrupted())
    assert caught.value.__context__ is None
