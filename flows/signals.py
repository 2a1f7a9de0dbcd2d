"""How a run hears Ctrl-C (SIGINT) and `kill` (SIGTERM): it stops at once, records its end, and a
signal Python lost is not lost for the run."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prefect.exceptions import TerminationSignal

_STOPS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def lost_signals_raised() -> Iterator[Callable[[], None]]:
    """A signal's exception (Prefect's TerminationSignal for SIGTERM, Python's KeyboardInterrupt)
    raised while Python runs a finalizer (`__del__`, a weakref callback) is printed as "Exception
    ignored" and dropped: a `kill` mid-run was swallowed so (about 1 run in 8 under test), and the run
    went on to its end and exited 0. Python hands every such exception to `sys.unraisablehook`; one
    that a signal raised is kept, and the function yielded, called between batches, raises it. (The
    handlers stay as they are: Prefect accepts a cancel from its UI only while its own is in place.)"""
    lost: list[BaseException] = []
    previous = sys.unraisablehook

    def keep(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt | TerminationSignal):
            lost.append(unraisable.exc_value)
        previous(unraisable)

    def stop_if_signalled() -> None:
        if lost:
            raise lost[0]

    sys.unraisablehook = keep
    try:
        yield stop_if_signalled
    finally:
        sys.unraisablehook = previous


@contextmanager
def signals_held(logger) -> Iterator[None]:
    """Ctrl-C signals every process of the terminal's group, and a stopping `newsflow serve` sends its
    runs SIGTERM as well: that second signal cut short the interrupted run's last words (its runs row,
    its Crashed state, its report), and it stayed `running` in the warehouse and Running in Prefect for
    good. While the run records its end, one more signal is let pass; a further one (someone pressing
    Ctrl-C again, say while a dead API is retried) interrupts the recording."""
    extra = []

    def hold(signum, frame):
        extra.append(signum)
        if len(extra) > 1:
            raise KeyboardInterrupt
        logger.info("%s while the run records its end: it finishes recording first", signal.Signals(signum).name)

    try:
        previous = [(s, signal.signal(s, hold)) for s in _STOPS]
    except ValueError:  # not the main thread: signals go elsewhere
        previous = []
    try:
        yield
    finally:
        for s, handler in previous:
            signal.signal(s, handler)
