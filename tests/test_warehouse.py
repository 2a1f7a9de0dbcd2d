import json
import multiprocessing
import time

import duckdb
import pytest

from tasks.document import Document, Failure, Summary, sha256_hex
from warehouse.store import Warehouse, WarehouseLocked, migrations


def make_doc(source: str, text: str, summary: bool = True) -> Document:
    d = Document(source=source, source_kind="file", raw_text=text, raw_sha256=sha256_hex(text))
    d.text = text
    d.text_sha256 = sha256_hex(text)
    d.title = f"Title {source}"
    if summary:
        d.summary = Summary("lead", [(0, text.split(".")[0] + ".")])
    return d


def test_migrate_is_idempotent(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    latest = max(v for v, _, _ in migrations())
    assert store.migrate() == latest
    assert store.migrate() == latest
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(migrations())


def test_migrations_6_and_18_drop_every_secondary_index_from_an_existing_warehouse(tmp_path):
    # a version-5 warehouse (as an earlier release left it) still has all five indexes
    store = Warehouse(tmp_path / "w.duckdb")
    with store.transaction() as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
        for version, name, sql in migrations():
            if version <= 5:
                con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])

    def indexes() -> set[str]:
        with store.connect() as con:
            return {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}

    secondary = {"story_terms_term", "minhash_bands_key", "documents_source", "documents_text_sha256",
                 "story_members_story"}
    assert secondary <= indexes()
    store.migrate()
    # 18: DuckDB replays a killed batch into the last three wrongly (tests/test_reliability_crash.py)
    assert not secondary & indexes()


def test_json_columns_keep_their_characters_and_migration_20_rewrites_escaped_ones(tmp_path, capsys):
    from newsflow.cli import main

    path = tmp_path / "w.duckdb"
    store = Warehouse(path)
    store.migrate()
    removed = [("Veröffentlicht am 04.03.2025", "dateline"), ("大阪の天気", "title")]
    doc = make_doc("de.txt", "Die Regierung hat entschieden. Mehr dazu.")
    doc.removed_lines = removed
    store.start_run("r1", None, {"paths": ["/nachrichten/café"]})
    store.write_batch("r1", [doc], [], {}, summary_length="sentences=1")

    def found() -> list[str]:
        main(["sql", "--warehouse", str(path), "--format", "csv",
              "SELECT count(*) FILTER (WHERE removed_lines LIKE '%Veröffentlicht%'), "
              "count(*) FILTER (WHERE contains(removed_lines::VARCHAR, '大阪')), "
              "(SELECT count(*) FROM runs WHERE parameters LIKE '%café%') FROM documents"])
        return capsys.readouterr().out.splitlines()[1:]

    assert found() == ["1,1,1"]  # what an analyst's LIKE sees
    # a warehouse written before version 20 held \u escapes: the migration rewrites them as characters
    with store.transaction() as con:
        con.execute("UPDATE documents SET removed_lines = ?", [json.dumps([{"line": l, "rule": r} for l, r in removed])])
        con.execute("UPDATE runs SET parameters = ?", [json.dumps({"paths": ["/nachrichten/café"]})])
        con.execute("DELETE FROM schema_version WHERE version = 20")
    assert found() == ["0,0,0"]
    store.migrate()
    assert found() == ["1,1,1"]
    _, rows = store.query("SELECT removed_lines FROM documents")
    assert [(x["line"], x["rule"]) for x in json.loads(rows[0][0])] == removed


def test_write_batch_is_atomic_and_repeatable(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    docs = [make_doc("a", "First story. More."), make_doc("b", "Second story. More.")]
    fail = [Failure("bad.bin", "read", "binary", "NUL bytes")]
    store.write_batch("r1", docs, fail, {}, summary_length="sentences=1")
    store.write_batch("r2", docs, fail, {}, summary_length="sentences=1")
    counts = store.counts()
    assert counts["documents"] == 2 and counts["summaries"] == 2 and counts["failures"] == 1
    cols, rows = store.query("SELECT occurrences, first_run_id, last_run_id FROM failures")
    assert rows == [(2, "r1", "r2")]
    cols, rows = store.query("SELECT title, summary FROM articles ORDER BY title")
    assert rows == [("Title a", "First story."), ("Title b", "Second story.")]


def test_failed_batch_leaves_nothing(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    good = make_doc("a", "Fine text.")
    broken = make_doc("b", "Broken text.")
    broken.text_sha256 = None  # violates NOT NULL inside the transaction
    with pytest.raises(duckdb.Error):
        store.write_batch("r1", [good, broken], [], {}, summary_length="sentences=1")
    assert store.counts()["documents"] == 0 and store.counts()["summaries"] == 0


def _hold_lock(path: str, seconds: float, ready) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def test_lock_held_by_another_process_waits_then_proceeds(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).migrate()
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(path), 1.5, ready))
    holder.start()
    ready.wait(10)
    store = Warehouse(path, lock_timeout_s=30)
    start = time.monotonic()
    store.write_batch("r1", [make_doc("a", "Text.")], [], {}, summary_length="sentences=1")
    assert time.monotonic() - start > 0.5  # it had to wait for the other writer
    holder.join()
    assert store.counts()["documents"] == 1


