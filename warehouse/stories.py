"""The story tables' batch write that `Warehouse.write_batch` calls inside its transaction
(the lookups are `tasks/dedup/story_index.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.probe import insert_of_new_docs, insert_rows, probe, probe_table, rows_without


class StoryTables:
    """The story stage's lookups as SQL over a `Warehouse`: raw rows and Arrow tables only;
    the ranking arithmetic is the pipeline's (tasks/dedup/story_index.py)."""

    def __init__(self, warehouse):
        self.warehouse = warehouse

    def term_stats(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        with self.warehouse.connect() as con:
            n_docs = con.execute("SELECT count(*) FROM story_members WHERE method <> 'duplicate'").fetchone()[0]
            rows = []
            if terms:
                with probe(con, "probe_terms", term=terms):
                    rows = con.execute(
                        "SELECT term, df FROM story_term_df WHERE term IN (SELECT term FROM probe_terms)"
                    ).fetchall()
        return n_docs, dict(rows)

    def postings(self, terms: list[str], max_postings: int) -> pa.Table:
        """(term, doc_id) for the asked terms; a term in more than max_postings documents names no
        particular story, so it does not retrieve (and its postings stay out).

        Both columns come dictionary-encoded: at 100k stored documents a batch reads ~1.2M
        postings naming ~90k documents, and as plain strings their 64-character doc_ids alone
        took ~75 MB, on top of the result DuckDB materialized before handing it over. The rows
        are streamed instead and encoded a chunk at a time."""
        terms_enc, docs_enc = [], []
        with self.warehouse.connect() as con, probe(con, "probe_terms", term=terms):
            reader = con.execute(
                "SELECT t.term, t.doc_id FROM story_terms t WHERE t.term IN "
                "(SELECT p.term FROM probe_terms p JOIN story_term_df f ON f.term = p.term AND f.df <= ?)",
                [max_postings],
            ).fetch_record_batch(_POSTINGS_CHUNK)
            for chunk in reader:
                terms_enc.append(pc.dictionary_encode(chunk.column(0)))
                docs_enc.append(pc.dictionary_encode(chunk.column(1)))
        # one dictionary per column (concatenating unifies the chunks' dictionaries)
        return pa.table({"term": _concat(terms_enc, pa.string()), "doc_id": _concat(docs_enc, pa.string())})

    def vector_rows(self, doc_ids: list[str]) -> tuple[list[tuple], pa.Table]:
        """Per asked document (in order): (doc_id, date, story_id); and its (pos, term, weight) entries.

        A batch asks for millions of entries: pos comes as INTEGER and weight, a term count (exact
        in single precision), as FLOAT, half the bytes of BIGINT and DOUBLE each."""
        positions = pa.array(range(len(doc_ids)), pa.int32())
        with self.warehouse.connect() as con, probe(con, "probe_ids", doc_id=doc_ids, pos=positions):
            meta = con.execute(
                # undated documents count as published the day they were ingested (tasks.dedup.stories)
                "SELECT p.doc_id, coalesce(d.published_at, CAST(d.ingested_at AS DATE)), m.story_id "
                "FROM probe_ids p LEFT JOIN story_members m ON m.doc_id = p.doc_id "
                "LEFT JOIN documents d ON d.doc_id = p.doc_id ORDER BY p.pos"
            ).fetchall()
            entries = con.execute(
                "SELECT p.pos, t.term, CAST(t.weight AS FLOAT) AS weight FROM story_terms t "
                "JOIN probe_ids p ON p.doc_id = t.doc_id"
            ).fetch_arrow_table()
        return meta, entries

    def stories_of(self, doc_ids: list[str]) -> dict[str, str]:
        if not doc_ids:
            return {}
        with self.warehouse.connect() as con, probe(con, "probe_ids", doc_id=doc_ids):
            rows = con.execute(
                "SELECT doc_id, story_id FROM story_members WHERE doc_id IN (SELECT doc_id FROM probe_ids)"
            ).fetchall()
        return dict(rows)

    def leaned_on(self, doc_ids: list[str]) -> set[str]:
        """The asked documents that another article of their story joined through (its closest member)."""
        if not doc_ids:
            return set()
        with self.warehouse.connect() as con, probe(con, "probe_ids", doc_id=doc_ids):
            rows = con.execute(
                "SELECT DISTINCT m.matched_doc_id FROM story_members m JOIN story_members c "
                "ON c.doc_id = m.matched_doc_id AND c.story_id = m.story_id "
                "WHERE m.method = 'similar' AND m.matched_doc_id IN (SELECT doc_id FROM probe_ids)"
            ).fetchall()
        return {r[0] for r in rows}

    def members_of(self, story_ids: list[str], limit: int) -> dict[str, list[str]]:
        """The first `limit` canonical members of each asked story (seed first, then in the order
        they joined): the part of a story its centroid is made of."""
        if not story_ids:
            return {}
        with self.warehouse.connect() as con, probe(con, "probe_ids", story_id=story_ids):
            rows = con.execute(
                "SELECT story_id, doc_id FROM (SELECT m.story_id, m.doc_id, row_number() OVER ("
                "PARTITION BY m.story_id ORDER BY m.method <> 'seed', m.assigned_at, m.doc_id) AS n "
                "FROM story_members m WHERE m.story_id IN (SELECT story_id FROM probe_ids) "
                "AND m.method <> 'duplicate') WHERE n <= ? ORDER BY story_id, n", [limit]
            ).fetchall()
        out: dict[str, list[str]] = {}
        for story_id, doc_id in rows:
            out.setdefault(story_id, []).append(doc_id)
        return out


_POSTINGS_CHUNK = 100_000  # rows DuckDB hands over at a time while the postings are encoded


def _concat(chunks: list[pa.DictionaryArray], value_type: pa.DataType) -> pa.DictionaryArray:
    if not chunks:
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], value_type))
    return pa.concat_arrays(chunks)


