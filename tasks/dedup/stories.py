"""Same-story clustering (pure logic over a lookup seam).

Different outlets reword everything, so shingles cannot tell that two articles cover one event;
content-word vectors can. Each canonical document (headline and body) becomes a sparse TF-IDF
vector over its story terms (`tasks.dedup.terms`: stemmed content words and numbers, raw counts,
the first `lead_words` words counted twice), truncated to its `top_terms` best terms.

IDF comes from a prior blended with the warehouse: IDF = log((n + m) / (m·p + df)), where n is the
number of canonical documents clustered so far, df the term's count among them (`story_term_df`),
p the share of documents a word-frequency list says use the term (`terms.prior_fraction`) and
m = `prior_docs` pseudo-documents. Two articles in an empty warehouse are weighed by the prior, a big
warehouse by its own counts, on one scale throughout. Rare names, places and figures weigh most;
words every article uses weigh nothing, whatever the warehouse holds.

A document joins a story when four things hold: its pair score (cosine less half of the largest
single term's part, `single_term_discount`: one shared place or name does not carry a link alone)
with one of the story's first `centroid_members` members reaches `threshold` (a link); its score
against the story's centroid (the normalised sum of those members' vectors) reaches `threshold` too;
more than half of those members are half-way close (cosine >= threshold / 2); and the story's dates,
this document's included, span at most `max_gap_days`. Every pair and story score fades with the days
between the articles (`_fade`: 1 on one day, 0.95 a week apart, 0.8 two weeks, nearly 0 at the
window): weeks apart, the same names are another chapter of a subject. Closeness to the story as a
whole, not to one member, is what stops chains: an article that shares a place with one member but
not the event with the rest stays out. The centroid cosine comes from pairwise cosines alone
(doc·S / |S|, |S|² = Σ mi·mj), so no centroid is ever stored. A document without a publication
date counts as published on the day it is ingested. Exact and near duplicates join their
canonical's story with the similarity of the duplicate decision.

Links (pair scores at or above the threshold, between two batch articles or a batch article and a
stored candidate) are taken strongest first, not in reading order: an article goes with its closest
partner before a weaker link elsewhere can take it, and a batch's stories do not depend on the order
of its files (ties go to the earlier article by date, then text hash). A free article on a link takes,
of the stories it may join, the one whose centroid it is closest to. Two free articles on a link start
a story together, unless one of them may join a story that the other may join too (a new story would
split it) or that is closer than the pair. An article with no link starts a story of its own.

Cross-run: each stored canonical keeps its `top_terms` term counts (`story_terms`, postings by
term); a run retrieves candidate documents by shared distinctive terms, takes their stories' first
members from `story_members` and scores from those vectors, never re-reading texts. Every lookup is
bounded per document (candidates, members per story), whatever the warehouse's size. A stored article
whose link to a batch article is stronger than its tie to its own story moves to that article's story,
as one run taking links strongest first would have placed it (`_Assignment.move_stored`).
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

from tasks.document import Document
from tasks.dedup.terms import (
    DEFAULT_LANGUAGE, LEAD_WORDS, doc_term_counts, idf, language_of, prior_fraction, prior_fractions, story_text,
    term_counts,
)


@dataclass(frozen=True)
class StoryConfig:
    """The story stage's knobs. Threshold, window, prior weight and centroid size are settings
    (flows/settings.py StorySettings, NEWSFLOW_STORY__*), whose defaults are the tuned ones."""

    threshold: float  # centroid cosine at or above which an article joins a story
    max_gap_days: int  # the longest span of publication dates one story may cover; scores fade over it
    prior_docs: float  # weight of the word-frequency prior, in documents
    centroid_members: int  # members whose vectors make up a story's centroid (the first ones)
    # share of the largest single-term contribution taken off a cosine: one shared name or place
    # (a city, a team) must not carry a link alone. Dev pairs, 20x5-fold CV: AUC 0.951 -> 0.957,
    # F1 0.859 -> 0.869; 0.3-0.7 all gain AUC (bench/stories.py)
    single_term_discount: float = 0.5
    lead_words: int = LEAD_WORDS
    top_terms: int = 100  # terms kept per stored vector
    query_terms: int = 12  # a document's most distinctive terms, used to look up candidates
    max_candidates: int = 40
    # query terms found in more stored documents than this are not used to look up candidates:
    # they name no particular story, and their postings made the lookup grow with the warehouse
    max_postings: int = 1000


@dataclass
class StoredVectors:
    """Stored documents' term counts, flat (one entry per document and term), as arrays:
    a batch compares against thousands of stored vectors, too many to handle one by one.
    Terms are numbered: a batch fetches millions of entries over a few thousand distinct
    terms, and a Python string per entry raised the story stage's peak by ~60 MiB at 100k stored
    documents (902 vs 965 MiB). Positions are int32 (a batch asks for tens of thousands of documents
    and terms): half the bytes of int64, and scipy takes them as its own index type without a copy."""

    doc_ids: list[str] = field(default_factory=list)
    published: list[date | None] = field(default_factory=list)  # publication (or ingest) day
    story: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # the distinct terms the entries name
    entry_doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # position in doc_ids
    entry_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # position in terms
    entry_count: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def drop_entries(self) -> None:
        """Free the entries once the stored matrix is built from them (tens of MB at 100k stored
        documents, otherwise held through the batch's pair scoring)."""
        self.entry_doc, self.entry_term, self.entry_count = (np.zeros(0, np.int32), np.zeros(0, np.int32),
                                                              np.zeros(0))


class StoryIndex(Protocol):
    def term_stats(self, terms: list[str]) -> tuple[int, dict[str, int]]: ...
    def candidates(self, queries: dict[str, list[str]], limit: int, max_postings: int) -> dict[str, list[str]]: ...
    def vectors(self, doc_ids: list[str]) -> StoredVectors: ...
    def stories_of(self, doc_ids: list[str]) -> dict[str, str]: ...
    def members_of(self, story_ids: list[str], limit: int) -> dict[str, list[str]]: ...
    def leaned_on(self, doc_ids: list[str]) -> set[str]: ...
    def lookups_done(self) -> None: ...


class EmptyStoryIndex:
    def term_stats(self, terms):
        return 0, {}

    def candidates(self, queries, limit, max_postings):
        return {}

    def vectors(self, doc_ids):
        return StoredVectors()

    def stories_of(self, doc_ids):
        return {}

    def members_of(self, story_ids, limit):
        return {}

    def leaned_on(self, doc_ids):
        return set()

    def lookups_done(self):
        pass


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


def tfidf(counts: dict[str, float], df: dict[str, int], n_docs: int, prior_docs: float,
          language: str | None = None) -> dict[str, float]:
    """Raw tf x blended idf, L2-normalised, as a dict (for one-off comparisons and explanations)."""
    code = language_of(language)
    vec = {t: c * idf(df.get(t, 0), n_docs, prior_fraction(t, code), prior_docs) for t, c in counts.items() if c > 0}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items() if v > 0}


