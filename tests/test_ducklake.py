"""The same warehouse on DuckLake (SQLite catalog + local Parquet files), with concurrent writers."""

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.cli import main
from flows.storage import open_warehouse
from flows.settings import get_settings
from tasks.document import Failure
from test_search import CORPUS, doc
from warehouse.lake import LakeConfig, adapt_ddl
from warehouse.store import Warehouse, migrations

REPO = Path(__file__).resolve().parent.parent


def lake_env(root: Path) -> dict[str, str]:
    return {"NEWSFLOW_STORAGE": "ducklake", "NEWSFLOW_LAKE__CATALOG": f"sqlite:{root / 'catalog.sqlite'}",
            "NEWSFLOW_LAKE__DATA_PATH": str(root / "data"), "NEWSFLOW_LAKE__SEARCH_INDEX": str(root / "search.duckdb")}


def lake_store(root: Path) -> Warehouse:
    cfg = LakeConfig(f"sqlite:{root / 'catalog.sqlite'}", root / "data", root / "search.duckdb")
    return Warehouse(cfg.attach_target(), lake=cfg, lock_timeout_s=60)


def test_ddl_variant_drops_what_ducklake_lacks():
    sql = adapt_ddl(migrations()[0][2])
    assert "PRIMARY KEY" not in sql.upper() and "CREATE INDEX" not in sql.upper()
    assert "CREATE TABLE documents" in sql and "CREATE VIEW articles" in sql
    assert adapt_ddl("a TIMESTAMP DEFAULT current_timestamp, b INT DEFAULT 0") == "a TIMESTAMP, b INT DEFAULT 0"


@pytest.mark.parametrize("command", [["sql", "FROM run_history"], ["search", "flood"], ["stories"]])
def test_reading_a_lake_no_run_has_created_yet_says_so(tmp_path, monkeypatch, capsys, command):
    from newsflow.cli import main

    for key, value in lake_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert main(command) == 2
    assert "no lake yet" in capsys.readouterr().err and not (tmp_path / "catalog.sqlite").exists()


def test_settings_select_ducklake(tmp_path, monkeypatch):
    for key, value in lake_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    store = open_warehouse(get_settings())
    assert store.lake is not None and store.lake.data_path == tmp_path / "data"
    assert open_warehouse(get_settings(), tmp_path / "x.duckdb").lake is None  # explicit file wins


def test_same_schema_views_search_and_sql_on_ducklake(tmp_path, monkeypatch, capsys):
    store = lake_store(tmp_path)
    latest = max(v for v, _, _ in migrations())
    assert store.migrate() == latest and store.migrate() == latest
    docs = [doc(s, t, x) for s, (t, x) in CORPUS.items()]
    fail = [Failure("bad.bin", "read", "binary", "NUL bytes")]
    store.write_batch("r1", docs, fail, {}, summary_length="sentences=1")
    store.write_batch("r2", docs, fail, {}, summary_length="sentences=1")  # upserts without keys
    assert store.counts()["documents"] == 4
    _, rows = store.query("SELECT occurrences, first_run_id, last_run_id FROM failures")
    assert rows == [(2, "r1", "r2")]
    _, rows = store.query("SELECT comment FROM duckdb_views() WHERE view_name = 'latest_articles'")
    assert rows[0][0].startswith("The canonical articles the sources hold now")
    assert list((tmp_path / "data").rglob("*.parquet"))  # data really lives in Parquet files

    assert store.refresh_search_index().rebuilt is True and store.refresh_search_index().rebuilt is False
    check_search_and_cli(store, lake_env(tmp_path), monkeypatch, capsys)


