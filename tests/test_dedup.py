import random
from pathlib import Path

import numpy as np
import pytest

from tasks.dedup.duplicates import DedupConfig, EmptyIndex, deduplicate, jaccard, word_shingles
from tasks.document import Document, sha256_hex
from warehouse.store import Warehouse

WORDS = ("market shares rose after the central bank said inflation would fall faster than expected while "
         "analysts warned that growth in the region remained weak and exports to europe slowed sharply").split()


def article(seed: int, n: int = 220) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + ("." if i % 17 == 16 else "") for i in range(n))


def doc(source: str, text: str) -> Document:
    d = Document(source=source, source_kind="file", raw_text=text, raw_sha256=sha256_hex(text))
    d.text = text
    return d


def light_edit(text: str) -> str:
    words = text.split()
    words[50] = "edited"
    return " ".join(words) + " Follow us on social media."


def test_exact_duplicate_ignores_case_and_whitespace():
    a = doc("a", article(1))
    b = doc("b", "  " + article(1).upper().replace(" ", "   "))
    deduplicate([a, b], EmptyIndex())
    assert a.duplicate_of is None
    assert (b.duplicate_of, b.duplicate_method, b.similarity) == (a.doc_id, "exact", 1.0)


def test_near_duplicate_found_and_unrelated_kept():
    a, b, c = doc("a", article(1)), doc("b", light_edit(article(1))), doc("c", article(2))
    deduplicate([a, b, c], EmptyIndex())
    assert b.duplicate_of == a.doc_id and b.duplicate_method == "near"
    assert 0.8 <= b.similarity < 1.0
    assert c.duplicate_of is None and a.duplicate_of is None


def test_threshold_is_respected():
    a, b = doc("a", article(1)), doc("b", light_edit(article(1)))
    sim = jaccard(word_shingles(a.text, 5), word_shingles(b.text, 5))
    deduplicate([a, b], EmptyIndex(), DedupConfig(threshold=min(1.0, sim + 0.01)))
    assert b.duplicate_of is None


def test_copy_of_a_copy_links_to_the_canonical():
    a = doc("a", article(3))
    b = doc("b", light_edit(article(3)))
    c = doc("c", light_edit(article(3)) + " Extra.")
    deduplicate([a, b, c], EmptyIndex())
    assert b.duplicate_of == a.doc_id and c.duplicate_of == a.doc_id


