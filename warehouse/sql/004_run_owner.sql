-- newsflow warehouse, schema version 4: who owns a run, so a run whose process died is marked abandoned.
-- A SIGKILLed run never reaches finish_run; the next run on the same host finds its process gone
-- (pid missing, or reused by a process with another start time) and sets status 'abandoned'
-- (warehouse/run_owner.py, Warehouse.start_run).
-- run_history is not re-created to show the owner: on DuckLake, replacing or dropping a view in the
-- transaction that created it (a fresh lake runs every migration in one) loses that transaction's tables.

ALTER TABLE runs ADD COLUMN owner_host VARCHAR;
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_started_at TIMESTAMP;

COMMENT ON COLUMN runs.owner_host IS 'Host name of the process that ran it; NULL for runs recorded before schema version 4.';
COMMENT ON COLUMN runs.owner_pid IS 'Process id that ran it, on owner_host.';
COMMENT ON COLUMN runs.owner_started_at IS 'Start time of that process: a live process with the same pid but another start time is a different one (pid reused).';
COMMENT ON COLUMN runs.status IS 'running | completed | failed | abandoned (its process died without finishing, e.g. SIGKILL; set by a later run on the same host).';
COMMENT ON COLUMN runs.finished_at IS 'When the run ended; for an abandoned run, when a later run found its process gone; NULL while running.';
COMMENT ON COLUMN runs.error IS 'Exception that ended a failed run, or why a run was marked abandoned and by which run.';
COMMENT ON COLUMN runs.documents_new IS 'Documents stored by this run (for an abandoned run: in the batches it committed before it died).';

COMMENT ON COLUMN run_history.finished_at IS 'When the run ended; for an abandoned run, when its process was found gone; NULL while running.';
COMMENT ON COLUMN run_history.duration_s IS 'Seconds from start to end (for an abandoned run: to when it was found abandoned); NULL while running.';
COMMENT ON COLUMN run_history.status IS 'running | completed | failed | abandoned (process died without finishing).';
COMMENT ON COLUMN run_history.error IS 'Exception that ended a failed run, or why a run was marked abandoned.';
