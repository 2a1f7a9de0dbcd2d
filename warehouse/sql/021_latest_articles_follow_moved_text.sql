-- newsflow warehouse, schema version 21: latest_articles shows what each source holds now. It showed
-- each source's newest *canonical* version, so when a source's newest text was a copy of another
-- source's text it showed the source's older, replaced text instead, and the copied text itself
-- vanished once its own source moved on (a record added at the top of a JSONL dump shifts every line:
-- `#L2` then holds what `#L1` held, and search lost that article). Now: each source's newest version if
-- it is canonical, else the original it copies, each article once.
CREATE OR REPLACE VIEW latest_articles AS
WITH current_versions AS (
    SELECT doc_id, is_canonical FROM documents
    QUALIFY row_number() OVER (PARTITION BY source ORDER BY version DESC) = 1
), shown AS (
    SELECT c.doc_id FROM current_versions c WHERE c.is_canonical
    UNION
    SELECT x.duplicate_of FROM current_versions c JOIN duplicates x ON x.doc_id = c.doc_id WHERE NOT c.is_canonical
)
SELECT a.doc_id, a.title, a.outlet, a.published_at, a.url, a.source, d.version, a.algorithm, a.summary,
       a.word_count, a.ingested_at
FROM articles a
JOIN documents d ON d.doc_id = a.doc_id
WHERE a.doc_id IN (SELECT doc_id FROM shown);
COMMENT ON VIEW latest_articles IS 'The canonical articles the sources hold now, with their latest summary: each source''s newest version, or the original it copies when that version is a copy (from schema version 21), each article once; what search returns.';
COMMENT ON COLUMN latest_articles.doc_id IS 'Document id.';
COMMENT ON COLUMN latest_articles.title IS 'Headline.';
COMMENT ON COLUMN latest_articles.outlet IS 'Publisher or site name.';
COMMENT ON COLUMN latest_articles.published_at IS 'Publication date.';
COMMENT ON COLUMN latest_articles.url IS 'Article URL when known.';
COMMENT ON COLUMN latest_articles.source IS 'File path or URL the article was first stored from (a source whose newest text copies it shows it too).';
COMMENT ON COLUMN latest_articles.version IS 'Version number of this document in its own source.';
COMMENT ON COLUMN latest_articles.algorithm IS 'Summarizer of the latest summary.';
COMMENT ON COLUMN latest_articles.summary IS 'Latest summary; NULL when none was made.';
COMMENT ON COLUMN latest_articles.word_count IS 'Words in the clean text (as documents.word_count counts them)';
COMMENT ON COLUMN latest_articles.ingested_at IS 'When the document was stored.';
