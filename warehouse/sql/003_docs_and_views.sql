-- newsflow warehouse, schema version 3: analyst views and COMMENT ON for every table, view and column.
-- The comments are the data dictionary: `python -m warehouse.dictionary` renders them into README.md,
-- and tests fail when a table, view or column has none, or when README.md drifts from them.
-- Views are created before their comments because CREATE OR REPLACE VIEW drops a view's comments.

-- One row that every write transaction on a DuckLake warehouse updates (warehouse/lake.py):
-- DuckLake has no unique keys, so two writers would both insert the same new document; making
-- them delete from the same data file turns that into a commit conflict, and the loser retries.
CREATE TABLE write_turn (
    turn       BIGINT NOT NULL,
    run_id     VARCHAR,
    written_at TIMESTAMP
);
INSERT INTO write_turn VALUES (0, NULL, NULL);

-- "Latest" means the newest version of each source, so an edited article is listed once.
CREATE VIEW latest_articles AS
SELECT a.doc_id, a.title, a.outlet, a.published_at, a.url, a.source, d.version, a.algorithm, a.summary,
       a.word_count, a.ingested_at
FROM articles a
JOIN documents d ON d.doc_id = a.doc_id
QUALIFY row_number() OVER (PARTITION BY a.source ORDER BY d.version DESC) = 1;

CREATE VIEW articles_by_outlet_day AS
SELECT coalesce(d.outlet, '(unknown)') AS outlet,
       coalesce(d.published_at, CAST(d.ingested_at AS DATE)) AS day,
       d.published_at IS NULL AS day_is_ingest_date,
       count(*) FILTER (WHERE d.is_canonical) AS articles,
       count(*) FILTER (WHERE NOT d.is_canonical) AS duplicates,
       CAST(sum(d.word_count) FILTER (WHERE d.is_canonical) AS BIGINT) AS words
FROM documents d
GROUP BY ALL;

-- A failure row keeps only its first and last run, so a run appears here for the items
-- that first failed or most recently failed in it; `occurrences` counts the runs in between.
CREATE VIEW failed_items_per_run AS
SELECT r.run_id, r.started_at, r.status AS run_status, f.source, f.stage, f.reason, f.detail,
       f.first_run_id = r.run_id AS first_failed_here, f.last_run_id = r.run_id AS last_failed_here,
       f.occurrences
FROM failures f
JOIN runs r ON r.run_id IN (f.first_run_id, f.last_run_id);

CREATE VIEW run_history AS
SELECT r.run_id, r.flow_run_id, r.started_at, r.finished_at,
       CAST(date_diff('millisecond', r.started_at, r.finished_at) AS DOUBLE) / 1000 AS duration_s,
       r.status, r.items_seen, r.documents_new, r.unchanged, r.duplicates, r.summaries, r.failures,
       (SELECT count(*) FROM failures f WHERE f.first_run_id = r.run_id) AS new_failure_items,
       r.error, r.parameters, r.timings
FROM runs r;

COMMENT ON TABLE schema_version IS 'Applied schema migrations (warehouse/sql/NNN_*.sql); one row per migration.';
COMMENT ON COLUMN schema_version.version IS 'Migration number NNN.';
COMMENT ON COLUMN schema_version.name IS 'Migration file name without number and extension.';
COMMENT ON COLUMN schema_version.applied_at IS 'When the migration was applied.';

COMMENT ON TABLE documents IS 'One stored version of a source: raw and cleaned text plus metadata. Append-only.';
COMMENT ON COLUMN documents.doc_id IS 'Hash of (source, raw bytes): the same input always gets the same id.';
COMMENT ON COLUMN documents.source IS 'File path, path#record for a JSON record, or URL the item came from.';
COMMENT ON COLUMN documents.source_kind IS 'file | record | url.';
COMMENT ON COLUMN documents.url IS 'Article URL when known (fetched page or record field).';
COMMENT ON COLUMN documents.version IS '1 for the first content seen at this source, +1 for each change.';
COMMENT ON COLUMN documents.previous_doc_id IS 'The version this one replaces (NULL for version 1).';
COMMENT ON COLUMN documents.raw_sha256 IS 'SHA-256 of the raw bytes as read or fetched.';
COMMENT ON COLUMN documents.text_sha256 IS 'SHA-256 of the normalised clean text: the exact-duplicate key.';
COMMENT ON COLUMN documents.encoding IS 'Character encoding the raw bytes were decoded with.';
COMMENT ON COLUMN documents.media_type IS 'Media type of the source, e.g. text/html.';
COMMENT ON COLUMN documents.title IS 'Headline.';
COMMENT ON COLUMN documents.outlet IS 'Publisher or site name.';
COMMENT ON COLUMN documents.author IS 'Byline, when found.';
COMMENT ON COLUMN documents.language IS 'Language code, when known.';
COMMENT ON COLUMN documents.published_at IS 'Publication date (future dates are rejected).';
COMMENT ON COLUMN documents.published_raw IS 'The date string as found, before parsing.';
COMMENT ON COLUMN documents.date_convention IS 'How an ambiguous numeric date was read, e.g. MDY.';
COMMENT ON COLUMN documents.raw_text IS 'Decoded text before cleaning.';
COMMENT ON COLUMN documents.text IS 'Clean article text: boilerplate removed. Full-text indexed with title.';
COMMENT ON COLUMN documents.removed_lines IS 'JSON list of {line, rule}: what the cleaner removed and why.';
COMMENT ON COLUMN documents.word_count IS 'Words in the clean text.';
COMMENT ON COLUMN documents.is_canonical IS 'False when this document duplicates an earlier one (see duplicates).';
COMMENT ON COLUMN documents.run_id IS 'Run that stored this document (runs.run_id).';
COMMENT ON COLUMN documents.ingested_at IS 'When the document was stored.';

