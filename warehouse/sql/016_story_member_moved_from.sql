-- newsflow warehouse, schema version 16: an article that moved into a later run's story says which
-- story it left, so `newsflow stories --doc` can tell the two cases apart (alone before, or tied
-- to its story less closely than to the later article) instead of naming both.
ALTER TABLE story_members ADD COLUMN moved_from_story_id VARCHAR;
COMMENT ON COLUMN story_members.moved_from_story_id IS 'For an article an earlier run stored that moved into a later run''s story (and its copies, which follow it): the story it left. Equal to doc_id when it was alone in its one-article story (that story row is deleted); another story_id when it was in a story it was tied to less closely (that story keeps its other articles). NULL for an article that never moved, and for moves made before schema version 16';