def pair_similarity(text_a: str, text_b: str, config: StoryConfig, df: dict[str, int] | None = None,
                    n_docs: int = 0, language: str | None = None) -> float:
    """The story score of two texts exactly as the stage computes it (same code, truncated vectors);
    with no `df`, as for the two alone in an empty warehouse (the prior and their own counts)."""
    code = language_of(language)
    counts = [term_counts(text_a, config.lead_words, code), term_counts(text_b, config.lead_words, code)]
    if df is None:
        df, n_docs = Counter(t for c in counts for t in c), 2
    space = _Vectors({t: df.get(t, 0) for c in counts for t in c}, n_docs, config.prior_docs, {})
    row, idx, _, w = space.top_rows(counts, config.top_terms)
    pair = space.rows_matrix(row, idx, w, 2)
    return _row_pair(pair, 0, pair, 1, config.single_term_discount)[1]


class _Vectors:
    """Sparse TF-IDF rows (raw tf x blended idf, L2-normalised) over one vocabulary, for many documents at once."""

    def __init__(self, df: dict[str, int], n_docs: int, prior_docs: float, language_of_term: dict[str, str]):
        self.vocab = {t: i for i, t in enumerate(sorted(df))}  # sorted, so equal weights rank alphabetically
        counts = np.fromiter((df[t] for t in self.vocab), float, len(self.vocab))
        prior = np.asarray(prior_fractions(list(self.vocab), language_of_term), float)
        self.idf = np.log((n_docs + prior_docs) / np.maximum(prior_docs * prior + counts, 1e-9))

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
        term_cols = np.fromiter(map(self.vocab.__getitem__, stored.terms), np.int32, len(stored.terms))
        cols = term_cols[stored.entry_term]
        # in place: each temporary is one more array the size of all the batch's stored entries
        weights = self.idf[cols]
        weights *= stored.entry_count
        np.maximum(weights, 0.0, out=weights)
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
    # stored articles that join one of this batch's stories: their member row (new story), the story
    # they leave and whether it is left empty (dropped); their duplicates follow them
    moves: list[dict] = field(default_factory=list)  # a member row plus "left_story_id", "story_emptied"


