"""`newsflow export`: the warehouse as a Hive-partitioned Parquet set, read back with DuckDB."""

from datetime import datetime

import duckdb
import pytest

import warehouse.store as store_module
from newsflow.cli import main
from tasks.document import Document, Failure, Summary, sha256_hex
from warehouse.export import export_parquet, sql_string
from warehouse.store import Warehouse

DAY1 = datetime(2024, 3, 1, 9, 30)
DAY2 = datetime(2024, 3, 2, 18, 5)


def _doc(n: int, *, duplicate_of: str | None = None) -> Document:
    text = f"Story {n}. The council met on Tuesday and voted on item {n}. Residents were pleased."
    doc = Document(source=f"/inbox/story-{n}.txt", source_kind="file", raw_text=text, raw_sha256=sha256_hex(text),
                   text=text, title=f"Story {n}", text_sha256=sha256_hex(text), outlet="Gazette")
    if duplicate_of:
        doc.duplicate_of, doc.duplicate_method, doc.similarity = duplicate_of, "exact", 1.0
    else:
        doc.summary = Summary("lead", [(0, f"Story {n}."), (1, f"The council met on Tuesday and voted on item {n}.")])
    return doc


def _write_day(monkeypatch, store: Warehouse, when: datetime, docs: list[Document], failures=()) -> None:
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return when

    # write_batch stamps rows with datetime.now(): pin it so rows land on known ingest days
    monkeypatch.setattr(store_module, "datetime", Clock)
    run_id = f"run-{when:%d}-{docs[0].source}"
    store.start_run(run_id, None, {})
    store.write_batch(run_id, docs, list(failures), {d.doc_id: [(0, n), (1, n + 100)] for n, d in enumerate(docs)
                                                     if d.duplicate_of is None}, summary_length="sentences=2")
    store.finish_run(run_id, status="completed", counts={"documents_new": len(docs)}, timings={})
    monkeypatch.undo()


@pytest.fixture
def two_day_warehouse(monkeypatch, warehouse_path) -> Warehouse:
    store = Warehouse(warehouse_path)
    store.migrate()
    first = [_doc(1), _doc(2), _doc(3)]
    _write_day(monkeypatch, store, DAY1, first, [Failure("/inbox/bad.bin", "read", "binary", "not text")])
    _write_day(monkeypatch, store, DAY2, [_doc(4), _doc(5, duplicate_of=first[0].doc_id)])
    return store


def _parquet(out, table: str) -> str:
    return sql_string(str(out / table / "**" / "*.parquet"))


