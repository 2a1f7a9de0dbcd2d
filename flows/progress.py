"""The flow's progress hook: `expect` and `advance` do nothing unless the command line
installed a reporter (`newsflow.progress.ProgressReporter`) with `reporting(...)`. The flow stays free
of terminal concerns and runs the same under `newsflow serve` or the Prefect UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def expect(self, more: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def close(self) -> None: ...


_current: Reporter | None = None


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[Reporter | None]:
    """Route the flow's progress calls to `reporter` (None: nowhere) for the duration."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = previous
        if reporter is not None:
            reporter.close()


def expect(more: int) -> None:
    """`more` items are known to come (the files found, the URLs a feed listed)."""
    if _current is not None:
        _current.expect(more)


def advance(n: int) -> None:
    """`n` more items are finished (stored, skipped as unchanged, or failed)."""
    if _current is not None:
        _current.advance(n)
