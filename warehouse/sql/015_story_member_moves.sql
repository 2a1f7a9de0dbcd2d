-- newsflow warehouse, schema version 15: descriptions only. A stored article tied to its story less
-- closely than to an article a later run brings moves to that article's story (as one run would
-- have placed it), not only an article that was alone in its story.
COMMENT ON COLUMN story_members.run_id IS 'Run that assigned the story (for an article an earlier run stored that moved into a later run''s story, alone before or tied to its story less closely: the run it moved in)';
COMMENT ON COLUMN story_members.assigned_at IS 'When the story was assigned (or, for an article that moved into a later run''s story, when it moved)';
