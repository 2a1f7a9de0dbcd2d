-- newsflow warehouse, schema version 2: same-story clusters and the index that finds them across runs.
-- Written by tasks/stories.py through warehouse/stories.py, in the same transaction as the batch's documents.

CREATE TABLE stories (
    story_id    VARCHAR PRIMARY KEY,
    seed_doc_id VARCHAR NOT NULL,
    title       VARCHAR,
    run_id      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE stories IS 'One row per same-story cluster: articles about one event, from any outlet, in any wording';
COMMENT ON COLUMN stories.story_id IS 'Story id: the doc_id of the document that started the story';
COMMENT ON COLUMN stories.seed_doc_id IS 'The first canonical document of the story (earliest published in its batch)';
COMMENT ON COLUMN stories.title IS 'Title of the seed document';
COMMENT ON COLUMN stories.run_id IS 'Run that created the story';
COMMENT ON COLUMN stories.created_at IS 'When the story was created';

CREATE TABLE story_members (
    doc_id         VARCHAR PRIMARY KEY,
    story_id       VARCHAR NOT NULL,
    similarity     DOUBLE NOT NULL,
    matched_doc_id VARCHAR,
    method         VARCHAR NOT NULL,
    run_id         VARCHAR NOT NULL,
    assigned_at    TIMESTAMP NOT NULL
);
CREATE INDEX story_members_story ON story_members (story_id);
COMMENT ON TABLE story_members IS 'Each document''s story, with the similarity that put it there';
COMMENT ON COLUMN story_members.doc_id IS 'Document (canonical or duplicate)';
COMMENT ON COLUMN story_members.story_id IS 'Story the document belongs to (stories.story_id)';
COMMENT ON COLUMN story_members.similarity IS 'seed: 1.0; similar: TF-IDF cosine with matched_doc_id; duplicate: the duplicate decision''s similarity';
COMMENT ON COLUMN story_members.matched_doc_id IS 'The document whose similarity put this one in the story (none for a seed)';
COMMENT ON COLUMN story_members.method IS 'seed (started the story) | similar (cosine >= threshold) | duplicate (exact/near/contained copy of matched_doc_id)';
COMMENT ON COLUMN story_members.run_id IS 'Run that assigned the story';
COMMENT ON COLUMN story_members.assigned_at IS 'When the story was assigned';

-- The cross-run index: sparse term vectors of canonical documents, looked up by term.
CREATE TABLE story_terms (
    doc_id VARCHAR NOT NULL,
    term   VARCHAR NOT NULL,
    weight DOUBLE NOT NULL
);
CREATE INDEX story_terms_term ON story_terms (term);
COMMENT ON TABLE story_terms IS 'Top TF-IDF terms of each canonical document (weighted counts): candidate postings and vectors for later runs, so texts are never re-read';
COMMENT ON COLUMN story_terms.doc_id IS 'Canonical document';
COMMENT ON COLUMN story_terms.term IS 'Lower-cased, lightly stemmed content word';
COMMENT ON COLUMN story_terms.weight IS 'Term count in the text plus its count in the lead (headline and first words count twice)';

CREATE TABLE story_term_df (
    term VARCHAR PRIMARY KEY,
    df   INTEGER NOT NULL
);
COMMENT ON TABLE story_term_df IS 'Document frequency of every content word over the canonical documents clustered so far (the IDF of story vectors)';
COMMENT ON COLUMN story_term_df.term IS 'Lower-cased, lightly stemmed content word';
COMMENT ON COLUMN story_term_df.df IS 'Number of canonical documents containing the term';

CREATE VIEW duplicate_groups AS
SELECT x.duplicate_of AS canonical_doc_id, o.title AS canonical_title, o.source AS canonical_source,
       count(*) AS duplicates, list(DISTINCT x.method ORDER BY x.method) AS methods,
       min(x.similarity) AS min_similarity, list(d.source ORDER BY d.source) AS duplicate_sources
FROM duplicates x
JOIN documents o ON o.doc_id = x.duplicate_of
JOIN documents d ON d.doc_id = x.doc_id
GROUP BY ALL;
COMMENT ON VIEW duplicate_groups IS 'Each canonical document with its exact, near and contained duplicates';

CREATE VIEW story_articles AS
SELECT m.story_id, s.title AS story_title, m.doc_id, d.title, d.outlet, d.published_at, d.source, d.is_canonical,
       m.method, m.similarity, m.matched_doc_id, d.ingested_at
FROM story_members m
JOIN stories s ON s.story_id = m.story_id
JOIN documents d ON d.doc_id = m.doc_id;
COMMENT ON VIEW story_articles IS 'Every document of every story, canonical or duplicate, with how it joined';

CREATE VIEW story_overview AS
SELECT s.story_id, s.title,
       count(*) FILTER (WHERE d.is_canonical) AS articles,
       count(*) AS documents,
       list(DISTINCT d.outlet ORDER BY d.outlet) FILTER (WHERE d.outlet IS NOT NULL) AS outlets,
       min(d.published_at) AS first_published, max(d.published_at) AS last_published,
       min(d.ingested_at) AS first_ingested, max(d.ingested_at) AS last_ingested
FROM stories s
JOIN story_members m ON m.story_id = s.story_id
JOIN documents d ON d.doc_id = m.doc_id
GROUP BY s.story_id, s.title;
COMMENT ON VIEW story_overview IS 'One row per story: article and document counts, outlets, first/last publication and ingestion dates';

CREATE VIEW canonical_articles AS
SELECT d.doc_id, d.title, d.outlet, d.published_at, d.source, d.url, d.word_count, m.story_id, m.similarity AS story_similarity,
       d.ingested_at
FROM documents d
LEFT JOIN story_members m ON m.doc_id = d.doc_id
WHERE d.is_canonical;
COMMENT ON VIEW canonical_articles IS 'Canonical documents only (no exact/near/contained copies), with their story';

COMMENT ON COLUMN duplicate_groups.canonical_doc_id IS 'The canonical document the copies point at';
COMMENT ON COLUMN duplicate_groups.canonical_title IS 'Headline of the canonical document';
COMMENT ON COLUMN duplicate_groups.canonical_source IS 'Source (path or URL) of the canonical document';
COMMENT ON COLUMN duplicate_groups.duplicates IS 'Number of duplicate documents';
COMMENT ON COLUMN duplicate_groups.methods IS 'Distinct detection methods among the duplicates (exact, near, contained)';
COMMENT ON COLUMN duplicate_groups.min_similarity IS 'Lowest similarity among the duplicates';
COMMENT ON COLUMN duplicate_groups.duplicate_sources IS 'Sources of the duplicate documents';

COMMENT ON COLUMN story_articles.story_id IS 'Story id (stories.story_id)';
COMMENT ON COLUMN story_articles.story_title IS 'Title of the story (its seed document''s headline)';
COMMENT ON COLUMN story_articles.doc_id IS 'Document in the story';
COMMENT ON COLUMN story_articles.title IS 'Headline of the document';
COMMENT ON COLUMN story_articles.outlet IS 'Publisher or site name of the document';
COMMENT ON COLUMN story_articles.published_at IS 'Publication date of the document';
COMMENT ON COLUMN story_articles.source IS 'Source (path or URL) of the document';
COMMENT ON COLUMN story_articles.is_canonical IS 'False for exact/near/contained copies';
COMMENT ON COLUMN story_articles.method IS 'How the document joined: seed | similar | duplicate';
COMMENT ON COLUMN story_articles.similarity IS 'Similarity that put the document in the story';
COMMENT ON COLUMN story_articles.matched_doc_id IS 'Document it was matched with';
COMMENT ON COLUMN story_articles.ingested_at IS 'When the document was stored';

COMMENT ON COLUMN story_overview.story_id IS 'Story id';
COMMENT ON COLUMN story_overview.title IS 'Title of the story (its seed document''s headline)';
COMMENT ON COLUMN story_overview.articles IS 'Canonical articles in the story';
COMMENT ON COLUMN story_overview.documents IS 'All documents in the story, copies included';
COMMENT ON COLUMN story_overview.outlets IS 'Distinct outlets that covered the story';
COMMENT ON COLUMN story_overview.first_published IS 'Earliest publication date in the story';
COMMENT ON COLUMN story_overview.last_published IS 'Latest publication date in the story';
COMMENT ON COLUMN story_overview.first_ingested IS 'When the story''s first document was stored';
COMMENT ON COLUMN story_overview.last_ingested IS 'When the story''s latest document was stored';

COMMENT ON COLUMN canonical_articles.doc_id IS 'Document id';
COMMENT ON COLUMN canonical_articles.title IS 'Headline';
COMMENT ON COLUMN canonical_articles.outlet IS 'Publisher or site name';
COMMENT ON COLUMN canonical_articles.published_at IS 'Publication date';
COMMENT ON COLUMN canonical_articles.source IS 'Source (path or URL)';
COMMENT ON COLUMN canonical_articles.url IS 'Article URL, where known';
COMMENT ON COLUMN canonical_articles.word_count IS 'Words in the clean text';
COMMENT ON COLUMN canonical_articles.story_id IS 'Story the article belongs to';
COMMENT ON COLUMN canonical_articles.story_similarity IS 'Similarity that put the article in its story';
COMMENT ON COLUMN canonical_articles.ingested_at IS 'When the article was stored';
