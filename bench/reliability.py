"""Reliability report: every fault or input class, how many cases were tried, and what went wrong.

    .venv/bin/python bench/reliability.py [--runs 20] [--only crash,long,load,hostile,...]

Runs the heavier variants of tests/test_reliability_*.py (more kill points, 20 overlapping runs)
against one Prefect test server and prints a table: cases tried, items lost, items duplicated,
runs that failed without a clear reason. The last three must be 0.

`hostile` runs `newsflow` once per hostile input of tests/test_hostile_input.py (each next to
a good item, through the CLI as a user would) and prints a second table: input, outcome,
failure reason, run completed, time of the whole command, peak RSS of its largest process.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsflow-bench-prefect-")

from tests import test_reliability_crash as crash  # noqa: E402
from tests import test_reliability_faults as faults  # noqa: E402
from tests import test_reliability_fuzz as fuzz  # noqa: E402
from tests import test_reliability_load as load  # noqa: E402
from tests import test_hostile_input as hostile  # noqa: E402
from tests.http_server import serve  # noqa: E402

Row = tuple[str, int, int, int, int]  # class, cases, lost, duplicated, unclear
HostileRow = tuple[str, str, str, str, float, float]  # input, outcome, reason, completed, seconds, MiB


def crash_rows(tmp: Path, api: str) -> list[Row]:
    corpus = tmp / "corpus"
    crash.make_corpus(corpus, n=240)
    crash.ingest_in_process([str(corpus)], tmp / "baseline.duckdb", batch_size=40)
    want = crash.snapshot(tmp / "baseline.duckdb")
    env = crash.child_env(tmp, api)
    points = ["store:1", "stored:3", "search-index:1", "watch"]  # the fault seam's points (tasks/pipeline.py)
    lost = doubled = unclear = 0
    for n, point in enumerate(points):
        wh = tmp / f"killed{n}.duckdb"
        cmd = crash.ingest_cmd([str(corpus)], wh, "--batch-size", "40")
        try:
            if point == "watch":
                crash.run_until_killed(cmd, env, watch=lambda: (crash.try_count(wh, "SELECT count(*) FROM documents") or 0) > 0)
            else:
                crash.run_until_killed(cmd, env, point)
            crash.assert_consistent(crash.snapshot(wh)) if point != "search-index:1" else None
            crash.report_of(crash.run_ingest(cmd, env))
            got = crash.snapshot(wh)
            crash.assert_consistent(got)
            # the killed run is found dead by the re-run: abandoned, not `running` forever
            assert [r[0] for r in got["runs"]] == ["abandoned", "completed"], got["runs"]
        except AssertionError:
            traceback.print_exc()
            unclear += 1
            continue
        a, b = crash.compare(got, want)
        lost, doubled = lost + a, doubled + b
        print(f"  crash {point}: lost {a}, duplicated {b}", flush=True)
    # idempotence: the same corpus once more over the last warehouse
    report = crash.ingest_in_process([str(corpus)], tmp / "baseline.duckdb", batch_size=40)
    again = crash.snapshot(tmp / "baseline.duckdb")
    a, b = crash.compare(again, want)
    return [("SIGKILL mid-write, after a write, during the index rebuild, on a watcher's cue; then re-run "
             "(killed run marked abandoned)",
             len(points), lost, doubled, unclear),
            ("re-run of the same 240 files (idempotence)", len(want["documents"]), a,
             b + report["documents_new"], 0)]


def fuzz_rows() -> list[Row]:
    tests = [fuzz.test_reader_only_raises_read_error, fuzz.test_decode_only_raises_read_error,
             fuzz.test_cleaner_never_raises, fuzz.test_clean_dedup_summarize_stages_never_raise,
             fuzz.test_summarizer_never_raises_and_positions_are_real]
    unclear = 0
    for test in tests:
        try:
            test()
        except Exception:  # noqa: BLE001 - an escaped exception is exactly what this counts
            traceback.print_exc()
            unclear += 1
    return [("hypothesis: random bytes/Unicode, zero-width, control, RTL, huge lines, nested or cut HTML/JSON",
             len(tests) * fuzz.FUZZ.max_examples, 0, 0, unclear)]


def long_input_texts() -> dict[str, str]:
    """3 MB texts that are not ordinary articles (the sentence splitter used to take 29 s to minutes)."""
    rng = random.Random(5)
    words = "council harbour ferry storm bridge budget minister election court river police Smith".split()
    odd = ["U.S.", "Mr.", "e.g.", "No.", "1)", "2.", '"a', "(b"]
    sents = [f"Officials in district {i} said the {rng.choice(words)} would reopen after the {rng.choice(words)} "
             f"inquiry." for i in range(40_000)]
    return {
        "line without sentence punctuation": " ".join(rng.choice(words) for _ in range(430_000)),
        "line of abbreviations, list numbers and quotes, no sentence break":
            " ".join(rng.choice(odd) if rng.random() < 0.05 else rng.choice(words) for _ in range(430_000)),
        "punctuated text": "\n\n".join(" ".join(sents[j : j + 8]) for j in range(0, len(sents), 8)),
    }


def long_input_rows() -> list[Row]:
    from tasks.text.sentences import split_sentences
    from tasks.summarize.algorithms import summarize

    lost = unclear = 0
    times = []
    for name, text in long_input_texts().items():
        started = time.perf_counter()
        summary = summarize(text, title="Harbour council")
        seconds = time.perf_counter() - started
        times.append(seconds)
        ok = len(summary.sentences) == 3 and all(0 < len(s) <= 2000 and s in text for _, s in summary.sentences)
        kept = "".join("".join(s.split()) for s in split_sentences(text)) == "".join(text.split())
        print(f"  {name} ({len(text) / 1e6:.1f} MB): summarized in {seconds:.1f} s, summary sentences of "
              f"{[len(s) for _, s in summary.sentences]} characters", flush=True)
        unclear += not ok
        lost += not kept
    rows = [(f"3 MB inputs summarized: line without punctuation {times[0]:.1f} s, abbreviation-dense line "
             f"{times[1]:.1f} s, punctuated text {times[2]:.1f} s", len(times), lost, 0, unclear)]
    return rows + adversarial_summary_rows() + cleaner_speed_rows()


def adversarial_texts() -> dict[str, tuple[str, str | None]]:
    """Texts under the 500,000-character cap that made one step super-linear (a fuzz audit, 2026-12-08):
    name -> (text, language). Before the fixes: 243 s, 78 s, 59 s, and 693 MB for one document."""
    rng = random.Random(1)
    vocab: set[str] = set()
    while len(vocab) < 280:
        vocab.add("".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)))
    words = sorted(vocab)
    reordered = []
    for _ in range(100):  # each sentence the same 280 words in another order: every pair is compared in order
        rng.shuffle(words)
        reordered.append(" ".join(words).capitalize() + ".")
    han = [chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(400_000)]
    return {
        "100 sentences of one word set in other orders (196 KB)": (" ".join(reordered), "en"),
        "runs of full stops with no space after (400 KB)": (("Xyz " + "." * 9_900 + "x abc. ") * 40, None),
        "every mark an initial (480 KB)": (("A. B. C. " * 1_100 + "abc. Xyz ") * 48, None),
        "Chinese without sentence marks (400,000 characters)": ("".join(han), "zh"),
    }


def adversarial_summary_rows() -> list[Row]:
    """Each text summarized once, as the summarize step does: seconds and the growth of this process's
    peak RSS (the dense TextRank matrix of the Chinese text took 693 MB)."""
    import resource

    from tasks.summarize.algorithms import summarize

    timed, unclear = [], 0
    for name, (text, language) in adversarial_texts().items():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        summary = summarize(text, title="Officials announce new rules", language=language)
        seconds = time.perf_counter() - started
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        timed.append(seconds)
        unclear += not summary.sentences
        print(f"  {name}: summarized in {seconds:.1f} s, peak RSS +{grew:.0f} MiB", flush=True)
    return [("adversarial summary inputs (reordered sentences, runs of stops, initials, unmarked Chinese): "
             + ", ".join(f"{t:.1f} s" for t in timed), len(timed), 0, 0, unclear)]


def cleaner_speed_rows() -> list[Row]:
    """The cleaner on a seed page (per document) and on inputs far beyond an article: linear, not
    quadratic, in the text's size (the timing lives here, not in tests/test_clean.py)."""
    from tasks.text.clean import clean_document

    page = min((REPO / "seeds").glob("*.txt")).read_text(encoding="utf-8")
    clean_document(page)  # warm the regexes and tables
    started = time.perf_counter()
    for _ in range(20):
        clean_document(page)
    per_doc_ms = (time.perf_counter() - started) / 20 * 1000
    timed, unclear = [], 0
    for text in ((page + "\n\n") * (5_000_000 // len(page)), "word " * 1_000_000):
        started = time.perf_counter()
        unclear += not clean_document(text).text
        timed.append(time.perf_counter() - started)
    print(f"  cleaner: seed page {per_doc_ms:.1f} ms, 5 MB of repeated pages {timed[0]:.1f} s, "
          f"a 1M-word line {timed[1]:.1f} s", flush=True)
    return [(f"cleaner: seed page {per_doc_ms:.1f} ms, 5 MB {timed[0]:.1f} s, 1M-word line {timed[1]:.1f} s",
             2, 0, 0, unclear)]


def nasty_row(tmp: Path, api: str) -> list[Row]:
    folder = tmp / "nasty"
    expected = fuzz.make_nasty_folder(folder)
    wh = tmp / "nasty.duckdb"
    proc, peak = fuzz.run_measured(crash.ingest_cmd([str(folder)], wh, "--batch-size", "4"), crash.child_env(tmp, api))
    unclear = lost = 0
    try:
        crash.report_of(proc)
    except AssertionError:
        unclear = 1
    con = crash._open_read_only(wh)
    seen = {r[0].rsplit("/", 1)[-1].split("#", 1)[0] for r in con.execute(
        "SELECT source FROM documents UNION ALL SELECT source FROM failures WHERE reason <> ''").fetchall()}
    doubles = con.execute("SELECT count(*) - count(DISTINCT doc_id) FROM documents").fetchone()[0]
    con.close()
    lost = len(set(expected) - seen)
    print(f"  nasty files: peak RSS {peak / 2**20:.0f} MiB", flush=True)
    return [(f"flow over nasty files (50 MB, 1 MB line, nesting bombs, SQL-quote name); peak RSS {peak / 2**20:.0f} MiB",
             len(expected), lost, doubles, unclear + (peak >= fuzz.MEMORY_BOUND))]


def unsafe_rows(tmp: Path) -> list[Row]:
    from tasks.sources.files import discover_paths

    secret = tmp / "secret.txt"
    secret.write_text("private")
    inbox = tmp / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").symlink_to(secret)
    (inbox / "b.txt").write_text("fine")
    leaked = sum(1 for spec in (str(inbox), str(inbox / "*.txt"), str(inbox / "**"))
                 for f in discover_paths([spec])[0] if f.name == "secret.txt")
    return [("symlink out of a folder or glob", 3, 0, 0, leaked)]


def fault_rows(tmp: Path, api: str) -> list[Row]:
    rows: list[Row] = []
    unclear = 0
    for kind in ("file", "directory"):
        sub = tmp / f"ro_{kind}"
        sub.mkdir()
        try:
            wh, new_file = _stored(sub)
            faults.test_read_only_warehouse_fails_clearly_and_is_unchanged((wh, new_file), sub, api, kind)
        except AssertionError:
            traceback.print_exc()
            unclear += 1
    sub = tmp / "locked"
    sub.mkdir()
    try:
        faults.test_locked_warehouse_waits_within_bound_then_fails_clearly(_stored(sub), sub, api)
    except AssertionError:
        traceback.print_exc()
        unclear += 1
    rows.append(("read-only warehouse file / directory, warehouse locked by another process", 3, 0, 0, unclear))

    os.environ.update({"NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES": "true", "NEWSFLOW_FETCH__PER_HOST_DELAY_S": "0",
                       "NEWSFLOW_FETCH__BACKOFF_BASE_S": "0.01", "NEWSFLOW_FETCH__RETRIES": "1",
                       "NEWSFLOW_FETCH__READ_TIMEOUT_S": "2", "NEWSFLOW_FETCH__TOTAL_TIMEOUT_S": "3",
                       "NEWSFLOW_FETCH__PER_HOST_CONCURRENCY": "8"})
    with serve() as server:
        expected = faults.route_faults(server)
        wh = tmp / "http.duckdb"
        from flows.ingest import ingest

        ingest(urls=[server.url(p) for p in expected], warehouse=str(wh), batch_size=4)
        con = crash._open_read_only(wh)
        stored = {r[0] for r in con.execute("SELECT source FROM documents").fetchall()}
        failed = dict(con.execute("SELECT source, reason FROM failures").fetchall())
        con.close()
    lost = sum(1 for p, why in expected.items() if not why and server.url(p) not in stored)
    wrong = sum(1 for p, why in expected.items() if why and failed.get(server.url(p)) != why)
    rows.append(("HTTP: connection reset, truncated body, slow drip, 503, reset-then-ok", len(expected), lost, 0, wrong))
    return rows


def _stored(tmp: Path):
    from flows.ingest import ingest

    (tmp / "old.txt").write_text(faults.STORY)
    (tmp / "new.txt").write_text(faults.NEW_STORY)
    wh = tmp / "wh" / "news.duckdb"
    ingest(paths=[str(tmp / "old.txt")], warehouse=str(wh))
    return wh, tmp / "new.txt"


def load_rows(tmp: Path, api: str, runs: int) -> list[Row]:
    with serve() as server:
        tally = load.run_overlapping(runs, tmp, api, server)
    for error in tally["errors"]:
        print("  failed run:", error, flush=True)
    print(f"  documents {tally['documents']}, new {tally['new_total']}, canonical {tally['canonical']}, "
          f"summaries {tally['summaries']}, runs {tally['run_status']}", flush=True)
    # a run that died with a named error (e.g. the Prefect API's 503 under load) failed clearly;
    # totals are then checked over the runs that completed
    clear = sum(1 for e in tally["errors"] if e and ":" in e[0])
    wrong_totals = int(not clear and tally["new_total"] != tally["documents"]) + int(tally["summaries"] != tally["canonical"])
    return [(f"{runs} overlapping runs, files + URLs, one warehouse ({clear} failed with a named error)", runs,
             tally["lost"], tally["duplicated"], tally["unclear_failures"] - clear + wrong_totals)]


def run_child(cmd: list[str], env: dict, timeout: float = 600) -> tuple[int, str, str, float, float]:
    """Run one command; (exit code, stdout, stderr, seconds, peak RSS MiB of its largest process).

    The peak comes from GNU time's wait4 on its own child: measured from this process, a child
    forked from the benchmark would report the benchmark's own high-water mark (Linux keeps the
    pre-exec image's peak)."""
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "PEAK_RSS_KB %M", *cmd], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    err_lines = proc.stderr.rstrip("\n").splitlines()
    peak_kb = 0.0
    if err_lines and err_lines[-1].startswith("PEAK_RSS_KB "):
        peak_kb = float(err_lines.pop().split()[1])
    if err_lines and err_lines[-1].startswith("Command exited with non-zero status"):
        err_lines.pop()
    return proc.returncode, proc.stdout, "\n".join(err_lines), seconds, peak_kb / 1024


def _outcome(wh: Path, source: str, good: str) -> tuple[str, str, bool]:
    """(outcome, failure reason, every run completed) as the warehouse says."""
    con = crash._open_read_only(wh)
    try:
        stored = {r[0] for r in con.execute("SELECT source FROM documents").fetchall()}
        failed = dict(con.execute("SELECT source, reason FROM failures").fetchall())
        completed = all(r[0] == "completed" for r in con.execute("SELECT status FROM runs").fetchall())
    finally:
        con.close()
    good_note = "good item stored" if good in stored else "GOOD ITEM MISSING"
    if source in stored:
        return f"stored; {good_note}", "", completed
    if source in failed:
        return f"failure row; {good_note}", failed[source], completed
    return f"NOT ACCOUNTED; {good_note}", "", completed


def hostile_rows(tmp: Path, api: str) -> tuple[list[Row], list[HostileRow]]:
    from tasks.sources.url_safety import redact_url

    env = crash.child_env(tmp, api, NEWSFLOW_SQL__TIMEOUT_S="10")
    rows: list[HostileRow] = []
    wrong = 0

    def record(name, expected, outcome, reason, completed, rc, seconds, mib):
        nonlocal wrong
        ok = completed and rc == 0 and reason == expected and "MISSING" not in outcome and "NOT" not in outcome
        wrong += not ok
        rows.append((name, outcome, reason or "-", "yes" if completed and rc == 0 else f"NO (rc {rc})", seconds, mib))
        print(f"  {name}: {outcome} {reason} rc={rc} {seconds:.1f}s {mib:.0f}MiB", flush=True)

    # -- files: each hostile item next to a good file
    scratch = tmp / "scratch"
    expected = hostile.make_hostile_folder(scratch)
    sock = hostile.UnixSocket(scratch / "socket.txt")
    expected["socket.txt"] = "not_regular_file"
    labels = {"fifo.txt": "named pipe (FIFO)", "socket.txt": "Unix socket", "loop_a.txt": "symlink loop (a -> b -> a)",
              "dangling.txt": "dangling symlink", "passwd.txt": "symlink to /etc/passwd",
              "zero.txt": "symlink to /dev/zero", "random.txt": "20 KB of random bytes as .txt",
              "nul.txt": "text with 50 NUL bytes", "bad_bom.txt": "UTF-8 BOM then invalid bytes",
              "latin1.txt": "windows-1252 text, no declaration", "huge_line.txt": "420 KB single line",
              "book.txt": "540 KB of text (no article)",
              "empty.txt": "empty file", "symbols.txt": "only punctuation"}
    try:
        for n, (name, label) in enumerate(labels.items()):
            folder = tmp / f"in{n}"
            folder.mkdir()
            (folder / "good.txt").write_text(hostile.GOOD_TEXT)
            for moved in (["loop_a.txt", "loop_b.txt"] if name == "loop_a.txt" else [name]):
                os.rename(scratch / moved, folder / moved)
            wh = tmp / f"in{n}.duckdb"
            rc, out, err, seconds, mib = run_child(crash.ingest_cmd([str(folder)], wh), env)
            outcome, reason, completed = _outcome(wh, str(folder / name), str(folder / "good.txt"))
            record(f"file: {label}", expected[name], outcome, reason, completed, rc, seconds, mib)
    finally:
        sock.close()

    # -- the web: each hostile page or feed next to a good page
    fetch_env = dict(env, NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES="true", NEWSFLOW_FETCH__PER_HOST_DELAY_S="0",
                     NEWSFLOW_FETCH__RETRIES="0")
    with serve() as server:
        urls, feeds = hostile.route_hostile(server)
        good = server.url("/good")
        labels = {"/garbage": "20 KB random bytes as text/html; charset=bogus", "/png": "PNG served as text/html",
                  "/high-bytes": "bytes no encoding fits, charset=bogus", "/latin": "windows-1252 page, charset=bogus",
                  "/tokened": "URL with ?token=SECRET", "/to-metadata": "redirect to 169.254.169.254 "
                  "(allow_private_addresses on)", "admin:": "URL with user:password@",
                  "/empty-feed.xml": "feed with no items", "/laughs.xml": "entity-expansion (billion laughs) feed",
                  "/not-a-feed.xml": "random text served as XML feed"}
        for n, (key, label) in enumerate(labels.items()):
            url, want = next((u, r) for u, r in {**urls, **feeds}.items() if key in u)
            wh = tmp / f"web{n}.duckdb"
            flag = "--feed" if url in feeds else "--url"
            rc, out, err, seconds, mib = run_child(
                [str(crash.NEWSFLOW), "ingest", "--url", good, flag, url, "--warehouse", str(wh), "--json"], fetch_env)
            outcome, reason, completed = _outcome(wh, redact_url(url), good)
            if hostile.SECRET in hostile.warehouse_text(wh) + out + err:
                outcome += "; SECRET LEAKED"
                wrong += 1
            elif "SECRET" in label or "password" in label:
                outcome += "; secret redacted"
            record(f"web: {label}", want, outcome, reason, completed, rc, seconds, mib)

    # -- parameters and the warehouse file: refused before Prefect starts, exit 2, one line
    (tmp / "a.txt").write_text(hostile.GOOD_TEXT)
    bogus = tmp / "x.duckdb"
    bogus.write_text("not a database")
    for label, args in [("--sentences 0", ["--sentences", "0"]), ("--batch-size -5", ["--batch-size", "-5"]),
                        ("--ratio 5", ["--ratio", "5"]), ("--near-dup-threshold 7", ["--near-dup-threshold", "7"]),
                        ("text file named x.duckdb as --warehouse", ["--warehouse", str(bogus)])]:
        cmd = [str(crash.NEWSFLOW), "ingest", str(tmp / "a.txt"), *args]
        if "--warehouse" not in args:
            cmd += ["--warehouse", str(tmp / "p.duckdb")]
        rc, out, err, seconds, mib = run_child(cmd, env)
        message = err.strip().splitlines()
        ok = rc == 2 and len(message) == 1
        wrong += not ok
        rows.append((f"cli: {label}", f"exit {rc}: {message[-1][:110] if message else ''}", "-", "refused" if ok
                     else "NO", seconds, mib))
        print(f"  {label}: rc={rc} {message}", flush=True)
    good_wh = tmp / "in0.duckdb"
    rc, out, err, seconds, mib = run_child([str(crash.NEWSFLOW), "sql", "SELECT count(*) FROM range(1000000000000)",
                                            "--warehouse", str(good_wh)], env)
    wrong += rc != 1 or "NEWSFLOW_SQL__TIMEOUT_S" not in err
    rows.append(("sql: SELECT count(*) FROM range(10^12), NEWSFLOW_SQL__TIMEOUT_S=10", f"exit {rc}: {err.strip()[:110]}",
                 "-", "stopped" if rc == 1 else "NO", seconds, mib))
    return [("hostile inputs, each next to a good item, through `newsflow` (table below)", len(rows), 0, 0, wrong)], rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="overlapping runs in the load scenario")
    parser.add_argument("--only", default="crash,fuzz,long,nasty,unsafe,faults,load,hostile")
    args = parser.parse_args()
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    rows: list[Row] = []
    hostile_table: list[HostileRow] = []
    tmp = Path(tempfile.mkdtemp(prefix="newsflow-reliability-"))
    started = time.monotonic()
    with prefect_test_harness(server_startup_timeout=240):
        api = PREFECT_API_URL.value()
        for name in args.only.split(","):
            sub = tmp / name
            sub.mkdir()
            print(f"== {name}", flush=True)
            before = len(rows)
            if name == "crash":
                rows += crash_rows(sub, api)
            elif name == "fuzz":
                rows += fuzz_rows()
            elif name == "nasty":
                rows += nasty_row(sub, api)
            elif name == "unsafe":
                rows += unsafe_rows(sub)
            elif name == "faults":
                rows += fault_rows(sub, api)
            elif name == "load":
                rows += load_rows(sub, api, args.runs)
            elif name == "long":
                rows += long_input_rows()
            elif name == "hostile":
                summary, hostile_table = hostile_rows(sub, api)
                rows += summary
            for row in rows[before:]:
                print("ROW | " + " | ".join(str(v) for v in row) + " |", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print("\n| fault or input class | cases | items lost | items duplicated | runs failed without a clear reason |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")
    if hostile_table:
        print("\n| input | outcome | failure reason | run completed | time | peak RSS |")
        print("|---|---|---|---|---|---|")
        for name, outcome, reason, completed, seconds, mib in hostile_table:
            print(f"| {name} | {outcome} | {reason} | {completed} | {seconds:.1f} s | {mib:.0f} MiB |")
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0 if all(r[2] == r[3] == r[4] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
