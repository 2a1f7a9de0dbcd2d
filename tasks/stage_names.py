"""The pipeline's stage names and report counts: read by the pipeline, the settings (the fault
seam's type) and the report. Apart from `tasks.pipeline`, whose imports (the cleaner, the
deduplicator, NumPy, SciPy) would cost every command a second just to read its settings."""

from warehouse import RUN_COUNTS as COUNTS  # the report counts are the runs table's columns

# Stage names, in pipeline order: the Prefect task names, the report's timing keys and the
# fault seam's boundaries. "committed" is after a batch's COMMIT, before its connection closes
# (the commit is in the WAL, not yet checkpointed); "stored" after that; "search-index" is the
# run's index build, before its commit.
STAGES = ("read", "fetch", "discover-feeds", "clean", "deduplicate", "stories", "summarize", "store")
FAULT_POINTS = ("read", "clean", "deduplicate", "stories", "summarize", "store", "committed", "stored",
                "search-index")

__all__ = ["COUNTS", "FAULT_POINTS", "STAGES"]
