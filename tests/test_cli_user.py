"""What a user of the command line meets: the live bar on a terminal, settings that override
runs, `newsflow config`, and bad flags refused before anything starts."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
NEWSFLOW = Path(sys.executable).with_name("newsflow")


def _env(tmp: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240", COLUMNS="120", PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def _run_in_pty(cmd: list[str], env: dict, cwd: Path, timeout: float = 600) -> tuple[int, str]:
    """Run `cmd` with a pseudo-terminal as its stdout and stderr, as a user's shell would."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    out = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return proc.returncode, out.decode("utf-8", errors="replace")


@pytest.mark.slow
def test_ingest_on_a_terminal_draws_a_bar_and_honours_settings_from_the_environment(tmp_path, seeds_dir):
    warehouse = tmp_path / "w.duckdb"
    env = _env(tmp_path, NEWSFLOW_WAREHOUSE=str(warehouse), NEWSFLOW_SUMMARY_SENTENCES="1",
               NEWSFLOW_SUMMARY_ALGORITHM="lead")
    rc, out = _run_in_pty([str(NEWSFLOW), "ingest", str(seeds_dir)], env, tmp_path)
    assert rc == 0, out[-3000:]
    # rich's bar: the "ingest" label, items done of total, and a rate
    assert "ingest" in out and "2/2" in out and "/s" in out, out[-3000:]
    assert "\r" in out or "\x1b[" in out  # redrawn in place, not plain lines
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("SELECT algorithm, length, count(*) FROM summaries GROUP BY ALL").fetchall()
        sentences = con.execute("SELECT max(rank) FROM summary_sentences").fetchone()[0]
    finally:
        con.close()
    assert rows == [("lead", "sentences=1", 2)]  # the settings, not the flow's own defaults
    assert sentences == 0


