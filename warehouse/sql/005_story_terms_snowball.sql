-- newsflow warehouse, schema version 5: story vectors use Snowball stems of headline + body, raw term
-- counts, and a seed check (tasks/stories.py). No data changes; the comments say what the columns now hold.

COMMENT ON TABLE story_terms IS 'Top TF-IDF terms (100) of each canonical document with their counts: candidate postings and vectors for later runs, so texts are never re-read';
COMMENT ON COLUMN story_terms.term IS 'Content word, lower-cased and Snowball-stemmed (rows written before schema version 5: lightly stemmed)';
COMMENT ON COLUMN story_terms.weight IS 'Term count in headline and body plus its count in the lead (the first 100 words, headline included, count twice)';
COMMENT ON COLUMN story_term_df.term IS 'Content word, lower-cased and Snowball-stemmed (rows written before schema version 5: lightly stemmed)';
COMMENT ON COLUMN story_members.similarity IS 'seed: 1.0; similar: TF-IDF cosine with matched_doc_id; duplicate: the duplicate decision''s similarity';
COMMENT ON COLUMN story_members.method IS 'seed (started the story) | similar (cosine >= 0.22 with matched_doc_id and with the story''s first article, publication days <= 30 apart; undated = ingest day) | duplicate (exact/near/contained copy of matched_doc_id)';
