"""Progress of a long ingest, for the person watching the command line.

On a terminal: a live bar (documents done of total, rate, ETA). Anywhere else (cron,
CI, `| tee`): one plain line every `interval_s` seconds and a final line, because a
redrawn bar turns into thousands of carriage-return fragments in a log file.

The flow reports through its hook (`flows.progress`), which does nothing unless the CLI installed
one of these reporters there: the flow stays free of terminal concerns and runs the same under
`newsflow serve` or the Prefect UI.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_progress(done: int, total: int | None, elapsed: float, unit: str = "documents") -> str:
    """One progress line: `1200/10000 documents (12%) · 150.0/s · ETA 58s`.

    The rate is the average since the start (a per-batch rate jumps around with batch
    sizes); the ETA assumes that rate holds and is omitted until there is a rate to use.
    """
    rate = done / elapsed if elapsed > 0 else 0.0
    if total:
        head = f"{done}/{total} {unit} ({100 * done / total:.0f}%)"
    else:
        head = f"{done} {unit}"
    parts = [head, f"{rate:.1f}/s" if rate else "-/s"]
    if total and done >= total:
        parts.append(f"done in {_duration(elapsed)}")
    elif total and rate > 0:
        parts.append(f"ETA {_duration((total - done) / rate)}")
    return " · ".join(parts)


class ProgressReporter:
    """`ProgressReporter(total)`, then `.advance(n)` per batch and `.close()` at the end."""

    def __init__(self, total: int | None = None, *, stream: TextIO | None = None, unit: str = "documents",
                 interval_s: float = 10.0, tty: bool | None = None, clock=time.monotonic):
        self.total = total
        self.done = 0
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._closed = False
        self._last_done: int | None = None
        self._lock = threading.Lock()  # the flow may report from task-runner threads
        self._tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        # drawn on the first report, not at construction: until the flow has found its
        # files, Prefect's start-up log lines would tear an empty bar apart
        self._bar = None

    def _ensure_bar(self) -> None:
        if self._tty and self._bar is None and not self._closed:
            self._bar = self._make_bar()

    def _make_bar(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TextColumn(self.unit),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=self.stream), transient=False,
        )
        self._task = progress.add_task("ingest", total=self.total, rate="")
        progress.start()
        return progress

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def line(self) -> str:
        return format_progress(self.done, self.total, self.elapsed, self.unit)

    def set_total(self, total: int) -> None:
        with self._lock:
            if self.total is None and not self.done:
                # the flow has found its work: time counts from here, not from the command's start,
                # which includes Prefect's temporary server start-up (~10 s a run; 2 seeds read 0.1/s)
                self._started = self._last_line = self._clock()
            self.total = total
            self._ensure_bar()
            if self._bar is not None:
                self._bar.update(self._task, total=total)

    def expect(self, more: int) -> None:
        """More work discovered mid-run (e.g. URLs found in feeds)."""
        self.set_total((self.total or 0) + more)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            if self._closed:
                return
            self.done += n
            self._ensure_bar()
            if self._bar is not None:
                rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
                self._bar.update(self._task, completed=self.done, rate=f"{rate:.1f}/s")
                return
            now = self._clock()
            if now - self._last_line >= self.interval_s:
                self._last_line = now
                self._write(self.line())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._bar is not None:
                self._bar.stop()
            elif not self._tty and (self.done or self.total) and self.done != self._last_done:
                self._write(self.line())

    def _write(self, text: str) -> None:
        self._last_done = self.done  # a final line for a count already shown would only repeat it
        print(f"progress: {text}", file=self.stream, flush=True)

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
