-- newsflow warehouse, schema version 22: bytes a source held before and holds again after another
-- version (an edit undone, a page back to its earlier text) are its next version. They were counted
-- unchanged, since their id was stored, and latest_articles and search kept the undone edit. Such a
-- version's id is the hash of (source, raw bytes, its version number); only the comments change here.
COMMENT ON COLUMN documents.doc_id IS 'Hash of (source, raw bytes): the same input always gets the same id. Bytes a source held before and holds again after another version are stored again as its next version, under the hash of (source, raw bytes, that version number) (from schema version 22).';
COMMENT ON COLUMN documents.version IS '1 for the first content seen at this source, +1 for each change, an earlier content coming back included.';
-- Story terms of an alphabetic language without a Snowball stemmer (Polish, Turkish...) are cut to five letters.
COMMENT ON COLUMN story_term_df.term IS 'Story term: content word, lower-cased and Snowball-stemmed in the document''s language (in an alphabetic language without a stemmer, such as Polish or Turkish, its first five letters, from schema version 22), or a number prefixed with #';
COMMENT ON COLUMN story_terms.term IS 'Story term: content word, lower-cased and Snowball-stemmed in the document''s language (in an alphabetic language without a stemmer, such as Polish or Turkish, its first five letters, from schema version 22), or a number prefixed with # (rows written before schema version 8: words only, English stems)';
