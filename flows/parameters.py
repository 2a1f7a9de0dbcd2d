"""The ingest flow's parameters over the settings: one `RunConfig` for the run.

Parameters left empty mean "the setting", so `NEWSFLOW_NEAR_DUP_THRESHOLD=0.6` changes CLI,
scheduled and UI-triggered runs alike. The CLI calls `check_run` before it starts Prefect, so
a bad flag costs no server start-up and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.settings import Settings
from tasks.dedup.duplicates import DedupConfig
from tasks.dedup.stories import StoryConfig
from tasks.document import printable
from tasks.parallel import default_workers
from tasks.pipeline import FaultPoint, RunConfig
from tasks.summarize.length import SummaryLength, both_set
from tasks.text.language import run_language


def default_length(settings: Settings) -> SummaryLength:
    if settings.summary_ratio is not None or settings.summary_words is not None:
        return SummaryLength(ratio=settings.summary_ratio, words=settings.summary_words)
    return SummaryLength(sentences=settings.summary_sentences)


def story_config(settings: Settings) -> StoryConfig:
    story = settings.story
    return StoryConfig(threshold=story.threshold, max_gap_days=story.window_days, prior_docs=story.prior_docs,
                       centroid_members=story.centroid_members)


def run_config(settings: Settings, *, algorithm: str | None = None, summary_sentences: int | None = None,
               summary_ratio: float | None = None, summary_words: int | None = None,
               near_dup_threshold: float | None = None, batch_size: int | None = None,
               language: str | None = None, on_dask: bool = False) -> RunConfig:
    """The run's configuration: each parameter given wins over its setting. Raises ValueError
    for what the typed parameters cannot say (two summary lengths at once)."""
    check_one_length(summary_sentences=summary_sentences, summary_ratio=summary_ratio, summary_words=summary_words)
    length = SummaryLength.of(summary_sentences, summary_ratio, summary_words, default=default_length(settings))
    fault = settings.fault
    return RunConfig(
        algorithm=algorithm or settings.summary_algorithm,
        length=length,
        dedup=DedupConfig(threshold=settings.near_dup_threshold if near_dup_threshold is None else near_dup_threshold,
                          num_perm=settings.minhash_permutations, shingle_words=settings.shingle_words),
        batch_size=batch_size or settings.batch_size,
        batch_max_bytes=settings.batch_max_bytes,
        max_file_bytes=settings.max_file_bytes,
        # on Dask the cluster provides the parallelism; elsewhere CPU stages use a local process pool
        workers=1 if on_dask else (settings.workers or default_workers()),
        writer_wait_s=settings.writer_wait_s,
        fetch=settings.fetch,
        search_policy=settings.search.policy(),
        story=story_config(settings),
        fault=FaultPoint(fault.at, fault.batch, fault.marker) if fault.at else None,
        language=run_language(language or settings.language),
    )


def check_one_length(**lengths: float | None) -> None:
    """One summary length per run, named as the run's parameters are (the UI form's fields): any
    two given is an error, `summary_sentences: 3` too, since the form leaves all three empty."""
    names = list(lengths)
    given = [name for name in names if lengths[name] is not None]
    if len(given) > 1:
        raise ValueError(f"contradictory summary length: {both_set(given)}; "
                         f"give one of {', '.join(names[:-1])} or {names[-1]}")


def read_urls(url_file: str | None) -> list[str]:
    """The URLs listed in `url_file` (none without one), read before anything is written: a file that
    is missing or cannot be read is a ValueError of one line, not a failure half-way through a run."""
    if not url_file:
        return []
    from tasks.sources.web import read_url_file

    path = Path(url_file).expanduser()
    fix = "give a text file with one article URL per line"
    if path.is_dir():
        raise ValueError(f"url_file {url_file!r} is a folder; {fix}")
    if path.exists() and not path.is_file():  # a FIFO or device would block or never end
        raise ValueError(f"url_file {url_file!r} is not a regular file; {fix}")
    try:
        return read_url_file(path)
    except FileNotFoundError:
        raise ValueError(f"url_file {url_file!r} does not exist; {fix}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"url_file {url_file!r} is not UTF-8 text (byte {exc.start}); {fix}") from None
    except OSError as exc:
        raise ValueError(f"url_file {url_file!r} cannot be read: {exc.strerror or exc}") from None


def check_warehouse(warehouse: str | None) -> None:
    """A run's `warehouse` is a DuckDB file this process can create or write. A folder, or a path whose
    folder cannot be made or written, is a ValueError of one line (the run is refused), not the writer
    lock's OSError once the run had started ("the next run does the rest", which it never did). Leaves
    nothing behind: a run refused after this check (two summary lengths, a missing url_file, a file that
    is no DuckDB database) writes nothing; the run's first write makes the folder and the lock file."""
    if not warehouse:
        return
    import os
    import tempfile

    from warehouse.writer_lock import lock_path

    path = Path(warehouse).expanduser()
    if path.is_dir():
        raise ValueError(f"warehouse {warehouse!r} is a folder; give a DuckDB file path such as {warehouse}/news.duckdb")
    lock = lock_path(path)
    fix = "give a DuckDB file path in a folder this process can write"
    folder = next((f for f in lock.parents if f.exists()), None)
    if folder is None:
        return
    if not folder.is_dir():
        raise ValueError(f"warehouse {warehouse!r} cannot be written ({folder} is a file, not a folder); {fix}")
    for existing in (lock, path.resolve()):
        if existing.exists() and not os.access(existing, os.R_OK | os.W_OK):
            raise ValueError(f"warehouse {warehouse!r} cannot be written (Permission denied: {existing}); {fix}")
    # where a file can be made in the nearest existing folder, so can the folders below it and the lock file;
    # the probe is removed at once
    try:
        fd, probe = tempfile.mkstemp(prefix=".newsflow-write-check-", dir=folder)
    except OSError as exc:
        raise ValueError(f"warehouse {warehouse!r} cannot be written ({exc.strerror or exc}: {folder}); {fix}") from None
    os.close(fd)
    os.unlink(probe)


