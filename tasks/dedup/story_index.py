"""`StoryIndex` over the warehouse: the story stage's lookups (`warehouse.stories.StoryTables`,
the SQL) turned into the candidate lists and stored vectors `tasks.dedup.stories` works with."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from tasks.dedup.stories import StoredVectors, rank_candidates
from warehouse.stories import StoryTables


class WarehouseStoryIndex:
    """`tasks.dedup.stories.StoryIndex` over the story tables (term postings, not texts)."""

    def __init__(self, warehouse):
        self.tables = StoryTables(warehouse)

    def term_stats(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        return self.tables.term_stats(terms)

    def candidates(self, queries: dict[str, list[str]], limit: int, max_postings: int) -> dict[str, list[str]]:
        terms = sorted({t for asked in queries.values() for t in asked})
        if not terms:
            return {}
        # DuckDB keeps what a query read cached until the database closes: the deduplication's
        # lookups and the term statistics would stay under the postings scan (the largest read),
        # and the scan under the vector fetch. Reopening costs ~10 ms each time.
        self.tables.warehouse.release_memory()
        postings = self.tables.postings(terms, max_postings)
        self.tables.warehouse.release_memory()
        return rank_candidates(queries, postings.column("term"), postings.column("doc_id"), limit)

    def vectors(self, doc_ids: list[str]) -> StoredVectors:
        out = StoredVectors()
        if not doc_ids:
            return out
        meta, entries = self.tables.vector_rows(doc_ids)
        self.tables.warehouse.release_memory()  # its scan of story_terms, before the lookups after it
        out.doc_ids = [r[0] for r in meta]
        out.published = [r[1] for r in meta]
        out.story = [r[2] for r in meta]  # None for a document that has no story (yet)
        out.entry_doc = entries.column("pos").to_numpy().astype(np.int32, copy=False)
        numbered = pc.dictionary_encode(entries.column("term").combine_chunks())  # in Arrow, not per entry in Python
        out.terms = numbered.dictionary.to_pylist()
        out.entry_term = numbered.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        out.entry_count = entries.column("weight").to_numpy()
        return out

    def stories_of(self, doc_ids: list[str]) -> dict[str, str]:
        return self.tables.stories_of(doc_ids)

    def members_of(self, story_ids: list[str], limit: int) -> dict[str, list[str]]:
        return self.tables.members_of(story_ids, limit)

    def leaned_on(self, doc_ids: list[str]) -> set[str]:
        return self.tables.leaned_on(doc_ids)

    def lookups_done(self) -> None:
        self.tables.warehouse.release_memory()
