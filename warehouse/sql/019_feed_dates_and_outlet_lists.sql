-- newsflow warehouse, schema version 19: a fetched page without a date of its own takes the date its
-- feed or sitemap entry gives (published_raw says so); story_overview.outlets is an empty list, not
-- NULL, for a story none of whose documents names its outlet (`len(outlets) = 0` found none); a run's
-- started_at is when it began, before it queued behind another run's batches (two queued runs looked as if
-- they started together, when each got the lock).
CREATE OR REPLACE VIEW story_overview AS
SELECT s.story_id, s.title,
       count(DISTINCT d.source) FILTER (WHERE d.is_canonical) AS articles,
       count(*) AS documents,
       coalesce(list(DISTINCT d.outlet ORDER BY d.outlet) FILTER (WHERE d.outlet IS NOT NULL), []::VARCHAR[]) AS outlets,
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
COMMENT ON COLUMN story_overview.outlets IS 'Distinct outlets of the story''s documents, copies included; empty when none names its outlet';
COMMENT ON COLUMN story_overview.first_published IS 'Earliest publication date in the story';
COMMENT ON COLUMN story_overview.last_published IS 'Latest publication date in the story';
COMMENT ON COLUMN story_overview.first_ingested IS 'When the story''s first document was stored';
COMMENT ON COLUMN story_overview.last_ingested IS 'When the story''s latest document was stored';

COMMENT ON COLUMN documents.published_raw IS 'The date string as found, before parsing; ''2025-06-11 (feed entry)'' when a fetched page had no date and its feed or sitemap entry gave this one (from schema version 19)';
COMMENT ON COLUMN runs.started_at IS 'When the run began, before it queued for the writer lock behind another run (from schema version 19; before, when it got the lock).';
COMMENT ON COLUMN run_history.started_at IS 'When the run began (as runs.started_at).';