def check_run(flow, settings: Settings, parameters: dict[str, Any]) -> dict[str, Any]:
    """Validate `parameters` exactly as a flow run would (the flow's own typed signature via
    Prefect, then `run_config`), without starting anything. Raises ValueError with one line."""
    from prefect.exceptions import ParameterTypeError

    import logging

    flow_logger = logging.getLogger("prefect.flows")
    was_disabled, flow_logger.disabled = flow_logger.disabled, True  # the one-line message says it
    try:
        validated = flow.validate_parameters(parameters)
    except ParameterTypeError as exc:
        raise ValueError(_one_line(exc)) from None
    finally:
        flow_logger.disabled = was_disabled
    _check_encodable(validated)
    check_warehouse(validated.get("warehouse"))
    run_config(settings, **{k: validated.get(k) for k in (
        "algorithm", "summary_sentences", "summary_ratio", "summary_words", "near_dup_threshold", "batch_size",
        "language")})
    read_urls(validated.get("url_file"))
    return validated


def _check_encodable(parameters: dict[str, Any]) -> None:
    """A run's parameters travel as JSON, which holds no undecodable bytes: a file name typed in
    another encoding than UTF-8 reaches Python as lone surrogates, and failed the run whole."""
    for name, value in parameters.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and printable(item) != item:
                raise ValueError(f"{name}: '{printable(item)}' is not valid UTF-8 (bytes of another encoding); "
                                 "give a file's folder (names inside are read whatever their bytes) or "
                                 "percent-encode a URL")


def _one_line(exc: Exception) -> str:
    errors = getattr(exc, "__cause__", None)
    errors = getattr(errors, "errors", None)
    if callable(errors):
        parts = []
        for err in errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "parameters")
            parts.append(f"{where}: {err.get('msg')}" + (f" (got {err['input']!r})" if "input" in err else ""))
        if parts:
            return "; ".join(parts)
    return " ".join(str(exc).split())
