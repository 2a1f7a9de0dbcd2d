"""The thin Prefect task layer: what it hands the flow, run under Prefect's test harness."""

import gc
import pickle

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from tasks.document import Document
from tasks.stages import Handoff


def _batch(number: int) -> list[Document]:
    return [Document(source=f"s{number}-{k}", source_kind="file", raw_text="x" * 1000, raw_sha256=f"{number}-{k}")
            for k in range(10)]


@task(cache_policy=NO_CACHE)
def make_batch(number: int) -> Handoff[list[Document]]:
    return Handoff(_batch(number))


def _live_documents() -> int:
    gc.collect()
    return sum(isinstance(o, Document) for o in gc.get_objects())


@pytest.mark.usefixtures("prefect_harness")
def test_a_taken_batch_is_freed_while_the_flow_run_goes_on():
    # Prefect keeps task return values reachable until the flow run ends (without the Handoff
    # this same loop holds 10, 20, ... 60 documents); taking the value leaves it an empty shell
    @flow
    def many_batches() -> list[int]:
        live = []
        for number in range(6):
            docs = make_batch(number).take()
            assert len(docs) == 10
            del docs
            live.append(_live_documents())
        return live

    baseline = _live_documents()
    assert all(n <= baseline for n in many_batches())


def test_a_handoff_is_taken_once_and_survives_pickling():
    handoff = pickle.loads(pickle.dumps(Handoff(([], None))))  # a Dask worker's result comes back pickled
    assert handoff.take() == ([], None)
    with pytest.raises(RuntimeError):
        handoff.take()
    assert pickle.loads(pickle.dumps(Handoff(None))).take() is None
