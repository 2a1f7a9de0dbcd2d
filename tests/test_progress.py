"""The CLI progress reporter: pure formatting, plain lines off a terminal, the flow's hook."""

import io

from flows import progress
from newsflow.progress import ProgressReporter, format_progress


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_format_progress_shows_count_share_rate_and_eta():
    assert format_progress(1200, 10_000, 8.0) == "1200/10000 documents (12%) · 150.0/s · ETA 59s"
    assert format_progress(2500, 10_000, 10.0) == "2500/10000 documents (25%) · 250.0/s · ETA 30s"
    assert format_progress(100, 10_000, 10.0).endswith("ETA 16m30s")
    assert format_progress(1, 10_000, 1.0).endswith("ETA 2h46m")


def test_format_progress_edge_cases():
    assert format_progress(0, 100, 0.0) == "0/100 documents (0%) · -/s"  # no rate yet, no ETA
    assert format_progress(100, 100, 75.0) == "100/100 documents (100%) · 1.3/s · done in 1m15s"
    assert format_progress(40, None, 4.0, unit="urls") == "40 urls · 10.0/s"  # total not known yet


def test_non_tty_writes_periodic_plain_lines_and_a_final_one():
    stream, clock = io.StringIO(), FakeClock()
    reporter = ProgressReporter(1000, stream=stream, interval_s=10, clock=clock)
    for _ in range(5):  # five batches within the first interval: nothing yet
        clock.now += 1
        reporter.advance(100)
    assert stream.getvalue() == ""
    clock.now += 5  # t = 10 s
    reporter.advance(100)
    clock.now += 2
    reporter.advance(100)  # t = 12 s: within the next interval, stays quiet
    assert stream.getvalue() == "progress: 600/1000 documents (60%) · 60.0/s · ETA 7s\n"
    clock.now += 8
    reporter.advance(300)
    reporter.close()
    reporter.close()  # idempotent
    lines = stream.getvalue().splitlines()  # the last advance already said it all: close() adds nothing
    assert lines[1:] == ["progress: 1000/1000 documents (100%) · 50.0/s · done in 20s"]
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()  # no bar control codes in logs


def test_time_counts_from_when_the_flow_knows_its_work_and_the_end_is_said_once():
    """As `newsflow ingest` builds it: no total until the flow has started (after Prefect's server
    start-up, seconds the rate must not count), then one line for the finished run."""
    stream, clock = io.StringIO(), FakeClock()
    reporter = ProgressReporter(stream=stream, interval_s=10, clock=clock)
    clock.now += 12  # the temporary Prefect server starts
    reporter.set_total(2)
    clock.now += 1
    reporter.advance(2)
    clock.now += 1  # the search index, the report
    reporter.close()
    assert stream.getvalue() == "progress: 2/2 documents (100%) · 1.0/s · done in 2s\n"


def test_tty_draws_a_bar_that_ends_complete():
    stream = io.StringIO()
    reporter = ProgressReporter(50, stream=stream, tty=True)
    for _ in range(5):
        reporter.advance(10)
    reporter.close()
    out = stream.getvalue()
    assert "50/50" in out and "documents" in out and "progress:" not in out


def test_the_flow_hook_is_silent_without_a_reporter_and_routes_with_one():
    progress.expect(10)
    progress.advance(3)  # no reporter installed: nothing happens, nothing fails
    stream, clock = io.StringIO(), FakeClock()
    reporter = ProgressReporter(stream=stream, interval_s=0, clock=clock)
    with progress.reporting(reporter):
        progress.expect(10)
        clock.now += 1
        progress.advance(4)
        progress.expect(10)  # URLs found in feeds
        clock.now += 1
        progress.advance(16)
    assert reporter.total == 20 and reporter.done == 20
    assert stream.getvalue().splitlines() == [
        "progress: 4/10 documents (40%) · 4.0/s · ETA 2s",
        "progress: 20/20 documents (100%) · 10.0/s · done in 2s",
    ]
    progress.advance(5)  # reporter uninstalled on exit
    assert reporter.done == 20


def test_cli_ingest_has_a_progress_switch():
    from newsflow.cli import build_parser

    assert build_parser().parse_args(["ingest", "x"]).progress is True
    assert build_parser().parse_args(["ingest", "x", "--no-progress"]).progress is False
