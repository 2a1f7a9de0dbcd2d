-- newsflow warehouse, schema version 11: every stage language-aware (issue 23). Each document's
-- language comes with its confidence and where it was read from; non-English texts carry the
-- terms the search index holds for them; a summary says whose rules made it.
ALTER TABLE documents ADD COLUMN language_confidence DOUBLE;
ALTER TABLE documents ADD COLUMN language_source VARCHAR;
ALTER TABLE documents ADD COLUMN search_text VARCHAR;
ALTER TABLE summaries ADD COLUMN language VARCHAR;
ALTER TABLE summaries ADD COLUMN note VARCHAR;
COMMENT ON COLUMN documents.language IS 'ISO 639-1 language of the article text (no: Norwegian): the run''s language (newsflow ingest language option), else the page markup when the text is consistent with it, else py3langid on the text; NULL when too short to tell (rows before schema version 11: page markup only)';
COMMENT ON COLUMN documents.language_confidence IS 'py3langid probability of documents.language (0-1); 1.0 when the run named the language; NULL when the model was not asked: too little text, or English recognised by its function words';
COMMENT ON COLUMN documents.language_source IS 'Where documents.language came from: run (the ingest language option or NEWSFLOW_LANGUAGE), markup (html lang / Content-Language, consistent with the text), detector (py3langid on the text), function-words (plainly English text, no markup), unknown';
COMMENT ON COLUMN documents.search_text IS 'Headline and body as the full-text index holds them for a language other than English: content words Snowball-stemmed in that language, character bigrams for Chinese, Japanese, Korean, Thai; NULL for English (title and text are indexed as they are)';
COMMENT ON COLUMN summaries.language IS 'Language whose sentence splitter, stemmer and stop words made the summary (documents.language); NULL: unknown';
COMMENT ON COLUMN summaries.note IS 'What the summary did without, e.g. no stemmer or stop words for the language: it was summarised language-neutrally; NULL when the language has full rules';