_STORY_SCHEMA = pa.schema([("story_id", pa.string()), ("seed_doc_id", pa.string()), ("title", pa.string()),
                           ("run_id", pa.string()), ("created_at", pa.timestamp("us"))])
_MEMBER_SCHEMA = pa.schema([("doc_id", pa.string()), ("story_id", pa.string()), ("similarity", pa.float64()),
                            ("matched_doc_id", pa.string()), ("method", pa.string()), ("run_id", pa.string()),
                            ("assigned_at", pa.timestamp("us"))])
_MOVE_SCHEMA = pa.schema([*_MEMBER_SCHEMA, ("left_story_id", pa.string()), ("story_emptied", pa.bool_())])
_TERM_SCHEMA = pa.schema([("doc_id", pa.string()), ("term", pa.string()), ("weight", pa.float64())])
_DF_SCHEMA = pa.schema([("term", pa.string()), ("df", pa.int32())])


def write_story_rows(con: duckdb.DuckDBPyConnection, run_id: str, outcome, new_ids: pa.Array) -> None:
    """Insert one batch's stories, members, term vectors and df increments (caller holds the transaction).

    Documents already given a story (a concurrent or repeated run) keep theirs, and their
    terms and df are not counted twice. `new_ids`: the documents this transaction stores for the
    first time, which can have no story rows yet (see `insert_of_new_docs`): only the others are
    looked up.
    """
    if outcome is None or not outcome.members:
        return
    now = datetime.now()
    members = pa.Table.from_pylist([{**m, "run_id": run_id, "assigned_at": now} for m in outcome.members],
                                   schema=_MEMBER_SCHEMA)
    stored_before = rows_without(members, "doc_id", new_ids)
    known = set()
    if stored_before.num_rows:
        with probe_table(con, "batch_story_members", stored_before):
            known = {r[0] for r in con.execute(
                "SELECT doc_id FROM story_members WHERE doc_id IN (SELECT doc_id FROM batch_story_members)"
            ).fetchall()}
    known_ids = pa.array(sorted(known), pa.string())
    # the rows insert_new would keep, without reading story_members' doc_id column again
    insert_rows(con, "story_members", rows_without(members, "doc_id", known_ids))
    if outcome.moves:
        moves = pa.Table.from_pylist([{**m, "run_id": run_id, "assigned_at": now} for m in outcome.moves],
                                     schema=_MOVE_SCHEMA)
        with probe_table(con, "batch_story_moves", moves):
            # a stored article joins this batch's story: it and its duplicates follow, and a story
            # left empty goes
            con.execute("UPDATE story_members SET story_id = v.story_id, moved_from_story_id = v.left_story_id "
                        "FROM batch_story_moves v "
                        "WHERE story_members.story_id = v.left_story_id AND (v.story_emptied "
                        "OR story_members.doc_id = v.doc_id "
                        "OR (story_members.method = 'duplicate' AND story_members.matched_doc_id = v.doc_id))")
            con.execute("UPDATE story_members SET similarity = v.similarity, matched_doc_id = v.matched_doc_id, "
                        "method = v.method, run_id = v.run_id, assigned_at = v.assigned_at "
                        "FROM batch_story_moves v WHERE story_members.doc_id = v.doc_id")
            con.execute("DELETE FROM stories WHERE story_id IN "
                        "(SELECT left_story_id FROM batch_story_moves WHERE story_emptied)")
    stories = [{**s, "run_id": run_id, "created_at": now} for s in outcome.stories if s["seed_doc_id"] not in known]
    insert_of_new_docs(con, "stories", pa.Table.from_pylist(stories, schema=_STORY_SCHEMA), ("story_id",), new_ids,
                       id_column="story_id")
    terms = pa.table({"doc_id": outcome.terms.doc_id, "term": outcome.terms.term,
                      "weight": outcome.terms.weight}, schema=_TERM_SCHEMA)
    terms = rows_without(terms, "doc_id", known_ids)
    if terms.num_rows:
        with probe_table(con, "batch_story_terms", terms):
            con.execute("INSERT INTO story_terms BY NAME SELECT * FROM batch_story_terms")
    if known:
        return  # df increments are per batch; a partly repeated batch would count some twice: skip them
    if outcome.df:
        df = pa.Table.from_pylist([{"term": t, "df": n} for t, n in outcome.df.items()], schema=_DF_SCHEMA)
        with probe_table(con, "batch_story_df", df):
            con.execute("MERGE INTO story_term_df t USING batch_story_df b ON t.term = b.term "
                        "WHEN MATCHED THEN UPDATE SET df = t.df + b.df "
                        "WHEN NOT MATCHED THEN INSERT (term, df) VALUES (b.term, b.df)")


