"""Load: overlapping `newsflow ingest` processes (files and URLs mixed, one warehouse) all complete
with correct totals. The test runs 4 at once; `bench/reliability.py` runs 20.

Children share the session's test Prefect server, so the per-warehouse writer slot is real. The
expected outcome comes from the plain stage functions over the union of all inputs (no Prefect,
no warehouse): every document stored once, new in exactly one run, and every text stored as
canonical at most once however the runs interleave.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.http_server import Reply, http_server  # noqa: F401  (fixture)
from tests.test_reliability_crash import REPO, _open_read_only, child_env, ingest_cmd, make_corpus, report_of

ARTICLE = """<html><head><title>Report {i}: {a} and {b}</title></head><body><article><h1>Report {i}: {a} and {b}</h1>
<p>Officials in the {a} district said on Monday that the {b} project number {i} would go ahead.</p>
<p>Residents near the {b} asked for more buses, and the {a} council promised a decision by {i} June.</p>
<p>Work on site {i} starts after the summer, with {a} contractors and {b} engineers sharing the cost.</p>
</article></body></html>"""
_NOUNS = ["harbour", "bridge", "station", "airport", "market", "museum", "library", "stadium", "river", "tunnel"]


def route_articles(server, n: int = 12) -> list[str]:
    for i in range(n):
        server.route(f"/news/{i}", Reply(200, ARTICLE.format(i=i, a=_NOUNS[i % 10], b=_NOUNS[(i * 3 + 1) % 10])))
    return [server.url(f"/news/{i}") for i in range(n)]


def expected_outcome(corpus: Path) -> dict:
    """What any interleaving must end with for the files (URLs are counted by the caller)."""
    from tasks.dedup.duplicates import DedupConfig, EmptyIndex, deduplicate
    from tasks.sources.files import discover_paths
    from tasks.batch import clean_docs, read_paths

    files, _ = discover_paths([str(corpus)])
    docs, failures = read_paths(files, 20 * 1024 * 1024)
    docs, failed = clean_docs(docs)
    deduplicate(docs, EmptyIndex(), DedupConfig())
    return {"documents": {d.doc_id for d in docs}, "texts": {d.text_sha256 for d in docs},
            "failures": {(f.source, f.reason) for f in failures + failed}}


def run_overlapping(n_runs: int, tmp: Path, api_url: str, server, n_files: int = 120) -> dict:
    """Start `n_runs` ingests at once over overlapping folders and URLs; wait; check; return the tally."""
    corpus = tmp / "load_corpus"
    make_corpus(corpus, n=n_files, seed=11)
    urls = route_articles(server)
    want = expected_outcome(corpus)
    wh = tmp / "load.duckdb"
    env = child_env(tmp, api_url, NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES="true", NEWSFLOW_FETCH__PER_HOST_DELAY_S="0",
                    NEWSFLOW_LOCK_TIMEOUT_S="600")
    procs = []
    logs = tmp / "load_logs"
    logs.mkdir(exist_ok=True)
    for k in range(n_runs):
        folders = [str(corpus / f"d{k % 5}"), str(corpus / f"d{(k + 1) % 5}")]
        picked = [u for i, u in enumerate(urls) if (i + k) % 3 != 0]
        cmd = ingest_cmd(folders, wh, "--batch-size", "15", *[a for u in picked for a in ("--url", u)])
        # files, not pipes: a child blocked on a full pipe nobody reads yet can hold the writer lock
        out, err = open(logs / f"run{k}.out", "w+"), open(logs / f"run{k}.err", "w+")
        procs.append((subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=err, text=True), out, err))
    results = []
    for proc, out, err in procs:
        proc.wait(timeout=1800)
        out.seek(0), err.seek(0)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read()))
        out.close(), err.close()
    reports, unclear, errors = [], 0, []
    for r in results:
        try:
            reports.append(report_of(r))
        except AssertionError:
            unclear += 1
            errors.append(r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else [f"rc={r.returncode}"])
    con = _open_read_only(wh)
    try:
        docs = con.execute("SELECT doc_id, source_kind, text_sha256, is_canonical FROM documents").fetchall()
        summaries = con.execute("SELECT count(*), count(DISTINCT doc_id) FROM summaries").fetchone()
        dups = con.execute("SELECT count(*), count(DISTINCT doc_id) FROM duplicates").fetchone()
        runs = con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()
    finally:
        con.close()
    file_docs = {d[0] for d in docs if d[1] != "url"}
    url_docs = {d[0] for d in docs if d[1] == "url"}
    canonical_texts = [d[2] for d in docs if d[3]]
    return {
        "runs": n_runs, "unclear_failures": unclear, "errors": errors, "reports": reports, "run_status": dict(runs),
        "lost": len(want["documents"] - file_docs) + (len(urls) - len(url_docs)),
        "duplicated": (len(file_docs - want["documents"]) + (len(docs) - len({d[0] for d in docs}))
                       + (len(canonical_texts) - len(set(canonical_texts)))
                       + (summaries[0] - summaries[1]) + (dups[0] - dups[1])),
        "documents": len(docs), "new_total": sum(r["documents_new"] for r in reports),
        "canonical": len(canonical_texts), "summaries": summaries[1],
        "expected_canonical_files": len(want["texts"]), "items": len(want["documents"]) + len(urls),
    }


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_four_overlapping_runs_all_complete_with_correct_totals(tmp_path, prefect_harness, http_server):  # noqa: F811
    from prefect.settings import PREFECT_API_URL

    tally = run_overlapping(4, tmp_path, PREFECT_API_URL.value(), http_server, n_files=60)
    assert tally["unclear_failures"] == 0 and tally["run_status"] == {"completed": 4}, tally["errors"]
    assert tally["run_status"] == {"completed": 4}
    assert tally["lost"] == 0 and tally["duplicated"] == 0
    assert tally["documents"] == tally["items"]
    assert tally["new_total"] == tally["documents"]  # each document counted new by exactly one run
    assert tally["summaries"] == tally["canonical"]
    # near-duplicates may pick a different canonical under another interleaving; exact ones may not
    assert tally["canonical"] <= tally["expected_canonical_files"] + 12


def test_cli_gives_prefect_client_more_retries_unless_the_user_set_them(monkeypatch):
    """Flow-run creation on a busy SQLite-backed server is refused with 503 (README: Reliability)."""
    import os

    from newsflow import cli

    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_CLIENT")})
    os.environ["PREFECT_CLIENT_RETRY_JITTER_FACTOR"] = "0.1"
    cli._prefect_defaults()
    assert os.environ["PREFECT_CLIENT_MAX_RETRIES"] == "8"
    assert os.environ["PREFECT_CLIENT_RETRY_JITTER_FACTOR"] == "0.1"
