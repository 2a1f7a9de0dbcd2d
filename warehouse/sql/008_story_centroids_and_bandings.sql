-- newsflow warehouse, schema version 8: near-duplicate bands follow the threshold, stories join by centroid.
-- The LSH banding is now derived from the near-duplicate threshold in force (tasks/dedup/duplicates.py
-- banding_for), and a band id says which banding made it (rows * 256 + band index; ids below 100 are the
-- 14 x 8 banding of earlier runs, 100-101 the lead bands). This table lists the band ids stored, so a run
-- under another threshold also looks up the bands the stored documents were indexed with.
CREATE TABLE minhash_band_ids (
    band SMALLINT PRIMARY KEY
);
COMMENT ON TABLE minhash_band_ids IS 'Each distinct band id in minhash_bands: the bandings stored documents were indexed with, all looked up by later runs';
COMMENT ON COLUMN minhash_band_ids.band IS 'Band id: rows * 256 + band index for full-text bands; below 100: the 14 x 8 banding used before schema version 8; 100-101: lead (truncation) bands';
INSERT INTO minhash_band_ids SELECT DISTINCT band FROM minhash_bands;

COMMENT ON COLUMN minhash_bands.band IS 'Band id: rows * 256 + band index (the banding follows the near-duplicate threshold); below 100: 14 x 8 bands written before schema version 8; 100-101: lead bands';
COMMENT ON COLUMN story_members.similarity IS 'seed: 1.0; similar: the story score when it joined (cosine with the story centroid, its first members'' vectors summed, less half the largest single-term part); duplicate: the duplicate decision''s similarity. Rows written before schema version 8: cosine with matched_doc_id';
COMMENT ON COLUMN story_members.matched_doc_id IS 'similar: the story member closest to this document when it joined; duplicate: its canonical; none for a seed';
COMMENT ON COLUMN story_members.method IS 'seed (started the story) | similar (story score >= the story threshold, dates within the story window) | duplicate (exact/near/contained copy of matched_doc_id)';
COMMENT ON TABLE story_term_df IS 'Document frequency of every story term over the canonical documents clustered so far; blended with a shipped word-frequency prior for the IDF of story vectors';
COMMENT ON COLUMN story_term_df.term IS 'Story term: content word, lower-cased and Snowball-stemmed in the document''s language, or a number prefixed with #';
COMMENT ON COLUMN story_terms.term IS 'Story term: content word, lower-cased and Snowball-stemmed in the document''s language, or a number prefixed with # (rows written before schema version 8: words only, English stems)';