COMMENT ON TABLE duplicates IS 'Duplicate document linked to the canonical document it repeats.';
COMMENT ON COLUMN duplicates.doc_id IS 'The duplicate (documents.doc_id).';
COMMENT ON COLUMN duplicates.duplicate_of IS 'The canonical document it repeats (documents.doc_id).';
COMMENT ON COLUMN duplicates.method IS 'exact (same clean-text hash) | near (MinHash candidate confirmed by Jaccard).';
COMMENT ON COLUMN duplicates.similarity IS '1.0 for exact; true Jaccard of word 5-gram shingles for near.';
COMMENT ON COLUMN duplicates.run_id IS 'Run that detected the duplicate.';
COMMENT ON COLUMN duplicates.detected_at IS 'When the duplicate was detected.';

COMMENT ON TABLE minhash_bands IS 'LSH band keys of canonical documents, so later runs find near-duplicate candidates by join.';
COMMENT ON COLUMN minhash_bands.band IS 'Band number (0-based).';
COMMENT ON COLUMN minhash_bands.bucket IS 'Hash of the band''s MinHash rows.';
COMMENT ON COLUMN minhash_bands.doc_id IS 'Canonical document (documents.doc_id).';

COMMENT ON TABLE summaries IS 'Extractive summary of a document, one per (document, algorithm).';
COMMENT ON COLUMN summaries.doc_id IS 'Summarised document (documents.doc_id).';
COMMENT ON COLUMN summaries.algorithm IS 'Summarizer: newsflow, lead, lexrank, textrank, lsa, luhn, kl or sumbasic.';
COMMENT ON COLUMN summaries.length IS 'Requested length, e.g. sentences=3, ratio=0.2, words=60.';
COMMENT ON COLUMN summaries.summary IS 'Summary text: the chosen sentences in document order.';
COMMENT ON COLUMN summaries.run_id IS 'Run that wrote the summary.';
COMMENT ON COLUMN summaries.created_at IS 'When the summary was written.';

COMMENT ON TABLE summary_sentences IS 'The sentences of each summary with their place in the document.';
COMMENT ON COLUMN summary_sentences.doc_id IS 'Summarised document (documents.doc_id).';
COMMENT ON COLUMN summary_sentences.algorithm IS 'Summarizer (summaries.algorithm).';
COMMENT ON COLUMN summary_sentences.rank IS 'Order within the summary (document order).';
COMMENT ON COLUMN summary_sentences.position IS 'Sentence index in the clean text (0-based).';
COMMENT ON COLUMN summary_sentences.sentence IS 'Sentence text.';

COMMENT ON TABLE runs IS 'One ingest flow run: parameters, counts, status, per-stage timings.';
COMMENT ON COLUMN runs.run_id IS 'Run id (the Prefect flow run id when run under Prefect).';
COMMENT ON COLUMN runs.flow_run_id IS 'Prefect flow run id, NULL outside Prefect.';
COMMENT ON COLUMN runs.started_at IS 'When the run started.';
COMMENT ON COLUMN runs.finished_at IS 'When the run ended; NULL while running or if killed.';
COMMENT ON COLUMN runs.status IS 'running | completed | failed.';
COMMENT ON COLUMN runs.parameters IS 'JSON of the flow parameters.';
COMMENT ON COLUMN runs.items_seen IS 'Files, records and URLs looked at.';
COMMENT ON COLUMN runs.documents_new IS 'Documents stored by this run.';
COMMENT ON COLUMN runs.unchanged IS 'Items skipped because the same bytes were already stored.';
COMMENT ON COLUMN runs.duplicates IS 'New documents that duplicate an earlier one.';
COMMENT ON COLUMN runs.summaries IS 'Summaries written.';
COMMENT ON COLUMN runs.failures IS 'Items that failed in this run.';
COMMENT ON COLUMN runs.timings IS 'JSON of seconds spent per stage.';
COMMENT ON COLUMN runs.error IS 'Exception that ended a failed run.';

