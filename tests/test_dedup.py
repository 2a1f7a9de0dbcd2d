import random

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