@dataclass
class _Story:
    """A story while a batch is assigned: its centroid members (batch rows or stored columns),
    S, their vector sum (term index -> weight; only read at a joining document's terms), |S|², and
    the publication days of its dated members."""

    stored_cols: list[int]  # centroid members stored by earlier runs (columns of the stored matrix)
    batch_rows: list[int]  # centroid members from this batch (rows of the batch matrix)
    total: dict[int, float]
    norm2: float
    first_day: int | None
    last_day: int | None

    def take(self, members: list[int], matrix: sparse.csr_matrix, row: int, dot: float, day: int | None,
             centroid_members: int) -> None:
        """Add a member (`row` of `matrix`, appended to `members`: this story's batch rows or stored
        columns) to the centroid while it has room (`dot`: its product with the vector sum), and its
        day to the span."""
        if len(self.stored_cols) + len(self.batch_rows) < centroid_members:
            members.append(row)
            self.norm2 += 2 * dot + 1.0
            _add_row(self.total, matrix, row)
        if day is not None:
            self.first_day = day if self.first_day is None else min(self.first_day, day)
            self.last_day = day if self.last_day is None else max(self.last_day, day)

    def drop(self, members: list[int], matrix: sparse.csr_matrix, row: int) -> None:
        """Take a member that leaves the story out of the centroid. The span keeps its day for the
        rest of the batch: a wider span can only refuse a join, never allow one."""
        if row in members:
            members.remove(row)
            _add_row(self.total, matrix, row, sign=-1.0)
            self.norm2 = math.fsum(v * v for v in self.total.values())


_BLOCK = 512  # batch rows compared at a time: bounds the dense similarity block to 512 x batch size
# batch neighbours kept per document (its closest): a story's centroid is its first 20 members, so a
# document needs no more links than a few stories' worth. Every pair was kept before: 4,000 mutually
# similar articles in one batch (template reports) held 8M pairs as Python dicts, 4.4 GB and 26 s
_NEIGHBOURS = 80
_PAIR_SLICE = 8192  # candidate pairs scored at a time


def assign_stories(docs: list[Document], index: StoryIndex, config: StoryConfig,
                   today: date | None = None) -> StoryOutcome:
    """Give every document a story: canonicals by centroid similarity, duplicates through their canonical.

    A document without a publication date is taken to be from the day it is ingested (`today`):
    news arriving now is mostly about now, and an undated page must not join a years-old story."""
    outcome = StoryOutcome()
    # earliest first, then by text: not by file name or input order, so a batch's stories do not
    # depend on how its files were listed
    canon = sorted((d for d in docs if d.duplicate_of is None),
                   key=lambda d: (d.published_at is None, d.published_at or date.max, d.text_sha256 or "", d.doc_id))
    dups = [d for d in docs if d.duplicate_of is not None]
    run = _Assignment(canon, dups, index, config, today or date.today(), outcome)
    run.follow_links()
    run.move_stored()
    run.record()
    return outcome