def test_every_table_round_trips_with_matching_counts(two_day_warehouse, tmp_path):
    out = tmp_path / "export"
    exported = {t.table: t for t in export_parquet(two_day_warehouse, out)}
    _, tables = two_day_warehouse.query(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name")
    # write_turn only serialises DuckLake writers; it means nothing outside the warehouse
    assert set(exported) == {t for (t,) in tables} - {"write_turn"}
    con = duckdb.connect()
    for table, item in exported.items():
        _, [(stored,)] = two_day_warehouse.query(f'SELECT count(*) FROM "{table}"')  # noqa: S608 catalog names
        (read_back,) = con.execute(f"SELECT count(*) FROM read_parquet({_parquet(out, table)}, "
                                   "hive_partitioning = true)").fetchone()
        assert item.rows == stored == read_back, table
    assert exported["documents"].rows == 5 and exported["failures"].rows == 1


def test_documents_are_partitioned_by_ingest_day(two_day_warehouse, tmp_path):
    out = tmp_path / "export"
    export_parquet(two_day_warehouse, out)
    assert sorted(p.name for p in (out / "documents").iterdir()) == ["ingest_date=2024-03-01", "ingest_date=2024-03-02"]
    con = duckdb.connect()
    rows = con.execute(f"SELECT ingest_date, count(*), count(*) FILTER (WHERE NOT is_canonical) "
                       f"FROM read_parquet({_parquet(out, 'documents')}, hive_partitioning = true) "
                       "GROUP BY ingest_date ORDER BY ingest_date").fetchall()
    assert [(str(d), n, dups) for d, n, dups in rows] == [("2024-03-01", 3, 0), ("2024-03-02", 2, 1)]
    # rows without their own timestamp follow the row they belong to
    sentences = con.execute(f"SELECT ingest_date, count(*) FROM read_parquet({_parquet(out, 'summary_sentences')}, "
                            "hive_partitioning = true) GROUP BY ALL ORDER BY 1").fetchall()
    assert [(str(d), n) for d, n in sentences] == [("2024-03-01", 6), ("2024-03-02", 2)]
    # a reader filtering on the partition column reads only that day's folder
    (day2,) = con.execute(f"SELECT count(*) FROM read_parquet({_parquet(out, 'documents')}, hive_partitioning = true) "
                          "WHERE ingest_date = DATE '2024-03-02'").fetchone()
    assert day2 == 2


def test_only_whole_warehouse_facts_stay_unpartitioned(two_day_warehouse, tmp_path):
    exported = export_parquet(two_day_warehouse, tmp_path / "export")
    assert {t.table for t in exported if not t.partitioned} == {"schema_version", "story_term_df", "minhash_band_ids"}


def test_views_sql_runs_the_warehouse_views_over_parquet(two_day_warehouse, tmp_path):
    out = tmp_path / "export"
    export_parquet(two_day_warehouse, out)
    con = duckdb.connect()
    con.execute(f"SET file_search_path = {sql_string(str(out))}")
    con.execute((out / "views.sql").read_text())
    query = "SELECT title, summary, outlet FROM articles ORDER BY title"
    _, expected = two_day_warehouse.query(query)
    assert con.execute(query).fetchall() == expected and len(expected) == 4
    # the table views have exactly the warehouse's columns (no ingest_date)
    _, cols = two_day_warehouse.query("SELECT column_name FROM duckdb_columns() WHERE table_name = 'documents' "
                                      "ORDER BY column_index")
    assert [c for (c, *_ ) in con.execute("DESCRIBE documents").fetchall()] == [c for (c,) in cols]


def test_re_export_replaces_the_previous_set(monkeypatch, two_day_warehouse, tmp_path):
    out = tmp_path / "export"
    export_parquet(two_day_warehouse, out)
    stale = out / "documents" / "ingest_date=2024-03-01" / "data_9.parquet"
    stale.write_bytes((out / "documents" / "ingest_date=2024-03-01" / "data_0.parquet").read_bytes())
    _write_day(monkeypatch, two_day_warehouse, DAY2, [_doc(6)])
    export_parquet(two_day_warehouse, out)
    assert not stale.exists()
    (n,) = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({_parquet(out, 'documents')})").fetchone()
    assert n == 6
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_quotes_in_the_output_path_are_escaped_not_executed(two_day_warehouse, tmp_path):
    out = tmp_path / "it's'); DROP TABLE documents; --"
    exported = export_parquet(two_day_warehouse, out)
    assert (out / "documents").is_dir() and sum(t.rows for t in exported if t.table == "documents") == 5
    assert two_day_warehouse.counts()["documents"] == 5
    with pytest.raises(ValueError):
        sql_string("bad\x00path")


def test_cli_export(two_day_warehouse, tmp_path, capsys):
    out = tmp_path / "cli-export"
    assert main(["export", "--warehouse", str(two_day_warehouse.path), "--out", str(out)]) == 0
    assert "documents" in capsys.readouterr().out and (out / "views.sql").exists()
    assert main(["export", "--warehouse", str(tmp_path / "missing.duckdb"), "--out", str(out)]) == 2
    assert "run `newsflow ingest` first" in capsys.readouterr().err


def test_cli_export_to_a_folder_it_cannot_write_is_one_line(two_day_warehouse, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["export", "--warehouse", str(two_day_warehouse.path), "--out", str(blocker / "export")]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"newsflow export: cannot write {blocker / 'export'}: Not a directory"]