def test_lock_timeout_gives_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse(path).migrate()
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(path), 4, ready))
    holder.start()
    ready.wait(10)
    with pytest.raises(WarehouseLocked, match=r"locked by process \d+"):
        Warehouse(path, lock_timeout_s=0.5).counts()
    holder.join()


def test_release_memory_reopens_the_session_connection(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    store.release_memory()  # no session: nothing held, nothing to do
    with store.session():
        with store.connect() as first:
            pass
        store.release_memory()
        with store.connect() as second:
            assert second is not first
            assert second.execute("SELECT count(*) FROM documents").fetchone() == (0,)
    with pytest.raises(duckdb.ConnectionException):
        second.execute("SELECT 1")  # the session's end closed the reopened connection too


def test_write_batch_of_stored_and_new_documents_adds_only_the_new_ones_rows(tmp_path):
    # rows of documents found new in the transaction go in without an anti-join; a document a
    # concurrent run stored meanwhile keeps its rows and gets none twice
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    a, b = make_doc("a", "First story. More."), make_doc("b", "Second story. More.")
    b.duplicate_of, b.duplicate_method, b.similarity = a.doc_id, "near", 0.9
    store.write_batch("r1", [a], [], {a.doc_id: [(0, 11), (1, 12)]}, summary_length="sentences=1")
    store.write_batch("r2", [a, b], [], {a.doc_id: [(0, 11), (1, 12)], b.doc_id: [(0, 21)]},
                      summary_length="sentences=1")
    with store.connect() as con:
        def rows(sql):
            return con.execute(sql).fetchall()
        assert rows("SELECT doc_id, run_id FROM documents ORDER BY run_id") == [(a.doc_id, "r1"), (b.doc_id, "r2")]
        assert rows("SELECT doc_id, duplicate_of FROM duplicates") == [(b.doc_id, a.doc_id)]
        assert rows("SELECT doc_id, run_id FROM summaries ORDER BY run_id") == [(a.doc_id, "r1"), (b.doc_id, "r2")]
        assert rows("SELECT count(*) FROM summary_sentences") == [(2,)]
        assert rows("SELECT doc_id, count(*) FROM minhash_bands GROUP BY doc_id ORDER BY count(*)") == [
            (b.doc_id, 1), (a.doc_id, 2)]


def test_story_postings_come_dictionary_encoded_with_every_pair(tmp_path):
    import pyarrow as pa

    from warehouse.stories import StoryTables

    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    pairs = [(f"d{d}", f"t{t}") for d in range(300) for t in range(d % 7, 20, 3)]
    with store.transaction() as con:
        con.register("rows", pa.table({"doc_id": [d for d, _ in pairs], "term": [t for _, t in pairs],
                                       "weight": [1.0] * len(pairs)}))
        con.execute("INSERT INTO story_terms BY NAME SELECT * FROM rows")
        con.execute("INSERT INTO story_term_df SELECT term, count(*) FROM rows GROUP BY term")
        con.unregister("rows")
    tables = StoryTables(store)
    asked = ["t1", "t2", "t5", "t19", "absent"]
    got = tables.postings(asked, max_postings=1000)
    assert pa.types.is_dictionary(got.column("doc_id").type) and pa.types.is_dictionary(got.column("term").type)
    assert sorted(zip(got.column("term").to_pylist(), got.column("doc_id").to_pylist())) == sorted(
        (t, d) for d, t in pairs if t in asked)
    docs = got.column("doc_id").combine_chunks()
    assert len(set(docs.dictionary.to_pylist())) == len(docs.dictionary)  # one entry per document
    # a term in more documents than max_postings retrieves nothing; no term at all, no rows
    assert "t1" not in tables.postings(["t1"], max_postings=10).column("term").to_pylist()
    assert tables.postings(["absent"], max_postings=1000).num_rows == 0


def test_a_warehouse_from_a_newer_newsflow_is_not_written(tmp_path):
    from warehouse.store import NewerWarehouse

    store = Warehouse(tmp_path / "w.duckdb")
    latest = store.migrate()
    with store.transaction() as con:
        con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [latest + 1])
    with pytest.raises(NewerWarehouse, match=rf"schema version {latest + 1}; this newsflow knows up to {latest}"):
        store.migrate()
    _, rows = store.query("SELECT count(*) FROM documents")  # reading still works
    assert rows == [(0,)]