class _Assignment:
    """One batch's story assignment. Built from the batch and what the index holds for it (vectors,
    candidates, their stories' centroid members, pair scores); then `follow_links` places the batch's
    articles, `move_stored` the stored articles a batch article now pulls away, and `record` writes the
    outcome. Batch documents are rows k of `batch`, stored ones columns c of `stored_matrix`."""

    def __init__(self, canon: list[Document], dups: list[Document], index: StoryIndex, config: StoryConfig,
                 today: date, outcome: StoryOutcome):
        self.canon, self.dups, self.config, self.outcome = canon, dups, config, outcome
        self.half = config.threshold / 2
        self._vectors(index, today)
        self._stored_stories()
        self._pair_scores()
        self.story_of: list[str | None] = [None] * len(canon)
        self.joined: dict[int, dict] = {}
        self.k_dense: tuple[int, np.ndarray] | None = None  # (k, dense row of k): the document last asked about

    def _vectors(self, index: StoryIndex, today: date) -> None:
        """The batch's vectors, its candidates among stored documents, their stories' first members,
        and all their vectors in one space."""
        canon, config, outcome = self.canon, self.config, self.outcome
        counts = [doc_term_counts(d, config.lead_words) for d in canon]
        language_of_term: dict[str, str] = {}
        for d, c in zip(canon, counts):
            outcome.df.update(c.keys())
            code = language_of(d.language)
            if code != DEFAULT_LANGUAGE:  # a term is weighed in the language of the first non-English document using it
                for t in c:
                    language_of_term.setdefault(t, code)
        stored_n, stored_df = index.term_stats(sorted(outcome.df))
        n_docs = stored_n + len(canon)
        df = {t: stored_df.get(t, 0) + outcome.df[t] for t in outcome.df}

        space = _Vectors(df, n_docs, config.prior_docs, language_of_term)
        row, idx, tf, w = space.top_rows(counts, config.top_terms)
        terms_by_index = sorted(df)
        starts = np.searchsorted(row, np.arange(len(canon) + 1))  # each document's slice of the entries
        ends = np.minimum(starts[:-1] + config.query_terms, starts[1:])  # its first `query_terms` entries
        queries = {d.doc_id: [terms_by_index[i] for i in idx[starts[k]:ends[k]]] for k, d in enumerate(canon)}
        stored_cands = index.candidates(queries, config.max_candidates, config.max_postings)
        cand_ids = sorted({c for cs in stored_cands.values() for c in cs})
        # the first members of the candidates' stories: the stored part of each story's centroid;
        # their vectors are fetched with the candidates' in one go (two sets of entry arrays joined
        # afterwards held both and the joined copy at once)
        self.story_members = index.members_of(sorted(set(index.stories_of(cand_ids).values())), config.centroid_members)
        self.leaned_on = index.leaned_on(cand_ids)  # candidates another article joined its story through
        stored = index.vectors(cand_ids + sorted({m for ms in self.story_members.values() for m in ms} - set(cand_ids)))
        missing = sorted(set(stored.terms) - set(df))
        if missing:  # terms only stored documents have: the vocabulary grows, indices move
            df.update(index.term_stats(missing)[1])
            space = _Vectors(df, n_docs, config.prior_docs, language_of_term)
            row, idx, tf, w = space.top_rows(counts, config.top_terms)
            terms_by_index = sorted(df)
        self.stored_stories = index.stories_of(sorted({d.duplicate_of for d in self.dups} - {d.doc_id for d in canon}))
        index.lookups_done()  # the last lookup: what the index holds for them goes before the matrices are built
        self.batch = space.rows_matrix(row, idx, w, len(canon))
        self.stored_pos = {doc_id: k for k, doc_id in enumerate(stored.doc_ids)}
        self.stored_matrix = space.stored_matrix(stored)
        stored.drop_entries()
        self.stored = stored
        self.stored_days = [_day(d) for d in stored.published]
        self.batch_days = [_day(d.published_at or today) for d in canon]
        self.cand_cols = [[self.stored_pos[c] for c in stored_cands.get(d.doc_id, ()) if c in self.stored_pos]
                          for d in canon]
        canon_ids = [d.doc_id for d in canon]
        outcome.terms = TermRows([canon_ids[r] for r in row], [terms_by_index[i] for i in idx], tf.tolist())

    def _stored_stories(self) -> None:
        """The candidates' stories, from their stored centroid members."""
        self.stories: dict[str, _Story] = {}
        for story_id, member_ids in self.story_members.items():
            cols = [self.stored_pos[m] for m in member_ids if m in self.stored_pos]
            if not cols:
                continue
            total: dict[int, float] = {}
            for c in cols:
                _add_row(total, self.stored_matrix, c)
            days = [self.stored_days[c] for c in cols if self.stored_days[c] is not None]
            self.stories[story_id] = _Story(cols, [], total, math.fsum(v * v for v in total.values()),
                                            min(days, default=None), max(days, default=None))

    def _pair_scores(self) -> None:
        """Pair cosines and scores with the stored candidates, and between batch documents (those at
        least half-way close: a story needs a majority of members that close; the rest count as not)."""
        config = self.config
        # days as arrays (an undated stored one, which the index does not give, as NaN: no fade)
        batch_day_arr = np.asarray(self.batch_days, float)
        stored_day_arr = np.asarray([np.nan if d is None else d for d in self.stored_days], float)
        self.stored_pairs = _pair_scores(self.batch, self.stored_matrix, self.cand_cols, config.single_term_discount,
                                         (batch_day_arr, stored_day_arr, config.max_gap_days))
        self.near, self.crowded = _close_pairs(self.batch, self.half, _NEIGHBOURS)
        self.near_rows: dict[int, dict[int, float]] = {}
        self.batch_pairs = _batch_pair_scores(self.batch, self.near, config, batch_day_arr)

    # -- pair and story scores ------------------------------------------------------------------------

    def stored_pair(self, k: int, c: int) -> tuple[float, float]:
        """(cosine, pair score) of batch document k and stored document c."""
        found = self.stored_pairs.get((k, c))
        if found is None:  # a centroid member that was not among k's candidates
            if self.k_dense is None or self.k_dense[0] != k:
                dense = np.zeros(self.batch.shape[1])
                lo, hi = self.batch.indptr[k], self.batch.indptr[k + 1]
                dense[self.batch.indices[lo:hi]] = self.batch.data[lo:hi]
                self.k_dense = (k, dense)
            lo, hi = self.stored_matrix.indptr[c], self.stored_matrix.indptr[c + 1]
            shared = self.stored_matrix.data[lo:hi] * self.k_dense[1][self.stored_matrix.indices[lo:hi]]
            cos = float(shared.sum())
            found = self.stored_pairs[(k, c)] = (
                cos, _discounted(cos, float(shared.max(initial=0.0)), self.config.single_term_discount)
                * _fade(self.batch_days[k], self.stored_days[c], self.config.max_gap_days))
        return found

    def stored_pair_of_stored(self, c: int, m: int) -> tuple[float, float]:
        cos, sc = _row_pair(self.stored_matrix, c, self.stored_matrix, m, self.config.single_term_discount)
        return cos, sc * _fade(self.stored_days[c], self.stored_days[m], self.config.max_gap_days)

    def batch_pair(self, k: int, j: int) -> tuple[float, float]:
        """(cosine, pair score) of batch documents k and j, 0 below half the threshold (the cosine) or
        below the threshold (the score), as `_close_pairs` and `_batch_pair_scores` keep them; computed
        here for a pair a crowded document's closest neighbours left out."""
        close = self.near_row(k)
        if j in close or not (k in self.crowded or j in self.crowded):
            return close.get(j, 0.0), self.batch_pairs.get((min(j, k), max(j, k)), 0.0)
        cos, sc = _row_pair(self.batch, k, self.batch, j, self.config.single_term_discount)
        if cos < self.half:
            return 0.0, 0.0
        return cos, (sc * _fade(self.batch_days[k], self.batch_days[j], self.config.max_gap_days)
                     if cos >= self.config.threshold else 0.0)

    def far_neighbours(self, k: int) -> list[int]:
        """The batch documents at least half-way close to crowded document k beyond its closest."""
        row = (self.batch[k] @ self.batch.T).tocoo()
        close = self.near_row(k)
        return [j for j, cos in zip(row.col.tolist(), row.data.tolist()) if cos >= self.half and j != k
                and j not in close]

    def near_row(self, k: int) -> dict[int, float]:
        row = self.near_rows.get(k)
        if row is None:
            lo, hi = self.near.indptr[k], self.near.indptr[k + 1]
            row = self.near_rows[k] = dict(zip(self.near.indices[lo:hi].tolist(), self.near.data[lo:hi].tolist()))
        return row

    def verdict(self, story: _Story, members: list[tuple[float, float]], dot: float, largest: float, day: int | None
                ) -> tuple[float, str] | None:
        """(story score, closest member) of a document joining `story`, from its (cosine, pair score)
        with each centroid member and its products with the centroid sum; None when it may not join."""
        config = self.config
        # close to enough of it: a centroid of two is halfway between them, and an article that
        # shares a place with one member but nothing with the other would reach it; and linked to
        # one member by a pair score that reaches the threshold itself: a centroid can beat every
        # member when the members differ, and joins without a link cost precision
        if (2 * sum(cos >= self.half for cos, _ in members) <= len(members)
                or max(pair for _, pair in members) < config.threshold):
            return None
        norm = math.sqrt(story.norm2) if story.norm2 > 0 else 0.0
        centroid = dot / norm if norm else 0.0
        if centroid < config.threshold:
            return None
        centroid = _discounted(centroid, largest / norm if norm else 0.0, config.single_term_discount)
        centroid *= _fade_from_span(story, day, config.max_gap_days)
        if centroid < config.threshold:
            return None
        at = max(range(len(members)), key=lambda i: members[i][0])
        closest = (self.stored.doc_ids[story.stored_cols[at]] if at < len(story.stored_cols)
                   else self.canon[story.batch_rows[at - len(story.stored_cols)]].doc_id)
        return centroid, closest

    def score(self, k: int, s: str) -> tuple[float, float, str] | None:
        """(story score, dot with the centroid sum, closest member) of batch document k joining story s,
        or None when it may not join."""
        story = self.stories[s]
        if not _within(story, self.batch_days[k], self.config.max_gap_days):
            return None
        members = [self.stored_pair(k, c) for c in story.stored_cols]
        members += [self.batch_pair(k, j) for j in story.batch_rows]
        dot, largest = _centroid_products(self.batch, k, story.total)
        found = self.verdict(story, members, dot, largest, self.batch_days[k])
        return None if found is None else (found[0], dot, found[1])

    def stored_score(self, c: int, s: str) -> tuple[float, float, str] | None:
        """`score` for stored document c joining story s."""
        story = self.stories[s]
        if not _within(story, self.stored_days[c], self.config.max_gap_days):
            return None
        members = [self.stored_pair_of_stored(c, m) for m in story.stored_cols]
        members += [self.stored_pair(j, c) for j in story.batch_rows]
        dot, largest = _centroid_products(self.stored_matrix, c, story.total)
        found = self.verdict(story, members, dot, largest, self.stored_days[c])
        return None if found is None else (found[0], dot, found[1])

    def best_story(self, k: int) -> tuple[float, float, str, str] | None:
        """The story document k is closest to, among the stories of its stored candidates and of
        the batch documents at least half-way close to it."""
        options = {self.stored.story[c]: None for c in self.cand_cols[k]
                   if self.stored.story[c] in self.stories and self.stored_pairs[(k, c)][0] >= self.half}
        options.update((self.story_of[j], None) for j in self.near_row(k) if self.story_of[j] is not None)
        if k in self.crowded:
            # its closest neighbours are all still free: the stories of the others at least half-way
            # close, from one row product (not kept: that was the quadratic part), so a crowd of
            # similar articles joins the story it has, not a second one its closest start
            options.update((self.story_of[j], None) for j in self.far_neighbours(k) if self.story_of[j] is not None)
        best = None
        for s in options:
            found = self.score(k, s)
            if found is not None and (best is None or found[0] > best[0]):
                best = (found[0], found[1], s, found[2])
        return best

    # -- placing the batch ------------------------------------------------------------------------------

    def join(self, k: int, s: str, similarity: float, dot: float, closest: str) -> None:
        self.stories[s].take(self.stories[s].batch_rows, self.batch, k, dot, self.batch_days[k],
                             self.config.centroid_members)
        self.story_of[k] = s
        self.joined[k] = _member(self.canon[k].doc_id, s, similarity, closest, "similar")

    def seed(self, k: int) -> None:
        doc_id, day = self.canon[k].doc_id, self.batch_days[k]
        self.story_of[k] = doc_id  # a story is named after the document that started it
        self.stories[doc_id] = _Story([], [k], _add_row({}, self.batch, k), 1.0, day, day)

    def follow_links(self) -> None:
        """Links strongest first, not file or date order: an article takes the story of its closest
        partner before a weaker link elsewhere can take it (greedy in reading order, an article
        that reached a loosely related story first was lost to its own pair's story). Ties go to
        the earlier articles, so the order is the batch's sorted order, not the files'."""
        threshold, story_of = self.config.threshold, self.story_of
        links = [(sc, k, j) for (k, j), sc in self.batch_pairs.items() if sc >= threshold]
        links += [(sc, k, -1) for k, cols in enumerate(self.cand_cols) for c in cols
                  if self.stored.story[c] in self.stories and (sc := self.stored_pairs[(k, c)][1]) >= threshold]
        links.sort(key=lambda link: (-link[0], link[1], link[2]))
        for pair_score, k, j in links:
            if j >= 0 and story_of[k] is None and story_of[j] is None:
                # two free articles: a story one of them may join takes it when the other may join it
                # too (a new story would split it) or when it is closer than the pair; else a new story
                options = sorted(((b[0], -i, free, other, b) for i, (free, other) in enumerate(((k, j), (j, k)))
                                  if (b := self.best_story(free)) is not None), reverse=True)
                chosen = next((o for o in options if o[0] >= pair_score or self.score(o[3], o[4][2]) is not None),
                              None)
                if chosen is not None:
                    best = chosen[4]
                    self.join(chosen[2], best[2], best[0], best[1], best[3])
                elif _span_ok((self.batch_days[k], self.batch_days[j]), self.config.max_gap_days):
                    self.seed(k)  # k < j: the earlier article (date, then text) starts it
                    self.join(j, self.canon[k].doc_id, pair_score, self.near_row(k)[j], self.canon[k].doc_id)
                    continue
            for free in (k, j):  # a free article linked to a story: the story it is closest to
                if free >= 0 and story_of[free] is None and (best := self.best_story(free)) is not None:
                    self.join(free, best[2], best[0], best[1], best[3])
        for k in range(len(self.canon)):  # no link reached a story: the article starts its own
            if story_of[k] is None:
                self.seed(k)

    # -- stored articles the batch pulls away -------------------------------------------------------------

    def move_stored(self) -> None:
        """A stored article goes where its strongest link leads, as it would have read in one run with
        this batch (links are taken strongest first). One alone in its story was waiting for its news: it
        joins the story its links lead to (the closest), and its one-article story goes. One that joined
        its story by a weaker link than a batch article now offers leaves it for that article's story,
        unless it is the story's seed (the story is named after it) or another article joined through
        it (that one would be left without its link). Copies follow their canonical."""
        stored, stories = self.stored, self.stories
        linked: dict[int, list[int]] = {}  # stored column -> the batch documents linked to it
        for k, cols in enumerate(self.cand_cols):
            for c in cols:
                if self.stored_pairs[(k, c)][1] >= self.config.threshold:
                    linked.setdefault(c, []).append(k)
        leaned_on = self.leaned_on | {m["matched_doc_id"] for m in self.joined.values()}  # this batch's joins too
        for c in sorted(linked, key=stored.doc_ids.__getitem__):
            s, doc_id = stored.story[c], stored.doc_ids[c]
            story = stories.get(s)
            if story is None:
                continue
            alone = story.stored_cols == [c] and not story.batch_rows and doc_id == s
            if not alone and (doc_id == s or doc_id in leaned_on):
                continue
            away = [(self.stored_pairs[(k, c)][1], self.story_of[k]) for k in linked[c] if self.story_of[k] != s]
            if not away:  # every article it links to is in its story already
                continue
            # its bond to its story: the strongest pair score with another member (computed only as far
            # as needed: one member at least as close as the best link elsewhere keeps it)
            strongest = max(score for score, _ in away)
            bond = -math.inf
            for m in story.stored_cols:
                if m != c:
                    bond = max(bond, self.stored_pair_of_stored(c, m)[1])
                    if bond >= strongest:
                        break
            reached = {t for score, t in away if score > bond}
            options = [(found[0], t, found[1], found[2]) for t in sorted(reached)
                       if (found := self.stored_score(c, t)) is not None]
            if not options:
                continue
            similarity, target, dot, closest = max(options)
            leaned_on.add(closest)
            into = stories[target]
            into.take(into.stored_cols, self.stored_matrix, c, dot, self.stored_days[c], self.config.centroid_members)
            if alone:
                del stories[s]
            else:
                story.drop(story.stored_cols, self.stored_matrix, c)
            self.outcome.moves.append({**_member(doc_id, target, similarity, closest, "similar"), "left_story_id": s,
                                       "story_emptied": alone})

    def record(self) -> None:
        """The batch's stories and members; copies join their canonical's story."""
        outcome = self.outcome
        for k, doc in enumerate(self.canon):
            if k in self.joined:
                outcome.members.append(self.joined[k])
            elif self.story_of[k] == doc.doc_id:
                outcome.stories.append({"story_id": doc.doc_id, "seed_doc_id": doc.doc_id, "title": doc.title})
                outcome.members.append(_member(doc.doc_id, doc.doc_id, 1.0, None, "seed"))
        story_by_id = {d.doc_id: story for d, story in zip(self.canon, self.story_of)}
        for d in self.dups:
            story = story_by_id.get(d.duplicate_of) or self.stored_stories.get(d.duplicate_of)
            if story is not None:  # a canonical stored before stories existed has none
                outcome.members.append(_member(d.doc_id, story, d.similarity or 1.0, d.duplicate_of, "duplicate"))