# -- what `newsflow stories` shows (read-only SQL through Warehouse.query) ---------------------------
# A story's tying terms: the stored terms two or more of its articles hold, with their summed counts
# and document frequency, for the caller's ranking (`rank_terms`: the story stage's own IDF, whose
# word-frequency prior SQL does not hold; ranked by the warehouse's counts alone, a 4-article
# warehouse put "wurd", from "wurde", among the terms that tie a German story).
_TYING = """
tied AS (
    SELECT m.story_id, t.term, sum(t.weight) AS count, coalesce(any_value(f.df), 0) AS df
    FROM story_members m
    JOIN story_terms t ON t.doc_id = m.doc_id
    LEFT JOIN story_term_df f ON f.term = t.term
    WHERE m.method <> 'duplicate' AND m.story_id IN (SELECT story_id FROM chosen)
    GROUP BY m.story_id, t.term
    HAVING count(DISTINCT t.doc_id) >= 2
),
-- the language most of its articles are in, whose prior weighs the terms
spoken AS (
    SELECT m.story_id, mode(d.language) AS language
    FROM story_members m JOIN documents d ON d.doc_id = m.doc_id
    WHERE m.method <> 'duplicate' AND m.story_id IN (SELECT story_id FROM chosen)
    GROUP BY m.story_id
),
ties AS (
    SELECT t.story_id, list((t.term, t.count, t.df) ORDER BY t.term) AS terms, any_value(s.language) AS language
    FROM tied t JOIN spoken s USING (story_id) GROUP BY t.story_id
)"""

# ranks (term, summed count, df) candidates, given the canonical documents clustered and the language
RankTerms = Callable[[list[tuple[str, float, int]], int, "str | None"], list[str]]


def _ranked(warehouse, columns: list[str], rows: list[tuple], column: str, rank_terms: RankTerms,
            limit: int) -> list[tuple]:
    """`column` (candidates) of each row as its `limit` heaviest terms, the `language` column used and dropped."""
    clustered = warehouse.query("SELECT count(*) FROM story_members WHERE method <> 'duplicate'")[1][0][0]
    at, lang = columns.index(column), columns.index("language")
    out = []
    for row in rows:
        row = list(row)
        row[at] = rank_terms([tuple(c.values()) if isinstance(c, dict) else tuple(c) for c in row[at] or []],
                             clustered, row[lang])[:limit]
        del row[lang]
        out.append(tuple(row))
    return out


def _opening(doc: str) -> str:
    """SQL: the first 90 characters of document `doc`'s text when it has no headline (a one-line text
    dump), which then names it where a title would; NULL when it has one."""
    return f"CASE WHEN {doc}.title IS NULL THEN left(trim(regexp_replace({doc}.text, '\\s+', ' ', 'g')), 90) END"


