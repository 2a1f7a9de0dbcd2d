-- newsflow warehouse, schema version 17: an edited article is its source's new version, canonical
-- with its own summary, not a near copy of its earlier text; a story counts it once. A fetched body
-- the pipeline rejects keeps no conditional-GET validators. Descriptions name 'contained' copies; Chinese and Japanese words are counted by character.
CREATE OR REPLACE VIEW story_overview AS
SELECT s.story_id, s.title,
       count(DISTINCT d.source) FILTER (WHERE d.is_canonical) AS articles,
       count(*) AS documents,
       list(DISTINCT d.outlet ORDER BY d.outlet) FILTER (WHERE d.outlet IS NOT NULL) AS outlets,
       min(d.published_at) AS first_published, max(d.published_at) AS last_published,
       min(d.ingested_at) AS first_ingested, max(d.ingested_at) AS last_ingested
FROM stories s
JOIN story_members m ON m.story_id = s.story_id
JOIN documents d ON d.doc_id = m.doc_id
GROUP BY s.story_id, s.title;
COMMENT ON VIEW story_overview IS 'One row per story: article and document counts, outlets, first/last publication and ingestion dates';
COMMENT ON COLUMN story_overview.story_id IS 'Story id';
COMMENT ON COLUMN story_overview.title IS 'Title of the story (its seed document''s headline)';
COMMENT ON COLUMN story_overview.articles IS 'Canonical articles in the story, each source once (the versions of an edited article count as one)';
COMMENT ON COLUMN story_overview.documents IS 'All documents in the story, copies and earlier versions included';
COMMENT ON COLUMN story_overview.outlets IS 'Distinct outlets that covered the story';
COMMENT ON COLUMN story_overview.first_published IS 'Earliest publication date in the story';
COMMENT ON COLUMN story_overview.last_published IS 'Latest publication date in the story';
COMMENT ON COLUMN story_overview.first_ingested IS 'When the story''s first document was stored';
COMMENT ON COLUMN story_overview.last_ingested IS 'When the story''s latest document was stored';

COMMENT ON COLUMN documents.is_canonical IS 'False for exact/near/contained copies. A new version of a stored source is never a near or contained copy of its own earlier versions (it is the source''s current text); only an unchanged clean text makes it an exact copy';
COMMENT ON COLUMN duplicates.method IS 'exact (same clean-text hash) | near (MinHash candidate confirmed by Jaccard) | contained (a truncated copy: most of its shingles are in the longer text)';
COMMENT ON COLUMN duplicate_pairs.method IS 'exact | near | contained';
COMMENT ON COLUMN fetch_log.content_sha256 IS 'SHA-256 of the body last fetched and accepted (NULL if none was); a rejected body (binary, no article text) writes none, so the next run fetches it whole and records the failure again';
COMMENT ON COLUMN fetch_log.error IS 'Error of the latest fetch, or why its body was rejected (the failures row has the detail); NULL when it was stored or unchanged';
COMMENT ON COLUMN fetch_log.etag IS 'ETag sent back as If-None-Match (a rejected body''s is not kept)';
COMMENT ON COLUMN fetch_log.last_modified IS 'Last-Modified sent back as If-Modified-Since (a rejected body''s is not kept)';
COMMENT ON COLUMN documents.word_count IS 'Words in the clean text, split at whitespace; a Chinese or Japanese character counts as one word (from schema version 17; before, a text without spaces counted as one word per spaced run)';
COMMENT ON COLUMN articles.word_count IS 'Words in the clean text (as documents.word_count counts them)';
COMMENT ON COLUMN latest_articles.word_count IS 'Words in the clean text (as documents.word_count counts them)';
COMMENT ON COLUMN canonical_articles.word_count IS 'Words in the clean text (as documents.word_count counts them)';
COMMENT ON TABLE runs IS 'One ingest flow run: parameters, counts, status, per-stage timings. Its counts grow with each committed batch (from schema version 17), so a running or killed run shows what it has stored; the end of the run writes the totals';
