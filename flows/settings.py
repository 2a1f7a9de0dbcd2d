"""All settings in one typed object: defaults here, overridden by `NEWSFLOW_*` environment
variables or a `.env` file in the working directory.

`NEWSFLOW_WAREHOUSE=/data/news.duckdb` or nested `NEWSFLOW_FETCH__USER_AGENT=...`.
Settings are built at the edge (the CLI, the flow's first lines, `newsflow serve`) when
asked for, never at import time, and handed down as values. Flow parameters left empty
mean "the setting", so an override reaches scheduled and UI-triggered runs too.
`newsflow config` prints the effective values and where each came from.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import difflib
import os
from typing import Annotated, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import AfterValidator, BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from tasks.stage_names import FAULT_POINTS
from tasks.sources.fetch import FetchSettings, TextList
from tasks.summarize.registry import ALGORITHMS, DEFAULT_ALGORITHM
from tasks.summarize.length import DEFAULT_SENTENCES, SENTENCES_RANGE, WORDS_RANGE, both_set
from tasks.text.language import run_language
from flows.runners import TaskRunnerKind
from tasks.dedup import MINHASH_PERMUTATIONS, NEAR_DUP_THRESHOLD, SHINGLE_WORDS
from warehouse.search import RefreshPolicy
from warehouse import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_MEMORY_LIMIT, checked_memory_limit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "newsflow.duckdb"


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

    rebuild_below_documents: int = Field(RefreshPolicy.always_below, ge=0)
    rebuild_new_fraction: float = Field(RefreshPolicy.new_fraction, ge=0)  # un-indexed documents per indexed one
    rebuild_max_age_minutes: float = Field(RefreshPolicy.max_age / timedelta(minutes=1), ge=0)  # longest wait for new documents

    def policy(self) -> RefreshPolicy:
        return RefreshPolicy(always_below=self.rebuild_below_documents, new_fraction=self.rebuild_new_fraction,
                             max_age=timedelta(minutes=self.rebuild_max_age_minutes))


# a DuckDB memory limit ("512MB", "2GiB"), checked by DuckDB when the settings are read
MemoryLimit = Annotated[str, AfterValidator(checked_memory_limit)]
# ...or empty, for a query: no cap of its own (the connection's stays)
QueryMemoryLimit = Annotated[str, AfterValidator(lambda value: checked_memory_limit(value) if value else value)]


class SqlSettings(BaseModel):
    """Bounds on one `newsflow sql` query, so an analyst's query cannot run or grow without end."""

    timeout_s: float = Field(60.0, gt=0)
    memory_limit: QueryMemoryLimit = "1GB"  # DuckDB's cap for the query (it spills to disk beyond it where it can)
    max_rows: int = Field(100_000, ge=1)  # rows printed; more is a note (export is `newsflow export`)


Algorithm = Literal[ALGORITHMS]  # type: ignore[valid-type]  # the registry, as a type
FaultPoint = Literal[FAULT_POINTS]  # type: ignore[valid-type]
ENV_PREFIX = "NEWSFLOW_"
NEAR_DUP_RANGE = (0.5, 1.0)  # below 0.5, 5-word shingles link unrelated articles
BATCH_SIZE_RANGE = (1, 10_000)
# an ISO 639-1 code, optionally with a region ("de", "pt-BR"); the run stores the bare language
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$"


class StorySettings(BaseModel):
    """Same-story clustering (tasks/dedup/stories.py; bench/stories.py measures it through ingest)."""

    # story score (centroid cosine less half its largest single-term part) at which an article joins
    # a story: the median of the thresholds chosen on the training folds of bench/stories.py's
    # cross-validation over the dev pairs (fold range 0.177-0.181)
    threshold: float = Field(0.18, gt=0, le=1)
    # the longest span of publication dates one story covers (undated articles: their ingest day);
    # scores fade with the days between articles, to nearly nothing at this span (stories._fade)
    window_days: int = Field(30, ge=0)
    # weight of the shipped word-frequency prior, in documents: the warehouse's own document
    # frequencies weigh as much as the prior once it holds this many canonical articles
    prior_docs: float = Field(1000.0, gt=0)
    # members whose vectors make up a story's centroid (the first ones; bounds each lookup)
    centroid_members: int = Field(20, ge=1)