def list_stories(warehouse, limit: int, min_articles: int, rank_terms: RankTerms,
                 terms: int = 8) -> tuple[list[str], list[tuple]]:
    """Stories, biggest and latest first: size, outlets, date span (publication, else ingest; `dated`
    says which) and the terms that tie their articles together, heaviest first (`rank_terms`)."""
    sql = f"""
WITH chosen AS (
    SELECT story_id FROM story_overview WHERE articles >= ?
    ORDER BY articles DESC, coalesce(last_published, CAST(last_ingested AS DATE)) DESC, story_id LIMIT ?
),{_TYING}
SELECT o.story_id, o.articles, o.documents, o.outlets,
       coalesce(o.first_published, CAST(o.first_ingested AS DATE)) AS first_day,
       coalesce(o.last_published, CAST(o.last_ingested AS DATE)) AS last_day,
       o.last_published IS NOT NULL AS dated,
       o.title, coalesce(x.terms, []) AS tying_terms, x.language,
       {_opening("sd")} AS opening
FROM story_overview o JOIN chosen c ON c.story_id = o.story_id LEFT JOIN ties x ON x.story_id = o.story_id
LEFT JOIN stories s ON s.story_id = o.story_id LEFT JOIN documents sd ON sd.doc_id = s.seed_doc_id
ORDER BY o.articles DESC, last_day DESC, o.story_id"""
    columns, rows = warehouse.query(sql, [min_articles, limit])
    return [c for c in columns if c != "language"], _ranked(warehouse, columns, rows, "tying_terms", rank_terms, terms)


def explain_document(warehouse, keys: list[str], rank_terms: RankTerms,
                     terms: int = 12) -> tuple[list[str], list[tuple]]:
    """Why one document (its doc_id, or its source as stored; `keys` are the spellings to try, the
    newest version of a source wins) is in its story: how it joined, with which similarity and
    closest member, when, and the stored terms it shares with the story's other articles, heaviest
    first (`rank_terms`, as the story list ranks them)."""
    marks = ", ".join("?" for _ in keys)
    sql = f"""
WITH me AS (
    SELECT d.doc_id FROM documents d WHERE d.doc_id IN ({marks}) OR d.source IN ({marks})
    ORDER BY d.doc_id IN ({marks}) DESC, d.version DESC, d.ingested_at DESC LIMIT 1
),
member AS (
    -- a duplicate has no vector of its own: its canonical's stands for it
    SELECT m.*, CASE WHEN m.method = 'duplicate' THEN m.matched_doc_id ELSE m.doc_id END AS vector_doc,
           d.source AS own_source
    FROM story_members m JOIN me ON me.doc_id = m.doc_id JOIN documents d ON d.doc_id = m.doc_id
),
shared AS (
    SELECT t.term, sum(t.weight * o.weight) AS count, coalesce(any_value(f.df), 0) AS df
    FROM member mm
    JOIN story_terms t ON t.doc_id = mm.vector_doc
    JOIN story_members om ON om.story_id = mm.story_id AND om.method <> 'duplicate' AND om.doc_id <> mm.vector_doc
    -- the story's other articles: not this article's own earlier or later versions
    JOIN documents od ON od.doc_id = om.doc_id AND od.source <> mm.own_source
    JOIN story_terms o ON o.doc_id = om.doc_id AND o.term = t.term
    LEFT JOIN story_term_df f ON f.term = t.term
    GROUP BY t.term
)
SELECT m.doc_id, d.title, d.source, d.outlet, d.published_at, d.headline_only, d.is_canonical,
       m.story_id, s.title AS story_title, m.method, m.similarity, m.matched_doc_id,
       m.moved_from_story_id, ls.title AS moved_from_title,
       md.title AS matched_title, dup.method AS duplicate_method,
       md.source = d.source AS matched_own_version,
       -- what names a document with no headline (a one-line text dump), as the story list does
       {_opening("d")} AS opening, {_opening("sd")} AS story_opening, {_opening("md")} AS matched_opening,
       {_opening("lsd")} AS moved_from_opening,
       -- each source once, as story_overview counts: an edited article's versions are one article
       (SELECT count(DISTINCT xd.source) FROM story_members x JOIN documents xd ON xd.doc_id = x.doc_id
        WHERE x.story_id = m.story_id AND xd.is_canonical) AS story_articles,
       (SELECT count(*) FROM story_members x WHERE x.story_id = m.story_id) AS story_documents,
       d.ingested_at AS stored_at, m.assigned_at,
       -- stored by an earlier run (alone, or in a story it was tied to less closely), it joined this one later
       (m.method = 'similar' AND m.run_id IS DISTINCT FROM d.run_id) AS joined_later,
       (SELECT list((term, count, df) ORDER BY term) FROM shared) AS shared_terms, d.language
FROM member m
JOIN documents d ON d.doc_id = m.doc_id
JOIN stories s ON s.story_id = m.story_id
LEFT JOIN documents md ON md.doc_id = m.matched_doc_id
LEFT JOIN stories ls ON ls.story_id = m.moved_from_story_id
LEFT JOIN documents sd ON sd.doc_id = s.seed_doc_id
LEFT JOIN documents lsd ON lsd.doc_id = m.moved_from_story_id
LEFT JOIN duplicates dup ON dup.doc_id = m.doc_id AND m.method = 'duplicate'"""
    columns, rows = warehouse.query(sql, [*keys, *keys, *keys])
    return [c for c in columns if c != "language"], _ranked(warehouse, columns, rows, "shared_terms", rank_terms, terms)


