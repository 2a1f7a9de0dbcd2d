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
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["outlets", "n"], ['["Reuters", "AP"]', "2"]]


MIXED = "SELECT NULL AS a, '' AS e, {'k': NULL} AS s, 'x'::BLOB AS b, [1, NULL] AS l, [MAP {1: 'one'}] AS m"


def test_sql_csv_cells_are_data_not_python_reprs(wh, capsys):
    """NULL is an empty cell; lists, structs and maps are JSON text; a BLOB is base64 (as --help says)."""
    assert main(["sql", MIXED, "--warehouse", str(wh), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert list(csv.reader(io.StringIO(out))) == [["a", "e", "s", "b", "l", "m"],
                                                  ["", "", '{"k": null}', "eA==", "[1, null]", '[{"1": "one"}]']]
    assert "None" not in out and "b'x'" not in out


def test_sql_booleans_read_as_sql_writes_them_and_a_cut_cell_says_so(wh, capsys):
    """csv and table printed Python's True/False (json: true/false); the table cuts a long cell at 60
    characters with "…", and a summary read so looked like the stored one: a line says how to get it whole."""
    assert main(["sql", "SELECT true AS yes, false AS no", "--warehouse", str(wh), "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["yes", "no"], ["true", "false"]]
    assert main(["sql", "SELECT true AS yes, repeat('word ', 30) AS long", "--warehouse", str(wh)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("true ") and lines[2].endswith("…")
    assert lines[-2:] == ["(1 row)", "(cells longer than 60 characters end in …: --format csv or json prints them whole)"]
    assert main(["sql", "SELECT 'short' AS s", "--warehouse", str(wh)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(1 row)"


def test_sql_table_shows_null_apart_from_an_empty_string(wh, capsys):
    assert main(["sql", MIXED, "--warehouse", str(wh)]) == 0
    header, _, row, footer = capsys.readouterr().out.splitlines()
    cells = row.split("  ")
    assert cells[0] == "NULL" and "None" not in row and "b'x'" not in row
    assert row[header.index("e"): header.index("s")].strip() == ""  # the empty string: blank
    assert '{"k": null}' in row and "eA==" in row and "[1, null]" in row
    assert footer == "(1 row)"


def test_sql_table_says_on_stdout_when_the_rows_were_cut(wh, capsys, monkeypatch):
    """Piped to a file or a pager, stderr is not seen: the table's own last line says it is not all."""
    monkeypatch.setenv("NEWSFLOW_SQL__MAX_ROWS", "3")
    assert main(["sql", "SELECT * FROM range(10) t(n)", "--warehouse", str(wh)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2:5] == ["0", "1", "2"] and len(out) == 6
    assert "first 3 rows" in out[-1] and "more" in out[-1] and "NEWSFLOW_SQL__MAX_ROWS" in out[-1]
    assert main(["sql", "SELECT * FROM range(3) t(n)", "--warehouse", str(wh)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(3 rows)"  # all of them: no note


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_sql_json_keeps_every_column_and_is_valid_json(wh, capsys):
    assert main(["sql", "SELECT 'x' AS k, 'y' AS k, 3 AS k_2", "--warehouse", str(wh), "--format", "json"]) == 0
    assert _strict_json(capsys.readouterr().out) == [{"k": "x", "k_3": "y", "k_2": 3}]
    assert main(["sql", "SELECT d.doc_id, s.doc_id, d.title FROM documents d JOIN summaries s USING (doc_id) "
                 "ORDER BY d.title LIMIT 1", "--warehouse", str(wh), "--format", "json"]) == 0
    [row] = _strict_json(capsys.readouterr().out)
    assert list(row) == ["doc_id", "doc_id_2", "title"] and row["doc_id"] == row["doc_id_2"]
    assert main(["sql", "SELECT 'nan'::DOUBLE AS n, 'inf'::DOUBLE AS i, 1.5::DOUBLE AS f, {'a': ['-inf'::DOUBLE, 2.0], "
                 "'b': 'x'::BLOB} AS s, [NULL, 1] AS l", "--warehouse", str(wh), "--format", "json"]) == 0
    assert _strict_json(capsys.readouterr().out) == [
        {"n": None, "i": None, "f": 1.5, "s": {"a": [None, 2.0], "b": "eA=="}, "l": [None, 1]}]


def test_sql_json_gives_a_json_column_as_json_not_as_a_string_of_it(wh, capsys):
    # `jq '.[0].parameters.algorithm'` on a runs row: the column's text inside a string failed it
    store = Warehouse(wh)
    store.start_run("r2", None, {"algorithm": "lead", "paths": ["/nachrichten/café"]})
    assert main(["sql", "SELECT parameters, '[1, {\"a\": null}]'::JSON AS j, NULL::JSON AS nothing FROM runs "
                 "WHERE run_id = 'r2'", "--warehouse", str(wh), "--format", "json"]) == 0
    assert _strict_json(capsys.readouterr().out) == [
        {"parameters": {"algorithm": "lead", "paths": ["/nachrichten/café"]}, "j": [1, {"a": None}], "nothing": None}]
    assert main(["sql", "SELECT parameters FROM runs WHERE run_id = 'r2'", "--warehouse", str(wh), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == '"{""algorithm"": ""lead"", ""paths"": [""/nachrichten/café""]}"'


@pytest.mark.parametrize("query", ["", "   ", "-- just a comment", ";"])
def test_sql_without_a_statement_is_a_one_line_usage_error(wh, capsys, query):
    assert main(["sql", query, "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsflow sql: ") and len(err.strip().splitlines()) == 1, err
    assert "no SQL statement" in err


@pytest.mark.parametrize("statement", ["ATTACH ':memory:' AS m", "ATTACH 'other.duckdb' AS o", "DETACH w",
                                       "LOAD httpfs", "INSTALL httpfs", "SELECT 1; LOAD fts"])
def test_sql_refuses_attach_detach_load_and_install_up_front(wh, tmp_path, capsys, monkeypatch, statement):
    monkeypatch.chdir(tmp_path)
    assert main(["sql", statement, "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsflow sql: refused, ") and len(err.strip().splitlines()) == 1, err
    assert "Error:" not in err  # refused before DuckDB runs it, not DuckDB's own failure
    assert not (tmp_path / "other.duckdb").exists()


def test_an_analyst_session_cannot_load_an_extension_nor_unlock_itself(wh, monkeypatch):
    """Warehouse sessions skip DuckDB's extension signature check (warehouse/lake.SESSION_CONFIG); beneath
    the up-front refusal of LOAD, the analyst's session itself is locked with external access off."""
    import warehouse.store as store_module

    monkeypatch.setattr(store_module, "check_analyst_sql", lambda sql: None)  # the second guard alone
    store = Warehouse(wh)
    assert store.query("SELECT current_setting('allow_unsigned_extensions'), current_setting('enable_external_access'), "
                       "current_setting('lock_configuration')")[1] == [(True, False, True)]
    with pytest.raises(duckdb.Error, match="locked"):
        store.query("SET enable_external_access = true")
    with pytest.raises(duckdb.Error, match="Loading external extensions is disabled"):
        store.query("LOAD '/tmp/unsigned.duckdb_extension'")


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
    probe = ("import sys, newsflow.cli, flows.settings; flows.settings.get_settings(); "
             "print(sorted(m for m in ('sumy', 'nltk', 'scipy', 'tasks.pipeline') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_english_search_answers_without_loading_nltk(wh):
    # NLTK's import (SciPy, scikit-learn: 1-2 s) came with the query analysis that English does not use
    probe = ("import sys; from newsflow.cli import main; "
             f"code = main(['search', 'budget', '--warehouse', {str(wh)!r}]); "
             "print(code, sorted(m for m in ('sumy', 'nltk', 'tasks.pipeline') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout


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
    # reading another file is no data change: the refusal says what is allowed, not to ingest
    assert main(["sql", "SELECT * FROM read_csv('/etc/passwd')", "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert "refused, queries here read the warehouse's tables only" in err and "ingest" not in err


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
    assert "note: 1 document stored since the index was built is not searched yet" in captured.err
    assert main(["reindex", "--warehouse", str(wh)]) == 0
    assert "search index rebuilt: 5 documents" in capsys.readouterr().out
    assert main(["search", "zeppelin", "--warehouse", str(wh)]) == 0
    captured = capsys.readouterr()
    assert "Zeppelin lands" in captured.out and captured.err == ""


def test_search_refuses_a_language_code_no_language_has(wh, capsys):
    assert main(["search", "budget", "--language", "xx", "--warehouse", str(wh)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("newsflow search: --language 'xx' is not a language code")
    assert len(captured.err.strip().splitlines()) == 1 and "no matching articles" not in captured.out
    assert main(["search", "budget", "--language", "en-GB", "--warehouse", str(wh)]) == 0  # a tag: its language
    assert capsys.readouterr().err == ""


def test_search_and_export_exit_3_on_a_locked_warehouse_and_export_leaves_no_folder(wh, tmp_path, capsys,
                                                                                     monkeypatch):
    """As sql and stories do (docs/operations.md): 3 is "locked, try again", 2 a usage error, 1 a failure."""
    monkeypatch.setenv("NEWSFLOW_LOCK_TIMEOUT_S", "0.5")
    out = tmp_path / "exports" / "today"
    kept = tmp_path / "kept"
    kept.mkdir()
    holder = _holding(wh, 8)
    try:
        assert main(["search", "budget", "--warehouse", str(wh)]) == 3
        assert f"locked by process {holder.pid}" in capsys.readouterr().err
        assert main(["export", "--warehouse", str(wh), "--out", str(out)]) == 3
        assert f"locked by process {holder.pid}" in capsys.readouterr().err
        assert not (tmp_path / "exports").exists()  # the folders it made for the export are gone
        assert main(["export", "--warehouse", str(wh), "--out", str(kept)]) == 3
        assert kept.is_dir() and not any(kept.iterdir())  # a folder that was there stays
    finally:
        holder.terminate()
        holder.join()


@pytest.mark.parametrize("limit, code", [("", 0), ("2GiB", 0), ("1.5GB", 0), ("lots", 2)])
def test_the_query_memory_limit_setting_may_be_empty_for_none(wh, capsys, monkeypatch, limit, code):
    """An empty NEWSFLOW_SQL__MEMORY_LIMIT means no cap of the query's own (the query sets none); the
    check that refuses 'lots' when settings are read refused it too (a diff review)."""
    monkeypatch.setenv("NEWSFLOW_SQL__MEMORY_LIMIT", limit)
    assert main(["sql", "SELECT count(*) FROM documents", "--warehouse", str(wh)]) == code
    assert ("not a memory size" in capsys.readouterr().err) == (code == 2)