COMMENT ON TABLE failures IS 'An item that could not go on, one row per (source, stage, reason) across runs.';
COMMENT ON COLUMN failures.source IS 'File path or URL that failed.';
COMMENT ON COLUMN failures.stage IS 'read | fetch | extract | clean | dedup | summarize | store.';
COMMENT ON COLUMN failures.reason IS 'Short class, e.g. binary, empty, too_large, http_404.';
COMMENT ON COLUMN failures.detail IS 'Human-readable detail of the latest occurrence (at most 2000 characters).';
COMMENT ON COLUMN failures.first_run_id IS 'Run in which it first failed (runs.run_id).';
COMMENT ON COLUMN failures.last_run_id IS 'Run in which it most recently failed (runs.run_id).';
COMMENT ON COLUMN failures.first_seen_at IS 'First failure time.';
COMMENT ON COLUMN failures.last_seen_at IS 'Latest failure time.';
COMMENT ON COLUMN failures.occurrences IS 'Number of runs in which it failed.';

COMMENT ON TABLE fetch_log IS 'Conditional-GET state per URL from its latest fetch.';
COMMENT ON COLUMN fetch_log.url IS 'URL as requested.';
COMMENT ON COLUMN fetch_log.final_url IS 'URL after redirects.';
COMMENT ON COLUMN fetch_log.status IS 'HTTP status of the latest fetch.';
COMMENT ON COLUMN fetch_log.etag IS 'ETag sent back as If-None-Match.';
COMMENT ON COLUMN fetch_log.last_modified IS 'Last-Modified sent back as If-Modified-Since.';
COMMENT ON COLUMN fetch_log.content_sha256 IS 'SHA-256 of the body last fetched.';
COMMENT ON COLUMN fetch_log.doc_id IS 'Document made from the body (documents.doc_id).';
COMMENT ON COLUMN fetch_log.error IS 'Error of the latest fetch, if any.';
COMMENT ON COLUMN fetch_log.fetched_at IS 'When the URL was last fetched.';
COMMENT ON COLUMN fetch_log.run_id IS 'Run that last fetched it.';

COMMENT ON TABLE raw_pages IS 'Raw fetched bytes (zlib), so pages can be re-extracted without re-fetching.';
COMMENT ON COLUMN raw_pages.doc_id IS 'Document made from the page (documents.doc_id).';
COMMENT ON COLUMN raw_pages.url IS 'URL the bytes came from.';
COMMENT ON COLUMN raw_pages.content_type IS 'Content-Type header.';
COMMENT ON COLUMN raw_pages.body_zlib IS 'zlib-compressed response body.';

COMMENT ON TABLE write_turn IS 'Internal: one row every DuckLake write updates, so concurrent writers conflict and retry.';
COMMENT ON COLUMN write_turn.turn IS 'Incremented by each write transaction on a DuckLake warehouse.';
COMMENT ON COLUMN write_turn.run_id IS 'Run of the latest write.';
COMMENT ON COLUMN write_turn.written_at IS 'Time of the latest write.';

COMMENT ON VIEW articles IS 'Canonical articles (every version) with their latest summary.';
COMMENT ON COLUMN articles.doc_id IS 'Document id.';
COMMENT ON COLUMN articles.title IS 'Headline.';
COMMENT ON COLUMN articles.outlet IS 'Publisher or site name.';
COMMENT ON COLUMN articles.published_at IS 'Publication date.';
COMMENT ON COLUMN articles.url IS 'Article URL when known.';
COMMENT ON COLUMN articles.source IS 'File path or URL.';
COMMENT ON COLUMN articles.algorithm IS 'Summarizer of the latest summary.';
COMMENT ON COLUMN articles.summary IS 'Latest summary; NULL when none was made.';
COMMENT ON COLUMN articles.word_count IS 'Words in the clean text.';
COMMENT ON COLUMN articles.text IS 'Clean article text.';
COMMENT ON COLUMN articles.ingested_at IS 'When the document was stored.';

COMMENT ON VIEW duplicate_pairs IS 'Each duplicate beside the canonical document it repeats.';
COMMENT ON COLUMN duplicate_pairs.doc_id IS 'The duplicate.';
COMMENT ON COLUMN duplicate_pairs.title IS 'Headline of the duplicate.';
COMMENT ON COLUMN duplicate_pairs.source IS 'Source of the duplicate.';
COMMENT ON COLUMN duplicate_pairs.duplicate_of IS 'The canonical document.';
COMMENT ON COLUMN duplicate_pairs.original_title IS 'Headline of the canonical document.';
COMMENT ON COLUMN duplicate_pairs.original_source IS 'Source of the canonical document.';
COMMENT ON COLUMN duplicate_pairs.method IS 'exact | near.';
COMMENT ON COLUMN duplicate_pairs.similarity IS '1.0 for exact; word-shingle Jaccard for near.';
COMMENT ON COLUMN duplicate_pairs.detected_at IS 'When the duplicate was detected.';