def story_texts(warehouse, story_ids: list[str], per_story: int = 5,
                chars: int = 100_000) -> dict[str, list[tuple[str, str | None]]]:
    """(headline and text, language) of up to `per_story` canonical articles of each story, its seed
    first: where a story's stored terms are read back as the words its articles write (a term two or
    more of them hold is in these). Each text's first `chars` characters: a story list reads tens."""
    if not story_ids:
        return {}
    marks = ", ".join("?" for _ in story_ids)
    _, rows = warehouse.query(f"""
SELECT story_id, text, language FROM (
    SELECT m.story_id, concat_ws(chr(10), d.title, left(d.text, ?)) AS text, d.language,
           row_number() OVER (PARTITION BY m.story_id ORDER BY m.method <> 'seed', m.assigned_at, m.doc_id) AS k
    FROM story_members m JOIN documents d ON d.doc_id = m.doc_id
    WHERE m.method <> 'duplicate' AND m.story_id IN ({marks})
) WHERE k <= ? ORDER BY story_id, k""", [chars, *story_ids, per_story])
    out: dict[str, list[tuple[str, str | None]]] = {}
    for story_id, text, language in rows:
        out.setdefault(story_id, []).append((text, language))
    return out


def document_text(warehouse, doc_id: str, chars: int = 100_000) -> list[tuple[str, str | None]]:
    """(headline and text, language) of one document, as `story_texts` gives them."""
    _, rows = warehouse.query("SELECT concat_ws(chr(10), title, left(text, ?)), language FROM documents "
                              "WHERE doc_id = ?", [chars, doc_id])
    return [tuple(r) for r in rows]


def storyless(warehouse, keys: list[str]) -> tuple[str, list[tuple]] | None:
    """What a `keys` spelling is when `explain_document` finds nothing: ("failed", [(source, stage,
    reason, detail, last_seen_at)]) for a source that failed, ("stored", [(doc_id, title)]) for a
    document without a story (stored before stories existed), else None."""
    marks = ", ".join("?" for _ in keys)
    _, stored = warehouse.query(
        f"SELECT doc_id, title FROM documents WHERE doc_id IN ({marks}) OR source IN ({marks}) "
        "ORDER BY version DESC LIMIT 1", [*keys, *keys])
    if stored:
        return "stored", stored
    _, failed = warehouse.query(
        f"SELECT source, stage, reason, detail, last_seen_at FROM failures WHERE source IN ({marks}) "
        "ORDER BY last_seen_at DESC", keys)
    return ("failed", failed) if failed else None


def sources_ending(warehouse, tail: str, limit: int = 6) -> list[tuple]:
    """(doc_id, source) pairs of the sources ending with `/tail`: a file name, or a path typed
    relative to another folder than the one it was ingested from. A stored source gives its newest
    version's doc_id; a source that failed and was never stored gives None, so a file name finds a
    failed file as it finds a stored one. At most `limit`, by source."""
    _, rows = warehouse.query(
        "SELECT any_value(doc_id ORDER BY version DESC), source FROM documents WHERE ends_with(source, ?) "
        "GROUP BY source "
        "UNION ALL SELECT DISTINCT NULL, f.source FROM failures f WHERE ends_with(f.source, ?) "
        "AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.source = f.source) "
        "ORDER BY source LIMIT ?", ["/" + tail, "/" + tail, limit])
    return rows
