"""Waiting for a shared resource (a file lock, the writer lock, a lost DuckLake commit): jittered,
doubling pauses until a deadline, so waiters neither hammer the holder nor wake in step."""

from __future__ import annotations

import random
import time


class Backoff:
    """`wait()` sleeps the next pause (at first `first` seconds, doubling up to `cap`, each x 0.5-1.5,
    never past the deadline) and says True; once `wait_s` have passed it sleeps nothing and says
    False, and the caller raises its own error."""

    def __init__(self, wait_s: float, *, first: float = 0.05, cap: float = 2.0):
        self.deadline = time.monotonic() + wait_s
        self.delay, self.cap = first, cap

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def wait(self) -> bool:
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(self.delay, left) * (0.5 + random.random()))
        self.delay = min(self.delay * 2, self.cap)
        return True
