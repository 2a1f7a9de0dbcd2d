"""DuckLake on a PostgreSQL catalog (the scale-out storage profile), on a real PostgreSQL server
started for the session in a temporary directory (tests/pg_server.py), loopback only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests import pg_server
from test_ducklake import check_search_and_cli
from test_search import CORPUS, doc
from warehouse.lake import LakeConfig
from warehouse.store import Warehouse, migrations
from warehouse.writer_lock import WriterLockTimeout, pg_writer_lock

REPO = Path(__file__).resolve().parent.parent

if pg_server.missing_binaries():
    pytest.skip(f"no PostgreSQL server binaries on PATH ({', '.join(pg_server.missing_binaries())}): "
                "install postgresql to run the Postgres-catalog tests", allow_module_level=True)


@pytest.fixture(scope="session")
def postgres():
    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def catalog(postgres) -> str:
    """A fresh catalog database per test: postgres:<libpq conninfo>."""
    return "postgres:" + postgres.create_database(f"lake_{uuid.uuid4().hex[:12]}")


def pg_env(catalog: str, root: Path) -> dict[str, str]:
    return {"NEWSFLOW_STORAGE": "ducklake", "NEWSFLOW_LAKE__CATALOG": catalog,
            "NEWSFLOW_LAKE__DATA_PATH": str(root / "data"), "NEWSFLOW_LAKE__SEARCH_INDEX": str(root / "search.duckdb")}


def pg_store(catalog: str, root: Path) -> Warehouse:
    cfg = LakeConfig(catalog, root / "data", root / "search.duckdb")
    return Warehouse(cfg.attach_target(), lake=cfg, lock_timeout_s=120)


def test_same_schema_views_search_sql_and_export_on_a_postgres_catalog(catalog, tmp_path, monkeypatch, capsys):
    from newsflow.cli import main

    store = pg_store(catalog, tmp_path)
    latest = max(v for v, _, _ in migrations())
    assert store.migrate() == latest and store.migrate() == latest
    docs = [doc(s, t, x) for s, (t, x) in CORPUS.items()]
    store.write_batch("r1", docs, [], {}, summary_length="sentences=1")
    store.write_batch("r2", docs, [], {}, summary_length="sentences=1")  # stored once: no keys, anti-joins
    assert store.counts()["documents"] == 4
    _, rows = store.query("SELECT comment FROM duckdb_views() WHERE view_name = 'latest_articles'")
    assert rows[0][0].startswith("The canonical articles the sources hold now")
    assert list((tmp_path / "data").rglob("*.parquet"))

    # the catalog really is in Postgres: its tables are there, and no catalog file was written
    import psycopg

    with psycopg.connect(catalog.removeprefix("postgres:")) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        names = {r[0] for r in con.execute("SELECT table_name FROM ducklake_table WHERE end_snapshot IS NULL")}
    assert "ducklake_snapshot" in tables and {"documents", "stories", "runs"} <= names
    assert not list(tmp_path.rglob("*.sqlite"))

    assert store.refresh_search_index().rebuilt is True
    check_search_and_cli(store, pg_env(catalog, tmp_path), monkeypatch, capsys)
    # analysts' SQL reaches the lake, not the catalog's server with the lake's credentials
    catalog_db = store.query("SELECT database_name FROM duckdb_databases() WHERE type = 'postgres'")[1][0][0]
    for sneak in (f"SELECT * FROM postgres_query('{catalog_db}', 'SELECT current_user')",
                  f"SELECT * FROM \"postgres_query\"('{catalog_db}', 'SELECT 1')"):
        assert main(["sql", sneak]) == 2
        assert "pass-through functions are disabled" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "export")]) == 0
    capsys.readouterr()
    exported = list((tmp_path / "export").rglob("*.parquet"))
    assert any("documents" in str(p) for p in exported)


_HOLD = """
import sys, time
from warehouse.writer_lock import pg_writer_lock
with pg_writer_lock(sys.argv[1], wait_s=30):
    print("held", flush=True)
    time.sleep(600)
