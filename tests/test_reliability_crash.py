"""Crash safety and idempotence: real `newsflow ingest` processes, SIGKILLed at chosen points.

Kill points come from the pipeline's documented fault seam (`NEWSFLOW_FAULT__AT=<stage boundary>`,
`NEWSFLOW_FAULT__BATCH=N`, `NEWSFLOW_FAULT__MARKER=path`; tasks/pipeline.FaultPoint): when the run
reaches the point it writes the marker file and waits; the test sees the marker and SIGKILLs the
whole process group. One more kill point uses no hook at all: it watches the warehouse until the first batch
is committed. After each kill the warehouse must open and be consistent, and the next run must
finish the work so that the final contents equal an uninterrupted run's.

The helpers here (corpus, hooked subprocess runs, warehouse snapshots) are shared with the other
reliability tests and with `bench/reliability.py`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
NEWSFLOW = REPO / ".venv" / "bin" / "newsflow"
if not NEWSFLOW.exists():  # a differently named virtualenv: the console script beside this interpreter
    NEWSFLOW = Path(sys.executable).with_name("newsflow")

# --- corpus ---------------------------------------------------------------------------------------
_WORDS = (
    "council harbour ferry storm bridge budget minister election court river police hospital school "
    "factory union strike farmers market prices energy grid wind solar drought flood rescue airport "
    "railway station museum library festival mayor governor senator report inquiry contract tender "
    "village district province coast valley mountain island border customs tax pension salary doctors "
    "nurses teachers students parents residents workers engineers scientists volunteers officials "
    "approved rejected delayed announced warned promised repaired closed reopened expanded reduced "
    "morning evening weekend yesterday tuesday wednesday thursday friday spring autumn winter summer"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(11, 18))]
    words.insert(rng.randint(1, len(words) - 1), str(rng.randint(2, 9999)))
    return words[0].capitalize() + " " + " ".join(words[1:]) + ", officials said."


def _story(rng: random.Random) -> tuple[str, list[str]]:
    title = " ".join(rng.choice(_WORDS) for _ in range(5)).capitalize()
    return title, [_sentence(rng) for _ in range(rng.randint(6, 10))]


def make_corpus(root: Path, n: int = 240, seed: int = 7) -> dict:
    """`n` small article files (txt, md, html, json, jsonl) with exact and near duplicates and a few
    bad files. Returns what an ingest must end with: counts of expected documents and failures."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    stories: list[tuple[str, list[str]]] = []
    expected_docs = expected_failures = 0
    for i in range(n):
        kind = i % 12
        sub = root / f"d{i % 5}"
        sub.mkdir(exist_ok=True)
        if kind == 5 and stories:  # exact duplicate of an earlier story under another name
            title, body = stories[rng.randrange(len(stories))]
        elif kind == 9 and stories:  # near duplicate: one sentence changed
            title, body = stories[rng.randrange(len(stories))]
            body = list(body)
            body[rng.randrange(len(body))] = _sentence(rng)
        else:
            title, body = _story(rng)
            stories.append((title, body))
        if kind == 11 and i % 24 == 11:  # bad files: empty, binary, truncated JSON line
            bad = (i // 24) % 3
            if bad == 0:
                (sub / f"a{i:04d}.txt").write_bytes(b"")
            elif bad == 1:
                (sub / f"a{i:04d}.txt").write_bytes(bytes(range(256)) * 8)
            else:
                (sub / f"a{i:04d}.jsonl").write_text(
                    json.dumps({"title": title, "text": " ".join(body)}) + "\n" + '{"title": "cut", "text": "tru\n')
                expected_docs += 1
            expected_failures += 1
            continue
        fmt = i % 4
        if fmt == 0:
            (sub / f"a{i:04d}.txt").write_text(title + "\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        elif fmt == 1:
            (sub / f"a{i:04d}.md").write_text(f"# {title}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        elif fmt == 2:
            paras = "".join(f"<p>{s}</p>\n" for s in body)
            (sub / f"a{i:04d}.html").write_text(
                f"<html><head><title>{title}</title></head><body><nav>Home | News</nav>"
                f"<article><h1>{title}</h1>\n{paras}</article><footer>Copyright</footer></body></html>",
                encoding="utf-8")
        else:
            (sub / f"a{i:04d}.json").write_text(json.dumps({"title": title, "text": "\n\n".join(body)}),
                                                 encoding="utf-8")
        expected_docs += 1
    return {"files": n, "documents": expected_docs, "failures": expected_failures}


# --- child processes -----------------------------------------------------------------------------
def child_env(tmp: Path, api_url: str | None = None, **extra: str) -> dict:
    """Environment for a child `newsflow` process: the crash hook on its path, offline Prefect."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update({
        "PYTHONPATH": str(REPO),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "PREFECT_HOME": str(tmp / "prefect_home"), "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240",
    })
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


def ingest_cmd(paths: list[str], warehouse: Path, *extra: str) -> list[str]:
    return [str(NEWSFLOW), "ingest", *paths, "--warehouse", str(warehouse), "--json", *extra]


def run_ingest(cmd: list[str], env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def report_of(proc: subprocess.CompletedProcess) -> dict:
    """The JSON run report printed by `newsflow ingest --json` (the last top-level JSON object)."""
    out = proc.stdout
    start = out.rfind("\n{")
    start = 0 if start < 0 and out.startswith("{") else start + 1
    assert proc.returncode == 0 and start >= 0, f"rc={proc.returncode}\n{out[-2000:]}\n{proc.stderr[-4000:]}"
    return json.loads(out[start:])


def run_until_killed(cmd: list[str], env: dict, crash_at: str | None = None, *, watch=None,
                     timeout: float = 900) -> str:
    """Start the ingest, SIGKILL its process group at the kill point; return what triggered the kill.

    `crash_at` ("stage:batch") uses the fault seam; `watch` is a callable polled until it returns True (no hook).
    If the run ends before the point is reached, that is a test failure (the point was wrong)."""
    marker = Path(env["PREFECT_HOME"]).parent / f"crash-marker-{time.monotonic_ns()}"
    env = dict(env)
    if crash_at:  # the pipeline's fault seam (tasks/pipeline.FaultPoint)
        at, _, batch = crash_at.partition(":")
        env.update(NEWSFLOW_FAULT__AT=at, NEWSFLOW_FAULT__BATCH=batch or "1", NEWSFLOW_FAULT__MARKER=str(marker))
    log = open(marker.with_suffix(".log"), "w+b")  # a file, not a pipe: an unread pipe can block the child
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if crash_at and marker.exists():
                trigger = marker.read_text()
                break
            if watch is not None and watch():
                trigger = "watch"
                break
            if proc.poll() is not None:
                log.seek(0)
                out = log.read().decode(errors="replace")
                raise AssertionError(f"run ended (rc={proc.returncode}) before kill point {crash_at or 'watch'}:\n"
                                     f"{out[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("kill point not reached in time")
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        return trigger
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


# --- warehouse inspection --------------------------------------------------------------------------
def _open_read_only(path: Path, timeout: float = 120.0) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def try_count(path: Path, sql: str) -> int | None:
    """One scalar from the warehouse without waiting: None while a writer holds it or before it exists."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(sql).fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def snapshot(path: Path) -> dict:
    """Everything a run's outcome is made of, as sets keyed by stable ids (doc_id = hash of source + bytes)."""
    con = _open_read_only(path)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        snap = {
            "documents": set(q("SELECT doc_id, source, version, previous_doc_id, text_sha256, is_canonical, "
                               "title, text FROM documents")),
            "duplicates": set(q("SELECT doc_id, duplicate_of, method, similarity FROM duplicates")),
            "summaries": set(q("SELECT doc_id, algorithm, length, summary FROM summaries")),
            "summary_sentences": set(q("SELECT doc_id, algorithm, rank, position, sentence FROM summary_sentences")),
            "minhash_bands": set(q("SELECT band, bucket, doc_id FROM minhash_bands")),
            "failures": set(q("SELECT source, stage, reason FROM failures")),
            "fetch_log": set(q("SELECT url, status, content_sha256, error FROM fetch_log")),
        }
        rows = {t: q(f"SELECT count(*) FROM {t}")[0][0] for t in snap}  # noqa: S608 fixed names
        snap["doubles"] = {t: rows[t] - len(snap[t]) for t in snap if rows[t] != len(snap[t])}
        snap["runs"] = q("SELECT status, documents_new, duplicates, failures FROM runs ORDER BY started_at")
        # every duplicate points at a stored canonical document; every canonical one is summarized
        snap["dangling"] = q("SELECT count(*) FROM duplicates d LEFT JOIN documents o ON o.doc_id = d.duplicate_of "
                             "WHERE o.doc_id IS NULL OR NOT o.is_canonical")[0][0]
        snap["unsummarized"] = q("SELECT count(*) FROM documents d WHERE is_canonical AND NOT EXISTS "
                                 "(SELECT 1 FROM summaries s WHERE s.doc_id = d.doc_id)")[0][0]
        has_index = q("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'fts_main_documents' "
                      "AND table_name = 'docs'")[0][0]
        snap["fts_stale"] = not has_index or q("SELECT (SELECT count(*) FROM documents) <> "
                                               "(SELECT count(*) FROM fts_main_documents.docs)")[0][0]
        return snap
    finally:
        con.close()


def compare(got: dict, want: dict) -> tuple[int, int]:
    """(items lost, items duplicated) of `got` against the uninterrupted `want`."""
    lost = sum(len(want[t] - got[t]) for t in ("documents", "duplicates", "summaries", "failures"))
    doubled = sum(got["doubles"].values()) + sum(
        len(got[t] - want[t]) for t in ("documents", "duplicates", "summaries", "failures"))
    return lost, doubled


def assert_consistent(snap: dict) -> None:
    assert snap["doubles"] == {}, snap["doubles"]
    assert snap["dangling"] == 0
    assert snap["unsummarized"] == 0


def assert_same(got: dict, want: dict) -> None:
    assert_consistent(got)
    for table in ("documents", "duplicates", "summaries", "summary_sentences", "minhash_bands", "failures"):
        missing, extra = want[table] - got[table], got[table] - want[table]
        assert not missing and not extra, f"{table}: {len(missing)} missing, {len(extra)} extra"
    assert not got["fts_stale"]


# --- the tests ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prefect_api_url(prefect_harness):
    """Children talk to the session's test Prefect server (one server, not one ephemeral server each)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def ingest_in_process(paths: list[str], warehouse: Path, **kwargs) -> dict:
    from flows.ingest import ingest

    return ingest(paths=paths, warehouse=str(warehouse), **kwargs)


@pytest.fixture(scope="module")
def crash_corpus(tmp_path_factory, prefect_api_url):
    """A corpus and the snapshot of one uninterrupted run over it."""
    tmp = tmp_path_factory.mktemp("crash")
    corpus = tmp / "corpus"
    expected = make_corpus(corpus, n=160)
    baseline = tmp / "baseline.duckdb"
    report = ingest_in_process([str(corpus)], baseline, batch_size=40)
    snap = snapshot(baseline)
    assert_consistent(snap)
    assert report["failures"] == expected["failures"]
    assert len(snap["documents"]) == expected["documents"] and len(snap["duplicates"]) > 10
    assert {m for _, _, m, _ in snap["duplicates"]} == {"exact", "near"}
    # a killed run leaves its writer slot held until the lease runs out: keep that short here
    env = child_env(tmp, prefect_api_url)
    return tmp, corpus, env, snap


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_sigkill_mid_write_and_between_batches_then_rerun_equals_uninterrupted_run(crash_corpus):
    """4 batches of 40 files. Run 1 dies inside batch 2's write (rows inserted, no COMMIT); run 2
    redoes batch 2 and dies reading batch 4 (read ahead while batch 3 is deduplicated and stored);
    run 3 finishes. More kill points
    (reading, index rebuild, a kill driven only by watching the warehouse) are in bench/reliability.py."""
    tmp, corpus, env, want = crash_corpus
    wh = tmp / "killed.duckdb"
    cmd = ingest_cmd([str(corpus)], wh, "--batch-size", "40")
    assert run_until_killed(cmd, env, "store:2") == "store:2"
    snap = snapshot(wh)
    assert_consistent(snap)
    batch_one = snap["documents"]
    assert 0 < len(snap["documents"]) < len(want["documents"]) and snap["documents"] <= want["documents"]
    assert [r[0] for r in snap["runs"]] == ["running"]  # nobody has looked yet
    assert snap["runs"][0][1] == len(batch_one)  # its row counts what it committed, batch by batch
    assert run_until_killed(cmd, env, "read:4") == "read:4"
    snap2 = snapshot(wh)
    assert_consistent(snap2)
    assert len(batch_one) < len(snap2["documents"]) < len(want["documents"])
    # run 2 found run 1's process gone when it started
    assert [r[0] for r in snap2["runs"]] == ["abandoned", "running"]
    report = report_of(run_ingest(cmd, env))
    got = snapshot(wh)
    assert_same(got, want)
    assert report["unchanged"] == len(snap2["documents"])  # finished the work, did not redo it
    # killed runs are marked abandoned by the next run, with what they committed before dying
    assert [r[0] for r in got["runs"]] == ["abandoned", "abandoned", "completed"]
    assert [r[1] for r in got["runs"][:2]] == [len(batch_one), len(snap2["documents"]) - len(batch_one)]
    con = _open_read_only(wh)
    try:
        runs = con.execute("SELECT h.run_id, h.status, h.error, h.finished_at IS NOT NULL, r.owner_pid, r.owner_host, "
                           "r.owner_started_at IS NOT NULL FROM run_history h JOIN runs r USING (run_id) "
                           "ORDER BY h.started_at").fetchall()
    finally:
        con.close()
    assert len({r[4] for r in runs}) == 3 and all(r[5] and r[6] for r in runs)  # three processes, each recorded
    for (run_id, status, error, finished, pid, host, _), noticed_by in zip(runs[:2], runs[1:]):
        assert finished and error == f"abandoned: process {pid} on {host} is gone; noticed by run {noticed_by[0]}"
    assert runs[2][1:4] == ("completed", None, True)
    # and Prefect, which the killed processes could not tell, shows them crashed for that reason (they stayed RUNNING)
    from prefect import get_client

    with get_client(sync_client=True) as client:
        states = [client.read_flow_run(uuid.UUID(r[0])).state for r in runs[:2]]
    assert [(s.type.value, s.message) for s in states] == [("CRASHED", r[2]) for r in runs[:2]]

    # idempotence: the same files again add a run row and nothing else
    report = ingest_in_process([str(corpus)], wh, batch_size=40)
    assert report["documents_new"] == 0 and report["unchanged"] == len(want["documents"])
    again = snapshot(wh)
    for table in ("documents", "duplicates", "summaries", "summary_sentences", "minhash_bands", "failures"):
        assert again[table] == got[table], table
    assert len(again["runs"]) == len(got["runs"]) + 1
    # a changed file is a new version linked to the old one: tests/test_flow_ingest.py
    # (test_changed_file_is_a_new_version_linked_to_the_old); unchanged URLs: tests/test_flow_web.py


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("point", ["stories:1", "search-index:1"])
def test_sigkill_at_a_stage_boundary_then_rerun_completes(tmp_path, prefect_api_url, point):
    """Killed in the story step (nothing of the batch committed) or inside the search-index build
    (documents committed, index not): the warehouse stays consistent and the next run completes,
    with an index that covers every document."""
    corpus = tmp_path / "corpus"
    want = make_corpus(corpus, n=30, seed=11)
    env = child_env(tmp_path, prefect_api_url)
    wh = tmp_path / "killed.duckdb"
    cmd = ingest_cmd([str(corpus)], wh)
    assert run_until_killed(cmd, env, point) == point
    snap = snapshot(wh) if wh.exists() else None
    if snap is not None:
        assert_consistent(snap)
        assert len(snap["documents"]) == (want["documents"] if point.startswith("search-index") else 0)
    if point.startswith("search-index"):  # what an analyst meets before the next run: a way on, not a catalog error
        searched = subprocess.run([str(NEWSFLOW), "search", "news", "--warehouse", str(wh)], env=env, cwd=REPO,
                                  capture_output=True, text=True, timeout=120)
        assert searched.returncode == 2 and "Catalog Error" not in searched.stderr, searched.stderr
        assert f"no search index over the {want['documents']} stored documents" in searched.stderr
        assert "`newsflow reindex` builds it" in searched.stderr
    report = report_of(run_ingest(cmd, env))
    got = snapshot(wh)
    assert_consistent(got)
    assert len(got["documents"]) == want["documents"]
    assert report["search_index"].startswith("rebuilt")
    con = _open_read_only(wh)
    try:
        indexed = con.execute("SELECT count(*) FROM fts_main_documents.docs").fetchone()[0]
        stored = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        con.close()
    assert indexed == stored


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_kill_between_a_commit_and_its_checkpoint_leaves_every_lookup_right(crash_corpus):
    """Killed with batch 2 committed in the WAL only: the next run replays it. DuckDB 1.4 replayed it
    wrongly into secondary indexes (schema 18 drops them): `WHERE source = …` found none of the
    batch's documents, and story_members rows pointed at stories the recovery had deleted."""
    tmp, corpus, env, want = crash_corpus
    wh = tmp / "committed.duckdb"
    cmd = ingest_cmd([str(corpus)], wh, "--batch-size", "40")
    assert run_until_killed(cmd, env, "committed:2") == "committed:2"
    proc = run_ingest(cmd, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same(snapshot(wh), want)
    con = _open_read_only(wh)
    try:
        sources = [s for (s,) in con.execute("SELECT source FROM documents").fetchall()]
        unfound = [s for s in sources
                   if con.execute("SELECT count(*) FROM documents WHERE source = ?", [s]).fetchone()[0] == 0]
        members = con.execute("SELECT story_id, count(*) FROM story_members GROUP BY story_id").fetchall()
        miscounted = [sid for sid, n in members
                      if con.execute("SELECT count(*) FROM story_members WHERE story_id = ?", [sid]).fetchone()[0] != n]
        orphans = con.execute("SELECT count(*) FROM story_members m WHERE NOT EXISTS "
                              "(SELECT 1 FROM stories s WHERE s.story_id = m.story_id)").fetchone()[0]
    finally:
        con.close()
    assert (len(unfound), len(miscounted), orphans) == (0, 0, 0), (unfound[:3], miscounted[:3])
