"""Hostile input never hangs, aborts or pollutes a run.

A corpus generated here (never checked in): a folder holding a FIFO, a socket, a symlink loop,
a dangling symlink, a symlink to /etc/passwd, random bytes, NUL bytes, a 1 MB single line,
bad encodings; and a loopback server answering random bytes as `text/html; charset=bogus`,
a PNG served as HTML, bytes no encoding fits, an empty feed, an entity-expansion feed, a
redirect to the cloud-metadata address, URLs carrying credentials and tokens. The flow must
complete, record each bad item with its reason, store the good ones, and keep no secret.
`bench/reliability.py --only hostile` runs each input alone and prints time and peak RSS.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tasks.sources.content import ReadError
from tasks.sources.fetch import FetchResult
from tasks.sources.files import decode_bytes, discover_paths, read_file
from tasks.sources.url_safety import AddressPolicy, UnsafeURL, check_url_syntax, redact_text, redact_url
from tasks.sources.web import fetch_results_to_batch
from tests.http_server import Reply, http_server  # noqa: F401  (fixture)

SECRET = "s3cr3tVALUE"
GOOD_TEXT = ("Storm closes the harbour\n\nA storm closed the harbour on Tuesday, officials said. Ferries were "
             "cancelled and fishing boats stayed in port until the wind dropped.\n\nThe coast guard said the "
             "outer breakwater was damaged and repairs would take several weeks.")
ARTICLE = """<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>The {thing} reopened on Thursday morning after a storm closed it for two days, officials said.</p>
<p>Services resumed their normal timetable and crews returned to work before dawn on the coast.</p>
<p>The council said repairs to the damaged sections would take several weeks and cost millions.</p>
</article></body></html>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "http://x.example/a">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<rss version="2.0"><channel><title>t</title><item><link>&c;</link></item></channel></rss>"""


def _random_bytes(n: int, seed: int, low: int = 0, high: int = 255) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randint(low, high) for _ in range(n))


def make_hostile_folder(root: Path) -> dict[str, str]:
    """Create the folder corpus; file name -> expected failure reason ("" = stored)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.txt").write_text(GOOD_TEXT)
    os.mkfifo(root / "fifo.txt")
    (root / "loop_a.txt").symlink_to("loop_b.txt")
    (root / "loop_b.txt").symlink_to("loop_a.txt")
    (root / "dangling.txt").symlink_to("no_such_file.txt")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "zero.txt").symlink_to("/dev/zero")
    (root / "random.txt").write_bytes(_random_bytes(20_000, 1))
    (root / "nul.txt").write_bytes(GOOD_TEXT.encode()[:100] + b"\x00" * 50 + GOOD_TEXT.encode()[100:])
    (root / "bad_bom.txt").write_bytes(b"\xef\xbb\xbf" + _random_bytes(2_000, 2, 0x80, 0xff))
    (root / "latin1.txt").write_bytes(GOOD_TEXT.replace("harbour", "harbour café").encode("cp1252"))
    (root / "huge_line.txt").write_text(" ".join(["harbour ferry storm council bridge"] * 12_000))  # one 420k line
    (root / "book.txt").write_text("The harbour ferry ran late again. " * 16_000)  # 540k characters: no article
    # a page of 1.1M characters of text: refused as it is read, before extraction spends a minute on it
    (root / "page_dump.html").write_text("<html><body><h1>Log</h1>" + "entry<br>\n" * 220_000 + "</body></html>")
    (root / "empty.txt").write_bytes(b"")
    (root / "symbols.txt").write_text("!!! --- *** ??? ... ###\n" * 20)
    return {"good.txt": "", "fifo.txt": "not_regular_file", "loop_a.txt": "symlink_loop", "loop_b.txt": "symlink_loop",
            "dangling.txt": "dangling_symlink", "passwd.txt": "symlink_outside", "zero.txt": "symlink_outside",
            "random.txt": "binary", "nul.txt": "binary", "bad_bom.txt": "undecodable", "latin1.txt": "",
            "huge_line.txt": "", "book.txt": "too_long", "page_dump.html": "too_long", "empty.txt": "empty",
            "symbols.txt": "empty"}


