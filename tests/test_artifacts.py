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
    assert counts == {"read": "7", "new articles": "3", "duplicates of stored articles": "1",
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


def test_a_headline_only_article_says_why_it_has_no_summary():
    walled = _doc("w.txt", "Rescuers dig for survivors")
    walled.headline_only = True
    (row,) = article_rows([walled])
    assert row["summary"] == "(headline only: the page was an access wall)"


def test_report_says_what_became_of_the_search_index():
    """The operator reads the report artifact, not the log: it says whether the index was rebuilt."""
    md = report_markdown(_report(search_index="rebuilt: 40 new documents"))
    assert "Search index: rebuilt: 40 new documents" in md
