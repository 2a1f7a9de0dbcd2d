"""The process pool the CPU stages map over, and handing freed memory back to the OS."""

import os
import sys

import pytest

from tasks.parallel import map_chunks, release_freed_memory, split


def _sizes(chunk: list[int], offset: int) -> list[int]:
    return [x + offset for x in chunk] + [os.getpid()]


def test_chunks_run_on_the_pool_and_come_back_in_order():
    items = list(range(100))
    results = map_chunks(_sizes, items, 1000, workers=2)
    values = [v for r in results for v in r[:-1]]
    assert values == [x + 1000 for x in items]
    assert all(r[-1] != os.getpid() for r in results)  # really in worker processes
    assert [len(c) for c in split(items, 3)] == [34, 33, 33]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_freed_heap_memory_goes_back_to_the_os():
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    blocks = [os.urandom(100_000) for _ in range(1000)]  # ~100 MB of heap (below the mmap threshold)
    pinned = os.urandom(100_000)  # allocated after them: the top of the heap stays in use
    del blocks
    before = me.memory_info().rss
    release_freed_memory()
    after = me.memory_info().rss
    assert before - after > 50 * 2**20, (before >> 20, after >> 20)
    assert len(pinned) == 100_000