class FaultSettings(BaseModel):
    """A documented test seam (tests/test_reliability_crash.py, bench/reliability.py): the run
    dies when batch `batch` reaches stage boundary `at`; see tasks/pipeline.FaultPoint."""

    at: FaultPoint | None = None
    batch: int = Field(1, ge=1)
    marker: Path | None = None  # write this file and wait to be killed, instead of dying at once


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore",
                                      env_file=".env", env_file_encoding="utf-8")

    warehouse: Path = DEFAULT_WAREHOUSE
    # "duckdb": the single file `warehouse`; "ducklake": catalog + Parquet files, several writers
    storage: Literal["duckdb", "ducklake"] = "duckdb"
    lake: LakeSettings = LakeSettings()
    # the run's defaults; a flow parameter or CLI flag given for a run wins
    summary_algorithm: Algorithm = DEFAULT_ALGORITHM
    summary_sentences: int = Field(DEFAULT_SENTENCES, ge=SENTENCES_RANGE[0], le=SENTENCES_RANGE[1])
    # either of these, when set, is the default length instead of summary_sentences
    summary_ratio: float | None = Field(None, gt=0, le=1)
    summary_words: int | None = Field(None, ge=WORDS_RANGE[0], le=WORDS_RANGE[1])
    near_dup_threshold: float = Field(NEAR_DUP_THRESHOLD, ge=NEAR_DUP_RANGE[0], le=NEAR_DUP_RANGE[1])
    # ISO 639-1 code every document is taken to be in (a desk that ingests one language); empty:
    # detected per document from page markup and text (tasks/text/language.py)
    language: str | None = Field(None, pattern=LANGUAGE_PATTERN)
    max_file_bytes: int = Field(20 * 1024 * 1024, gt=0)
    # a symlink found in an input folder or glob may lead outside it (off: a failure row instead)
    follow_symlinks_outside: bool = False
    minhash_permutations: int = Field(MINHASH_PERMUTATIONS, ge=16)
    shingle_words: int = Field(SHINGLE_WORDS, ge=1)
    # files per batch; fewer, larger batches mean fewer lookups and commits: 1000 ran 25%
    # faster than 200 on the throughput corpus
    batch_size: int = Field(1000, ge=BATCH_SIZE_RANGE[0], le=BATCH_SIZE_RANGE[1])
    # a file batch also closes at this much input, so big files do not pile up in memory
    batch_max_bytes: int = Field(64 * 1024 * 1024, gt=0)
    # processes for the CPU stages (clean, summarize); 0 = every core this process may use
    workers: int = Field(0, ge=0)
    # how long opening the DuckDB file retries another process's lock
    lock_timeout_s: float = Field(DEFAULT_LOCK_TIMEOUT_S, gt=0)
    # DuckDB's memory cap for the warehouse connection (it spills to a temp folder beyond it)
    duckdb_memory_limit: MemoryLimit = DEFAULT_MEMORY_LIMIT
    # how long a run queues for another run's writer lock before it gives up
    writer_wait_s: float = Field(3600.0, gt=0)
    task_runner: TaskRunnerKind = "thread"
    dask_address: str | None = None
    inbox: Path = REPO_ROOT / "inbox"
    # `newsflow serve`: scheduled runs read the inbox plus these feeds; a cron expression wins over the interval
    deployment_name: str = "newsflow-ingest"
    # a minute at least: a run takes seconds to start, and a fraction of a minute queued runs by the hundred
    schedule_interval_minutes: float = Field(15.0, ge=1)
    schedule_cron: str | None = None
    schedule_timezone: str = "UTC"
    feeds: TextList = []
    fetch: FetchSettings = FetchSettings()
    search: SearchSettings = SearchSettings()
    sql: SqlSettings = SqlSettings()
    story: StorySettings = StorySettings()
    fault: FaultSettings = FaultSettings()

    @field_validator("warehouse")
    @classmethod
    def _not_a_folder(cls, value: Path) -> Path:
        if value.is_dir():
            raise ValueError(f"{value} is a folder; the warehouse is a file (e.g. {value / 'newsflow.duckdb'})")
        return value

    @field_validator("inbox")
    @classmethod
    def _a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file; the inbox is the folder scheduled runs read")
        return value

    @field_validator("feeds")
    @classmethod
    def _web_addresses(cls, value: list[str]) -> list[str]:
        # every scheduled run would fail the same typo as a failure row, and no command said so
        bad = [v for v, parts in ((v, urlsplit(v)) for v in value)
               if parts.scheme.lower() not in ("http", "https") or not parts.netloc]
        if bad:
            raise ValueError(f"{', '.join(bad)}: a feed is an http(s) address, e.g. https://example.com/rss.xml")
        return value

    @field_validator("language")
    @classmethod
    def _a_language(cls, value: str | None) -> str | None:
        run_language(value)  # 'xx' has the pattern's shape; every document would carry it
        return value

    @field_validator("schedule_cron")
    @classmethod
    def _a_cron(cls, value: str | None) -> str | None:
        # checked where it is read, by the schedule's own type: a bad one stopped `newsflow serve`
        # with a traceback after the settings had been shown as fine
        if value:
            from prefect.client.schemas.schedules import CronSchedule

            try:
                CronSchedule(cron=value)
            except ValidationError as exc:
                raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
            # Prefect takes a sixth field, seconds: "*/10 * * * * *" queued a run every 10 s, the
            # flood the interval's one-minute floor stops
            if not value.startswith("@") and len(value.split()) != 5:
                raise ValueError(f"{value!r}: a cron of five fields (minute hour day month weekday), "
                                 "at most one run a minute")
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _a_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}; give an IANA name such as Europe/Berlin") from None
        return value

    @model_validator(mode="after")
    def _one_default_summary_length(self) -> Settings:
        # Only lengths someone set count: summary_sentences' default 3 is what "none set" means.
        # (A run's own length still wins over whichever one is set: flows/parameters.py.)
        named = [ENV_PREFIX + name.upper() for name in ("summary_sentences", "summary_ratio", "summary_words")
                 if name in self.model_fields_set and getattr(self, name) is not None]
        if len(named) > 1:
            others = "other" if len(named) == 2 else "others"
            raise ValueError(f"{both_set(named)}; set one default summary length "
                             f"(sentences, ratio or words) and unset the {others}")
        return self


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)


