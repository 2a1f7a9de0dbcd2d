"""Bad input never stops a run, and unsafe input is contained.

Stage level: hypothesis feeds the reader (`parse_bytes`, `decode_bytes`), the cleaner, the
deduplicator and the summarizer random bytes, random Unicode (zero-width, control, right-to-left),
huge lines and deeply nested or truncated HTML/JSON. The only exception a reader may raise is
`ReadError` (which the flow turns into a failure row); the other stages never raise on text.

Flow level: one real `newsflow ingest` process over a folder of nasty files (a 50 MB file, a
1 MB single line, nesting bombs, a file name full of SQL quotes, a symlink pointing outside the
folder): it completes, every item is stored or a failure row with a reason, and its peak memory
stays bounded. SSRF on redirects and DNS answers is covered in tests/test_fetch.py
(test_ssrf_redirect_to_loopback_refused) and tests/test_url_safety.py; search query binding in
tests/test_search.py (test_query_text_is_bound_never_spliced).
"""

from __future__ import annotations

import json
import resource
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.text.clean import clean_document
from tasks.dedup.duplicates import DedupConfig, EmptyIndex, deduplicate
from tasks.document import Document, sha256_hex
from tasks.sources.files import SUPPORTED_SUFFIXES, ReadError, decode_bytes, discover_paths, parse_bytes
from tasks.batch import attach_summaries, clean_docs, summaries_for
from tasks.summarize.length import SummaryLength
from tasks.summarize.algorithms import summarize
from tests.test_reliability_crash import REPO, _open_read_only, child_env, ingest_cmd, report_of

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

NASTY_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u200f\u061c\x00\x01\x07\x1b\x7f\r\u2028\u2029\ud7ff\U0010ffff"
RTL = "الحكومة أعلنت يوم الثلاثاء عن خطة جديدة للطاقة. הממשלה הודיעה על תוכנית חדשה. "


def nasty_text() -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.text(max_size=200),
        st.text(alphabet=NASTY_CHARS, max_size=50),
        st.just(RTL),
        st.builds(lambda n: "word " * n, st.integers(0, 20_000)),  # one huge line
        st.builds(lambda n: "<div>" * n, st.integers(0, 3000)),  # deep unclosed nesting
        st.sampled_from(["<html><body><p>Cut off here", "{\"text\": \"unterminated", "]]>", "<!--", "\\u00"]),
        st.just("The council approved the budget on Monday, officials said. "),
    )
    return st.lists(pieces, max_size=8).map("".join)


