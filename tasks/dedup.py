"""Exact and near-duplicate detection (pure logic over a lookup seam).

Exact: SHA-256 of the fingerprint-normalised clean text.
Near: MinHash over word n-gram shingles, LSH banding for candidates, every
candidate confirmed with the true Jaccard similarity of the shingle sets.
Each duplicate links to a canonical document directly (no transitive chains):
only canonical documents are indexed, so a copy of a copy points at the original.
Canonical = the first one ingested; within one batch, input order.

The warehouse implements `DedupIndex`, so runs compare against everything already
stored through the band table, without re-reading every stored text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from datasketch import MinHash

from tasks.clean import fingerprint_text
from tasks.document import Document, sha256_hex

_WORD = re.compile(r"\w+", re.UNICODE)
_MINHASH_SEED = 1


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = 0.8  # true Jaccard needed to call two texts near-duplicates
    num_perm: int = 112
    bands: int = 14  # 14 x 8 rows: candidate threshold ~ (1/14)^(1/8) = 0.72 (datatrove's default)
    shingle_words: int = 5

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands


class DedupIndex(Protocol):
    def find_exact(self, text_hashes: list[str]) -> dict[str, str]: ...
    def find_band_matches(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], list[str]]: ...
    def texts(self, doc_ids: list[str]) -> dict[str, str]: ...


class EmptyIndex:
    def find_exact(self, text_hashes):
        return {}

    def find_band_matches(self, keys):
        return {}

    def texts(self, doc_ids):
        return {}


def text_hash(text: str) -> str:
    return sha256_hex(fingerprint_text(text))


def word_shingles(text: str, n: int) -> set[str]:
    words = _WORD.findall(text.casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


_TEMPLATES: dict[int, MinHash] = {}


def minhash_signature(shingles: Iterable[str], num_perm: int) -> np.ndarray:
    # drawing the permutations is a large share of the cost for short texts: draw them once
    if num_perm not in _TEMPLATES:
        _TEMPLATES[num_perm] = MinHash(num_perm=num_perm, seed=_MINHASH_SEED)
    template = _TEMPLATES[num_perm]
    mh = MinHash(num_perm=num_perm, seed=_MINHASH_SEED, permutations=template.permutations, scheme=template.scheme)
    mh.update_batch([s.encode("utf-8") for s in shingles])
    return mh.hashvalues


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """One 63-bit key per band (fits DuckDB BIGINT), from a hash of that band's rows."""
    keys = []
    for band in range(bands):
        chunk = signature[band * rows : (band + 1) * rows].astype(np.uint64).tobytes()
        digest = sha256_hex(chunk)[:16]
        keys.append((band, int(digest, 16) >> 1))
    return keys


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass
class DedupOutcome:
    # band keys for the canonical documents, to be stored so later runs can find them
    band_keys: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def deduplicate(docs: list[Document], index: DedupIndex, config: DedupConfig = DedupConfig()) -> DedupOutcome:
    """Mark each document's `duplicate_of` / `duplicate_method` / `similarity` in place."""
    outcome = DedupOutcome()
    for doc in docs:
        doc.text_sha256 = text_hash(doc.text)
    stored_exact = index.find_exact(sorted({d.text_sha256 for d in docs}))

    batch_exact: dict[str, str] = {}
    remaining: list[Document] = []
    for doc in docs:
        original = stored_exact.get(doc.text_sha256) or batch_exact.get(doc.text_sha256)
        if original is not None and original != doc.doc_id:
            _mark(doc, original, "exact", 1.0)
        else:
            batch_exact[doc.text_sha256] = doc.doc_id
            remaining.append(doc)

    shingles = {d.doc_id: word_shingles(d.text, config.shingle_words) for d in remaining}
    keys = {
        d.doc_id: band_keys(minhash_signature(shingles[d.doc_id], config.num_perm), config.bands, config.rows)
        for d in remaining
    }
    all_keys = sorted({k for ks in keys.values() for k in ks})
    stored_matches = index.find_band_matches(all_keys)
    stored_candidates = {
        d.doc_id: sorted({c for k in keys[d.doc_id] for c in stored_matches.get(k, ())}) for d in remaining
    }
    stored_texts = index.texts(sorted({c for cs in stored_candidates.values() for c in cs}))
    stored_shingles = {i: word_shingles(t, config.shingle_words) for i, t in stored_texts.items()}

    batch_buckets: dict[tuple[int, int], list[str]] = {}
    for doc in remaining:
        mine = shingles[doc.doc_id]
        best_id, best_sim = None, 0.0
        for cand in stored_candidates[doc.doc_id]:
            sim = jaccard(mine, stored_shingles.get(cand, set()))
            if sim > best_sim:
                best_id, best_sim = cand, sim
        for cand in {c for k in keys[doc.doc_id] for c in batch_buckets.get(k, ())}:
            sim = jaccard(mine, shingles[cand])
            if sim > best_sim or (sim == best_sim and best_id is not None and cand < best_id):
                best_id, best_sim = cand, sim
        if best_id is not None and best_sim >= config.threshold:
            _mark(doc, best_id, "near", round(best_sim, 4))
            continue
        outcome.band_keys[doc.doc_id] = keys[doc.doc_id]
        for k in keys[doc.doc_id]:
            batch_buckets.setdefault(k, []).append(doc.doc_id)
    return outcome


def _mark(doc: Document, original: str, method: str, similarity: float) -> None:
    doc.duplicate_of = original
    doc.duplicate_method = method
    doc.similarity = similarity


__all__ = [
    "DedupConfig", "DedupIndex", "EmptyIndex", "DedupOutcome", "deduplicate", "text_hash",
    "word_shingles", "minhash_signature", "band_keys", "jaccard",
]
