"""Every table, view and column is described in SQL, and README's dictionary is generated from it."""

from datetime import date

from tasks.document import Failure
from test_search import doc
from warehouse import dictionary
from warehouse.store import Warehouse

README = dictionary.Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def test_every_table_view_and_column_has_a_comment():
    objects = dictionary.schema_objects()
    names = {o["name"] for o in objects}
    assert {"documents", "runs", "failures", "latest_articles", "articles_by_outlet_day",
            "failed_items_per_run", "run_history"} <= names
    assert dictionary.missing_comments(objects) == []


def test_readme_dictionary_matches_the_comments():
    assert dictionary.main(["--check", str(README)]) == 0


def test_check_fails_when_readme_drifts(tmp_path, capsys):
    drifted = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    drifted.write_text(text.replace("Headline.", "Title of the thing.", 1), encoding="utf-8")
    assert dictionary.main(["--check", str(drifted)]) == 1
    assert "Title of the thing." in capsys.readouterr().out
    assert dictionary.main(["--write", str(drifted)]) == 0
    assert drifted.read_text(encoding="utf-8") == text


def test_missing_comment_is_reported():
    objects = [{"kind": "table", "name": "t", "comment": "x", "columns": [("a", "INT", "ok"), ("b", "INT", None)]}]
    assert dictionary.missing_comments(objects) == ["column t.b"]


def test_comments_are_queryable_in_a_warehouse(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    _, rows = store.query("SELECT comment FROM duckdb_columns() WHERE table_name = 'failures' "
                          "AND column_name = 'first_run_id'")
    assert "first failed" in rows[0][0]


def test_analyst_views(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    for run in ("r1", "r2"):
        store.start_run(run, None, {})
    store.write_batch("r1", [doc("a.txt", "A", "Alpha text. More."), doc("b.txt", "B", "Beta text. More.", None)],
                      [Failure("bad.bin", "read", "binary")], {}, summary_length="sentences=1")
    v2 = doc("a.txt", "A v2", "Alpha text, edited. More.")
    v2.meta.update(version=2)
    store.write_batch("r2", [v2], [Failure("bad.bin", "read", "binary"), Failure("c.txt", "read", "empty")], {},
                      summary_length="sentences=1")
    store.finish_run("r1", status="completed", counts={"documents_new": 2, "failures": 1}, timings={})

    _, rows = store.query("SELECT title, version FROM latest_articles ORDER BY title")
    assert rows == [("A v2", 2), ("B", 1)]
    _, rows = store.query("SELECT outlet, day, day_is_ingest_date, articles FROM articles_by_outlet_day "
                          "ORDER BY day_is_ingest_date")
    assert rows[0][:4] == ("Test Wire", date(2024, 5, 1), False, 2)
    assert rows[1][2] is True and rows[1][3] == 1
    _, rows = store.query("SELECT run_id, source, first_failed_here, last_failed_here FROM failed_items_per_run "
                          "ORDER BY run_id, source")
    assert rows == [("r1", "bad.bin", True, False), ("r2", "bad.bin", False, True), ("r2", "c.txt", True, True)]
    _, rows = store.query("SELECT run_id, status, duration_s IS NOT NULL, new_failure_items FROM run_history "
                          "ORDER BY run_id")
    assert rows == [("r1", "completed", True, 1), ("r2", "running", False, 1)]
