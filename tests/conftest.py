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