@pytest.mark.slow
def test_ingest_off_a_terminal_prints_plain_progress_lines_and_no_progress_silences_them(tmp_path, seeds_dir,
                                                                                       prefect_harness):
    from prefect.settings import PREFECT_API_URL

    # the session's Prefect server: the test above already starts an ephemeral one as `make run` does
    env = _env(tmp_path, PREFECT_API_URL=PREFECT_API_URL.value())
    cmd = [str(NEWSFLOW), "ingest", str(seeds_dir), "--warehouse", str(tmp_path / "w.duckdb")]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "progress: 2/2 documents (100%)" in proc.stderr and "\r" not in proc.stderr
    quiet = subprocess.run([*cmd, "--no-progress"], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    assert quiet.returncode == 0 and "progress:" not in quiet.stderr


@pytest.mark.slow
def test_a_run_where_every_item_failed_exits_4_and_the_report_counts_past_the_listed_failures(
        tmp_path, seeds_dir, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    env = _env(tmp_path, PREFECT_API_URL=PREFECT_API_URL.value())
    bad = tmp_path / "bad"
    bad.mkdir()
    for n in range(23):
        (bad / f"empty-{n}.txt").write_bytes(b"")
    (bad / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    cmd = [str(NEWSFLOW), "ingest", "--no-progress", "--warehouse", str(tmp_path / "w.duckdb")]
    proc = subprocess.run([*cmd, str(bad)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert "every item failed" in proc.stdout
    assert "by reason: read/empty 23, read/binary 1" in proc.stdout
    assert proc.stdout.count("    - ") == 20 and "… and 4 more: newsflow sql" in proc.stdout
    listed = proc.stdout.split("… and 4 more: newsflow sql ", 1)[1].splitlines()[0].strip('"')
    query = subprocess.run([str(NEWSFLOW), "sql", listed, "--warehouse", str(tmp_path / "w.duckdb"), "--format", "csv"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert query.returncode == 0 and len(query.stdout.splitlines()) == 1 + 24, query.stderr
    # one good file among them: the run did its job, the failures are rows
    mixed = subprocess.run([*cmd, str(bad), str(seeds_dir)], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    assert mixed.returncode == 0 and "every item failed" not in mixed.stdout, mixed.stderr[-3000:]


def _ingest_stopped_at_batch_2(tmp_path: Path, signum: int, *, group: bool) -> tuple[int, str, float, tuple]:
    """A `newsflow ingest` of 120 files in batches of 10, sent `signum` once its second batch is stored:
    to its whole process group, as a terminal's Ctrl-C is (`group`), or to the process, as `kill PID`.
    Returns its exit code, its output after the signal, the seconds it took to exit, and its runs row
    (status, error, documents_new)."""
    import signal

    from tests.test_reliability_crash import make_corpus

    corpus = tmp_path / "corpus"
    make_corpus(corpus, n=120)
    warehouse = tmp_path / "w.duckdb"
    proc = subprocess.Popen([str(NEWSFLOW), "ingest", str(corpus), "--batch-size", "10", "--no-progress"],
                            env=_env(tmp_path, NEWSFLOW_WAREHOUSE=str(warehouse)), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # its own group, as a shell's job is
                            # a shell's job takes SIGINT; a test worker may ignore it, and children inherit that
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if "files batch 2/" in line and " new, " in line:
            break
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    started = time.monotonic()
    try:
        rest, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    took = time.monotonic() - started
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("SELECT status, error, documents_new FROM runs").fetchone()
    finally:
        con.close()
    return proc.returncode, rest, took, row


@pytest.mark.slow
def test_ctrl_c_stops_the_run_within_seconds_and_records_it(tmp_path):
    """Ctrl-C signals the whole foreground group: Prefect's temporary server died with it and the run
    retried the dead API for its report for 20 minutes and more. Now: out in seconds, one line, the
    runs row says it was interrupted, no server left behind."""
    import signal

    code, rest, took, (status, error, stored) = _ingest_stopped_at_batch_2(tmp_path, signal.SIGINT, group=True)
    assert code == 130 and took < 60, rest[-3000:]
    assert "newsflow ingest: interrupted; batches it committed stay stored" in rest
    assert (status, error) == ("failed", "interrupted (Ctrl-C / SIGINT)") and stored > 0
    time.sleep(2)
    assert not _servers_from(tmp_path / "prefect")  # the temporary server stopped with the run


def test_sigterm_ends_the_run_recorded_and_leaves_no_server_behind(tmp_path):
    """`kill PID` / `timeout` / a service manager: the run recorded `terminated (SIGTERM)`, but Prefect
    then re-sent the signal, the process died on the spot and its temporary server lived on, orphaned."""
    import signal

    code, rest, _, (status, error, stored) = _ingest_stopped_at_batch_2(tmp_path, signal.SIGTERM, group=False)
    assert code == 143, rest[-3000:]
    assert (status, error) == ("failed", "terminated (SIGTERM)") and stored > 0
    time.sleep(2)
    assert not _servers_from(tmp_path / "prefect")  # the temporary server stopped with the run


def test_a_killed_ingest_leaves_no_server_behind(tmp_path):
    """SIGKILL (an OOM kill, `kill -9`) runs no exit handler: Prefect's temporary server, in a session of
    its own, was left running, orphaned, one more each time. The next run completes the work."""
    import signal

    code, _, _, (status, _, stored) = _ingest_stopped_at_batch_2(tmp_path, signal.SIGKILL, group=False)
    assert code == -signal.SIGKILL and status == "running" and stored > 0
    deadline = time.monotonic() + 30
    while _servers_from(tmp_path / "prefect") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _servers_from(tmp_path / "prefect")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_serve_without_a_prefect_server_runs_its_schedule_and_ctrl_c_lets_a_run_record_its_end(tmp_path):
    """`make serve` with no PREFECT_API_URL: Prefect's temporary server is ephemeral and runs no
    scheduler, so the schedule was registered and never ran (5 minutes at a 1-minute interval, no run).
    Now the first run comes within the interval. Ctrl-C in the middle of it (the terminal signals the
    whole process group): the run used to die before it could record its end (serve's event loop
    killed it, and it talked to a temporary server of its own, which the same Ctrl-C killed), leaving
    its runs row `running` and the flow run Running in Prefect; now it is `failed` / interrupted, Crashed,
    with its three artifacts, and serve and its server stop."""
    import signal
    import sqlite3

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    words = "council river budget school storm rail court harbour museum election".split()
    for i in range(2000):  # a run of many batches, to stop half-way
        body = " ".join(words[(i * 7 + k) % 10] + str(k % 13) for k in range(120))
        (inbox / f"{i:04d}.txt").write_text(f"Report {i} on the {words[i % 10]}\n\n{body}.\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    env = _env(tmp_path, NEWSFLOW_INBOX=str(inbox), NEWSFLOW_WAREHOUSE=str(warehouse), NEWSFLOW_BATCH_SIZE="50",
               NEWSFLOW_SCHEDULE_INTERVAL_MINUTES="1", PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2")
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(NEWSFLOW), "serve"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240  # the first run is due within a minute of the deployment
        while not re.search(r"files batch 2/40 \(50 files\): \d+ new", log.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # on a loaded machine the next scheduled run may have started (and queued for the writer) too:
        # every run is ended, and the one that was writing is checked below
        runs = con.execute("SELECT status, error, documents_new, flow_run_id FROM runs "
                           "ORDER BY documents_new DESC").fetchall()
    finally:
        con.close()
    assert all((status, error) == ("failed", "interrupted (Ctrl-C / SIGINT)") for status, error, _, _ in runs), runs
    _, _, new, flow_run_id = runs[0]
    assert 100 <= new < 2000 and sum(r[2] for r in runs[1:]) < 2000 - new
    prefect_db = sqlite3.connect(tmp_path / "prefect" / "prefect.db")
    try:
        state = prefect_db.execute("SELECT state_type FROM flow_run WHERE id = ?", [flow_run_id]).fetchone()
        keys = {k for (k,) in prefect_db.execute("SELECT key FROM artifact WHERE flow_run_id = ?", [flow_run_id])}
    finally:
        prefect_db.close()
    assert state == ("CRASHED",)
    assert keys == {"ingest-report", "ingest-new-articles", "ingest-progress"}
    time.sleep(2)
    assert not _servers_from(tmp_path / "prefect")  # the temporary server stopped with serve


def test_serve_refuses_an_inbox_it_cannot_create_in_one_line(tmp_path):
    env = _env(tmp_path, NEWSFLOW_INBOX="/proc/no-such-folder/inbox")
    proc = subprocess.run([str(NEWSFLOW), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "newsflow: bad setting: NEWSFLOW_INBOX=/proc/no-such-folder/inbox: the folder cannot be created "
        "(No such file or directory)"], proc.stderr


def _servers_from(prefect_home: Path) -> list[int]:
    """Prefect server processes started with this PREFECT_HOME."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except (OSError, ValueError):
            continue
        if b"prefect.server.api.server:create_app" in args and f"PREFECT_HOME={prefect_home}".encode() in environ:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("flag", [["--sentences", "0"], ["--batch-size", "-5"], ["--ratio", "5"],
                                  ["--near-dup-threshold", "7"], ["--algorithm", "nope"]])
def test_bad_flags_exit_2_with_one_line_before_prefect_starts(tmp_path, seeds_dir, flag):
    proc = subprocess.run([str(NEWSFLOW), "ingest", str(seeds_dir), "--warehouse", str(tmp_path / "w.duckdb"), *flag],
                          env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "temporary server" not in proc.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_config_says_where_each_value_came_from_and_warns_on_unknown_names(tmp_path):
    (tmp_path / ".env").write_text("NEWSFLOW_BATCH_SIZE=250\nNEWSFLOW_SUMMARY_ALGORITM=lead\n")
    env = _env(tmp_path, NEWSFLOW_NEAR_DUP_THRESHOLD="0.6", NEWSFLOW_SUMARY_SENTENCES="2",
               NEWSFLOW_HOME=str(tmp_path))  # the work pool's checkout (prefect.yaml), not a typo
    proc = subprocess.run([str(NEWSFLOW), "config", "--json"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["setting"]: r for r in json.loads(proc.stdout)}
    assert rows["near_dup_threshold"]["value"] == 0.6 and rows["near_dup_threshold"]["source"] == "environment"
    assert rows["batch_size"]["value"] == 250 and rows["batch_size"]["source"] == ".env"
    assert rows["summary_sentences"]["value"] == 3 and rows["summary_sentences"]["source"] == "default"
    assert "NEWSFLOW_SUMARY_SENTENCES is not a newsflow setting" in proc.stderr
    assert "did you mean NEWSFLOW_SUMMARY_SENTENCES?" in proc.stderr
    # a typo in the .env file is as silent otherwise
    assert "NEWSFLOW_SUMMARY_ALGORITM is not a newsflow setting" in proc.stderr
    assert "NEWSFLOW_HOME" not in proc.stderr


def test_config_says_which_summary_length_is_in_force(tmp_path):
    """A ratio set made the sentence count unused, and `config` still showed "3, default" as if in force."""
    proc = subprocess.run([str(NEWSFLOW), "config", "--json"], env=_env(tmp_path, NEWSFLOW_SUMMARY_RATIO="0.2"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["setting"]: r for r in json.loads(proc.stdout)}
    assert rows["summary_sentences"]["source"] == "default"
    assert rows["summary_sentences"]["note"] == "not used: NEWSFLOW_SUMMARY_RATIO is set"
    table = subprocess.run([str(NEWSFLOW), "config"], env=_env(tmp_path, NEWSFLOW_SUMMARY_RATIO="0.2"), cwd=tmp_path,
                           capture_output=True, text=True, timeout=120).stdout
    assert "default (not used: NEWSFLOW_SUMMARY_RATIO is set)" in table
    assert rows["summary_ratio"]["value"] == 0.2 and rows["summary_ratio"]["source"] == "environment"


@pytest.mark.parametrize("typed", ["127.0.0.1, .corp 10.1.0.0/16", '["127.0.0.1", ".corp", "10.1.0.0/16"]'])
def test_list_settings_take_what_people_type(tmp_path, typed):
    env = _env(tmp_path, NEWSFLOW_FETCH__ALLOW_HOSTS=typed, NEWSFLOW_FEEDS="http://127.0.0.1:1/a.rss")
    proc = subprocess.run([str(NEWSFLOW), "config", "--json"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["setting"]: r["value"] for r in json.loads(proc.stdout)}
    assert rows["fetch.allow_hosts"] == ["127.0.0.1", ".corp", "10.1.0.0/16"]
    assert rows["feeds"] == ["http://127.0.0.1:1/a.rss"]


@pytest.mark.parametrize("name, value, says", [
    ("NEWSFLOW_FETCH__ALLOW_HOSTS", "[127.0.0.1", "NEWSFLOW_FETCH__ALLOW_HOSTS"),
    ("NEWSFLOW_LAKE", "{bad", 'field "lake"'),
    # these three reached `serve` (a traceback) or every document (a run tagged 'xx') before
    ("NEWSFLOW_SCHEDULE_CRON", "bad cron", 'NEWSFLOW_SCHEDULE_CRON: Invalid cron string: "bad cron"'),
    ("NEWSFLOW_SCHEDULE_TIMEZONE", "Mars/Base", "NEWSFLOW_SCHEDULE_TIMEZONE: unknown time zone 'Mars/Base'"),
    ("NEWSFLOW_LANGUAGE", "xx", "NEWSFLOW_LANGUAGE: 'xx' is not a language code"),
    # these three: 1,083 queued runs from a 0.06 s schedule; serve's traceback on a file as inbox; a
    # warehouse folder served (every run failing) and ingest's traceback once Prefect had started
    ("NEWSFLOW_SCHEDULE_INTERVAL_MINUTES", "0.001", "NEWSFLOW_SCHEDULE_INTERVAL_MINUTES: Input should be greater"),
    ("NEWSFLOW_INBOX", str(NEWSFLOW), "NEWSFLOW_INBOX: " + str(NEWSFLOW) + " is a file"),
    ("NEWSFLOW_WAREHOUSE", ".", "NEWSFLOW_WAREHOUSE: . is a folder"),
    # every scheduled run failed it as a failure row, and serve started as if all were well
    ("NEWSFLOW_FEEDS", "https://example.com/rss.xml notaurl", "NEWSFLOW_FEEDS: notaurl: a feed is an http(s) address"),
    # accepted, then every URL failed (fetch/http_None) or ingest died mid-start with DuckDB's traceback
    ("NEWSFLOW_FETCH__RETRIES", "-1", "NEWSFLOW_FETCH__RETRIES: Input should be greater than or equal to 0"),
    ("NEWSFLOW_DUCKDB_MEMORY_LIMIT", "lots", "NEWSFLOW_DUCKDB_MEMORY_LIMIT: 'lots' is not a memory size"),
    ("NEWSFLOW_SQL__MEMORY_LIMIT", "80%", "NEWSFLOW_SQL__MEMORY_LIMIT: '80%' is not a memory size"),
])
@pytest.mark.parametrize("command", ["config", "serve"])
def test_a_malformed_setting_is_one_line_not_a_traceback(tmp_path, name, value, says, command):
    proc = subprocess.run([str(NEWSFLOW), command], env=_env(tmp_path, **{name: value}), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("newsflow: bad setting:") and "Traceback" not in proc.stderr
    assert says in proc.stderr and "Value error" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_serve_limit_must_be_one_or_more(tmp_path, limit):
    """--limit 0 served and never ran anything; -1 registered the deployment and then crashed."""
    proc = subprocess.run([str(NEWSFLOW), "serve", "--limit", limit], env=_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--limit" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_language_must_be_a_language(tmp_path, seeds_dir):
    for tag, ok in (("ge", False), ("pt-BR", True)):  # the rest of the table: tests/test_languages.py
        proc = subprocess.run([str(NEWSFLOW), "ingest", str(seeds_dir), "--language", tag,
                               "--url-file", str(tmp_path / "missing.txt"), "--warehouse", str(tmp_path / "w.duckdb")],
                              env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
        # the missing url file stops a good language at the next check, before anything runs
        assert proc.returncode == 2 and ("is not a language code" in proc.stderr) != ok, (tag, proc.stderr)


def test_near_dup_threshold_setting_reaches_the_run_config(monkeypatch):
    from flows.parameters import run_config
    from flows.settings import get_settings

    monkeypatch.setenv("NEWSFLOW_NEAR_DUP_THRESHOLD", "0.6")
    settings = get_settings()
    assert run_config(settings).dedup.threshold == 0.6
    assert run_config(settings, near_dup_threshold=0.9).dedup.threshold == 0.9  # a run's parameter wins