def _close_pairs(batch: sparse.csr_matrix, at_least: float, most: int) -> tuple[sparse.csr_matrix, set[int]]:
    """Cosines >= `at_least` between different batch documents, each document's `most` closest (and
    the pairs that name it among theirs), symmetric, in blocks of rows (a dense batch x batch product
    would be 800 MB at the largest batch); and the documents that had more (`crowded`)."""
    parts, crowded = [], set()
    for lo in range(0, batch.shape[0], _BLOCK):
        block = (batch[lo : lo + _BLOCK] @ batch.T).tocoo()
        keep = (block.data >= at_least) & (block.row + lo != block.col)
        rows, cols, vals = block.row[keep], block.col[keep], block.data[keep]
        order = np.lexsort((cols, -vals, rows))  # by row, closest first (ties: the earlier document)
        rows, cols, vals = rows[order], cols[order], vals[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        crowded.update((np.unique(rows[rank >= most]) + lo).tolist())
        near = rank < most
        parts.append((rows[near] + lo, cols[near], vals[near]))
    rows, cols, vals = (np.concatenate(x) for x in zip(*parts)) if parts else ([], [], [])
    kept = sparse.csr_matrix((vals, (rows, cols)), shape=(batch.shape[0], batch.shape[0]))
    return kept.maximum(kept.T).tocsr(), crowded


def _batch_pair_scores(batch: sparse.csr_matrix, near: sparse.csr_matrix, config: StoryConfig, days: np.ndarray
                       ) -> dict[tuple[int, int], float]:
    """Pair scores (cosine less the discounted largest single-term part, faded by the days between
    the two: `days[k]`) of the batch pairs k < j whose cosine reaches the threshold: only those can link."""
    pairs = sparse.triu(near, k=1).tocoo()
    keep = pairs.data >= config.threshold
    ks, js, cos = pairs.row[keep], pairs.col[keep], pairs.data[keep]
    out: dict[tuple[int, int], float] = {}
    for i in range(0, len(ks), _PAIR_SLICE):
        part = slice(i, i + _PAIR_SLICE)
        largest = np.asarray(batch[ks[part]].multiply(batch[js[part]]).max(axis=1).todense()).ravel()
        faded = _discounted(cos[part], largest, config.single_term_discount) * _fade(
            days[ks[part]], days[js[part]], config.max_gap_days)
        out.update(zip(zip(ks[part].tolist(), js[part].tolist()), faded.tolist()))
    return out


def _centroid_products(batch: sparse.csr_matrix, k: int, total: dict[int, float]) -> tuple[float, float]:
    """Document k's dot product with a story's vector sum, and its largest single term's part of it
    (one pass over k's terms: the centroid cosine and the single-term discount both need them)."""
    lo, hi = batch.indptr[k], batch.indptr[k + 1]
    parts = [w * total.get(t, 0.0) for t, w in zip(batch.indices[lo:hi].tolist(), batch.data[lo:hi].tolist())]
    return math.fsum(parts), max(parts, default=0.0)


def _discounted(cos, largest, discount: float):
    """The pair score: a cosine (floats or arrays) less `discount` of its largest single term's part,
    so that one shared place or name does not carry a link alone. Every pair and centroid score
    goes through here."""
    return cos - discount * largest


def _row_pair(a: sparse.csr_matrix, i: int, b: sparse.csr_matrix, j: int, discount: float) -> tuple[float, float]:
    """(cosine, pair score) of row i of `a` and row j of `b`, one product for both (on the rows' index
    and weight slices: slicing rows out as sparse matrices cost ~0.7 ms a pair)."""
    a_lo, a_hi, b_lo, b_hi = a.indptr[i], a.indptr[i + 1], b.indptr[j], b.indptr[j + 1]
    _, at_a, at_b = np.intersect1d(a.indices[a_lo:a_hi], b.indices[b_lo:b_hi], assume_unique=True,
                                   return_indices=True)
    shared = a.data[a_lo:a_hi][at_a] * b.data[b_lo:b_hi][at_b]
    cos = float(shared.sum())
    return cos, _discounted(cos, float(shared.max(initial=0.0)), discount)


def _add_row(total: dict[int, float], matrix: sparse.csr_matrix, row: int, sign: float = 1.0) -> dict[int, float]:
    """Add a row's weights to a story's vector sum (sign -1: take a leaving member's out)."""
    lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
    for term, weight in zip(matrix.indices[lo:hi].tolist(), matrix.data[lo:hi].tolist()):
        total[term] = total.get(term, 0.0) + sign * weight
    return total


def _within(story: _Story, day: int | None, max_gap_days: int) -> bool:
    """Whether the story, with this document's day added, spans at most `max_gap_days`."""
    return _span_ok((story.first_day, story.last_day, day), max_gap_days)


def _fade(a, b, max_gap_days: int):
    """The share of a score two articles `a` and `b` days apart keep: 1 on one day, falling with the
    square of the gap to nearly 0 at the story window (1 day 99.9 %, 7 days 95 %, 14 days 80 %, 25 days
    35 % at 30). Event detection decays similarity over its window (Yang, Pierce and Carbonell, SIGIR
    1998, linearly); squared, the first days, when one event's reports straddle midnight and time
    zones, keep almost all of it, while weeks apart the same names are another chapter of a subject.
    Days as ints or arrays (floats: a NaN day, unknown, keeps the whole score); None: unknown."""
    if a is None or b is None:
        return 1.0
    fade = 1.0 - (abs(a - b) / (max_gap_days + 1)) ** 2
    return np.nan_to_num(fade, nan=1.0) if isinstance(fade, np.ndarray) else fade


def _fade_from_span(story: _Story, day: int | None, max_gap_days: int) -> float:
    """`_fade` between a day and the nearest day of a story's span (1 inside it)."""
    if day is None or story.first_day is None or story.last_day is None:
        return 1.0
    return _fade(day, min(max(day, story.first_day), story.last_day), max_gap_days)


def _span_ok(days: tuple[int | None, ...], max_gap_days: int) -> bool:
    known = [d for d in days if d is not None]
    return not known or max(known) - min(known) <= max_gap_days


def _pair_scores(batch: sparse.csr_matrix, stored: sparse.csr_matrix, wanted: list[list[int]], discount: float,
                 days: tuple[np.ndarray, np.ndarray, int]) -> dict[tuple[int, int], tuple[float, float]]:
    """(cosine, pair score) of each batch document k with the stored columns wanted[k], for just
    those pairs (a full batch x stored product would be mostly unused); the score faded by the days
    between them (`days`: the batch's days, the stored columns' days, the window)."""
    ks = [k for k, cols in enumerate(wanted) for _ in cols]
    if not ks:
        return {}
    width = max(1, stored.shape[0])
    keys = np.unique(np.asarray(ks, np.int64) * width + np.asarray([c for cols in wanted for c in cols], np.int64))
    k_arr, col_arr = np.divmod(keys, width)
    cos, largest = [], []
    # in slices: row-gathering both sides for ~80k pairs at once took ~300 MB for a moment
    for i in range(0, len(keys), _PAIR_SLICE):
        shared = batch[k_arr[i : i + _PAIR_SLICE]].multiply(stored[col_arr[i : i + _PAIR_SLICE]]).tocsr()
        cos.append(np.asarray(shared.sum(axis=1)).ravel())
        largest.append(np.asarray(shared.max(axis=1).todense()).ravel())
    cos_all, largest_all = np.concatenate(cos), np.concatenate(largest)
    batch_days, stored_days, max_gap_days = days
    scores = _discounted(cos_all, largest_all, discount) * _fade(batch_days[k_arr], stored_days[col_arr], max_gap_days)
    return dict(zip(zip(k_arr.tolist(), col_arr.tolist()), zip(cos_all.tolist(), scores.tolist())))


def _day(when: date | None) -> int | None:
    return when.toordinal() if when is not None else None


def _member(doc_id: str, story_id: str, similarity: float, matched: str | None, method: str) -> dict:
    return {"doc_id": doc_id, "story_id": story_id, "similarity": round(float(similarity), 4),
            "matched_doc_id": matched, "method": method}


__all__ = [
    "StoryConfig", "StoryIndex", "StoredVectors", "EmptyStoryIndex", "StoryOutcome", "TermRows", "assign_stories",
    "pair_similarity", "rank_candidates", "term_counts", "doc_term_counts", "story_text", "tfidf", "idf",
]