def settings_error(exc: Exception) -> str | None:
    """A bad NEWSFLOW_* value as one line naming the variable, or None for another exception."""
    if isinstance(exc, ValidationError):
        def one(e) -> str:
            message = str(e["msg"]).removeprefix("Value error, ")
            # a rule across settings names them itself
            return f"{ENV_PREFIX}{'__'.join(str(p) for p in e['loc']).upper()}: {message}" if e["loc"] else message

        return "; ".join(one(e) for e in exc.errors())
    if isinstance(exc, SettingsError):  # a value that is not the JSON its field needs ("error parsing value …")
        return f"{exc}" + (f" ({exc.__cause__})" if exc.__cause__ else "")
    return None


def load_settings() -> Settings:
    """The settings, or a ValueError of one line naming the bad variable (for a flow run's message)."""
    try:
        return get_settings()
    except (ValidationError, SettingsError) as exc:
        raise ValueError(f"bad setting: {settings_error(exc)}") from None


def _variable_names(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        full = prefix + name.upper()
        names.append(full)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            names += _variable_names(info.annotation, full + "__")
    return names


def variable_names() -> list[str]:
    """Every NEWSFLOW_* variable the settings read."""
    return _variable_names(Settings, ENV_PREFIX)


# NEWSFLOW_* variables read by something other than the settings: prefect.yaml's pull step
# changes into $NEWSFLOW_HOME (docs/profiles/scale-out.md), so it is no typo
NOT_SETTINGS = frozenset({"NEWSFLOW_HOME"})


def _env_file_values(env_file: Path | None) -> dict[str, str | None]:
    """The `.env` file's variables (by default the one Settings reads, where the command runs)."""
    env_file = Path(Settings.model_config["env_file"]) if env_file is None else env_file
    return dotenv_values(env_file) if env_file.is_file() else {}


def unknown_variables(environ: dict[str, str] | None = None, env_file: Path | None = None
                      ) -> list[tuple[str, str | None]]:
    """NEWSFLOW_* variables, in the environment or the `.env` file, that no setting reads (a typo
    silently does nothing otherwise), each with the nearest valid name."""
    environ = dict(os.environ) if environ is None else dict(environ)
    environ.update({k: v or "" for k, v in _env_file_values(env_file).items() if k not in environ})
    known = variable_names()
    known_set = set(known) | NOT_SETTINGS
    out = []
    for name in sorted(environ):
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known_set:
            close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.6)
            out.append((name, close[0] if close else None))
    return out


def _redacted(value):
    """A lake catalog's password (in a value, or in a nested setting's values) as every run's record has it."""
    from warehouse.lake import redact_catalog

    if isinstance(value, str):
        return redact_catalog(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    return value


def describe(settings: Settings, environ: dict[str, str] | None = None, env_file: Path | None = None
             ) -> list[dict]:
    """Each effective setting with its value and where it came from: the environment, the
    `.env` file, or the default."""
    environ = os.environ if environ is None else environ
    from_file = {k.upper(): v for k, v in _env_file_values(env_file).items()}
    upper_env = {k.upper(): v for k, v in environ.items()}
    rows = []

    def walk(model: BaseModel, prefix: str, path: str) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            variable = prefix + name.upper()
            if isinstance(value, BaseModel):
                source = "environment" if variable in upper_env else (".env" if variable in from_file else None)
                if source is None:  # nested values may be set one by one
                    walk(value, variable + "__", f"{path}{name}.")
                    continue
            source = ("environment" if variable in upper_env else ".env" if variable in from_file else "default")
            shown = value.model_dump(mode="json") if isinstance(value, BaseModel) else \
                (str(value) if isinstance(value, Path) else value)
            rows.append({"setting": path + name, "variable": variable, "value": _redacted(shown), "source": source})

    walk(settings, ENV_PREFIX, "")
    # one summary length is in force: a ratio or word budget set makes the sentence count unused
    instead = next((f"{ENV_PREFIX}{name.upper()}" for name in ("summary_ratio", "summary_words")
                    if getattr(settings, name) is not None), None)
    for row in rows:
        if instead and row["setting"] == "summary_sentences":
            row["note"] = f"not used: {instead} is set"
    return rows