"""


def test_postgres_writer_lock_excludes_other_sessions_and_dies_with_its_holder(catalog):
    conninfo = catalog.removeprefix("postgres:")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, conninfo], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WriterLockTimeout, match=rf"newsflow writer .*:{holder.pid}"):
            with pg_writer_lock(conninfo, wait_s=1):
                pass
        assert time.monotonic() - started >= 0.9  # it waited, then named the holder

        # A waiter queued behind the holder gets the lock once the holder is SIGKILLed:
        # the server drops a session's advisory locks when its connection closes.
        got = threading.Event()

        def wait_for_it():
            with pg_writer_lock(conninfo, wait_s=60):
                got.set()

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        time.sleep(0.5)
        assert not got.is_set()
        holder.send_signal(signal.SIGKILL)
        waiter.join(30)
        assert got.is_set()
    finally:
        holder.kill()
        holder.wait()
    with pg_writer_lock(conninfo, wait_s=1):  # and it was released again on exit
        pass


def test_each_lake_catalog_has_its_own_writer_lock(postgres, tmp_path):
    a = postgres.create_database(f"lake_{uuid.uuid4().hex[:12]}")
    b = postgres.create_database(f"lake_{uuid.uuid4().hex[:12]}")
    with pg_writer_lock(a, wait_s=1), pg_writer_lock(b, wait_s=1):
        pass  # advisory locks are per database: lakes on one server do not queue behind each other
    with pg_writer_lock(a, wait_s=1):
        with pytest.raises(WriterLockTimeout):
            with pg_store("postgres:" + a, tmp_path).exclusive_writer(0.5):
                pass


# -- four writers at once -----------------------------------------------------------------------
SHARED = ("Harbour reopens after the storm\n\nThe harbour reopened on Thursday after a week of storms, the port "
          "authority said. Ferries to the islands resumed at noon and fishing boats returned to their moorings. "
          "Repairs to the outer breakwater will take until the spring, officials added.\n")


def _reader(store: Warehouse, stop: threading.Event, seen: list, errors: list) -> None:
    while not stop.is_set():
        try:
            _, rows = store.query("SELECT count(*) FROM documents")
            seen.append(rows[0][0])
        except Exception as exc:  # noqa: BLE001 - the test reports every reader failure
            errors.append(repr(exc))
        time.sleep(0.5)  # an analyst querying now and then, while the writers write


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_four_ingest_processes_on_one_postgres_lake(catalog, tmp_path, prefect_harness):
    """Four `newsflow ingest` processes at once, overlapping inputs plus one article that every
    writer has under its own file name: every document is stored once, the shared article is
    canonical exactly once, and duplicates and stories agree across writers; readers keep answering."""
    from prefect.settings import PREFECT_API_URL

    from test_reliability_crash import make_corpus
    from test_reliability_load import expected_outcome

    corpus = tmp_path / "corpus"
    make_corpus(corpus, n=30, seed=5)
    for k in range(4):
        (corpus / f"own{k}").mkdir()
        (corpus / f"own{k}" / f"harbour-{k}.txt").write_text(SHARED, encoding="utf-8")
    want = expected_outcome(corpus)
    lake = tmp_path / "lake"
    store = pg_store(catalog, lake)
    store.migrate()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    # a password written into the catalog setting, as libpq allows: no run repeats it (report, runs row, log)
    env.update(pg_env(catalog + " password=S3cretXYZ", lake), PYTHONPATH=str(REPO), PREFECT_API_URL=PREFECT_API_URL.value(),
               PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_WORKERS="1")
    stop, seen, read_errors = threading.Event(), [], []
    reader = threading.Thread(target=_reader, args=(store, stop, seen, read_errors))
    reader.start()
    procs = []
    try:
        for k in range(4):
            inputs = [str(corpus / f"d{k}"), str(corpus / f"d{(k + 1) % 5}"), str(corpus / f"own{k}")]
            if k == 3:
                inputs.append(str(corpus / "d4"))
            out = open(tmp_path / f"run{k}.out", "w+")  # files, not pipes: nobody reads a pipe meanwhile
            procs.append((subprocess.Popen([sys.executable, "-m", "newsflow.cli", "ingest", *inputs, "--json",
                                            "--batch-size", "8"], cwd=REPO, env=env, stdout=out,
                                           stderr=subprocess.STDOUT, text=True), out))
        for proc, _ in procs:
            proc.wait(timeout=800)
    finally:
        stop.set()
        reader.join(30)
        for proc, _ in procs:
            proc.kill()
    reports = []
    for proc, out in procs:
        out.seek(0)
        text = out.read()
        assert proc.returncode == 0, text[-4000:]
        assert "S3cretXYZ" not in text and "password=REDACTED" in text
        reports.append(json.loads(text[text.rindex("\n{") + 1:] if "\n{" in text else text[text.index("{"):]))
    assert store.query("SELECT count(*) FROM runs WHERE parameters::VARCHAR LIKE '%S3cret%'")[1] == [(0,)]

    _, rows = store.query("SELECT doc_id, text_sha256, is_canonical FROM documents")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "a document was stored twice"
    assert set(ids) == want["documents"], "documents lost or unexpected"
    assert sum(r["documents_new"] for r in reports) == len(ids)  # each counted new by exactly one writer
    canonical = [r[1] for r in rows if r[2]]
    assert len(canonical) == len(set(canonical)), "one text is canonical twice"
    shared_sha = _sha_of_shared(store)
    shared = [r for r in rows if r[1] == shared_sha]
    assert len(shared) == 4 and sum(1 for r in shared if r[2]) == 1, shared

    # every non-canonical document points at a canonical one, and sits in that document's story
    _, broken = store.query(
        "SELECT d.doc_id FROM documents d LEFT JOIN duplicates x ON x.doc_id = d.doc_id "
        "LEFT JOIN documents c ON c.doc_id = x.duplicate_of "
        "WHERE NOT d.is_canonical AND (c.doc_id IS NULL OR NOT c.is_canonical)")
    assert broken == []
    _, counts = store.query("SELECT count(*), count(DISTINCT doc_id) FROM story_members")
    assert counts == [(len(ids), len(ids))], "every document in exactly one story"
    _, split = store.query(
        "SELECT x.doc_id FROM duplicates x JOIN story_members a ON a.doc_id = x.doc_id "
        "JOIN story_members b ON b.doc_id = x.duplicate_of WHERE a.story_id <> b.story_id")
    assert split == []
    _, runs = store.query("SELECT status, count(*) FROM runs GROUP BY status")
    assert runs == [("completed", 4)]

    # readers answered while the writers wrote, and never saw the count go down
    assert not read_errors, read_errors[:3]
    assert len(seen) >= 5 and seen == sorted(seen) and seen[0] < len(ids), seen


def _sha_of_shared(store: Warehouse) -> str:
    _, rows = store.query("SELECT DISTINCT text_sha256 FROM documents WHERE source LIKE '%harbour-0.txt'")
    assert len(rows) == 1
    return rows[0][0]


def test_data_files_on_s3_compatible_storage_through_httpfs(catalog, tmp_path, monkeypatch, capsys):
    """The data path on an S3-compatible server (moto's, on loopback), credentials from settings."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] (a dev dependency) provides the S3 server")
    import boto3

    from newsflow.cli import main
    from flows.storage import open_warehouse
    from flows.settings import get_settings

    port = pg_server.free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="newsflow",
                          aws_secret_access_key="not-a-secret", region_name="us-east-1")
        s3.create_bucket(Bucket="news")
        env = {"NEWSFLOW_STORAGE": "ducklake", "NEWSFLOW_LAKE__CATALOG": catalog,
               "NEWSFLOW_LAKE__DATA_PATH": "s3://news/lake", "NEWSFLOW_LAKE__SEARCH_INDEX": str(tmp_path / "s.duckdb"),
               "NEWSFLOW_LAKE__S3__KEY_ID": "newsflow", "NEWSFLOW_LAKE__S3__SECRET": "not-a-secret",
               "NEWSFLOW_LAKE__S3__REGION": "us-east-1", "NEWSFLOW_LAKE__S3__ENDPOINT": f"127.0.0.1:{port}",
               "NEWSFLOW_LAKE__S3__URL_STYLE": "path", "NEWSFLOW_LAKE__S3__USE_SSL": "false"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        store = open_warehouse(get_settings())
        assert store.lake.data_path == "s3://news/lake"  # a URL, not a Path that would collapse "//"
        store.migrate()
        store.write_batch("r1", [doc(s, t, x) for s, (t, x) in CORPUS.items()], [], {}, summary_length="sentences=1")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="news", Prefix="lake/").get("Contents", [])]
        assert any(k.startswith("lake/main/documents/") and k.endswith(".parquet") for k in keys), keys
        assert not list(tmp_path.rglob("*.parquet"))  # nothing landed locally
        assert main(["sql", "SELECT count(*) AS n FROM articles", "--format", "csv"]) == 0
        assert capsys.readouterr().out.splitlines() == ["n", "4"]
        assert store.refresh_search_index().rebuilt is True
        assert store.search("flooding")[1][0][0] == "Storm floods coastal towns"
    finally:
        server.stop()