COMMENT ON VIEW latest_articles IS 'Newest version of each canonical article with its latest summary; what search returns.';
COMMENT ON COLUMN latest_articles.doc_id IS 'Document id.';
COMMENT ON COLUMN latest_articles.title IS 'Headline.';
COMMENT ON COLUMN latest_articles.outlet IS 'Publisher or site name.';
COMMENT ON COLUMN latest_articles.published_at IS 'Publication date.';
COMMENT ON COLUMN latest_articles.url IS 'Article URL when known.';
COMMENT ON COLUMN latest_articles.source IS 'File path or URL.';
COMMENT ON COLUMN latest_articles.version IS 'Version number of this source (highest stored).';
COMMENT ON COLUMN latest_articles.algorithm IS 'Summarizer of the latest summary.';
COMMENT ON COLUMN latest_articles.summary IS 'Latest summary; NULL when none was made.';
COMMENT ON COLUMN latest_articles.word_count IS 'Words in the clean text.';
COMMENT ON COLUMN latest_articles.ingested_at IS 'When the document was stored.';

COMMENT ON VIEW articles_by_outlet_day IS 'Document counts per outlet and publication day (ingest day when undated).';
COMMENT ON COLUMN articles_by_outlet_day.outlet IS 'Publisher, or (unknown).';
COMMENT ON COLUMN articles_by_outlet_day.day IS 'Publication date, or the ingest date when the article has none.';
COMMENT ON COLUMN articles_by_outlet_day.day_is_ingest_date IS 'True when day is the ingest date because no publication date was found.';
COMMENT ON COLUMN articles_by_outlet_day.articles IS 'Canonical documents.';
COMMENT ON COLUMN articles_by_outlet_day.duplicates IS 'Documents that duplicate an earlier one.';
COMMENT ON COLUMN articles_by_outlet_day.words IS 'Words in the canonical documents.';

COMMENT ON VIEW failed_items_per_run IS 'Failed items under the run in which they first and most recently failed.';
COMMENT ON COLUMN failed_items_per_run.run_id IS 'Run (runs.run_id).';
COMMENT ON COLUMN failed_items_per_run.started_at IS 'When the run started.';
COMMENT ON COLUMN failed_items_per_run.run_status IS 'running | completed | failed.';
COMMENT ON COLUMN failed_items_per_run.source IS 'File path or URL that failed.';
COMMENT ON COLUMN failed_items_per_run.stage IS 'Stage that failed.';
COMMENT ON COLUMN failed_items_per_run.reason IS 'Short failure class.';
COMMENT ON COLUMN failed_items_per_run.detail IS 'Detail of the latest occurrence.';
COMMENT ON COLUMN failed_items_per_run.first_failed_here IS 'This run is the first in which the item failed.';
COMMENT ON COLUMN failed_items_per_run.last_failed_here IS 'This run is the latest in which the item failed.';
COMMENT ON COLUMN failed_items_per_run.occurrences IS 'Runs in which the item failed, in total.';

COMMENT ON VIEW run_history IS 'Ingest runs with duration, counts and how many items first failed in each.';
COMMENT ON COLUMN run_history.run_id IS 'Run id.';
COMMENT ON COLUMN run_history.flow_run_id IS 'Prefect flow run id.';
COMMENT ON COLUMN run_history.started_at IS 'When the run started.';
COMMENT ON COLUMN run_history.finished_at IS 'When the run ended; NULL while running or if killed.';
COMMENT ON COLUMN run_history.duration_s IS 'Seconds from start to end; NULL while running or if killed.';
COMMENT ON COLUMN run_history.status IS 'running | completed | failed.';
COMMENT ON COLUMN run_history.items_seen IS 'Files, records and URLs looked at.';
COMMENT ON COLUMN run_history.documents_new IS 'Documents stored.';
COMMENT ON COLUMN run_history.unchanged IS 'Items already stored with the same bytes.';
COMMENT ON COLUMN run_history.duplicates IS 'New documents that duplicate an earlier one.';
COMMENT ON COLUMN run_history.summaries IS 'Summaries written.';
COMMENT ON COLUMN run_history.failures IS 'Items that failed in this run.';
COMMENT ON COLUMN run_history.new_failure_items IS 'Failed items seen for the first time in this run.';
COMMENT ON COLUMN run_history.error IS 'Exception that ended a failed run.';
COMMENT ON COLUMN run_history.parameters IS 'JSON of the flow parameters.';
COMMENT ON COLUMN run_history.timings IS 'JSON of seconds spent per stage.';
