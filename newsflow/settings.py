"""All settings in one typed object, overridable by environment variables.

`NEWSFLOW_WAREHOUSE=/data/news.duckdb` or nested `NEWSFLOW_FETCH__USER_AGENT=...`.
Settings are built when asked for (`get_settings()`), never at import time, so
tests and flows can set the environment first.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow import __version__
from warehouse.search import RefreshPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "newsflow.duckdb"


class FetchSettings(BaseModel):
    user_agent: str = f"newsflow/{__version__} (+https://github.com/newsflow/newsflow)"
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    total_timeout_s: float = 30.0
    max_redirects: int = 5
    max_body_bytes: int = 10 * 1024 * 1024
    min_body_bytes: int = 10
    max_url_length: int = 2083
    retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 10.0
    global_concurrency: int = 8
    per_host_concurrency: int = 2
    per_host_delay_s: float = 1.0
    obey_robots: bool = True
    # SSRF guard: off only for trusted setups (tests point at 127.0.0.1)
    allow_private_addresses: bool = False


class ObjectStoreSettings(BaseModel):
    """S3-compatible object storage for a lake's data files (`data_path = "s3://bucket/prefix"`),
    through DuckDB's httpfs; empty fields fall back to DuckDB's defaults (AWS, its credential chain)."""

    key_id: str = ""
    secret: SecretStr = SecretStr("")
    region: str = ""
    endpoint: str = ""  # host:port of MinIO, R2, Ceph, ...
    url_style: Literal["", "path", "vhost"] = ""
    use_ssl: bool = True


class LakeSettings(BaseModel):
    """DuckLake storage (used when `storage = "ducklake"`): see docs/profiles/."""

    # "sqlite:PATH" for writers on one machine; "postgres:dbname=... host=... user=..." (libpq
    # keywords; PG* variables and ~/.pgpass apply) for writers on several machines
    catalog: str = f"sqlite:{REPO_ROOT / 'warehouse' / 'lake' / 'catalog.sqlite'}"
    # a directory (a shared mount when several machines write), or s3://bucket/prefix
    data_path: Path | str = REPO_ROOT / "warehouse" / "lake" / "data"
    # DuckLake cannot hold the fts index's macros, so the index lives in this DuckDB file (local to
    # each machine: a DuckDB file must not be shared over a network filesystem)
    search_index: Path = REPO_ROOT / "warehouse" / "lake" / "search.duckdb"
    s3: ObjectStoreSettings = ObjectStoreSettings()

    @field_validator("data_path", mode="after")
    @classmethod
    def _path_unless_url(cls, value: Path | str) -> Path | str:
        # Path("s3://b/x") would collapse the "//"; URLs stay strings
        from warehouse.lake import is_remote

        return str(value) if is_remote(str(value)) else Path(value)

    def config(self):
        from warehouse.lake import LakeConfig, ObjectStore

        store = ObjectStore(self.s3.key_id, self.s3.secret.get_secret_value(), self.s3.region, self.s3.endpoint,
                            self.s3.url_style, self.s3.use_ssl)
        return LakeConfig(self.catalog, self.data_path, self.search_index, store)


class SearchSettings(BaseModel):
    """When a run rebuilds the full-text index. A rebuild reads every document (DuckDB's fts
    cannot add some): ~42 s at 100k documents, time a schedule every few minutes cannot spend
    each run. Small warehouses rebuild after every change; `newsflow reindex` rebuilds now."""

    rebuild_below_documents: int = Field(20_000, ge=0)
    rebuild_new_fraction: float = Field(0.05, ge=0)  # un-indexed documents per indexed one
    rebuild_max_age_minutes: float = Field(60.0, ge=0)  # longest wait for new documents

    def policy(self) -> RefreshPolicy:
        return RefreshPolicy(always_below=self.rebuild_below_documents, new_fraction=self.rebuild_new_fraction,
                             max_age=timedelta(minutes=self.rebuild_max_age_minutes))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", env_nested_delimiter="__", extra="ignore")

    warehouse: Path = DEFAULT_WAREHOUSE
    # "duckdb": the single file `warehouse`; "ducklake": catalog + Parquet files, several writers
    storage: Literal["duckdb", "ducklake"] = "duckdb"
    lake: LakeSettings = LakeSettings()
    summary_sentences: int = Field(3, ge=1, le=50)
    summary_algorithm: str = "newsflow"
    max_file_bytes: int = 20 * 1024 * 1024
    near_dup_threshold: float = Field(0.8, ge=0.0, le=1.0)
    minhash_permutations: int = 112
    shingle_words: int = 5
    # files per batch (the CLI's default --batch-size); fewer, larger batches mean fewer lookups
    # and commits: 1000 ran 25% faster than 200 on the throughput corpus
    batch_size: int = Field(1000, ge=1, le=10_000)
    # a file batch also closes at this much input, so big files do not pile up in memory
    batch_max_bytes: int = Field(64 * 1024 * 1024, gt=0)
    # processes for the CPU stages (clean, summarize); 0 = every core this process may use
    workers: int = Field(0, ge=0)
    lock_timeout_s: float = 120.0
    # DuckDB's memory cap for the warehouse connection (it spills to a temp folder beyond it)
    duckdb_memory_limit: str = "512MB"
    # how long a run queues for another run's writer lock before it gives up
    writer_wait_s: float = Field(3600.0, gt=0)
    task_runner: Literal["thread", "dask"] = "thread"
    dask_address: str | None = None
    inbox: Path = REPO_ROOT / "inbox"
    # `newsflow serve`: scheduled runs read the inbox plus these feeds; a cron expression wins over the interval
    deployment_name: str = "newsflow-ingest"
    schedule_interval_minutes: float = Field(15.0, gt=0)
    schedule_cron: str | None = None
    schedule_timezone: str = "UTC"
    feeds: list[str] = []
    fetch: FetchSettings = FetchSettings()
    search: SearchSettings = SearchSettings()


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
