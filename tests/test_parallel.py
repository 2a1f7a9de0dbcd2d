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


def _main_script(tmp_path, body: str):
    """A main script that runs pool work from this checkout (`map_chunks` imported), then `body`."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    script = tmp_path / "main_script.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(repo)!r})\nfrom tasks.parallel import map_chunks\n{body}")
    return script


def _worker_state(chunk: list[int]) -> list[dict]:
    # what real pool work loads, then what the worker process holds
    import tasks.batch  # noqa: F401
    import tasks.summarize.algorithms  # noqa: F401

    return [{"main": getattr(sys.modules.get("__mp_main__"), "__file__", None), "prefect": "prefect" in sys.modules,
             "sklearn": sys.modules.get("sklearn", "absent") is None and "blocked",
             "scipy": sys.modules.get("scipy", "absent") is None and "blocked"}]


def test_workers_do_not_rerun_the_main_script_nor_load_what_pool_work_never_uses(tmp_path):
    """Spawned workers used to re-run the parent's main (the CLI, prefect.engine, a benchmark),
    loading Prefect and the flow into each one; nltk pulled in scikit-learn and scipy."""
    import json
    import subprocess

    script = _main_script(tmp_path, "import json\nimport prefect  # a heavy main, like the CLI's\n"
                          "from tests.test_parallel import _worker_state\n"
                          "if __name__ == '__main__':\n"
                          "    print(json.dumps(map_chunks(_worker_state, list(range(64)), workers=2)))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, check=True)
    states = [s for chunk in json.loads(out.stdout.strip().splitlines()[-1]) for s in chunk]
    assert len(states) == 2
    for state in states:
        assert state == {"main": None, "prefect": False, "sklearn": "blocked", "scipy": "blocked"}, state


def test_cleaning_and_every_summarizer_give_the_same_results_on_the_pool_as_inline():
    from pathlib import Path

    from tasks.batch import Derive, SummaryLength, clean_docs_parallel, read_paths, summaries_for
    from tasks.summarize.algorithms import ALGORITHMS

    seeds = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    raw, failed = read_paths(seeds * 20, max_bytes=10 * 2**20)  # >= min_items, so the pool is used
    assert not failed and len(raw) >= 32
    for i, doc in enumerate(raw):  # distinct documents, as far as identity goes
        doc.source = f"{doc.source}#{i}"
    derive = Derive(shingle_words=5)
    inline, _ = clean_docs_parallel(raw, workers=1, derive=derive)
    pooled, _ = clean_docs_parallel(raw, workers=2, derive=derive)
    assert [(d.text, d.title, d.derived.keys()) for d in pooled] == [(d.text, d.title, d.derived.keys()) for d in inline]
    for algorithm in ALGORITHMS:
        got, failures = summaries_for(pooled, algorithm, SummaryLength(sentences=2), workers=2)
        want, _ = summaries_for(inline, algorithm, SummaryLength(sentences=2), workers=1)
        assert not failures, (algorithm, failures[:1])
        assert got and {k: v.sentences for k, v in got.items()} == {k: v.sentences for k, v in want.items()}, algorithm


def _pid(chunk: list[int]) -> list[int]:
    return [os.getpid()]


def test_workers_leave_when_their_parent_is_killed(tmp_path):
    """kill -9 of a run (or the OOM killer) left its pool workers waiting on their queue for good."""
    import signal
    import subprocess
    import time

    script = _main_script(tmp_path, "import time\nfrom tests.test_parallel import _pid\n"
                          "if __name__ == '__main__':\n"
                          "    print(*sorted({p for r in map_chunks(_pid, list(range(64)), workers=2) for p in r}), "
                          "flush=True)\n"
                          "    time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers and all(_alive(p) for p in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
