-- newsflow warehouse, schema version 9: which source each document's title and author came from
-- (issue 20). HTML pages give several (JSON-LD, <h1>, Open Graph, <title>, author meta tags, byline
-- elements); recording the winner lets an analyst audit or filter metadata by how it was found.

ALTER TABLE documents ADD COLUMN title_source VARCHAR;
ALTER TABLE documents ADD COLUMN author_source VARCHAR;

COMMENT ON COLUMN documents.title_source IS 'Where the title came from: json-ld (headline), h1 (the page''s only <h1>), open-graph (og:title), twitter (twitter:title), title-tag (<title> without the site name), record (a JSON field), text (guessed by the cleaner); NULL when there is no title or for documents stored before schema version 9.';
COMMENT ON COLUMN documents.author_source IS 'Where the author came from: json-ld, meta (author meta tags), byline-markup (an author/byline element of the page), record (a JSON field), byline (a "By ..." line of the text); NULL when no author was found or for documents stored before schema version 9.';
