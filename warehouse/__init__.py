"""The warehouse: DuckDB (a file or a DuckLake) behind `warehouse.store.Warehouse`, all SQL inside."""

from functools import lru_cache

# DuckDB's own default is 80 % of RAM, and its joins, aggregates and buffer cache use what they are
# allowed: a 100k-document run peaked at 2.6 GiB. A batch's lookups and write join one batch against
# the tables (the heaviest, the story postings scan, reads only terms in at most 1,000 documents, and
# its memory is handed back right after: `release_memory`); beyond this DuckDB spills to disk, but not
# every operator can: at 256 MB a 100k run's story lookup failed with an out-of-memory error. The
# full-text index build has its own cap (warehouse/search.py).
DEFAULT_MEMORY_LIMIT = "512MB"
DEFAULT_LOCK_TIMEOUT_S = 120.0  # how long opening the file retries another process's lock (NEWSFLOW_LOCK_TIMEOUT_S)
# the runs table's count columns; a run's report counts are named after them (tasks.stage_names.COUNTS)
RUN_COUNTS = ("items_seen", "documents_new", "unchanged", "duplicates", "summaries", "failures")


@lru_cache(maxsize=16)
def checked_memory_limit(value: str) -> str:
    """`value` if DuckDB takes it as a memory limit ('512MB', '1.5GiB'), else ValueError: checked when
    the settings are read, not met as a traceback mid-run (as 'lots' was). DuckDB itself checks it, on
    a throwaway connection (~10 ms), once per value and process: settings are read at every start."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{value.replace(chr(39), chr(39) * 2)}'")
    except duckdb.Error:
        raise ValueError(f"{value!r} is not a memory size DuckDB takes, such as 512MB or 2GiB") from None
    finally:
        con.close()
    return value
