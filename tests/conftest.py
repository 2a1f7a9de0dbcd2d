import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before prefect is imported anywhere: no telemetry, and a throwaway Prefect home
# so tests never touch the user's ~/.prefect database.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsflow-prefect-home-")

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (first start migrates SQLite)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def seeds_dir(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def warehouse_path(tmp_path) -> Path:
    return tmp_path / "test.duckdb"


# The unit layer (`make test-fast`): modules that test pure functions in this process, with at
# most a loopback HTTP server or a DuckDB file; everything else is integration or end to end.
UNIT_MODULES = {
    "test_clean", "test_dedup", "test_extract", "test_metadata", "test_read", "test_sentences",
    "test_summarize", "test_url_safety", "test_feeds", "test_fetch", "test_progress", "test_settings",
    "test_parallel_units", "test_schema_docs", "test_warehouse", "test_bench_pairs",
}


# `make test` hands whole test files to two pytest-xdist processes (`--dist loadfile`, and
# `--no-loadscope-reorder`: xdist's default sends the files with the most tests first, which put the
# long files, a few tests each, last, where one process ran them alone for minutes while the other sat
# idle). The long files go first, the longest first (their durations on this machine: ~200 s for the
# PostgreSQL lake down to ~30 s), and the many short files fill in behind them.
LONG_FIRST = (
    "test_ducklake_postgres", "test_reliability_crash", "test_cli_stop", "test_cli_user", "test_deployments",
    "test_ducklake", "test_dask_scale_out", "test_flow_web", "test_prefect_work_pool", "test_reliability_faults",
    "test_run_start", "test_reliability_load", "test_hostile_input", "test_dask_runner", "test_flow_ingest",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module in UNIT_MODULES and "slow" not in item.keywords:
            item.add_marker(pytest.mark.unit)
        else:
            item.add_marker(pytest.mark.integration)
    rank = {module: n for n, module in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rsplit(".", 1)[-1], len(LONG_FIRST)))
