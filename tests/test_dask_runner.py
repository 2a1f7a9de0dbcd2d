"""A small ingest whose tasks run on Dask (prefect-dask), through the flow's task-runner option."""

import pytest

from warehouse.store import Warehouse

pytestmark = pytest.mark.usefixtures("prefect_harness")

STORIES = {
    "harbour.txt": "Storm closes harbour\n\nA storm closed the harbour on Tuesday, officials said. Ferries were "
                   "cancelled and schools shut early as winds reached 120 km/h. The coast guard said no one was "
                   "hurt. Fishermen moved their boats inland on Monday night.\n",
    "bridge.txt": "Bridge reopens after repairs\n\nThe old river bridge reopened on Monday after eight months of "
                  "repairs. Traffic returned to normal within hours, the city said. The work cost 4 million euros, "
                  "a third more than planned, because rusted cables had to be replaced.\n",
}


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    # one worker process: light on a shared 2-core machine, but tasks, arguments and results
    # really cross a process boundary (pickling is what breaks on Dask, not threading)
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def _task_names_seen(cluster) -> set[str]:
    from distributed import Client

    with Client(cluster) as client:
        return set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def test_ingest_on_an_existing_dask_scheduler(dask_cluster, seeds_dir, warehouse_path):
    from prefect_dask import DaskTaskRunner

    from flows.ingest import ingest
    from flows.runners import make_task_runner

    for name, text in STORIES.items():
        (seeds_dir / name).write_text(text, encoding="utf-8")
    (seeds_dir / "harbour-copy.txt").write_text(STORIES["harbour.txt"], encoding="utf-8")  # exact duplicate

    runner = make_task_runner("dask", dask_address=dask_cluster.scheduler_address)
    assert isinstance(runner, DaskTaskRunner)
    report = ingest.with_options(task_runner=runner)(paths=[str(seeds_dir)], warehouse=str(warehouse_path),
                                                     batch_size=2)

    assert report["documents_new"] == 5 and report["duplicates"] == 1 and report["failures"] == 0
    # summaries made in a worker process come back only if the task returns them
    # (mutating the Document there changes a pickled copy)
    assert report["summaries"] == 4, "summaries made on Dask were lost on the way back to the flow"
    store = Warehouse(warehouse_path)
    _, rows = store.query("SELECT title, summary IS NOT NULL FROM articles ORDER BY title")
    assert [r[0] for r in rows] == ["Bridge reopens after repairs",
                                    "Russia, U.S. Reach Agreement Over UN Draft on Chemical Attacks in Syria",
                                    "Storm closes harbour", "US, Russia agree on Syria deal, sources say"]
    assert all(has_summary for _, has_summary in rows)
    _, runs = store.query("SELECT status FROM runs")
    assert runs == [("completed",)]
    # the CPU stages went through the Dask scheduler, not a local pool
    seen = " ".join(_task_names_seen(dask_cluster))
    assert "clean" in seen and "summarize" in seen, seen


def test_make_task_runner_defaults_to_a_local_cluster():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.runners import make_task_runner

    assert isinstance(make_task_runner("thread"), ThreadPoolTaskRunner)
    runner = make_task_runner("dask", dask_workers=1)
    assert isinstance(runner, DaskTaskRunner) and runner.cluster_kwargs.get("n_workers") == 1
