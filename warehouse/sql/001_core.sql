-- newsflow warehouse, schema version 1: documents, duplicates, summaries, runs, failures.
-- Applied once, in one transaction, by warehouse.store.migrate().

CREATE TABLE documents (
    doc_id          VARCHAR PRIMARY KEY,   -- hash of (source, raw bytes): same input, same id
    source          VARCHAR NOT NULL,      -- file path, path#record, or URL
    source_kind     VARCHAR NOT NULL,      -- file | record | url
    url             VARCHAR,
    version         INTEGER NOT NULL,      -- 1 for the first content seen at this source, +1 per change
    previous_doc_id VARCHAR,               -- the version this one replaces
    raw_sha256      VARCHAR NOT NULL,
    text_sha256     VARCHAR NOT NULL,      -- hash of the normalised clean text (exact dedup key)
    encoding        VARCHAR,
    media_type      VARCHAR,
    title           VARCHAR,
    outlet          VARCHAR,
    author          VARCHAR,
    language        VARCHAR,
    published_at    DATE,
    published_raw   VARCHAR,
    date_convention VARCHAR,
    raw_text        VARCHAR NOT NULL,
    text            VARCHAR NOT NULL,
    removed_lines   JSON,
    word_count      INTEGER NOT NULL,
    is_canonical    BOOLEAN NOT NULL,
    run_id          VARCHAR NOT NULL,
    ingested_at     TIMESTAMP NOT NULL
);
CREATE INDEX documents_text_sha256 ON documents (text_sha256);
CREATE INDEX documents_source ON documents (source);

CREATE TABLE duplicates (
    doc_id       VARCHAR PRIMARY KEY,
    duplicate_of VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,   -- exact | near
    similarity   DOUBLE NOT NULL,    -- 1.0 for exact; true Jaccard of word shingles for near
    run_id       VARCHAR NOT NULL,
    detected_at  TIMESTAMP NOT NULL
);

-- LSH band keys of canonical documents: later runs find near-duplicate candidates with a join.
CREATE TABLE minhash_bands (
    band   SMALLINT NOT NULL,
    bucket BIGINT NOT NULL,
    doc_id VARCHAR NOT NULL
);
CREATE INDEX minhash_bands_key ON minhash_bands (band, bucket);

CREATE TABLE summaries (
    doc_id     VARCHAR NOT NULL,
    algorithm  VARCHAR NOT NULL,
    length     VARCHAR NOT NULL,     -- e.g. "sentences=3", "ratio=0.2", "words=60"
    summary    VARCHAR NOT NULL,
    run_id     VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (doc_id, algorithm)
);

CREATE TABLE summary_sentences (
    doc_id    VARCHAR NOT NULL,
    algorithm VARCHAR NOT NULL,
    rank      INTEGER NOT NULL,      -- order within the summary (document order)
    position  INTEGER NOT NULL,      -- sentence index in the clean text
    sentence  VARCHAR NOT NULL,
    PRIMARY KEY (doc_id, algorithm, rank)
);

CREATE TABLE runs (
    run_id       VARCHAR PRIMARY KEY,
    flow_run_id  VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,   -- running | completed | failed
    parameters   JSON,
    items_seen   INTEGER DEFAULT 0,
    documents_new INTEGER DEFAULT 0,
    unchanged    INTEGER DEFAULT 0,
    duplicates   INTEGER DEFAULT 0,
    summaries    INTEGER DEFAULT 0,
    failures     INTEGER DEFAULT 0,
    timings      JSON,
    error        VARCHAR
);

-- One row per (source, stage, reason): a re-run over the same bad file updates it, never adds a row.
CREATE TABLE failures (
    source        VARCHAR NOT NULL,
    stage         VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    detail        VARCHAR,
    first_run_id  VARCHAR NOT NULL,
    last_run_id   VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    occurrences   INTEGER NOT NULL,
    PRIMARY KEY (source, stage, reason)
);

-- Conditional-GET state per URL.
CREATE TABLE fetch_log (
    url            VARCHAR PRIMARY KEY,
    final_url      VARCHAR,
    status         INTEGER,
    etag           VARCHAR,
    last_modified  VARCHAR,
    content_sha256 VARCHAR,
    doc_id         VARCHAR,
    error          VARCHAR,
    fetched_at     TIMESTAMP NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- Raw fetched bytes (zlib), so pages can be re-extracted without re-fetching.
CREATE TABLE raw_pages (
    doc_id       VARCHAR PRIMARY KEY,
    url          VARCHAR NOT NULL,
    content_type VARCHAR,
    body_zlib    BLOB NOT NULL
);

CREATE VIEW articles AS
SELECT d.doc_id, d.title, d.outlet, d.published_at, d.url, d.source, s.algorithm, s.summary,
       d.word_count, d.text, d.ingested_at
FROM documents d
LEFT JOIN summaries s ON s.doc_id = d.doc_id
WHERE d.is_canonical
QUALIFY row_number() OVER (PARTITION BY d.doc_id ORDER BY s.created_at DESC NULLS LAST) = 1;

CREATE VIEW duplicate_pairs AS
SELECT x.doc_id, d.title, d.source, x.duplicate_of, o.title AS original_title, o.source AS original_source,
       x.method, x.similarity, x.detected_at
FROM duplicates x
JOIN documents d ON d.doc_id = x.doc_id
JOIN documents o ON o.doc_id = x.duplicate_of;
