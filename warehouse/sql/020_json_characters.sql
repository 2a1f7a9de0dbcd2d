-- newsflow warehouse, schema version 20: JSON columns hold non-ASCII characters as themselves. They
-- were written with \uXXXX escapes, so `removed_lines LIKE '%Veröffentlicht%'` found nothing and a
-- Japanese page's removed lines printed as escapes; json() rewrites such a value as UTF-8 JSON (the
-- same value, minified).
UPDATE documents SET removed_lines = json(removed_lines) WHERE contains(removed_lines::VARCHAR, '\u');
UPDATE runs SET parameters = json(parameters) WHERE contains(parameters::VARCHAR, '\u');
COMMENT ON COLUMN documents.removed_lines IS 'JSON list of {line, rule}: what the cleaner removed and why; characters as written, not \u escapes (from schema version 20), so LIKE finds them.';
COMMENT ON COLUMN runs.parameters IS 'JSON of the flow parameters; characters as written, not \u escapes (from schema version 20).';
