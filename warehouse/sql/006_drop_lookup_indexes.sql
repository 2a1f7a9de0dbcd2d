-- newsflow warehouse, schema version 6: the two indexes on the pipeline's internal lookup tables go.
-- The lookups join a whole batch at once, which DuckDB answers with hash joins that never read an
-- ART index, while every batch paid to insert ~100,000 story terms and ~20,000 band keys into the
-- indexes and to rewrite them at each checkpoint, a cost that grew with the warehouse
-- (bench/throughput.py; measured at 10k documents: batch write 0.56 s -> 0.25 s, checkpoint
-- 0.5 s -> 0.15 s). Indexes analysts' point lookups use (documents.source, documents.text_sha256,
-- story_members.story_id and the primary keys) stay.
DROP INDEX IF EXISTS story_terms_term;
DROP INDEX IF EXISTS minhash_bands_key;
