"""`newsflow sql` and `newsflow search` against real warehouse files."""

import csv
import io
import json
import multiprocessing
import subprocess
import sys
import time

import duckdb
import pytest

from newsflow.cli import main
from test_search import CORPUS, doc
from warehouse.store import Warehouse


@pytest.fixture
def wh(tmp_path):
    path = tmp_path / "w.duckdb"
    store = Warehouse(path)
    store.migrate()
    store.write_batch("r1", [doc(s, t, x) for s, (t, x) in CORPUS.items()], [], {}, summary_length="sentences=1")
    store.refresh_search_index()
    return path


def test_sql_formats(wh, capsys):
    assert main(["sql", "SELECT title, published_at FROM latest_articles ORDER BY title LIMIT 2",
                 "--warehouse", str(wh), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"title": "Markets rally on trade hopes", "published_at": "2024-05-01"},
                    {"title": "Parliament debates budget", "published_at": "2024-05-01"}]
    assert main(["sql", "SELECT count(*) AS n FROM documents", "--warehouse", str(wh), "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["n"], ["4"]]
    assert main(["sql", "SELECT title FROM search_articles('chemical weapons')", "--warehouse", str(wh)]) == 0
    out = capsys.readouterr().out
    assert "UN council adopts chemical weapons resolution" in out and "(1 row)" in out


def test_sql_csv_writes_a_list_as_one_cell(wh, capsys):
    assert main(["sql", "SELECT ['Reuters', 'AP'] AS outlets, 2 AS n", "--warehouse", str(wh), "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["outlets", "n"], ["Reuters; AP", "2"]]


def test_sql_table_columns_line_up_on_a_terminal_with_wide_characters(wh, capsys):
    """A CJK character takes two terminal cells: the next column starts in the same cell on every row."""
    from rich.cells import cell_len

    assert main(["sql", "SELECT * FROM (VALUES ('ja', '韓国が戒厳令、尹大統領', 1), ('de', 'Brand in Betrieb', 2)) t(lang, title, n)",
                 "--warehouse", str(wh)]) == 0
    lines = capsys.readouterr().out.splitlines()
    starts = {cell_len(line[: line.rindex("  ") + 2]) for line in (lines[0], lines[2], lines[3])}
    assert len(starts) == 1, lines
    assert main(["sql", "SELECT '韓国' AS title", "--warehouse", str(wh), "--format", "json"]) == 0
    assert '"title": "韓国"' in capsys.readouterr().out  # readable, not \\u97d3\\u56fd


def test_reading_commands_do_not_load_the_pipeline():
    """`newsflow sql`, `search`, `config` answer without importing the summarizers or the clustering
    (sumy, NLTK and SciPy cost every command about a second before the names moved out)."""
    probe = ("import sys, newsflow.cli, newsflow.settings; newsflow.settings.get_settings(); "
             "print(sorted(m for m in ('sumy', 'nltk', 'scipy', 'tasks.pipeline') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["search", "budget"], ["reindex"], ["export"]])
def test_a_missing_warehouse_is_one_line_and_is_not_created(tmp_path, capsys, command):
    missing = tmp_path / "none.duckdb"
    assert main([*command, "--warehouse", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"no warehouse at {missing}" in err and "newsflow ingest" in err and "IO Error" not in err
    assert not missing.exists()


@pytest.mark.parametrize("statement", [
    "DELETE FROM documents",
    "INSERT INTO runs (run_id, started_at, status) VALUES ('x', now(), 'running')",
    "DROP VIEW articles",
    "SELECT 1; UPDATE documents SET title = 'x'",
])
def test_sql_refuses_writes(wh, capsys, statement):
    assert main(["sql", statement, "--warehouse", str(wh)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert Warehouse(wh).counts()["documents"] == 4


def test_sql_cannot_write_files_or_reenable_access(wh, tmp_path, capsys):
    target = tmp_path / "leak.csv"
    assert main(["sql", f"COPY documents TO '{target}'", "--warehouse", str(wh)]) == 2
    assert not target.exists()
    assert main(["sql", "SET enable_external_access = true", "--warehouse", str(wh)]) == 2
    capsys.readouterr()


def test_sql_error_is_reported_not_raised(wh, capsys):
    assert main(["sql", "SELECT nope FROM documents", "--warehouse", str(wh)]) == 1
    assert "nope" in capsys.readouterr().err


def _hold_lock(path: str, seconds: float, ready) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def _holding(path, seconds):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(path), seconds, ready))
    holder.start()
    ready.wait(10)
    return holder


def test_sql_waits_for_a_writer_then_answers(wh, capsys, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_LOCK_TIMEOUT_S", "30")
    holder = _holding(wh, 1.5)
    assert main(["sql", "SELECT count(*) AS n FROM documents", "--warehouse", str(wh), "--format", "csv"]) == 0
    holder.join()
    assert capsys.readouterr().out.splitlines() == ["n", "4"]


def test_sql_names_the_process_holding_the_lock(wh, capsys, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_LOCK_TIMEOUT_S", "0.5")
    holder = _holding(wh, 4)
    assert main(["sql", "SELECT 1", "--warehouse", str(wh)]) == 3
    err = capsys.readouterr().err
    holder.join()
    assert f"locked by process {holder.pid}" in err


def test_search_command(wh, capsys):
    assert main(["search", "chemical weapons resolution", "--limit", "1", "--warehouse", str(wh)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. UN council adopts chemical weapons resolution")
    assert "Test Wire · 2024-05-01 · score" in out and "Markets" not in out
    assert main(["search", "zeppelin", "--warehouse", str(wh)]) == 0
    captured = capsys.readouterr()
    assert "no matching articles" in captured.out and "not searched yet" not in captured.err


def test_search_says_what_the_index_misses_and_reindex_catches_up(wh, capsys):
    Warehouse(wh).write_batch("r2", [doc("zeppelin.txt", "Zeppelin lands", "A zeppelin landed in the park.")], [], {},
                              summary_length="sentences=1")
    assert main(["search", "zeppelin", "--warehouse", str(wh)]) == 0
    captured = capsys.readouterr()
    assert "no matching articles" in captured.out
    assert "note: 1 documents stored since the index was built are not searched yet" in captured.err
    assert main(["reindex", "--warehouse", str(wh)]) == 0
    assert "search index rebuilt: 5 documents" in capsys.readouterr().out
    assert main(["search", "zeppelin", "--warehouse", str(wh)]) == 0
    captured = capsys.readouterr()
    assert "Zeppelin lands" in captured.out and captured.err == ""
