-- newsflow warehouse, schema version 13: a page that is an access wall (a cookie, log-in or
-- paywall prompt where the article should be) but names its headline is stored headline-only
-- instead of failing as empty: the outlet's item still counts in stories and search.
ALTER TABLE documents ADD COLUMN headline_only BOOLEAN;
COMMENT ON COLUMN documents.headline_only IS 'true: the page held an access wall (cookie, log-in or paywall prompt; removed_lines rule access_wall or pattern:<wall section>) and no article, so text is the headline and it has no summary; false: text is the article body; NULL for documents stored before schema version 13';
