"""What an operator sees on a flow run's Artifacts tab.

The builders (`report_markdown`, `article_rows`) are pure so they are tested without
Prefect; `publish_run_artifacts` and `RunProgress` are the thin Prefect calls. Artifact
keys are constant, so the Artifacts page keeps one versioned history per key across runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from flows import progress as progress_hook
from tasks.document import Document

REPORT_KEY = "ingest-report"
ARTICLES_KEY = "ingest-new-articles"
PROGRESS_KEY = "ingest-progress"

# Artifacts live in the Prefect database and render in a browser: keep them bounded.
MAX_ARTICLE_ROWS = 500
MAX_FAILURE_ROWS = 50
SUMMARY_CHARS = 500


def _cell(value: Any, limit: int = 200) -> str:
    """One markdown table cell: no pipes or newlines may break the row."""
    text = "" if value is None else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def article_rows(docs: Iterable[Document]) -> list[dict[str, Any]]:
    """Rows for the new-articles table: canonical documents only (duplicates point at one of these)."""
    rows = []
    for doc in docs:
        if doc.duplicate_of is not None:
            continue
        summary = doc.summary.text if doc.summary is not None else (
            "(headline only: the page was an access wall)" if doc.headline_only else "")
        if len(summary) > SUMMARY_CHARS:
            summary = summary[: SUMMARY_CHARS - 1] + "…"
        rows.append({
            "title": doc.title or "",
            "outlet": doc.outlet or "",
            "published": doc.published_at.isoformat() if doc.published_at else "",
            "source": doc.source,
            "summary": summary,
        })
    return rows


def report_markdown(report: dict, *, articles_total: int | None = None) -> str:
    """The run report as markdown, from the dict the ingest flow returns (with `error`: a run that failed)."""
    new_articles = report["documents_new"] - report["duplicates"]
    error = report.get("error")
    lines = [
        f"# Ingest run `{report['run_id']}`" + (" failed" if error else ""),
        "",
        f"Warehouse: `{report['warehouse']}`",
        "",
    ]
    if report.get("settings") and not report.get("refused"):  # an empty form field means a setting the UI hides
        lines += ["Run with: " + ", ".join(f"{name} `{_cell(value)}`" for name, value in report["settings"].items()), ""]
    if error and report.get("refused"):
        lines += [f"**The run was refused:** {_cell(error, 1000)}", "",
                  "It stopped before reading anything and wrote nothing; a run with the same parameters and "
                  "settings is refused the same way.", ""]
    elif error:
        lines += [f"**The run failed:** {_cell(error, 1000)}", "",
                  "The counts are what it committed before that, in whole batches; the next run over the same "
                  "input does the rest.", ""]
    lines += [
        "| documents | count |",
        "|---|---:|",
        f"| read | {report['items_seen']} |",
        f"| new articles | {new_articles} |",
        f"| duplicates (of stored articles or of this run's) | {report['duplicates']} |",
        f"| unchanged (already stored) | {report['unchanged']} |",
        f"| summarized | {report['summaries']} |",
        f"| failed | {report['failures']} |",
        "",
    ]
    if report.get("search_index"):
        lines += [f"Search index: {_cell(report['search_index'])}", ""]
    if articles_total is not None and articles_total > MAX_ARTICLE_ROWS:
        lines += [f"The `{ARTICLES_KEY}` table lists the first {MAX_ARTICLE_ROWS} of {articles_total} new articles.", ""]

    failed = report.get("failed_items") or []
    if failed:
        by_reason = Counter((f["stage"], f["reason"]) for f in failed)
        lines += ["## Failures by reason", "", "| stage | reason | items |", "|---|---|---:|"]
        lines += [f"| {_cell(stage)} | {_cell(reason)} | {n} |" for (stage, reason), n in by_reason.most_common()]
        lines += ["", f"## Failed items{' (first %d)' % MAX_FAILURE_ROWS if len(failed) > MAX_FAILURE_ROWS else ''}",
                  "", "| source | stage | reason | detail |", "|---|---|---|---|"]
        lines += [f"| {_cell(f['source'])} | {_cell(f['stage'])} | {_cell(f['reason'])} | {_cell(f['detail'])} |"
                  for f in failed[:MAX_FAILURE_ROWS]]
        lines.append("")

    timings = report.get("timings") or {}
    if timings:
        lines += ["## Time per stage", "", "| stage | seconds |", "|---|---:|"]
        lines += [f"| {stage} | {seconds:.2f} |" for stage, seconds in timings.items()]
        lines += [f"| **total** | {sum(timings.values()):.2f} |", ""]
    return "\n".join(lines)


def publish_run_artifacts(report: dict, articles: list[dict[str, Any]], articles_total: int) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(report_markdown(report, articles_total=articles_total), key=REPORT_KEY,
                             description="documents read, new, duplicate and failed; time per stage")
    # An empty table renders as nothing in the UI; a run that found nothing new says so.
    create_table_artifact(articles or [{"title": "(no new articles in this run)", "outlet": "", "published": "",
                                        "source": "", "summary": ""}],
                          key=ARTICLES_KEY, description=f"{articles_total} new articles with their summaries")


class RunProgress:
    """A progress artifact advanced after every batch, in items (files, URLs) done of those known.

    URLs are known only after feeds are read, so the total can grow (`expect`)."""

    def __init__(self):
        from prefect.artifacts import create_progress_artifact

        self.total = 0
        self.done = 0
        self.artifact_id = create_progress_artifact(0.0, key=PROGRESS_KEY, description=self._description(""))

    def _description(self, last: str) -> str:
        return f"{self.done} of {self.total} items" + (f"; last: {last}" if last else "")

    def percent(self) -> float:
        return round(100.0 * self.done / self.total, 1) if self.total else 100.0

    def expect(self, more: int) -> None:
        self.total += more

    def advance(self, items: int, label: str) -> float:
        from prefect.artifacts import update_progress_artifact

        self.done = min(self.done + items, self.total)
        update_progress_artifact(self.artifact_id, self.percent(), description=self._description(label))
        return self.percent()


def nothing_ingested(report: dict) -> bool:
    """Every item failed: nothing was stored, nothing found unchanged (a dead feed, a folder of broken files)."""
    return bool(report["failures"]) and not (report["documents_new"] or report["unchanged"])


def failures_by_reason(failed_items: list[dict], most: int | None = None) -> str:
    """'read/empty 23, read/binary 1': the failed items counted by stage and reason, most first."""
    reasons = Counter(f"{f['stage']}/{f['reason']}" for f in failed_items)
    return ", ".join(f"{reason} {n}" for reason, n in reasons.most_common(most))


class EveryItemFailed(Exception):
    """A run that went to its end, yet every item failed. The flow ends Failed with it, so Prefect's UI,
    automations and schedules see it (it showed Completed); `report` is the run's report all the same."""

    def __init__(self, report: dict):
        listed = failures_by_reason(report.get("failed_items") or [], most=5)
        n = report["failures"]
        super().__init__(f"every item failed: {n} failure{'' if n == 1 else 's'} ({listed}); nothing was stored or "
                         "found unchanged")
        self.report = report


