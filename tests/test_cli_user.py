"""What a user of the command line meets: the live bar on a terminal, settings that override
runs, `newsflow config`, and bad flags refused before anything starts."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
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
    # the hint, typed as printed: it names the run's warehouse, which no setting here does
    hint = shlex.split(proc.stdout.split("… and 4 more: ", 1)[1].splitlines()[0])
    assert hint[:2] == ["newsflow", "sql"]
    query = subprocess.run([str(NEWSFLOW), *hint[1:], "--format", "csv"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert query.returncode == 0 and len(query.stdout.splitlines()) == 1 + 24, query.stderr
    # one good file among them: the run did its job, the failures are rows
    mixed = subprocess.run([*cmd, str(bad), str(seeds_dir)], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    assert mixed.returncode == 0 and "every item failed" not in mixed.stdout, mixed.stderr[-3000:]


def test_serve_refuses_an_inbox_it_cannot_create_in_one_line(tmp_path):
    env = _env(tmp_path, NEWSFLOW_INBOX="/proc/no-such-folder/inbox")
    proc = subprocess.run([str(NEWSFLOW), "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "newsflow: bad setting: NEWSFLOW_INBOX=/proc/no-such-folder/inbox: the folder cannot be created "
        "(No such file or directory)"], proc.stderr


@pytest.mark.parametrize("flag", [["--sentences", "0"], ["--batch-size", "-5"], ["--ratio", "5"],
                                  ["--near-dup-threshold", "7"], ["--algorithm", "nope"],
                                  ["--sentences", "3", "--words", "50"], ["--batch-size", "abc"]])
def test_bad_flags_exit_2_with_one_line_before_prefect_starts(tmp_path, seeds_dir, flag):
    proc = subprocess.run([str(NEWSFLOW), "ingest", str(seeds_dir), "--warehouse", str(tmp_path / "w.duckdb"), *flag],
                          env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
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
    ("NEWSFLOW_SCHEDULE_CRON", "*/10 * * * * *", "NEWSFLOW_SCHEDULE_CRON: '*/10 * * * * *': a cron of five fields"),
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