class UnixSocket:
    """A listening Unix socket in the folder, as a running service leaves one."""

    def __init__(self, path: Path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))

    def close(self) -> None:
        self.sock.close()


def route_hostile(server) -> tuple[dict[str, str], dict[str, str]]:
    """Script the server; returns (article URL -> expected reason, feed URL -> expected reason)."""
    server.route("/good", Reply(200, ARTICLE.format(title="The harbour reopens", thing="harbour")))
    server.route("/garbage", Reply(200, _random_bytes(20_000, 3), content_type="text/html; charset=bogus"))
    server.route("/png", Reply(200, b"\x89PNG\r\n\x1a\n" + _random_bytes(5_000, 4), content_type="text/html"))
    server.route("/high-bytes", Reply(200, _random_bytes(20_000, 5, 0x80, 0xff), content_type="text/html; charset=bogus"))
    server.route("/latin", Reply(200, ARTICLE.format(title="Le café du port rouvre", thing="café").encode("cp1252"),
                                 content_type="text/html; charset=bogus"))
    server.route("/tokened", Reply(200, ARTICLE.format(title="The bridge reopens", thing="bridge")))
    server.route("/to-metadata", Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    server.route("/empty-feed.xml", Reply(200, '<?xml version="1.0"?><rss version="2.0"><channel><title>quiet'
                                               '</title></channel></rss>', content_type="application/rss+xml"))
    server.route("/laughs.xml", Reply(200, BILLION_LAUGHS, content_type="application/rss+xml"))
    server.route("/not-a-feed.xml", Reply(200, _random_bytes(4_000, 6, 0x20, 0x7e), content_type="application/xml"))
    credentialed = server.url("/good").replace("http://", f"http://admin:{SECRET}@")
    urls = {server.url("/good"): "", server.url("/garbage"): "binary", server.url("/png"): "binary",
            server.url("/high-bytes"): "undecodable", server.url("/latin"): "",
            server.url(f"/tokened?id=7&token={SECRET}"): "", server.url("/to-metadata"): "unsafe_address",
            credentialed: "unsafe_url"}
    feeds = {server.url("/empty-feed.xml"): "empty_feed", server.url("/laughs.xml"): "empty_feed",
             server.url("/not-a-feed.xml"): "not_a_feed"}
    return urls, feeds


def warehouse_text(path: Path) -> str:
    """Every value of every table, as text: what a secret would have to hide in."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        chunks = []
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
            for row in con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                chunks.append(" ".join(str(v) for v in row))
        return "\n".join(chunks)
    finally:
        con.close()


# -- unit layer: discovery, reading, the shared content check, URL policy and redaction --------

@pytest.mark.unit
def test_discovery_records_every_unsafe_path_and_never_raises(tmp_path):
    expected = make_hostile_folder(tmp_path / "inbox")
    sock = UnixSocket(tmp_path / "inbox" / "socket.txt")
    try:
        files, failures = discover_paths([str(tmp_path / "inbox"), str(tmp_path / "inbox" / "*.txt")])
    finally:
        sock.close()
    reasons = {Path(f.source).name: f.reason for f in failures}
    assert reasons == {**{n: r for n, r in expected.items() if r in (
        "not_regular_file", "symlink_loop", "dangling_symlink", "symlink_outside")}, "socket.txt": "not_regular_file"}
    assert len(failures) == len(reasons)  # a path reached by the folder and the glob fails once
    assert "named pipe (FIFO)" in next(f.detail for f in failures if f.source.endswith("fifo.txt"))
    assert "NEWSFLOW_FOLLOW_SYMLINKS_OUTSIDE" in next(f.detail for f in failures if f.source.endswith("passwd.txt"))
    assert {f.name for f in files} == {n for n, r in expected.items() if r not in (
        "not_regular_file", "symlink_loop", "dangling_symlink", "symlink_outside")}


@pytest.mark.unit
def test_following_links_outside_still_refuses_devices(tmp_path):
    make_hostile_folder(tmp_path / "inbox")
    files, failures = discover_paths([str(tmp_path / "inbox")], follow_symlinks_outside=True)
    assert Path("/etc/passwd") in files
    assert {Path(f.source).name: f.detail for f in failures}["zero.txt"] == "character device, not a regular file"


@pytest.mark.unit
@pytest.mark.timeout(60)
def test_a_recursive_glob_does_not_follow_folder_links_round_and_round(tmp_path, monkeypatch):
    # `data/**/*.txt` with a `self -> .` and an `up -> ..` link: glob.glob followed them for ever
    # (100,000 paths in 13 s and counting), and the run never got to its first file
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "sub" / "a.txt").write_text("A story.", encoding="utf-8")
    (tmp_path / "data" / "b.txt").write_text("B story.", encoding="utf-8")
    (tmp_path / "data" / ".hidden.txt").write_text("hidden", encoding="utf-8")
    os.symlink(".", tmp_path / "data" / "self")
    os.symlink("..", tmp_path / "data" / "sub" / "up")
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    for pattern in ("data/**/*.txt", str(tmp_path / "data" / "**" / "*.txt")):
        files, failures = discover_paths([pattern])
        assert sorted(f.relative_to(tmp_path).as_posix() for f in files) == ["data/b.txt", "data/sub/a.txt"], pattern
        assert failures == []
    assert time.monotonic() - started < 10


@pytest.mark.unit
def test_special_files_named_directly_fail_at_once(tmp_path):
    fifo = tmp_path / "named.txt"
    os.mkfifo(fifo)
    files, failures = discover_paths([str(fifo)])
    assert files == [] and failures[0].reason == "not_regular_file"
    started = time.monotonic()
    for path in (fifo, Path("/dev/zero")):  # e.g. a FIFO put where a file was after discovery
        docs, failed = read_file(path, max_bytes=1000)
        assert docs == [] and failed[0].reason == "not_regular_file", failed
    assert time.monotonic() - started < 5


@pytest.mark.unit
def test_a_file_swapped_for_a_link_after_discovery_is_not_followed(tmp_path):
    """Discovery refuses a link that leads outside the folder, but a file replaced by one between
    discovery and reading (a 20,000-file inbox takes minutes) was read through it: /etc/passwd was
    stored as an article."""
    from tasks.batch import read_paths

    folder, outside = tmp_path / "inbox", tmp_path / "secret.txt"
    folder.mkdir()
    outside.write_text(GOOD_TEXT.replace("harbour", "vault"))
    (folder / "a.txt").write_text(GOOD_TEXT)
    (folder / "b.txt").write_text(GOOD_TEXT.replace("storm", "gale"))
    paths, failures = discover_paths([str(folder)])
    assert failures == [] and len(paths) == 2
    (folder / "b.txt").unlink()
    (folder / "b.txt").symlink_to(outside)
    docs, failed = read_paths(paths, max_bytes=100_000)
    assert [d.source for d in docs] == [str(folder / "a.txt")]
    assert [(f.source, f.reason) for f in failed] == [(str(folder / "b.txt"), "changed_since_discovery")]


@pytest.mark.unit
def test_a_hung_read_is_cut_by_the_deadline(tmp_path, monkeypatch):
    import tasks.sources.files as files

    release = threading.Event()
    monkeypatch.setattr(files, "_read_regular", lambda path, max_bytes: release.wait(30) and b"")
    path = tmp_path / "slow.txt"
    path.write_text("x")
    try:
        docs, failed = files.read_file(path, max_bytes=100, timeout_s=0.2)
    finally:
        release.set()
    assert docs == [] and failed[0].reason == "read_timeout"


def _page(body: bytes, content_type: str) -> FetchResult:
    from tasks.sources.fetch import decode_body

    text, encoding = decode_body(body, content_type)
    return FetchResult(url="http://news.example/a", final_url="http://news.example/a", status=200, ok=True,
                       content_type=content_type, encoding=encoding, body=body, text=text, content_sha256="x")


@pytest.mark.unit
@pytest.mark.parametrize("body, reason", [
    (_random_bytes(20_000, 3), "binary"),
    (b"%PDF-1.7 " + b"a" * 100, "binary"),
    (GOOD_TEXT.encode()[:50] + b"\x00" + GOOD_TEXT.encode()[50:], "binary"),
    (_random_bytes(20_000, 5, 0x80, 0xff), "undecodable"),
    (b"   \n\t   \n   ", "empty"),
])
def test_files_and_pages_get_the_same_content_check(tmp_path, body, reason):
    with pytest.raises(ReadError) as err:
        decode_bytes(body)
    assert err.value.reason == reason
    batch = fetch_results_to_batch([_page(body, "text/plain; charset=bogus")])
    assert batch.docs == [] and [(f.stage, f.reason) for f in batch.failures] == [("fetch", reason)]


@pytest.mark.unit
def test_redaction_removes_credentials_and_named_tokens_only():
    assert redact_url(f"https://bob:{SECRET}@news.example/a?id=7&token={SECRET}&Sig={SECRET}#access_token={SECRET}") \
        == "https://REDACTED@news.example/a?id=7&token=REDACTED&Sig=REDACTED#access_token=REDACTED"
    plain = "https://news.example/a?id=7&q=a+b%20c"
    assert redact_url(plain) == plain  # unchanged to the character: stored identities stay put
    assert redact_url(f"https://news.example/a?session={SECRET}", ["session"]) == "https://news.example/a?session=REDACTED"
    assert redact_url(f"https://news.example/a?mine={SECRET}", ["mine"]) == "https://news.example/a?mine=REDACTED"
    assert redact_text(f"cannot fetch http://u:{SECRET}@h.example/x?key={SECRET}, giving up") \
        == "cannot fetch http://REDACTED@h.example/x?key=REDACTED, giving up"


@pytest.mark.unit
@pytest.mark.parametrize("url, allow_private, allow_hosts, allowed", [
    ("http://10.1.2.3/", False, [], False),
    ("http://10.1.2.3/", False, ["10.1.0.0/16"], True),
    ("http://10.2.0.1/", False, ["10.1.0.0/16"], False),
    ("http://169.254.169.254/", True, [], False),
    ("http://169.254.169.254/", False, ["0.0.0.0/0"], False),
    ("http://169.254.169.254/", False, ["169.254.169.254"], True),
    ("http://[::ffff:169.254.169.254]/", True, [], False),
    ("http://[fd00:ec2::254]/", True, [], False),
    ("http://100.100.100.200/", True, [], False),
    ("http://127.0.0.1/", True, [], True),
    ("http://8.8.8.8/", False, [], True),
])
def test_allow_list_and_metadata_addresses(url, allow_private, allow_hosts, allowed):
    try:
        check_url_syntax(url, allow_private=allow_private, allow_hosts=allow_hosts)
        got = True
    except UnsafeURL as exc:
        assert "NEWSFLOW_FETCH__ALLOW_HOSTS" in str(exc)
        got = False
    assert got is allowed


@pytest.mark.unit
def test_allowed_host_names_reach_private_addresses_but_never_metadata():
    policy = AddressPolicy(allow_hosts=["wiki.corp", ".intra.example"])
    assert policy.allows("wiki.corp", "10.0.0.5") and policy.allows("news.intra.example", "192.168.1.2")
    assert not policy.allows("other.corp", "10.0.0.5")
    assert not policy.allows("wiki.corp", "169.254.169.254")  # a name resolving there is still refused


@pytest.mark.unit
def test_allowed_host_name_is_fetched_and_metadata_redirect_refused(http_server):  # noqa: F811
    from tasks.sources.fetch import FetchSettings, fetch_urls

    http_server.route("/a", Reply(200, ARTICLE.format(title="Intranet", thing="wiki")))
    http_server.route("/meta", Reply(302, headers={"Location": "http://169.254.169.254/latest/"}))
    settings = FetchSettings(allow_hosts=["localhost"], per_host_delay_s=0, retries=0, obey_robots=False)
    by_name = http_server.url("/a").replace("127.0.0.1", "localhost")
    ok, refused = fetch_urls([by_name, http_server.url("/a")], settings)
    assert ok.ok, ok.detail
    assert refused.error == "unsafe_address" and "NEWSFLOW_FETCH__ALLOW_HOSTS" in refused.detail
    settings = FetchSettings(allow_private_addresses=True, per_host_delay_s=0, retries=0, obey_robots=False)
    (meta,) = fetch_urls([http_server.url("/meta")], settings)
    assert meta.error == "unsafe_address" and "metadata" in meta.detail and http_server.hits("/meta") == 1


# -- end to end: the corpus through the flow -------------------------------------------------------

@pytest.mark.timeout(600)
def test_hostile_corpus_through_the_flow(tmp_path, http_server, prefect_harness, monkeypatch):  # noqa: F811
    from flows.ingest import ingest

    for name, value in {"ALLOW_PRIVATE_ADDRESSES": "true", "PER_HOST_DELAY_S": "0", "BACKOFF_BASE_S": "0.01",
                        "RETRIES": "0"}.items():
        monkeypatch.setenv(f"NEWSFLOW_FETCH__{name}", value)
    folder = tmp_path / "inbox"
    expected_files = make_hostile_folder(folder)
    sock = UnixSocket(folder / "socket.txt")
    expected_urls, expected_feeds = route_hostile(http_server)
    wh = tmp_path / "hostile.duckdb"
    try:
        report = ingest(paths=[str(folder)], urls=list(expected_urls), feeds=list(expected_feeds),
                        warehouse=str(wh), batch_size=5)
    finally:
        sock.close()
    con = duckdb.connect(str(wh), read_only=True)
    try:
        status = con.execute("SELECT status FROM runs").fetchall()
        stored = {r[0] for r in con.execute("SELECT source FROM documents").fetchall()}
        failed = {r[0]: r[1] for r in con.execute("SELECT source, reason FROM failures").fetchall()}
    finally:
        con.close()
    assert status == [("completed",)]
    for name, reason in {**expected_files, "socket.txt": "not_regular_file"}.items():
        source = str(folder / name)
        if reason:
            assert failed.get(source) == reason, (name, failed.get(source), failed)
        else:
            assert source in stored, (name, stored)
    for url, reason in {**expected_urls, **expected_feeds}.items():
        kept = redact_url(url)
        if reason:
            assert failed.get(kept) == reason, (url, failed.get(kept))
        else:
            assert kept in stored, (url, stored)
    assert report["failures"] == len(failed)
    assert SECRET not in warehouse_text(wh)

    # the same inputs again: nothing new, no doubled failure rows (the FIFO is still there)
    sock = UnixSocket(folder / "socket2.txt")
    try:
        again = ingest(paths=[str(folder)], urls=list(expected_urls), warehouse=str(wh), batch_size=5)
    finally:
        sock.close()
    assert again["documents_new"] == 0, again
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute("SELECT count(*) - count(DISTINCT (source, stage, reason)) FROM failures").fetchone()[0] == 0
        assert con.execute("SELECT list(status ORDER BY started_at) FROM runs").fetchone()[0] == ["completed"] * 2
    finally:
        con.close()
    assert SECRET not in warehouse_text(wh)


def test_poison_files_fail_alone_and_the_rest_is_stored(tmp_path, prefect_harness):
    """Files that once failed the whole batch, on every run: a JSON number of 5,000 digits (Python's
    int limit raises a plain ValueError), a JSON lone surrogate (unhashable, unstorable), a file name
    whose bytes are not UTF-8, and records whose text is a number, a list or an object."""
    from flows.ingest import ingest
    from tasks.document import printable

    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TEXT)
    (folder / "big.json").write_text('{"text": "a b c", "n": ' + "9" * 5000 + "}")
    (folder / "surrogate.json").write_text('{"title": "Harbour", "text": "' + GOOD_TEXT.replace("\n", " ")
                                           + ' \\ud800 the end."}')
    (folder / "odd.jsonl").write_text('{"text": 1}\n{"text": ["Ferries", "cancelled"]}\n{"text": {"x": 1}}\n')
    bad_name = os.fsdecode(os.fsencode(folder) + b"/bad\xffname.txt")
    Path(bad_name).write_text(GOOD_TEXT.replace("storm", "gale"))
    wh = tmp_path / "w.duckdb"
    report = ingest(paths=[str(folder)], warehouse=str(wh))
    with duckdb.connect(str(wh), read_only=True) as con:
        stored = dict(con.execute("SELECT source, text FROM documents").fetchall())
        failed = dict(con.execute("SELECT source, reason FROM failures").fetchall())
        assert con.execute("SELECT list(status) FROM runs").fetchone()[0] == ["completed"]
    assert report["failures"] == 3
    assert failed == {str(folder / "big.json"): "invalid_json", f"{folder}/odd.jsonl#L1": "empty",
                      f"{folder}/odd.jsonl#L3": "empty"}
    assert set(stored) == {str(folder / "good.txt"), printable(bad_name), f"{folder}/surrogate.json#0",
                           f"{folder}/odd.jsonl#L2"}
    assert printable(bad_name).endswith("bad\\xffname.txt")
    assert "\ufffd the end" in stored[f"{folder}/surrogate.json#0"]
    again = ingest(paths=[str(folder)], warehouse=str(wh))
    assert (again["documents_new"], again["unchanged"]) == (0, 4), again


def test_a_path_or_url_argument_that_is_not_utf8_is_refused_in_one_line(tmp_path, capsys):
    from newsflow.cli import main

    bad = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.txt")
    for args in ([bad], ["--url", os.fsdecode(b"http://127.0.0.1:9/caf\xe9")]):
        assert main(["ingest", *args, "--warehouse", str(tmp_path / "w.duckdb")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "caf\\xe9" in err and "not valid UTF-8" in err, err


# -- the command line: bad warehouse file, sql limits ---------------------------------------------

def test_ingest_names_a_warehouse_file_that_is_not_duckdb(tmp_path, capsys):
    from newsflow.cli import main

    bogus = tmp_path / "x.duckdb"
    bogus.write_text("not a database")
    (tmp_path / "a.txt").write_text(GOOD_TEXT)
    started = time.monotonic()
    assert main(["ingest", str(tmp_path / "a.txt"), "--warehouse", str(bogus)]) == 2
    assert time.monotonic() - started < 30  # refused before Prefect's server starts
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bogus) in err and "not a DuckDB database" in err
    assert main(["sql", "SELECT 1", "--warehouse", str(bogus)]) == 2
    assert "not a DuckDB database" in capsys.readouterr().err
    assert bogus.read_text() == "not a database"


def test_sql_stops_at_its_time_and_memory_limits(tmp_path, capsys, monkeypatch):
    from newsflow.cli import main

    wh = tmp_path / "w.duckdb"
    duckdb.connect(str(wh)).close()
    monkeypatch.setenv("NEWSFLOW_SQL__TIMEOUT_S", "1")
    started = time.monotonic()
    assert main(["sql", "SELECT count(*) FROM range(1000000000000)", "--warehouse", str(wh)]) == 1
    assert time.monotonic() - started < 20
    assert "NEWSFLOW_SQL__TIMEOUT_S" in capsys.readouterr().err
    monkeypatch.setenv("NEWSFLOW_SQL__TIMEOUT_S", "60")
    monkeypatch.setenv("NEWSFLOW_SQL__MEMORY_LIMIT", "40MB")
    assert main(["sql", "SELECT count(*) FROM (SELECT range % 100000000 AS k, list(range) FROM range(50000000) "
                        "GROUP BY 1)", "--warehouse", str(wh)]) == 1
    assert "NEWSFLOW_SQL__MEMORY_LIMIT" in capsys.readouterr().err
    monkeypatch.setenv("NEWSFLOW_SQL__MAX_ROWS", "5")
    assert main(["sql", "SELECT * FROM range(100)", "--warehouse", str(wh), "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert out.out.split() == ["range", "0", "1", "2", "3", "4"] and "NEWSFLOW_SQL__MAX_ROWS" in out.err


@pytest.mark.unit
def test_conditional_get_finds_the_state_stored_under_the_redacted_url(http_server):  # noqa: F811
    from tasks.sources.fetch import FetchSettings
    from tasks.sources.web import fetch_batch, stored_urls

    http_server.route("/feed-item", lambda req: Reply(304, b"") if req.headers.get("If-None-Match") == '"v1"'
                      else Reply(200, ARTICLE.format(title="Changed", thing="pier")))
    settings = FetchSettings(allow_private_addresses=True, per_host_delay_s=0, retries=0, obey_robots=False)
    url = http_server.url(f"/feed-item?token={SECRET}")
    (key,) = stored_urls([url], settings)
    assert SECRET not in key
    batch = fetch_batch([url], settings, {key: ('"v1"', None, "sha")})
    assert batch.unchanged == 1 and batch.docs == [] and batch.failures == []
    assert [e["url"] for e in batch.fetch_log] == [key]


# what a scraper saves when a bot check answers instead of the site (hand-written after Cloudflare's,
# PerimeterX's, Akamai's and a site's own CAPTCHA page)
BOT_CHECKS = {
    "cloudflare.txt": "Just a moment...\n\nChecking your browser before accessing example.com.\n\nThis process is "
                      "automatic. Your browser will redirect to your requested content shortly.\n\nPlease allow up "
                      "to 5 seconds…\n\nDDoS protection by Cloudflare\n\nRay ID: 7a1b2c3d4e5f6789\n",
    "captcha.txt": "Example News - Are you a robot?\n\nWe've detected unusual activity from your computer network\n\n"
                   "To continue, please click the box below to let us know you're not a robot.\n\nWhy did this "
                   "happen?\n\nPlease make sure your browser supports JavaScript and cookies and that you are not "
                   "blocking them from loading.\n\nNeed Help?\n\nFor inquiries related to this message please "
                   "contact our support team and provide the reference ID below.\n\nBlock reference ID:\n",
    "akamai.txt": "Access Denied\n\nYou don't have permission to access \"http://www.example.com/news/storm\" on this "
                  "server.\n\nReference #18.6f2d3e17.1699999999.1a2b3c4d\n",
    "press-and-hold.txt": "Storm hits the coast as thousands evacuate\n\nPress & Hold to confirm you are a human "
                          "(and not a bot).\n\nReference ID 3c5e2a10-7f1b-11ee-b962-0242ac120002\n",
}


def test_a_bot_check_in_place_of_the_page_is_no_article(tmp_path):
    """Each of these was stored as an article (text, summary, search entry; "Are you a robot?" as a
    headline). A bot check without a headline now fails `empty_after_cleaning`; one under the
    article's headline leaves the page headline-only, as other access walls do."""
    from tests.test_dedup import ingest_files

    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in BOT_CHECKS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    store = ingest_files(sorted(folder.iterdir()), tmp_path / "w.duckdb")
    _, failed = store.query("SELECT regexp_extract(source, '[^/]+$'), reason FROM failures ORDER BY 1")
    assert failed == [("akamai.txt", "empty_after_cleaning"), ("captcha.txt", "empty_after_cleaning"),
                      ("cloudflare.txt", "empty_after_cleaning")]
    _, stored = store.query("SELECT regexp_extract(source, '[^/]+$'), headline_only, text FROM documents ORDER BY 1")
    assert stored[1] == ("press-and-hold.txt", True, "Storm hits the coast as thousands evacuate")
    assert stored[0][0] == "good.txt" and not stored[0][1] and "breakwater" in stored[0][2]
