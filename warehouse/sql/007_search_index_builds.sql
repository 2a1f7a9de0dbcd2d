-- newsflow warehouse, schema version 7: a log of full-text index builds. A rebuild reads every
-- document (~42 s at 100k), so runs rebuild under a policy (README "Search and SQL"), which needs
-- to know when the index was last built. Also run by warehouse/search.py in DuckLake's separate
-- search-index file, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS search_index_builds (
    built_at TIMESTAMP NOT NULL,
    documents BIGINT NOT NULL,
    reason VARCHAR
);
COMMENT ON TABLE search_index_builds IS 'One row per build of the full-text search index (search_articles): when, over how many documents, and why';
COMMENT ON COLUMN search_index_builds.built_at IS 'When the build finished (UTC)';
COMMENT ON COLUMN search_index_builds.documents IS 'Documents the index covers; documents stored since are not searchable until the next build';
COMMENT ON COLUMN search_index_builds.reason IS 'Why it was built: no index yet, new documents (how many, what share), the age of the last build, or forced (newsflow reindex)';
