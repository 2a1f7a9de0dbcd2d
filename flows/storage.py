"""The configured storage, built from the settings at the edge: the one place that knows which
warehouse a setting names (the DuckDB file, or a DuckLake). Light to import: `newsflow search`
and `sql` open it without loading the pipeline."""

from __future__ import annotations

from pathlib import Path

from flows.settings import Settings
from warehouse.store import Warehouse


def open_warehouse(settings: Settings, path: str | Path | None = None) -> Warehouse:
    """The configured storage; an explicit `path` always means that DuckDB file."""
    if path is None and settings.storage == "ducklake":
        cfg = settings.lake.config()
        return Warehouse(cfg.attach_target(), lock_timeout_s=settings.lock_timeout_s, lake=cfg)
    return Warehouse(path or settings.warehouse, lock_timeout_s=settings.lock_timeout_s,
                     memory_limit=settings.duckdb_memory_limit)
