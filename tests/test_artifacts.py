"""Artifact builders, parameter checks and deployment building: pure, no Prefect server."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from flows.artifacts import MAX_FAILURE_ROWS, SUMMARY_CHARS, article_rows, report_markdown
from flows.parameters import check_warehouse, run_config
from flows.settings import get_settings
from tasks.document import Document, Summary


def _report(**overrides) -> dict:
    report = {"run_id": "r1", "warehouse": "/data/news.duckdb", "items_seen": 7, "documents_new": 4, "unchanged": 1,
              "duplicates": 1, "summaries": 3, "failures": 2,
              "timings": {"read": 0.5, "clean": 0.25, "dedup": 0.1, "summarize": 1.0, "store": 0.15},
              "failed_items": [
                  {"source": "a|b.txt", "stage": "read", "reason": "binary", "detail": "NUL bytes\nin text"},
                  {"source": "https://x.test/1", "stage": "fetch", "reason": "http_404", "detail": ""}]}
    report.update(overrides)
    return report


def _doc(source: str, title: str, summary: str | None = None, duplicate_of: str | None = None) -> Document:
    doc = Document(source=source, source_kind="file", raw_text=title, raw_sha256="0" * 64, title=title,
                   outlet="Reuters", published_at=date(2013, 9, 26), duplicate_of=duplicate_of)
    if summary is not None:
        doc.summary = Summary("newsflow", [(0, summary)])
    return doc


def _table(markdown: str, heading: str) -> list[list[str]]:
    """Rows of the first table after `heading` (or the first table when heading is empty)."""
    part = markdown.split(heading, 1)[1] if heading else markdown
    rows = []
    for line in part.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif rows:
            break
    return rows[2:]  # header and separator


def test_report_counts_split_new_articles_from_duplicates():
    counts = dict(_table(report_markdown(_report()), ""))
    assert counts == {"read": "7", "new articles": "3", "duplicates (of stored articles or of this run's)": "1",
                      "unchanged (already stored)": "1", "summarized": "3", "failed": "2"}


def test_report_lists_failures_with_reasons_and_escapes_cells():
    md = report_markdown(_report())
    assert _table(md, "## Failures by reason") == [["read", "binary", "1"], ["fetch", "http_404", "1"]]
    items = _table(md, "## Failed items")
    assert items[0] == ["a\\|b.txt", "read", "binary", "NUL bytes in text"]  # pipe escaped, newline folded
    assert items[1][0] == "https://x.test/1"


def test_report_time_per_stage_with_total():
    rows = dict(_table(report_markdown(_report()), "## Time per stage"))
    assert rows["summarize"] == "1.00" and rows["**total**"] == "2.00"


def test_report_bounds_failed_items_and_mentions_truncated_table():
    failed = [{"source": f"f{i}.txt", "stage": "read", "reason": "empty", "detail": ""} for i in range(120)]
    md = report_markdown(_report(failures=120, failed_items=failed), articles_total=10_000)
    assert _table(md, "## Failures by reason") == [["read", "empty", "120"]]
    assert f"## Failed items (first {MAX_FAILURE_ROWS})" in md
    assert len(_table(md, "## Failed items")) == MAX_FAILURE_ROWS
    assert "first 500 of 10000 new articles" in md


def test_clean_run_report_has_no_failure_sections():
    md = report_markdown(_report(failures=0, failed_items=[]))
    assert "Failures by reason" not in md and "Failed items" not in md


def test_article_rows_are_canonical_documents_with_bounded_summaries():
    docs = [_doc("a.txt", "Storm closes harbour", "A storm closed the harbour."),
            _doc("b.txt", "Storm closes harbour (copy)", None, duplicate_of="x"),
            _doc("c.txt", "Long one", "word " * 400),
            _doc("d.txt", "Unsummarized")]
    rows = article_rows(docs)
    assert [r["title"] for r in rows] == ["Storm closes harbour", "Long one", "Unsummarized"]
    assert rows[0] == {"title": "Storm closes harbour", "outlet": "Reuters", "published": "2013-09-26",
                       "source": "a.txt", "summary": "A storm closed the harbour."}
    assert len(rows[1]["summary"]) == SUMMARY_CHARS and rows[1]["summary"].endswith("…")
    assert rows[2]["summary"] == ""


@pytest.mark.parametrize(("sentences", "ratio", "words", "message"), [
    (None, 0.2, 60, "summary_ratio and summary_words are both set"),
    (5, 0.2, None, "summary_sentences and summary_ratio are both set"),
    (3, 0.2, None, "summary_sentences and summary_ratio are both set"),  # 3 typed into the form is a length too
    (5, None, 60, "summary_sentences and summary_words are both set"),
    (5, 0.2, 60, "summary_sentences, summary_ratio and summary_words are all set"),
])
def test_contradictory_summary_lengths_are_rejected(sentences, ratio, words, message):
    # named as the run's parameters (the UI form's fields), as docs/operations.md quotes it
    with pytest.raises(ValueError, match=f"^contradictory summary length: {message}; give one of summary_sentences, "
                                         "summary_ratio or summary_words$"):
        run_config(get_settings(), summary_sentences=sentences, summary_ratio=ratio, summary_words=words)


def test_the_operations_doc_quotes_the_contradictory_length_message():
    with pytest.raises(ValueError) as raised:
        run_config(get_settings(), summary_ratio=0.2, summary_words=60)
    doc = " ".join((Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text().split())
    assert f"`{raised.value}`" in doc


def test_a_failed_run_report_says_so_and_why_above_what_it_committed():
    md = report_markdown(_report(error="WriterLockTimeout: warehouse w.duckdb is being written by process 42"))
    assert md.splitlines()[0] == "# Ingest run `r1` failed"
    assert "**The run failed:** WriterLockTimeout: warehouse w.duckdb is being written by process 42" in md
    assert md.index("The run failed") < md.index("| documents | count |")
    assert dict(_table(md, ""))["new articles"] == "3"
    assert "failed" not in report_markdown(_report()).splitlines()[0]


@pytest.mark.parametrize(("sentences", "ratio", "words", "label"), [
    (None, None, None, "sentences=3"), (7, None, None, "sentences=7"), (None, 0.3, None, "ratio=0.3"),
    (None, None, 40, "words=40")])
def test_one_summary_length_is_accepted(sentences, ratio, words, label):
    config = run_config(get_settings(), summary_sentences=sentences, summary_ratio=ratio, summary_words=words)
    assert config.length.label() == label


def test_a_folder_is_not_a_warehouse(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        check_warehouse(str(tmp_path))
    check_warehouse(str(tmp_path / "news.duckdb"))


def test_a_warehouse_where_no_file_can_be_written_is_refused_up_front(tmp_path):
    """It failed the started run with `FileNotFoundError: … .lock` and a report saying the next run would do
    the rest (found by a browser audit of the UI's Custom run with warehouse /proc/newsflow.duckdb)."""
    (tmp_path / "notes.txt").write_text("notes")
    with pytest.raises(ValueError, match=r"cannot be written \(.*notes.txt is a file, not a folder\)"):
        check_warehouse(str(tmp_path / "notes.txt" / "news.duckdb"))
    with pytest.raises(ValueError, match="cannot be written"):
        check_warehouse("/proc/newsflow.duckdb")  # not even root creates a file there
    check_warehouse(str(tmp_path / "new" / "folder" / "news.duckdb"))  # a folder that can be made is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # and the check made nothing


def test_a_run_refused_after_the_warehouse_check_leaves_no_folder_or_lock_file(tmp_path):
    """check_run checks the warehouse before the summary lengths and the url_file (and the CLI checks for a
    DuckDB file after it): a refused run 'wrote nothing', yet left the warehouse's folders and a .lock file,
    next to any file given as the warehouse too."""
    from flows.ingest import ingest
    from flows.parameters import check_run

    (tmp_path / "notes.txt").write_text("notes")
    with pytest.raises(ValueError, match="url_file"):
        check_run(ingest, get_settings(), {"warehouse": str(tmp_path / "new" / "news.duckdb"),
                                           "url_file": str(tmp_path / "missing.txt")})
    with pytest.raises(ValueError, match="contradictory summary length"):
        check_run(ingest, get_settings(), {"warehouse": str(tmp_path / "notes.txt"), "summary_sentences": 2,
                                           "summary_ratio": 0.2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_headline_only_article_says_why_it_has_no_summary():
    walled = _doc("w.txt", "Rescuers dig for survivors")
    walled.headline_only = True
    (row,) = article_rows([walled])
    assert row["summary"] == "(headline only: the page was an access wall)"


def test_report_says_what_became_of_the_search_index():
    """The operator reads the report artifact, not the log: it says whether the index was rebuilt."""
    md = report_markdown(_report(search_index="rebuilt: 40 new documents"))
    assert "Search index: rebuilt: 40 new documents" in md


def test_the_report_says_what_the_run_ran_with():
    """An empty form field means a setting the UI does not show: the report names the values used."""
    settings = {"algorithm": "lead", "summary": "sentences=2", "near_dup_threshold": 0.6, "batch_size": 1000,
                "language": "detect"}
    md = report_markdown(_report(settings=settings))
    assert ("Run with: algorithm `lead`, summary `sentences=2`, near_dup_threshold `0.6`, batch_size `1000`, "
            "language `detect`") in md
    assert "Run with" not in report_markdown(_report())  # refused before its configuration was known
    # refused after it (a missing url_file): the refusal, not the values it would have run with
    refused = report_markdown(_report(settings=settings, error="url_file not found", refused=True))
    assert "Run with" not in refused and "**The run was refused:** url_file not found" in refused


def test_failed_items_are_logged_at_warning_with_their_reasons(caplog, monkeypatch):
    """The run's logs at "Warning and above" in the UI name the items that failed and why."""
    import logging

    from flows import artifacts
    from tasks.document import Failure
    from tasks.pipeline import BatchResult, RunTotals

    monkeypatch.setattr(artifacts, "RunProgress", lambda: type("P", (), {"expect": print, "advance": lambda *a: 0})())
    report = artifacts.RunReport("r1", "w.duckdb", RunTotals())
    failures = [Failure(source=f"/in/{n}.txt", stage="read", reason="empty", detail="file has no content")
                for n in range(7)]
    counts = {"items_seen": 7, "documents_new": 0, "unchanged": 0, "failures": 7}
    logger = logging.getLogger("test-ingest")
    with caplog.at_level(logging.INFO, logger="test-ingest"):
        report.advance(BatchResult("files batch 1/1 (7 files)", 1, counts, failures, []), logger)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["files batch 1/1 (7 files): 7 failed: /in/0.txt (read/empty: file has no content); "
                        "/in/1.txt (read/empty: file has no content); /in/2.txt (read/empty: file has no content); "
                        "/in/3.txt (read/empty: file has no content); /in/4.txt (read/empty: file has no content); "
                        "2 more in the ingest-report artifact"]


def test_the_ui_form_gets_an_input_per_optional_parameter_and_checks_its_limits():
    """Prefect's Custom-run form drew "int | None" switches set to None for every optional parameter, and its
    check named no limit ("0 is not valid under any of the given schemas"); its schema mapper keeps a field's
    type, enum, anyOf and allOf but drops its own minimum, maximum and pattern (found in a browser)."""
    from prefect.utilities.schema_tools.validation import (ValidationError, build_error_obj, preprocess_schema,
                                                            validate)

    from flows.deploy import build_deployment

    schema = build_deployment(get_settings())._parameter_openapi_schema.model_dump()
    form = schema["properties"]
    assert [name for name, prop in form.items() if "anyOf" in prop or "type" not in prop] == []
    kept = {"type", "enum", "anyOf", "allOf", "title", "description", "position", "default", "items"}
    assert [name for name, prop in form.items() if set(prop) - kept] == []  # a limit there is lost in the form
    assert form["summary_sentences"]["type"] == "integer" and form["summary_sentences"]["allOf"] == [
        {"minimum": 1, "maximum": 50}]
    assert form["algorithm"]["enum"][:2] == ["newsflow", "lead"]
    # what the form's check says (it posts the fields it kept to /ui/schemas/validate), then the server's
    shown = {**schema, "properties": {name: {key: value for key, value in prop.items() if key in kept}
                                      for name, prop in form.items()}}
    errors = build_error_obj(validate({"summary_sentences": 0, "near_dup_threshold": 1.5},
                                      preprocess_schema(shown), preprocess=False))["errors"]
    assert errors == [{"property": "summary_sentences", "errors": ["0 is less than the minimum of 1"]},
                      {"property": "near_dup_threshold", "errors": ["1.5 is greater than the maximum of 1.0"]}]
    with pytest.raises(ValidationError, match="0 is less than the minimum of 1"):
        validate({"summary_sentences": 0}, schema, raise_on_error=True)
    with pytest.raises(ValidationError, match="'bogus' is not one of"):
        validate({"algorithm": "bogus"}, schema, raise_on_error=True)
    # an empty field is left out; an explicit null from the API still means the setting, but for the dropdown
    # (a null among its choices made the V2 form draw a text box)
    validate({"paths": ["inbox"]}, schema, raise_on_error=True)
    validate(dict.fromkeys(["url_file", "warehouse", "summary_sentences", "summary_ratio", "summary_words",
                            "near_dup_threshold", "batch_size", "language"]), schema, raise_on_error=True)
    with pytest.raises(ValidationError, match="None is not one of"):
        validate({"algorithm": None}, schema, raise_on_error=True)


def test_the_deployment_description_names_the_schedule_and_its_timezone(monkeypatch):
    from flows.deploy import build_deployment

    monkeypatch.setenv("NEWSFLOW_SCHEDULE_CRON", "*/10 6-22 * * *")
    monkeypatch.setenv("NEWSFLOW_SCHEDULE_TIMEZONE", "Europe/Berlin")
    from flows.settings import load_settings

    assert "on cron `*/10 6-22 * * *` (Europe/Berlin)" in build_deployment(load_settings()).description
    monkeypatch.delenv("NEWSFLOW_SCHEDULE_CRON")
    assert "every 15 minutes (Europe/Berlin)" in build_deployment(load_settings()).description
