"""Same-story clustering (pure logic over a lookup seam).

Different outlets reword everything, so shingles cannot tell that two articles
cover one event; content-word vectors can. Each canonical document (headline and
body) becomes a sparse TF-IDF vector over Snowball-stemmed content words (raw
term counts, with the first `lead_words` words, where the event is named,
counted twice), truncated to its `top_terms` best terms. IDF comes from the
corpus being clustered: the warehouse keeps document frequencies
(`story_term_df`) and adds each batch's. On the SemEval-2022 news-similarity dev
pairs this scores CV F1 0.86 / ROC-AUC 0.96; entity, number and date overlaps,
bigrams, BM25 weighting and a MiniLM embedding were measured too
(bench/story_study.py, README).

A document joins the story of its most similar earlier document when the cosine
reaches `threshold`, the similarity to that story's first article also does (so
stories cannot drift through chains of loosely related articles), and their
publication dates are at most `max_gap_days` apart: a resolution two years after
a deal about the same weapons is a new event. An undated document counts as
published on the day it is ingested. Otherwise it starts a story. Exact and near
duplicates join their canonical's story with the similarity of the duplicate
decision.

Cross-run: each stored canonical keeps its `top_terms` term counts
(`story_terms`, postings by term), so a run retrieves candidates by shared
distinctive terms and scores them from those vectors, never re-reading texts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from tasks.dedup.duplicates import canonical_order
from tasks.document import Document
from tasks.dedup.terms import LEAD_WORDS, doc_term_counts, story_text, term_counts


@dataclass(frozen=True)
class StoryConfig:
    # Cosine at or above which two articles are one story: the median threshold chosen on the
    # training folds of bench/dedup.py's cross-validation over the SemEval dev pairs.
    threshold: float = 0.22
    lead_words: int = LEAD_WORDS
    top_terms: int = 100  # terms kept per stored vector: enough that truncation left dev AUC unchanged
    query_terms: int = 12  # a document's most distinctive terms, used to look up candidates
    max_candidates: int = 40
    # query terms found in more stored documents than this are not used to look up candidates:
    # they name no particular story, and their postings made the lookup grow with the warehouse
    max_postings: int = 1000
    max_gap_days: int = 30
    # A member must also reach the threshold with the story's first article: single links alone
    # chained 16 BBC articles on different mobile-phone stories into one "story".
    seed_check: bool = True


@dataclass
class StoredVectors:
    """Stored documents' term counts, flat (one entry per document and term), as arrays:
    a batch compares against thousands of stored vectors, too many to handle one by one.
    Terms are numbered: a batch fetches millions of entries over a few thousand distinct
    terms, and a Python string per entry raised the story stage's peak by ~60 MiB at 100k stored
    documents (902 vs 965 MiB)."""

    doc_ids: list[str] = field(default_factory=list)
    published: list[date | None] = field(default_factory=list)  # publication (or ingest) day
    story: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # the distinct terms the entries name
    entry_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # position in doc_ids
    entry_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # position in terms
    entry_count: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def extend(self, other: StoredVectors) -> None:
        position = {t: i for i, t in enumerate(self.terms)}
        for term in other.terms:
            position.setdefault(term, len(position))
        self.terms = list(position)
        renumber = np.fromiter((position[t] for t in other.terms), np.int64, len(other.terms))
        self.entry_term = np.concatenate([self.entry_term, renumber[other.entry_term]]).astype(np.int64)
        self.entry_doc = np.concatenate([self.entry_doc, other.entry_doc + len(self.doc_ids)])
        self.doc_ids += other.doc_ids
        self.published += other.published
        self.story += other.story
        self.entry_count = np.concatenate([self.entry_count, other.entry_count])


class StoryIndex(Protocol):
    def term_stats(self, terms: list[str]) -> tuple[int, dict[str, int]]: ...
    def candidates(self, queries: dict[str, list[str]], limit: int, max_postings: int) -> dict[str, list[str]]: ...
    def vectors(self, doc_ids: list[str]) -> StoredVectors: ...
    def stories_of(self, doc_ids: list[str]) -> dict[str, str]: ...


class EmptyStoryIndex:
    def term_stats(self, terms):
        return 0, {}

    def candidates(self, queries, limit, max_postings):
        return {}

    def vectors(self, doc_ids):
        return StoredVectors()

    def stories_of(self, doc_ids):
        return {}


def rank_candidates(queries: dict[str, list[str]], posting_terms: pa.Array | pa.ChunkedArray,
                    posting_docs: pa.Array | pa.ChunkedArray, limit: int) -> dict[str, list[str]]:
    """For each query document, the `limit` stored documents that share the most of its query
    terms, best first (ties: the smaller doc_id first). Postings are the (term, doc_id) pairs of
    stored documents for the terms that may retrieve.

    One sparse product, query documents x terms by terms x stored documents, gives every shared
    count at once; grouping and ranking the term join in SQL took 3x the time of the scan feeding it."""
    if len(posting_docs) == 0:
        return {}
    docs = pc.dictionary_encode(_combined(posting_docs))
    by_id = pc.array_sort_indices(docs.dictionary).to_numpy()  # columns in doc_id order, for the ties
    doc_names = docs.dictionary.take(pa.array(by_id)).to_pylist()
    column_of = np.empty(len(by_id), np.int64)
    column_of[by_id] = np.arange(len(by_id))
    doc_col = column_of[docs.indices.to_numpy(zero_copy_only=False)]
    terms = pc.dictionary_encode(_combined(posting_terms))
    term_id = {t: k for k, t in enumerate(terms.dictionary.to_pylist())}
    postings = sparse.csr_matrix((np.ones(len(doc_col), np.int32), (terms.indices.to_numpy(zero_copy_only=False), doc_col)),
                                 shape=(len(term_id), len(doc_names)))
    names = list(queries)
    rows, cols = [], []
    for k, name in enumerate(names):
        for term in queries[name]:
            if term in term_id:
                rows.append(k)
                cols.append(term_id[term])
    asked = sparse.csr_matrix((np.ones(len(rows), np.int32), (rows, cols)), shape=(len(names), len(term_id)))
    shared = (asked @ postings).tocsr()
    found: dict[str, list[str]] = {}
    for k, name in enumerate(names):
        lo, hi = shared.indptr[k], shared.indptr[k + 1]
        if lo < hi:
            columns, counts = shared.indices[lo:hi], shared.data[lo:hi]
            best = np.lexsort((columns, -counts))[:limit]
            found[name] = [doc_names[c] for c in columns[best]]
    return found


def _combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def tfidf(counts: dict[str, float], df: dict[str, int], n_docs: int) -> dict[str, float]:
    """Raw tf x idf, L2-normalised, as a dict (for one-off comparisons; the stage uses `_Vectors`)."""
    vec = {t: c * math.log((n_docs + 1) / (df.get(t, 0) + 1)) for t, c in counts.items() if c > 0}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items() if v > 0}


def pair_similarity(text_a: str, text_b: str, df: dict[str, int], n_docs: int,
                    config: StoryConfig = StoryConfig()) -> float:
    """The story score of two texts exactly as the stage computes it (same code, truncated vectors)."""
    counts = [term_counts(text_a, config.lead_words), term_counts(text_b, config.lead_words)]
    space = _Vectors({t: df.get(t, 0) for c in counts for t in c}, n_docs)
    row, idx, _, w = space.top_rows(counts, config.top_terms)
    pair = space.rows_matrix(row, idx, w, 2)
    return float(pair[0].multiply(pair[1]).sum())


class _Vectors:
    """Sparse TF-IDF rows (raw tf x idf, L2-normalised) over one vocabulary, for many documents at once."""

    def __init__(self, df: dict[str, int], n_docs: int):
        self.vocab = {t: i for i, t in enumerate(sorted(df))}  # sorted, so equal weights rank alphabetically
        self.idf = np.log((n_docs + 1) / (np.fromiter((df[t] for t in self.vocab), float, len(self.vocab)) + 1))

    def top_rows(self, counts: list[Counter], k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each document's `k` best terms (positive weight, best first, ties alphabetical), all at once:
        (row, term index, raw count, weight) arrays, grouped by row."""
        lens = np.fromiter(map(len, counts), np.int64, len(counts))
        terms = [t for c in counts for t in c]
        idx = np.fromiter(map(self.vocab.__getitem__, terms), np.int64, len(terms))
        tf = np.fromiter((v for c in counts for v in c.values()), float, len(terms))
        row = np.repeat(np.arange(len(counts)), lens)
        w = tf * self.idf[idx] if len(idx) else np.zeros(0)
        order = np.lexsort((idx, -w, row))
        order = order[w[order] > 0]
        row = row[order]
        starts = np.searchsorted(row, row, side="left")  # first position of each entry's row
        keep = order[np.arange(len(order)) - starts < k]
        return row[np.arange(len(order)) - starts < k], idx[keep], tf[keep], w[keep]

    def rows_matrix(self, row: np.ndarray, idx: np.ndarray, w: np.ndarray, n_rows: int) -> sparse.csr_matrix:
        """L2-normalised CSR matrix from (row, term index, weight) entries."""
        matrix = sparse.csr_matrix((w, (row, idx)), shape=(n_rows, len(self.vocab)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        return (sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ matrix).tocsr()

    def stored_matrix(self, stored: StoredVectors) -> sparse.csr_matrix:
        """L2-normalised rows of the stored vectors (all of whose terms are in the vocabulary)."""
        term_cols = np.fromiter(map(self.vocab.__getitem__, stored.terms), np.int64, len(stored.terms))
        cols = term_cols[stored.entry_term]
        weights = stored.entry_count * self.idf[cols] if len(cols) else np.zeros(0)
        return self.rows_matrix(stored.entry_doc, cols, weights, len(stored.doc_ids))


@dataclass
class TermRows:
    """Rows of `story_terms`, as columns: (doc_id[i], term[i], weight[i]) is one term of one document."""

    doc_id: list[str] = field(default_factory=list)
    term: list[str] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)

    def __iter__(self):
        return zip(self.doc_id, self.term, self.weight)


@dataclass
class StoryOutcome:
    stories: list[dict] = field(default_factory=list)  # story_id, seed_doc_id, title
    members: list[dict] = field(default_factory=list)  # doc_id, story_id, similarity, matched_doc_id, method
    terms: TermRows = field(default_factory=lambda: TermRows())  # the stored vectors of this batch's canonicals
    df: Counter = field(default_factory=Counter)  # document frequency added by this batch's canonicals


_BLOCK = 512  # batch rows compared at a time: bounds the dense similarity block to 512 x batch size
_PAIR_SLICE = 8192  # candidate pairs scored at a time


def assign_stories(docs: list[Document], index: StoryIndex, config: StoryConfig = StoryConfig(),
                   today: date | None = None) -> StoryOutcome:
    """Give every document a story: canonicals by similarity, duplicates through their canonical.

    A document without a publication date is taken to be from the day it is ingested (`today`):
    news arriving now is mostly about now, and an undated page must not join a years-old story."""
    outcome = StoryOutcome()
    today = today or date.today()
    canon = [docs[i] for i in canonical_order(docs) if docs[i].duplicate_of is None]
    counts = [doc_term_counts(d, config.lead_words) for d in canon]
    for c in counts:
        outcome.df.update(c.keys())
    stored_n, stored_df = index.term_stats(sorted(outcome.df))
    n_docs = stored_n + len(canon)
    df = {t: stored_df.get(t, 0) + outcome.df[t] for t in outcome.df}

    space = _Vectors(df, n_docs)
    row, idx, tf, w = space.top_rows(counts, config.top_terms)
    terms_by_index = sorted(df)
    starts = np.searchsorted(row, np.arange(len(canon) + 1))  # each document's slice of the entries
    queries = {d.doc_id: [terms_by_index[i] for i in idx[starts[k] : min(starts[k] + config.query_terms, starts[k + 1])]]
               for k, d in enumerate(canon)}
    stored_cands = index.candidates(queries, config.max_candidates, config.max_postings)
    stored = index.vectors(sorted({c for cs in stored_cands.values() for c in cs}))
    if config.seed_check:  # the first article of each candidate story, for the seed check below
        stored.extend(index.vectors(sorted(set(stored.story) - set(stored.doc_ids) - {None})))
    missing = sorted(set(stored.terms) - set(df))
    if missing:  # terms only stored documents have: the vocabulary grows, indices move
        df.update(index.term_stats(missing)[1])
        space = _Vectors(df, n_docs)
        row, idx, tf, w = space.top_rows(counts, config.top_terms)
        terms_by_index = sorted(df)
    batch = space.rows_matrix(row, idx, w, len(canon))
    stored_pos = {doc_id: k for k, doc_id in enumerate(stored.doc_ids)}
    stored_matrix = space.stored_matrix(stored)
    stored_days = [_day(d) for d in stored.published]
    batch_days = [_day(d.published_at or today) for d in canon]
    batch_pos = {d.doc_id: k for k, d in enumerate(canon)}
    stored_sims = _pair_similarities(batch, stored_matrix, stored_cands, canon, stored_pos, stored.story)

    story_of: list[str] = []
    block = None
    for k, doc in enumerate(canon):
        doc_id = doc.doc_id
        if k % _BLOCK == 0:  # similarities of this block of documents to every earlier one in the batch
            block = (batch[k : k + _BLOCK] @ batch[: k + _BLOCK].T).toarray()
        row_sims = block[k % _BLOCK, :k]
        options: list[tuple[float, str, str]] = []  # (similarity, matched doc, its story)
        for c in stored_cands.get(doc_id, ()):
            col = stored_pos.get(c)
            if col is None or stored.story[col] is None:
                continue
            sim = stored_sims.get((k, col), 0.0)
            if sim >= config.threshold and _near(batch_days[k], stored_days[col], config.max_gap_days):
                options.append((sim, c, stored.story[col]))
        options += [(float(row_sims[j]), canon[j].doc_id, story_of[j])
                    for j in np.flatnonzero(row_sims >= config.threshold)
                    if _near(batch_days[k], batch_days[j], config.max_gap_days)]

        def seed_similarity(story: str) -> float:
            if story in batch_pos:
                return float(row_sims[batch_pos[story]])
            if story in stored_pos:  # seeds of the stored candidates' stories were computed up front
                col = stored_pos[story]
                sim = stored_sims.get((k, col))
                return sim if sim is not None else float(batch[k].multiply(stored_matrix[col]).sum())
            return 1.0  # seed not indexed (stored before stories existed): nothing to check against

        best = next((o for o in sorted(options, key=lambda o: -o[0])
                     if not config.seed_check or o[1] == o[2] or seed_similarity(o[2]) >= config.threshold), None)
        if best is None:
            story_of.append(doc_id)  # a story is named after the document that started it
            outcome.stories.append({"story_id": doc_id, "seed_doc_id": doc_id, "title": doc.title})
            outcome.members.append(_member(doc_id, doc_id, 1.0, None, "seed"))
        else:
            story_of.append(best[2])
            outcome.members.append(_member(doc_id, best[2], best[0], best[1], "similar"))
    canon_ids = [d.doc_id for d in canon]
    outcome.terms = TermRows([canon_ids[r] for r in row], [terms_by_index[i] for i in idx], tf.tolist())

    story_by_id = {d.doc_id: story for d, story in zip(canon, story_of)}
    dups = [d for d in docs if d.duplicate_of is not None]
    stored_stories = index.stories_of(sorted({d.duplicate_of for d in dups} - set(story_by_id)))
    for d in dups:
        story = story_by_id.get(d.duplicate_of) or stored_stories.get(d.duplicate_of)
        if story is not None:  # a canonical stored before stories existed has none
            outcome.members.append(_member(d.doc_id, story, d.similarity or 1.0, d.duplicate_of, "duplicate"))
    return outcome


def _pair_similarities(batch: sparse.csr_matrix, stored: sparse.csr_matrix, cands: dict[str, list[str]],
                       canon: list[Document], stored_pos: dict[str, int], story: list[str | None]
                       ) -> dict[tuple[int, int], float]:
    """Cosines of each batch document with its stored candidates and their stories' first articles,
    for just those pairs (a full batch x stored product would be mostly unused)."""
    seed_col = [stored_pos.get(s, -1) if s is not None else -1 for s in story]
    ks: list[int] = []
    cols: list[int] = []
    for k, d in enumerate(canon):
        mine = [stored_pos[c] for c in cands.get(d.doc_id, ()) if c in stored_pos]
        mine += [seed_col[c] for c in mine if seed_col[c] >= 0]
        ks += [k] * len(mine)
        cols += mine
    if not ks:
        return {}
    keys = np.unique(np.asarray(ks, np.int64) * len(story) + np.asarray(cols, np.int64))
    k_arr, col_arr = np.divmod(keys, len(story))
    # in slices: row-gathering both sides for ~80k pairs at once took ~300 MB for a moment
    sims = np.concatenate([
        np.asarray(batch[k_arr[i : i + _PAIR_SLICE]].multiply(stored[col_arr[i : i + _PAIR_SLICE]]).sum(axis=1)).ravel()
        for i in range(0, len(keys), _PAIR_SLICE)])
    return dict(zip(zip(k_arr.tolist(), col_arr.tolist()), sims.tolist()))


def _day(when: date | None) -> int | None:
    return when.toordinal() if when is not None else None


def _near(a: int | None, b: int | None, max_gap_days: int) -> bool:
    return a is None or b is None or abs(a - b) <= max_gap_days


def _member(doc_id: str, story_id: str, similarity: float, matched: str | None, method: str) -> dict:
    return {"doc_id": doc_id, "story_id": story_id, "similarity": round(float(similarity), 4),
            "matched_doc_id": matched, "method": method}


__all__ = [
    "StoryConfig", "StoryIndex", "StoredVectors", "EmptyStoryIndex", "StoryOutcome", "TermRows", "assign_stories", "pair_similarity", "rank_candidates",
    "term_counts", "doc_term_counts", "story_text", "tfidf",
]
