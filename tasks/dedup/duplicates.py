"""Exact and near-duplicate detection (pure logic over a lookup seam).

Exact: SHA-256 of the fingerprint-normalised clean text.
Near: MinHash over word n-gram shingles, LSH banding for candidates, every
candidate confirmed on the true shingle sets: Jaccard >= threshold ("near"), or
the shorter text almost wholly contained in the longer one ("contained": a
truncated re-publication, whose Jaccard falls with the length ratio, so plain
Jaccard LSH would never even propose it). Containment candidates come from two
extra "lead" bands: a MinHash of the first `lead_words` words only, which a
truncated copy shares with its original.

Canonical rule: within a batch documents are taken earliest `published_at`
first (undated last), then in input order; the first of a group is canonical,
except that a truncated copy gives way to the complete text that contains it
(the most complete version is the one worth summarizing). Across runs the stored
canonical is kept, so a document's canonical never moves once written. A new version of a
stored source (an edited file, an updated page) is never a near or contained copy of its own
earlier versions: it is the source's current text, canonical with its own summary, and
`latest_articles` and search show it; a version whose clean text is unchanged stays an exact copy. Each duplicate links
to a canonical document directly (no transitive chains): only canonical
documents are indexed, so a copy of a copy points at the original. The exact step runs
first, over the whole batch, so the first document of a text may afterwards turn out to be a
near or contained copy of another: its exact copies then follow it to its canonical, with its
method and similarity (they have its text, so that is their relation to the canonical; 'exact'
stays for copies of a canonical's own text). Whatever the batch size or file order.

MinHash is computed for a whole batch at once with numpy (64-bit word hashes
combined into shingle hashes, multiply-shift permutations, `minimum.reduceat`),
so the per-document Python work is one regex pass and dictionary look-ups.

The warehouse implements `DedupIndex`, so runs compare against everything already
stored through the band table, reading only the texts of confirmed-candidate documents.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from tasks.text.clean import fingerprint_text
from tasks.text.tokens import segmented
from tasks.document import Document, sha256_hex
from tasks.dedup import MINHASH_PERMUTATIONS, NEAR_DUP_THRESHOLD, SHINGLE_WORDS
from tasks.text.metadata import strip_wire_dateline

_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SHINGLE_MUL = np.uint64(0x9E3779B97F4A7C15)
# fixed seed: band keys are stored, so every run must draw the same permutations
_PERM_SEED = 20240607
# band ids of the lead bands start here, apart from the full-text bands
LEAD_BAND_BASE = 100
# Band ids say their banding: rows * BAND_ID_ROWS + band index. Ids below LEAD_BAND_BASE are the
# banding every warehouse used before the threshold chose it (14 bands x 8 rows), still looked up.
BAND_ID_ROWS = 256
LEGACY_ROWS = 8


def banding_for(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows) for LSH candidates: the most rows per band (the fewest chance candidates) with
    which a pair at exactly `threshold` Jaccard shares a band with probability >= `recall`,
    1 - (1 - t^r)^b with b = num_perm // r (pairs above the threshold are found more often still)."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def band_rows_and_index(band_id: int) -> tuple[int, int] | None:
    """(rows, band index) a full-text band id was made with; None for a lead band."""
    if band_id < LEAD_BAND_BASE:
        return LEGACY_ROWS, band_id
    if band_id < BAND_ID_ROWS:
        return None
    return divmod(band_id, BAND_ID_ROWS)


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = NEAR_DUP_THRESHOLD
    num_perm: int = MINHASH_PERMUTATIONS
    # chance that a pair at exactly `threshold` becomes a candidate: the banding follows the threshold
    candidate_recall: float = 0.99
    shingle_words: int = SHINGLE_WORDS
    # containment (truncated re-publication): share of the shorter text's shingles found in the longer
    containment_threshold: float = 0.9
    # below this many shingles a text is too short for containment to mean re-publication
    min_containment_shingles: int = 40
    lead_words: int = 60
    lead_bands: int = 2  # each uses `lead_rows` permutations of the lead signature
    lead_rows: int = 8  # a truncated copy shares its whole lead: any banding finds it
    # canonical documents one band key proposes at most (the earliest of the batch; of stored ones the
    # smallest doc_ids): a lead or band that thousands of different texts share (a house intro line, an
    # adversarial batch) made every document compare with every other, O(n^2) per batch and growing
    # with the warehouse across runs; a real copy shares ~20 bands with its original, not one
    max_bucket: int = 32

    @property
    def banding(self) -> tuple[int, int]:
        return banding_for(self.threshold, self.num_perm, self.candidate_recall)

    @property
    def bands(self) -> int:
        return self.banding[0]

    @property
    def rows(self) -> int:
        return self.banding[1]

    def band_ids(self) -> list[int]:
        """Ids of the full-text bands this configuration writes."""
        bands, rows = self.banding
        return [rows * BAND_ID_ROWS + b for b in range(bands)]


class DedupIndex(Protocol):
    def find_exact(self, text_hashes: list[str]) -> dict[str, str]: ...
    def find_band_matches(self, keys: list[tuple[int, int]], per_key: int) -> dict[tuple[int, int], list[str]]: ...
    def texts(self, doc_ids: list[str]) -> dict[str, str]: ...
    def stored_band_ids(self) -> list[int]: ...


class EmptyIndex:
    def find_exact(self, text_hashes):
        return {}

    def stored_band_ids(self):
        return []

    def find_band_matches(self, keys, per_key):
        return {}

    def texts(self, doc_ids):
        return {}


def text_hash(text: str) -> str:
    return sha256_hex(fingerprint_text(text))


def word_shingles(text: str, n: int) -> set[str]:
    """String shingles: the readable reference (and the benchmark's baseline)."""
    words = _WORD.findall(text.casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# -- hashing ---------------------------------------------------------------------
_WORD_HASHES: dict[str, int] = {}


def _word_hash(word: str) -> int:
    h = _WORD_HASHES.get(word)
    if h is None:
        if len(_WORD_HASHES) > 2_000_000:  # bound the cache on unbounded vocabularies
            _WORD_HASHES.clear()
        h = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        _WORD_HASHES[word] = h
    return h


def _avalanche(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads every input bit over the output
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def shingle_hashes(text: str, n: int) -> np.ndarray:
    """64-bit hashes of the word n-gram shingles, in text order (not deduplicated). Scripts
    without spaces count a character as a word (`segmented`), so a Japanese article's shingles
    are not whole clauses; for a text stored by an earlier run and for a new one alike."""
    words = _WORD.findall(segmented(text).casefold())
    if not words:
        return np.empty(0, dtype=np.uint64)
    w = np.fromiter((_word_hash(x) for x in words), dtype=np.uint64, count=len(words))
    if len(w) < n:
        n = len(w)
    count = len(w) - n + 1
    with np.errstate(over="ignore"):
        h = w[:count].copy()
        for k in range(1, n):
            h = (h * _SHINGLE_MUL) ^ w[k : k + count]
        return _avalanche(h)


def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_PERM_SEED)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(shingle_sets: list[np.ndarray], num_perm: int, chunk: int = 1 << 20) -> np.ndarray:
    """(documents x num_perm) MinHash signatures, 32-bit values in uint64.

    Permutation i is multiply-shift hashing ((a_i*x + b_i) mod 2^64) >> 32; the minimum
    per document is one `minimum.reduceat` over the concatenated shingles, in chunks of
    about `chunk` shingles so memory stays bounded whatever the batch size.
    """
    a, b = _permutations(num_perm)
    out = np.full((len(shingle_sets), num_perm), np.uint64(0xFFFFFFFF), dtype=np.uint64)
    start = 0
    while start < len(shingle_sets):
        end, total = start, 0
        while end < len(shingle_sets) and (total == 0 or total + len(shingle_sets[end]) <= chunk):
            total += len(shingle_sets[end])
            end += 1
        part = shingle_sets[start:end]
        lengths = np.fromiter((len(s) for s in part), dtype=np.int64, count=len(part))
        nonempty = np.flatnonzero(lengths)
        if len(nonempty):
            flat = np.concatenate([part[i] for i in nonempty])
            offsets = np.concatenate(([0], np.cumsum(lengths[nonempty])[:-1]))
            rows = start + nonempty
            with np.errstate(over="ignore"):
                for i in range(num_perm):
                    hv = (flat * a[i] + b[i]) >> np.uint64(32)
                    out[rows, i] = np.minimum.reduceat(hv, offsets)
        start = end
    return out


def band_key_matrix(signatures: np.ndarray, bands: int, rows: int, band_base: int = 0) -> np.ndarray:
    """(documents x bands) 63-bit band keys (fit DuckDB BIGINT), hashed from each band's rows."""
    return _band_keys(signatures, [(band_base + band, rows, band) for band in range(bands)])


def _band_keys(signatures: np.ndarray, bands: list[tuple[int, int, int]]) -> np.ndarray:
    """(documents x len(bands)) keys of (band id, rows, band index) bands: the id seeds the hash,
    signature columns index*rows .. (index+1)*rows - 1 fill it."""
    keys = np.empty((signatures.shape[0], len(bands)), dtype=np.int64)
    with np.errstate(over="ignore"):
        for out, (band_id, rows, index) in enumerate(bands):
            k = np.full(signatures.shape[0], np.uint64(band_id + 1) * _SHINGLE_MUL, dtype=np.uint64)
            for j in range(index * rows, (index + 1) * rows):
                k = _avalanche(k ^ signatures[:, j])
            keys[:, out] = (k >> np.uint64(1)).astype(np.int64)
    return keys


def full_bands(band_ids: list[int], num_perm: int) -> list[tuple[int, int, int]]:
    """(band id, rows, index) of the full-text band ids a signature of `num_perm` values can fill."""
    out = []
    for band_id in band_ids:
        decoded = band_rows_and_index(band_id)
        if decoded is not None and (decoded[1] + 1) * decoded[0] <= num_perm:
            out.append((band_id, *decoded))
    return out


def set_similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger) of two sorted unique hash arrays."""
    if not len(a) and not len(b):
        return 1.0, 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union, inter / max(1, min(len(a), len(b)))


# -- the stage ---------------------------------------------------------------------
@dataclass
class DedupOutcome:
    # band keys for the canonical documents, to be stored so later runs can find them
    band_keys: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def canonical_order(docs: list[Document]) -> list[int]:
    """Indices of `docs` in the order the canonical rule considers them (see module doc)."""
    return sorted(range(len(docs)), key=lambda i: (docs[i].published_at is None, docs[i].published_at or date.max, i))


def doc_shingles(doc: Document, n: int) -> np.ndarray:
    """`shingle_hashes` of the document's clean text, computed once per document."""
    key = ("shingles", n)
    if key not in doc.derived:
        doc.derived[key] = shingle_hashes(doc.text, n)
    return doc.derived[key]


def doc_text_hash(doc: Document) -> str:
    if "text_sha256" not in doc.derived:
        doc.derived["text_sha256"] = text_hash(doc.text)
    return doc.derived["text_sha256"]


def _lead_shingles(doc: Document, ordered: np.ndarray, n: int) -> np.ndarray:
    """The shingles a document's lead starts with, after a wire dateline ("LONDON (Reuters) - "): a
    re-publication that adds one shifts its lead by a few words, and 11 % of truncated copies with
    one were never proposed (their lead bands missed the original's)."""
    text = doc.text.lstrip()
    bare = strip_wire_dateline(text[:_LEAD_CHARS])
    return ordered if len(bare) == len(text[:_LEAD_CHARS]) else shingle_hashes(bare, n)


_LEAD_CHARS = 4000  # more than the lead's words take in any script


def _fingerprints(docs: list[Document], config: DedupConfig, older: list[tuple[int, int, int]]
                  ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Unique shingle sets; every band key this configuration writes (full-text bands then lead
    bands) per document; and the keys of `older` bandings still stored, only to look up."""
    ordered = [doc_shingles(d, config.shingle_words) for d in docs]
    unique = [np.unique(s) for s in ordered]
    signatures = minhash_signatures(unique, config.num_perm)
    full = _band_keys(signatures, full_bands(config.band_ids(), config.num_perm))
    lead_count = max(1, config.lead_words - config.shingle_words + 1)
    lead_sets = [np.unique(_lead_shingles(d, s, config.shingle_words)[:lead_count]) for d, s in zip(docs, ordered)]
    lead_perm = config.lead_bands * config.lead_rows
    lead = band_key_matrix(minhash_signatures(lead_sets, lead_perm), config.lead_bands, config.lead_rows, LEAD_BAND_BASE)
    return unique, np.hstack([full, lead]), _band_keys(signatures, older)


def _band_ids(config: DedupConfig) -> list[int]:
    return config.band_ids() + [LEAD_BAND_BASE + j for j in range(config.lead_bands)]


def deduplicate(docs: list[Document], index: DedupIndex, config: DedupConfig = DedupConfig()) -> DedupOutcome:
    """Mark each document's `duplicate_of` / `duplicate_method` / `similarity` in place."""
    outcome = DedupOutcome()
    for doc in docs:
        doc.text_sha256 = doc_text_hash(doc)
    stored_exact = index.find_exact(sorted({d.text_sha256 for d in docs}))

    batch_exact: dict[str, str] = {}
    remaining: list[Document] = []
    # a new version of a stored source first: a copy of its text elsewhere in the batch is its copy (in
    # file order after it, that copy was canonical, turned out a near copy of the source's old text,
    # and took the new version along with it: an edit stored as a copy of itself)
    versions_first = sorted(canonical_order(docs), key=lambda i: not docs[i].meta.get("earlier_versions"))
    for i in versions_first:
        doc = docs[i]
        if doc.headline_only:
            # a walled page's headline alone: no article text to be a copy of or to be copied (two
            # days' "Morning briefing" pages behind one paywall were exact copies of each other)
            continue
        original = stored_exact.get(doc.text_sha256) or batch_exact.get(doc.text_sha256)
        if original in doc.meta.get("earlier_versions", ()):
            original = None  # its own earlier version, whose fingerprint a corrected figure ("1.5" -> "15") keeps
        if original is not None and original != doc.doc_id:
            _mark(doc, original, "exact", 1.0)
        else:
            batch_exact[doc.text_sha256] = doc.doc_id
            remaining.append(doc)
    if not remaining:
        return outcome
    _near_duplicates(docs, remaining, index, config, outcome)
    _follow_to_canonicals(docs)
    return outcome


def _near_duplicates(docs: list[Document], remaining: list[Document], index: DedupIndex, config: DedupConfig,
                     outcome: DedupOutcome) -> None:
    """The near / contained step over the documents the exact step left canonical (`remaining`)."""
    band_ids = _band_ids(config)
    # documents stored under another threshold carry that threshold's bands: look those up too
    older = full_bands(sorted(set(index.stored_band_ids()) - set(band_ids)), config.num_perm)
    sets, key_matrix, older_keys = _fingerprints(remaining, config, older)
    keys = [list(zip(band_ids, row.tolist())) for row in key_matrix]
    looked_up = [ks + list(zip([b[0] for b in older], row.tolist())) for ks, row in zip(keys, older_keys)]
    cap = config.max_bucket
    stored_matches = index.find_band_matches(sorted({k for ks in looked_up for k in ks}), per_key=cap)
    stored_candidates = [sorted({c for k in ks for c in stored_matches.get(k, ())}) for ks in looked_up]
    wanted = sorted({c for cs in stored_candidates for c in cs})
    stored_texts = index.texts(wanted)
    stored_sets = {}
    if stored_texts:
        ids = list(stored_texts)
        stored_sets = dict(zip(ids, (np.unique(shingle_hashes(stored_texts[i], config.shingle_words)) for i in ids)))

    batch_sets: dict[str, np.ndarray] = {}
    batch_buckets: dict[tuple[int, int], list[str]] = {}
    batch_docs: dict[str, Document] = {}
    replaced: dict[str, str] = {}  # truncated batch canonical -> the complete text that took its place
    for doc, mine, doc_keys, stored_cands in zip(remaining, sets, keys, stored_candidates):
        best: tuple[float, str, str] | None = None  # (score, doc_id, method)
        earlier = doc.meta.get("earlier_versions", ())
        cands = [(c, stored_sets.get(c)) for c in stored_cands if c not in earlier]
        in_batch = {replaced.get(c, c) for k in doc_keys for c in batch_buckets.get(k, ())[:cap]}
        cands += [(c, batch_sets[c]) for c in sorted(in_batch)]
        for cand, theirs in cands:
            if theirs is None:
                continue
            jac, contained = set_similarity(mine, theirs)
            if jac >= config.threshold:
                hit = (jac, cand, "near")
            elif (contained >= config.containment_threshold
                  and min(len(mine), len(theirs)) >= config.min_containment_shingles):
                hit = (contained, cand, "contained")
            else:
                continue
            if best is None or hit[0] > best[0]:
                best = hit
        completes = (best is not None and best[2] == "contained" and best[1] in batch_docs
                     and len(mine) > len(batch_sets[best[1]]))
        if best is not None and not completes:
            _mark(doc, best[1], best[2], round(best[0], 4))
            continue
        if best is not None:
            # this document completes a truncated canonical of the same batch: it takes its place
            loser = best[1]
            for other in docs:
                if other.duplicate_of == loser:  # copies of the truncation are truncations of this text too
                    _mark(other, doc.doc_id, "contained", round(best[0], 4))
            _mark(batch_docs.pop(loser), doc.doc_id, "contained", round(best[0], 4))
            outcome.band_keys.pop(loser, None)
            replaced[loser] = doc.doc_id
            for key, value in replaced.items():
                if value == loser:
                    replaced[key] = doc.doc_id
        outcome.band_keys[doc.doc_id] = doc_keys
        batch_sets[doc.doc_id] = mine
        batch_docs[doc.doc_id] = doc
        for k in doc_keys:
            batch_buckets.setdefault(k, []).append(doc.doc_id)


def _follow_to_canonicals(docs: list[Document]) -> None:
    """Re-point every duplicate of a batch document that is itself a duplicate at that one's canonical.

    Only exact copies can be left so: the exact step ties them to the batch's first document with
    their text before the near step compares that document with the canonicals (stored ones and the
    batch's). Such a copy has that document's text, so it takes that document's method and
    similarity (near / contained, the score against the canonical); a copy whose link is already near
    or contained keeps its own (those links are only ever made to canonicals, or re-pointed to the
    complete text that replaced one)."""
    by_id = {d.doc_id: d for d in docs}
    for doc in docs:
        target = by_id.get(doc.duplicate_of) if doc.duplicate_of is not None else None
        if target is None or target.duplicate_of is None:
            continue
        method, similarity = doc.duplicate_method, doc.similarity
        seen = {doc.doc_id}
        original = doc.duplicate_of
        while target is not None and target.duplicate_of is not None and target.doc_id not in seen:
            seen.add(target.doc_id)
            if method == "exact":  # the same text as `target`: its relation to the canonical is ours
                method, similarity = target.duplicate_method, target.similarity
            original = target.duplicate_of
            target = by_id.get(original)
        _mark(doc, original, method, similarity)


def _mark(doc: Document, original: str, method: str, similarity: float) -> None:
    doc.duplicate_of = original
    doc.duplicate_method = method
    doc.similarity = similarity


__all__ = [
    "DedupConfig", "DedupIndex", "EmptyIndex", "DedupOutcome", "deduplicate", "text_hash", "canonical_order",
    "word_shingles", "shingle_hashes", "doc_shingles", "doc_text_hash", "minhash_signatures", "band_key_matrix",
    "jaccard", "set_similarity", "LEAD_BAND_BASE", "banding_for", "band_rows_and_index", "full_bands",
]