def nasty_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2000),
        nasty_text().map(lambda t: t.encode("utf-8", "surrogatepass")),
        nasty_text().map(lambda t: t.encode("utf-16")),
        st.builds(lambda n: b"[" * n, st.integers(1, 100_000)),  # JSON nesting bomb
        st.builds(lambda n: b'{"a":' * n, st.integers(1, 50_000)),
        st.builds(lambda t: json.dumps({"title": t, "text": t}).encode()[: len(t) // 2 + 5], st.text(max_size=100)),
    )


@FUZZ
@given(data=nasty_bytes(), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_reader_only_raises_read_error(data, suffix):
    try:
        docs, failures = parse_bytes("fuzz" + suffix, data, suffix=suffix)
    except ReadError as exc:
        assert exc.reason and isinstance(exc.reason, str)
        return
    for doc in docs:
        assert isinstance(doc.raw_text, str) and doc.raw_text.strip()
    assert all(f.reason for f in failures)


@FUZZ
@given(data=nasty_bytes())
def test_decode_only_raises_read_error(data):
    try:
        text, encoding = decode_bytes(data)
    except ReadError:
        return
    assert text.strip() and encoding


@FUZZ
@given(text=nasty_text(), title=st.one_of(st.none(), nasty_text()), published=st.one_of(st.none(), st.text(max_size=40)))
def test_cleaner_never_raises(text, title, published):
    cleaned = clean_document(text, title=title, published=published)
    assert isinstance(cleaned.text, str)


@FUZZ
@given(texts=st.lists(nasty_text(), min_size=1, max_size=6))
def test_clean_dedup_summarize_stages_never_raise(texts):
    docs = [Document(source=f"fuzz{i}", source_kind="file", raw_text=t, raw_sha256=sha256_hex(t.encode("utf-8", "surrogatepass")))
            for i, t in enumerate(texts)]
    kept, failures = clean_docs(docs)
    assert len(kept) + len(failures) == len(docs)  # every item goes on or is a failure with a reason
    assert all(f.reason for f in failures)
    deduplicate(kept, EmptyIndex(), DedupConfig())
    assert all(d.text_sha256 for d in kept)
    summaries, summary_failures = summaries_for(kept, "newsflow", SummaryLength(sentences=3))
    attach_summaries(kept, summaries)
    assert summary_failures == []


@FUZZ
@given(text=nasty_text(), algorithm=st.sampled_from(["newsflow", "lead", "textrank", "luhn"]))
def test_summarizer_never_raises_and_positions_are_real(text, algorithm):
    summary = summarize(text, algorithm=algorithm, sentences=2)
    positions = [p for p, _ in summary.sentences]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_glob_cannot_read_outside_through_a_symlink(tmp_path):
    """Folders already refuse symlinks that leave them (tests/test_read.py); a glob must too."""
    secret = tmp_path / "secret.txt"
    secret.write_text("private text")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.txt").symlink_to(secret)
    (inbox / "real.txt").write_text("real text")
    files, _ = discover_paths([str(inbox / "*.txt")])
    assert [f.name for f in files] == ["real.txt"]


def make_nasty_folder(root) -> dict[str, str]:
    """name -> expected outcome ("stored" or the failure reason)."""
    root.mkdir(parents=True, exist_ok=True)
    story = ("Storm closes the harbour\n\nA storm closed the harbour on Tuesday, officials said. Ferries were "
             "cancelled and schools shut early. The coast guard said no one was hurt.\n")
    with open(root / "huge.txt", "wb") as fh:  # 50 MB: over the 20 MB file limit
        chunk = (story * 200).encode()
        for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
            fh.write(chunk)
    files = {
        "one_line.txt": ("The storm closed roads " * 20_000 + ".").encode(),  # ~460 KB, a single line
        "nested.html": b"<html><body>" + b"<div>" * 50_000 + b"deep text",
        "truncated.html": b"<html><head><title>Cut</title></head><body><article><p>The harbour reop",
        "bomb.json": b"[" * 100_000,
        "truncated.json": b'{"title": "Half", "text": "The council appro',
        "zero_width.txt": ("\u200b\u200d\ufeff\u202e" * 50 + story).encode(),
        "controls.txt": bytes(range(1, 32)) * 100,
        "rtl.txt": (RTL * 5).encode(),
        "it's'); DROP TABLE documents;--.txt": story.replace("Tuesday", "Wednesday").encode(),
        "nul.md": b"# Title\x00\x00\x00" + b"\x00" * 100,
        "utf16.txt": ("Flood warning\n\n" + RTL + " The river rose overnight, officials said.").encode("utf-16"),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    outside = root.parent / "outside_secret.txt"
    outside.write_text("Secret memo\n\nThis text lives outside the folder and must never be stored.")
    (root / "escape.txt").symlink_to(outside)
    return {
        "huge.txt": "too_large", "one_line.txt": "stored", "nested.html": "?", "truncated.html": "?",
        "bomb.json": "invalid_json", "truncated.json": "invalid_json", "zero_width.txt": "stored",
        "controls.txt": "binary", "rtl.txt": "stored", "it's'); DROP TABLE documents;--.txt": "stored",
        "nul.md": "binary", "utf16.txt": "stored", "escape.txt": "symlink_outside",
    }


def run_measured(cmd: list[str], env: dict, timeout: float = 900) -> tuple[subprocess.CompletedProcess, int]:
    """Run a child and return it with the peak RSS (bytes) of the largest process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is a high-water mark over all of them: only trust a rise
    return proc, max(after, before) * 1024


MEMORY_BOUND = 1536 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_nasty_folder_run_completes_every_item_accounted_memory_bounded(tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    folder = tmp_path / "nasty"
    expected = make_nasty_folder(folder)
    wh = tmp_path / "nasty.duckdb"
    env = child_env(tmp_path, PREFECT_API_URL.value())
    proc, peak = run_measured(ingest_cmd([str(folder)], wh, "--batch-size", "4"), env)
    report = report_of(proc)  # exit 0: no exception escaped
    assert peak < MEMORY_BOUND, f"peak RSS {peak / 2**20:.0f} MiB"
    con = _open_read_only(wh)
    try:
        stored = {r[0] for r in con.execute("SELECT source FROM documents").fetchall()}
        failed = {r[0]: (r[1], r[2]) for r in con.execute("SELECT source, reason, detail FROM failures").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert "documents" in tables  # the quoted file name was bound as data, never spliced
    names = {s.rsplit("/", 1)[-1].split("#", 1)[0]: s for s in stored | set(failed)}
    for name, outcome in expected.items():
        assert name in names, f"{name} neither stored nor failed"
        source = names[name]
        if outcome == "stored":
            assert source in stored, (name, failed.get(source))
        elif outcome != "?":
            assert failed.get(source, (None,))[0] == outcome, (name, failed.get(source))
        if source in failed:
            assert failed[source][0] and failed[source][1], name  # a reason and a detail
    assert not any("outside_secret" in s for s in stored | set(failed))  # refused, as escape.txt's failure
    assert report["items_seen"] == len(stored) + len(failed)
