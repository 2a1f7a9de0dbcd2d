-- newsflow warehouse, schema version 18: the last three secondary indexes go.
-- DuckDB 1.4 replays a killed run's committed batch from the WAL into these ART indexes wrongly:
-- after `kill -9` between a batch's COMMIT and its checkpoint, `WHERE source = '…'` found none of
-- that batch's 100 documents (a `LIKE` found them), an edited file then looked new and was stored
-- as a near copy of itself, and story_members rows pointed at stories the recovery deleted
-- (reproduced in plain DuckDB: a VARCHAR index, committed, killed before checkpoint, reopened).
-- Nothing of ours reads them: the pipeline's lookups join a whole batch (hash joins), and an
-- analyst's point lookup scans a few hundred thousand rows in milliseconds. Primary keys stay.
DROP INDEX IF EXISTS documents_text_sha256;
DROP INDEX IF EXISTS documents_source;
DROP INDEX IF EXISTS story_members_story;