def test_cross_run_dedup_through_the_warehouse(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    first = [doc("a", article(5)), doc("b", article(6))]
    outcome = deduplicate(first, store)
    store.write_batch("run-1", first, [], outcome.band_keys, summary_length="sentences=3")

    again = doc("a2", article(5))
    near = doc("b2", light_edit(article(6)))
    new = doc("c", article(7))
    deduplicate([again, near, new], store)
    assert (again.duplicate_of, again.duplicate_method) == (first[0].doc_id, "exact")
    assert (near.duplicate_of, near.duplicate_method) == (first[1].doc_id, "near")
    assert new.duplicate_of is None


def truncated(text: str, keep: float = 0.5) -> str:
    words = text.split()
    return " ".join(words[: int(len(words) * keep)])


def test_truncated_republication_is_contained_not_new():
    a, short = doc("a", article(11)), doc("short", truncated(article(11)))
    assert jaccard(word_shingles(a.text, 5), word_shingles(short.text, 5)) < 0.6  # Jaccard alone misses it
    deduplicate([a, short, doc("c", article(12))], EmptyIndex())
    assert (short.duplicate_of, short.duplicate_method) == (a.doc_id, "contained")
    assert short.similarity >= 0.9


def test_complete_text_takes_the_place_of_an_earlier_truncation_in_a_batch():
    short, full, copy = doc("short", truncated(article(13))), doc("full", article(13)), doc("copy", truncated(article(13)) + " ")
    deduplicate([short, copy, full], EmptyIndex())
    assert full.duplicate_of is None
    assert (short.duplicate_of, short.duplicate_method) == (full.doc_id, "contained")
    assert (copy.duplicate_of, copy.duplicate_method) == (full.doc_id, "contained")  # re-pointed, no chain


def test_earliest_published_is_canonical():
    from datetime import date

    late, early = doc("late", light_edit(article(14))), doc("early", article(14))
    late.published_at, early.published_at = date(2024, 5, 2), date(2024, 5, 1)
    deduplicate([late, early], EmptyIndex())
    assert early.duplicate_of is None and late.duplicate_of == early.doc_id


def test_cross_run_truncation_found_through_lead_bands(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    first = [doc("a", article(15))]
    outcome = deduplicate(first, store)
    store.write_batch("run-1", first, [], outcome.band_keys, summary_length="sentences=3")
    short = doc("short", truncated(article(15), 0.4))
    deduplicate([short], store)
    assert (short.duplicate_of, short.duplicate_method) == (first[0].doc_id, "contained")


# -- candidates follow the threshold ----------------------------------------------------------
SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "pel", "dun", "sar", "ith", "bo", "qu", "nex", "ra", "til"]


def varied_article(seed: int, n: int = 300) -> list[str]:
    """Words from a vocabulary of thousands, so each 5-word shingle is (almost) unique."""
    rng = random.Random(seed)
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def every_nth_replaced(words: list[str], n: int) -> list[str]:
    return [("changed" + str(i)) if i % n == n // 2 else w for i, w in enumerate(words)]


def ingest_files(paths, warehouse, **parameters):
    """One ingest of these files as the flow runs it: tasks.pipeline.Pipeline with InlineStages."""
    from dataclasses import replace

    from flows.parameters import run_config
    from flows.settings import Settings
    from tasks.pipeline import InlineStages, Pipeline

    import uuid

    store = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)  # a path, or a lake store
    store.migrate()
    config = replace(run_config(Settings(_env_file=None), **parameters), workers=1)
    pipeline = Pipeline(store, config, InlineStages(), f"run-{uuid.uuid4()}")
    store.start_run(pipeline.run_id, None, {})
    for _ in pipeline.run_batches(pipeline.read_files(list(paths), [])):
        pass
    store.finish_run(pipeline.run_id, status="completed", counts=pipeline.totals.counts, timings=pipeline.totals.timings)
    return store


@pytest.mark.parametrize("threshold, every", [(0.55, 25), (0.7, 40)])
def test_near_duplicates_just_above_the_threshold_are_all_found_through_ingest(tmp_path, threshold, every):
    folder = tmp_path / "in"
    folder.mkdir()
    paths, jaccards = [], []
    for i in range(40):
        words = varied_article(1000 + i)
        copy = every_nth_replaced(words, every)
        jaccards.append(jaccard(word_shingles(" ".join(words), 5), word_shingles(" ".join(copy), 5)))
        for name, text in ((f"{i:02d}-a.txt", words), (f"{i:02d}-b.txt", copy)):
            (folder / name).write_text(" ".join(text) + ".\n", encoding="utf-8")
            paths.append(folder / name)
    assert threshold < min(jaccards) < threshold + 0.15  # just above the threshold
    store = ingest_files(paths, tmp_path / "w.duckdb", near_dup_threshold=threshold)
    _, rows = store.query("SELECT count(*) FROM duplicates WHERE method = 'near'")
    assert rows == [(40,)]


@pytest.mark.unit
@pytest.mark.parametrize("threshold", [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0])
def test_banding_finds_a_pair_at_the_threshold_with_99_percent(threshold):
    from tasks.dedup.duplicates import banding_for

    bands, rows = banding_for(threshold, 112)
    assert bands * rows <= 112
    assert 1 - (1 - threshold**rows) ** bands >= 0.99


def test_documents_stored_under_another_banding_are_still_found(tmp_path):
    from tasks.dedup.duplicates import band_key_matrix, minhash_signatures, shingle_hashes

    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    legacy, strict = doc("legacy", " ".join(varied_article(1))), doc("strict", " ".join(varied_article(2)))
    deduplicate([legacy], EmptyIndex())  # its text hash
    # a document indexed by an earlier version: 14 bands x 8 rows, band ids 0-13
    signature = minhash_signatures([np.unique(shingle_hashes(legacy.text, 5))], 112)
    legacy_keys = [(b, int(k)) for b, k in enumerate(band_key_matrix(signature, 14, 8)[0])]
    store.write_batch("run-0", [legacy], [], {legacy.doc_id: legacy_keys}, summary_length="sentences=3")
    # and one indexed at the default threshold
    outcome = deduplicate([strict], store, DedupConfig(threshold=0.8))
    store.write_batch("run-1", [strict], [], outcome.band_keys, summary_length="sentences=3")

    # copies at Jaccard ~0.9, looked up at another threshold: only the stored bands can find them
    copies = [doc("legacy-copy", " ".join(every_nth_replaced(legacy.text.split(), 100))),
              doc("strict-copy", " ".join(every_nth_replaced(strict.text.split(), 100)))]
    _, ids = store.query("SELECT band FROM minhash_band_ids WHERE band < 100 ORDER BY band")
    assert ids == [(b,) for b in range(14)]
    deduplicate(copies, store, DedupConfig(threshold=0.6))
    assert [c.duplicate_of for c in copies] == [legacy.doc_id, strict.doc_id]


GAS_BAN = [
    "The Riverton City Council voted on Thursday to ban natural gas hookups in most new buildings, making it "
    "the largest city in the state to require all-electric construction.",
    "The measure, which passed 11 to 4 after a five-hour hearing, applies to residential buildings of up to "
    "seven stories from July and to all new commercial buildings from the following January.",
    "Supporters said the ban would cut emissions and indoor air pollution, while restaurant owners warned "
    "that electric kitchens would raise their costs and slow their service during the busiest hours.",
    "The mayor, who had pushed for the ban since her election, said she would sign it next week and that the "
    "city would offer grants to help small landlords pay for heat pumps and induction stoves.",
    "Gas utilities have fought similar rules in other cities and a spokesman for the regional supplier said "
    "the company was studying the measure and had not decided whether to challenge it in court.",
]


def test_one_article_under_two_outlets_furniture_is_one_article(tmp_path):
    """The same story from two sites, each page with its own furniture around it (nav, a cut teaser,
    an author's bio, bookmarks and newsletter prompts, a second date line), is one text once cleaned:
    an exact copy; the first paragraphs re-published under a third site's masthead are a contained copy."""
    first = "\n\n".join(["Skip to contentSkip to site index", "City Council Votes to Ban Gas Stoves in New Buildings",
                         "The measure makes Riverton the largest city in the state to require all-electric...",
                         "Dec. 4, 2025", "Share full article", "By Daniel Okafor",
                         "Daniel Okafor covers city government and has reported on Riverton since 2021.", *GAS_BAN])
    second = "\n\n".join(["Keyboard shortcuts for audio player", "Riverton bans gas stoves in new buildings",
                          "4 December 2025", "Last modified on Thu 4 Dec 2025 18.02 GMT", *GAS_BAN,
                          "You can find this story in My Bookmarks.Or by navigating to the user icon in the top right.",
                          "Don't miss the biggest stories from Riverton. Sign up to the Riverton Daily newsletter here."])
    third = "\n\n".join(["Metro Wire Daily", "City Council Votes to Ban Gas Stoves in New Buildings", "4 Dec 2025",
                         *GAS_BAN[:3], "Read the full story at The Riverton Times."])
    paths = []
    for name, text in (("a.txt", first), ("b.txt", second), ("c.txt", third)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    store = ingest_files(paths, tmp_path / "w.duckdb")
    _, rows = store.query("SELECT d.source, o.source, x.method FROM duplicates x JOIN documents d ON d.doc_id = x.doc_id "
                          "JOIN documents o ON o.doc_id = x.duplicate_of ORDER BY d.source")
    got = {(Path(a).name, Path(b).name, m) for a, b, m in rows}
    assert got == {("b.txt", "a.txt", "exact"), ("c.txt", "a.txt", "contained")}, got


def test_a_truncated_copy_with_a_wire_dateline_is_found():
    """A re-publication that opens with "LONDON (Reuters) - " shifts its lead by a few words, so the
    lead bands (how truncated copies are proposed) missed about one in seven of them."""
    originals = [doc(f"orig{i}", article(500 + i)) for i in range(40)]
    copies = [doc(f"copy{i}", "LONDON (Reuters) - " + " ".join(o.text.split()[:110])) for i, o in enumerate(originals)]
    deduplicate(originals + copies, EmptyIndex())
    assert [c.duplicate_of for c in copies] == [o.doc_id for o in originals]
    assert all(c.duplicate_method == "contained" for c in copies)


def test_walled_pages_stored_by_their_headline_are_nobodys_copies():
    """Two days' "Morning briefing" behind one paywall are stored headline-only with one text: they
    were exact copies of each other, and could have been found near copies of any page so headlined."""
    walled = [doc(f"briefing-{day}", "Morning briefing") for day in (3, 4)]
    for d in walled:
        d.headline_only = True
    full = doc("article", "Morning briefing")
    deduplicate([*walled, full], EmptyIndex())
    assert [d.duplicate_of for d in walled] == [None, None] and full.duplicate_of is None


def _shared_lead_batch(n: int) -> list[Document]:
    """n different articles opening with one 70-word lead (their lead bands all collide): no copies."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(5000)]
    lead = " ".join(rng.choice(vocab) for _ in range(70))
    return [doc(f"lead-{i}.txt", lead + " " + " ".join(rng.choice(vocab) for _ in range(400))) for i in range(n)]


@pytest.mark.unit
def test_a_crowded_band_proposes_a_bounded_number_of_candidates(monkeypatch):
    # 300 different articles under one lead: every document compared with every earlier one before
    # (44,850 comparisons; 2,000 such articles took 11 s of the deduplicate stage, 4x per doubling)
    import tasks.dedup.duplicates as dup
    calls = []
    real = dup.set_similarity
    monkeypatch.setattr(dup, "set_similarity", lambda a, b: calls.append(1) or real(a, b))
    config = DedupConfig()
    docs = _shared_lead_batch(300)
    deduplicate(docs, EmptyIndex(), config)
    assert all(d.duplicate_of is None for d in docs)
    assert len(calls) <= len(docs) * (config.bands + config.lead_bands) * config.max_bucket
    assert len(calls) < 300 * 299 // 2 // 2


@pytest.mark.unit
def test_a_truncated_copy_is_still_found_in_a_crowded_lead():
    docs = _shared_lead_batch(100)
    words = docs[0].text.split()
    docs.append(doc("truncated.txt", " ".join(words[: len(words) * 2 // 3])))
    deduplicate(docs, EmptyIndex(), DedupConfig())
    assert docs[-1].duplicate_of == docs[0].doc_id and docs[-1].duplicate_method == "contained"