def check_search_and_cli(store: Warehouse, env: dict[str, str], monkeypatch, capsys) -> None:
    """What an analyst does with a lake holding test_search.CORPUS: search it, then `newsflow sql`
    (read-only) and `newsflow search` with the lake's settings in the environment."""
    _, rows = store.search("chemical weapons resolution")
    assert rows[0][0] == "UN council adopts chemical weapons resolution"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["sql", "SELECT count(*) AS n FROM latest_articles", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]
    assert main(["sql", "DELETE FROM documents"]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["search", "flooding"]) == 0
    assert "Storm floods coastal towns" in capsys.readouterr().out
    # the session reads the lake's data path, which DuckDB lets it write too: a COPY over a data file
    # broke the lake for every reader, and query() ran SQL text no check could read
    local = Path(str(store.lake.data_path))
    data_files = sorted(local.rglob("*.parquet")) if local.is_dir() else []
    sneaks = [(f"COPY (SELECT 'gone' AS doc_id) TO '{f}' (FORMAT parquet)", "COPY statements") for f in data_files[:1]]
    sneaks += [("EXPORT DATABASE '/tmp/newsflow-export-sneak'", "EXPORT statements"),
               ("FROM query('SELECT 1')", "disabled by configuration"),
               ("SELECT * FROM query_table('documents')", "disabled by configuration")]
    for sneak, says in sneaks:
        assert main(["sql", sneak]) == 2, sneak
        assert says in capsys.readouterr().err, sneak
    assert main(["sql", "SELECT count(*) AS n FROM documents", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]


def _write_all(root: str, worker: int, barrier) -> None:
    store = lake_store(Path(root))
    barrier.wait(30)
    # both workers write every document, in opposite orders and small batches
    items = [doc(s, t, x) for s, (t, x) in CORPUS.items()] + [
        doc(f"extra{i}.txt", f"Extra {i}", f"Extra story number {i}. It has words.") for i in range(2)]
    items = items if worker == 0 else items[::-1]
    for start in range(0, len(items), 3):
        store.write_batch(f"w{worker}", items[start:start + 3], [Failure("bad.bin", "read", "binary")], {},
                          summary_length="sentences=1")


def test_two_processes_writing_the_same_documents_store_each_once(tmp_path):
    lake_store(tmp_path).migrate()
    barrier = multiprocessing.Barrier(2)
    workers = [multiprocessing.Process(target=_write_all, args=(str(tmp_path), i, barrier)) for i in (0, 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(240)
    assert [w.exitcode for w in workers] == [0, 0]
    store = lake_store(tmp_path)
    _, rows = store.query("SELECT count(*), count(DISTINCT doc_id) FROM documents")
    assert rows == [(6, 6)]
    _, rows = store.query("SELECT count(*), count(DISTINCT doc_id) FROM summaries")
    assert rows == [(6, 6)]
    _, rows = store.query("SELECT count(*), sum(occurrences) FROM failures")
    assert rows == [(1, 4)]  # one row, one increment per batch of both workers


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_two_ingest_processes_share_one_ducklake(tmp_path):
    from prefect.settings import PREFECT_API_URL

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (title, text) in CORPUS.items():
        (corpus / name).write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    for i in range(1):
        (corpus / f"extra{i}.txt").write_text(f"Extra story {i}\n\nLocal story number {i} with its own words "
                                              f"about topic {i * 7919}.\n", encoding="utf-8")
    (corpus / "copy.txt").write_text((corpus / "storm.txt").read_text(encoding="utf-8"), encoding="utf-8")
    lake = tmp_path / "lake"
    env = {**os.environ, **lake_env(lake), "PREFECT_API_URL": PREFECT_API_URL.value()}
    command = [sys.executable, "-m", "newsflow.cli", "ingest", str(corpus), "--batch-size", "2", "--json"]
    runs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [r.communicate(timeout=280) for r in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]
    reports = [json.loads(out[out.index("{"):]) for out, _ in outputs]
    assert sum(r["documents_new"] for r in reports) >= 6  # each file stored by one of the two runs

    store = lake_store(lake)
    _, rows = store.query("SELECT count(*), count(DISTINCT doc_id), count(DISTINCT source) FROM documents")
    assert rows == [(6, 6, 6)]  # every document arrived exactly once
    _, rows = store.query("SELECT count(*) FROM runs WHERE status = 'completed'")
    assert rows == [(2,)]
    _, rows = store.search("chemical weapons")
    assert rows[0][0] == "UN council adopts chemical weapons resolution"


@pytest.mark.parametrize("check", ["check_lone_article_joins_later", "check_article_leaves_looser_story"])
def test_stored_articles_move_into_a_later_story_on_ducklake(tmp_path, check):
    """A lone article joining a later story, and one leaving a looser story for a closer partner."""
    import test_stories

    def warehouse(name: str) -> Warehouse:
        (tmp_path / name).mkdir(exist_ok=True)
        return lake_store(tmp_path / name)

    getattr(test_stories, check)(tmp_path, warehouse)