def failure_reason(exc: BaseException) -> str:
    """Why a run failed, in one line: an interrupt says so (its exception carries no message)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C / SIGINT)"
    if type(exc).__name__ == "TerminationSignal":  # Prefect's, for SIGTERM
        return "terminated (SIGTERM)"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RunReport:
    """The run's report as it grows batch by batch: counts and failures (from the pipeline's
    totals), the new-articles table, the progress artifact and the terminal progress bar."""

    def __init__(self, run_id: str, warehouse: str, totals):
        # `totals` may be swapped for the pipeline's once it exists: a run can fail before that
        self.run_id, self.warehouse, self.totals = run_id, warehouse, totals
        self.articles: list[dict[str, Any]] = []
        self.articles_total = 0
        self.search_index: str | None = None
        self.settings: dict[str, Any] | None = None  # the run's algorithm, summary length, thresholds (RunConfig.describe)
        self.progress = RunProgress()

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.totals.counts)

    @property
    def timings(self) -> dict[str, float]:
        return {stage: round(seconds, 3) for stage, seconds in self.totals.timings.items()}

    def expect(self, items: int) -> None:
        self.progress.expect(items)
        progress_hook.expect(items)

    def advance(self, result, logger) -> None:
        rows = article_rows(result.docs)
        self.articles_total += len(rows)
        self.articles.extend(rows[: MAX_ARTICLE_ROWS - len(self.articles)])
        counts = result.counts
        logger.info("%s: %d new, %d unchanged, %d failed", result.label, counts["documents_new"],
                    counts["unchanged"], counts["failures"])
        if result.failures:  # at WARNING, so the UI's "Warning and above" shows which items failed and why
            listed = "; ".join(f"{f.source} ({f.stage}/{f.reason}: {' '.join((f.detail or '').split())[:200]})"
                               for f in result.failures[:5])
            more = len(result.failures) - 5
            logger.warning("%s: %d failed: %s%s", result.label, len(result.failures), listed,
                           f"; {more} more in the ingest-report artifact" if more > 0 else "")
        self.progress.advance(counts["items_seen"], result.label)
        progress_hook.advance(counts["items_seen"])

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "warehouse": self.warehouse, **self.counts, "timings": self.timings,
                "search_index": self.search_index, "settings": self.settings,
                "failed_items": [{"source": f.source, "stage": f.stage, "reason": f.reason, "detail": f.detail}
                                 for f in self.totals.failures]}

    def publish(self) -> dict:
        report = self.as_dict()
        publish_run_artifacts(report, self.articles, self.articles_total)
        return report

    def publish_failure(self, exc: BaseException, logger, *, refused: bool = False,
                        counts: dict[str, int] | None = None) -> None:
        """The report of a run that failed: why, and what it committed before (`counts`, as its runs row
        holds them, when known; `refused`: its own checks of parameters and settings stopped it before any
        work). Never raises, so the run fails with its own exception, not with this one's."""
        try:
            publish_run_artifacts({**self.as_dict(), **(counts or {}), "error": failure_reason(exc),
                                   "refused": refused}, self.articles, self.articles_total)
        except Exception as publish_exc:  # noqa: BLE001 - e.g. the Prefect API is gone
            logger.warning("could not publish the failed run's report: %s", publish_exc)
