-- newsflow warehouse, schema version 14: descriptions only. A story's seed is the article that
-- started it in its run, not necessarily its earliest article (one published before it can join
-- it in the same run or a later one); the story views say what their dates and counts cover.
COMMENT ON COLUMN stories.seed_doc_id IS 'The document that started the story (story_id is its doc_id): in its run, the earlier (publication date, then text hash) of the closest pair that formed the story, or an article no story took. Not necessarily the story''s earliest article: one published before it can join in the same run or a later one';
COMMENT ON COLUMN stories.title IS 'Headline of the seed document (the story''s name in newsflow stories)';
COMMENT ON COLUMN story_overview.first_published IS 'Earliest publication date of the story''s documents, copies included; undated documents are left out (NULL when none is dated)';
COMMENT ON COLUMN story_overview.last_published IS 'Latest publication date of the story''s documents, copies included; undated documents are left out (NULL when none is dated)';
COMMENT ON COLUMN story_overview.outlets IS 'Distinct outlets of the story''s documents, copies included (documents with no outlet found are left out)';
