-- newsflow warehouse, schema version 13: a page that is an access wall (a cookie, log-in or
-- paywall prompt where the article should be) but names its headline is stored headline-only
-- instead of failing as empty: the outlet's item still counts in stories and search. And an
-- article stored alone in its story may join a story a later run forms (its one-article story
-- row is deleted); the tables are unchanged, their descriptions say so.
ALTER TABLE documents ADD COLUMN headline_only BOOLEAN;
COMMENT ON COLUMN documents.headline_only IS 'true: the page held an access wall (cookie, log-in or paywall prompt; removed_lines rule access_wall or pattern:<wall section>) and no article, so text is the headline and it has no summary; false: text is the article body; NULL for documents stored before schema version 13';
COMMENT ON TABLE stories IS 'One row per same-story cluster: articles about one event, from any outlet, in any wording. A story of one article is deleted when that article joins a story a later run forms around its news';
COMMENT ON COLUMN story_members.run_id IS 'Run that assigned the story (for an article that was alone in its story and joined a later one: the run it joined in)';
COMMENT ON COLUMN story_members.assigned_at IS 'When the story was assigned (or, for an article that was alone in its story, when it joined a later one)';
