from datetime import date

import pytest
from pathlib import Path

from tasks.dedup.duplicates import EmptyIndex, deduplicate
from tasks.document import Document, sha256_hex
from tasks.batch import clean_docs, read_paths

from flows.parameters import story_config
from flows.settings import Settings
from tasks.dedup.stories import EmptyStoryIndex, assign_stories, pair_similarity
from tasks.dedup.story_index import WarehouseStoryIndex
from warehouse.store import Warehouse

QUAKE_A = ("Earthquake strikes central Italy near Amatrice. A magnitude 6.2 earthquake struck central Italy "
           "overnight, destroying buildings in Amatrice and Accumoli; rescuers searched the rubble for survivors "
           "and the civil protection agency said dozens of people were killed in the quake.")
QUAKE_B = ("Rescuers dig for survivors after Italy quake. Emergency crews in Amatrice pulled survivors from "
           "collapsed homes after the overnight earthquake in central Italy; officials said the quake killed "
           "dozens and left the town of Accumoli in ruins.")
CONFIG = story_config(Settings(_env_file=None))

BUDGET = ("Parliament passes budget with new tax on banks. Lawmakers approved the annual budget on Tuesday, "
          "including a levy on bank profits and higher spending on schools, after the finance minister "
          "won support from coalition partners.")
FOOTBALL = ("Late goal sends United into cup final. A stoppage-time header from the captain gave United a "
            "two-one win over City in the semi-final, sending the club to its first cup final in a decade.")
FILLER = [
    "Central bank holds interest rates as inflation eases and the currency strengthens against the dollar.",
    "New smartphone launch draws queues as the company unveils a faster chip and a larger battery.",
    "Storm brings floods to coastal towns, closing roads and schools while farmers count crop losses.",
    "Museum reopens after renovation with a new wing for modern art and a rooftop garden for visitors.",
]


def doc(source: str, text: str, published: date | None = None) -> Document:
    d = Document(source=source, source_kind="file", raw_text=text, raw_sha256=sha256_hex(text))
    d.text = text
    d.published_at = published
    return d


def story_of(outcome, d: Document) -> str:
    return next(m["story_id"] for m in outcome.members if m["doc_id"] == d.doc_id)


def test_same_event_in_other_words_joins_one_story_and_other_events_do_not():
    a, b, c, e = doc("a", QUAKE_A), doc("b", QUAKE_B), doc("c", BUDGET), doc("e", FOOTBALL)
    docs = [a, b, c, e] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, a) == story_of(outcome, b) in (a.doc_id, b.doc_id)
    joined = next(m for m in outcome.members if m["doc_id"] in (a.doc_id, b.doc_id) and m["method"] != "seed")
    assert joined["method"] == "similar" and joined["matched_doc_id"] == story_of(outcome, a)
    assert CONFIG.threshold <= joined["similarity"] < 1.0
    assert len({story_of(outcome, d) for d in docs}) == len(docs) - 1


def test_an_undated_article_counts_as_published_the_day_it_is_ingested():
    today = date(2026, 11, 25)
    old, undated = doc("a", QUAKE_A, date(2016, 8, 24)), doc("b", QUAKE_B)
    recent = doc("c", QUAKE_A.replace("overnight", "on Tuesday night"), date(2026, 11, 20))
    docs = [old, undated, recent] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG, today=today)
    assert story_of(outcome, undated) != story_of(outcome, old)  # ten years apart, not "unknown"
    assert story_of(outcome, undated) == story_of(outcome, recent)  # five days apart


def test_a_link_fades_with_the_days_between_two_articles():
    # the embassy attack and the tweet about it share the attack: linked the next day; three weeks
    # apart (inside the 30-day window) the same words are another chapter of the subject, not the event
    score = pair_similarity(EMBASSY, TWEET_A, CONFIG)
    assert CONFIG.threshold <= score < CONFIG.threshold / (1 - (20 / (CONFIG.max_gap_days + 1)) ** 2), score

    def together(days_apart: int) -> bool:
        x, a = doc("x", EMBASSY, date(2020, 1, 1)), doc("a", TWEET_A, date.fromordinal(date(2020, 1, 1).toordinal() + days_apart))
        docs = [x, a] + [doc(f"f{i}", t, date(2020, 1, 1)) for i, t in enumerate(FILLER)]
        deduplicate(docs, EmptyIndex())
        outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
        return story_of(outcome, x) == story_of(outcome, a)

    assert together(1) and not together(20)


def test_two_dated_reports_three_weeks_apart_stay_apart_in_an_empty_warehouse(tmp_path):
    from tests.test_dedup import ingest_files

    def run(name: str, second_day: str) -> set[frozenset[str]]:
        paths = write_articles(tmp_path / name, [
            ("embassy.txt", f"Published 2020-01-01\n\n{EMBASSY}"), ("tweet.txt", f"Published {second_day}\n\n{TWEET_A}")])
        return stored_stories(ingest_files(paths.values(), tmp_path / f"{name}.duckdb"))

    assert run("next-day", "2020-01-02") == {frozenset({"embassy.txt", "tweet.txt"})}
    assert run("weeks-later", "2020-01-21") == {frozenset({"embassy.txt"}), frozenset({"tweet.txt"})}


def test_a_story_does_not_drift_through_a_chain_of_loosely_related_articles():
    # a ~ b and b ~ c, but c shares almost nothing with the story's first article a
    a = doc("a", "Flood waters rise in Valencia as the river bursts its banks and rescuers evacuate homes in Valencia.")
    b = doc("b", "Valencia flood rescuers evacuate homes; the same storm then grounds flights at Madrid airport.")
    c = doc("c", "Storm grounds flights at Madrid airport as airlines cancel flights and passengers sleep at the airport.")
    docs = [a, b, c] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, b) in (story_of(outcome, a), story_of(outcome, c))  # b goes with one of them
    assert story_of(outcome, c) != story_of(outcome, a)  # never both: c is not close to a story holding a
    for order in ([c, b, a], [b, a, c], [a, c, b]):  # whichever article comes first
        docs = [doc(x.source, x.text) for x in order] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
        deduplicate(docs, EmptyIndex())
        again = assign_stories(docs, EmptyStoryIndex(), CONFIG)
        assert story_of(again, docs[[d.source for d in docs].index("c")]) != story_of(again, docs[[d.source for d in docs].index("a")])


EMBASSY = ("Trump administration weighs its response in Iraq. The Trump administration faces a dilemma in Iraq after "
           "militia supporters attacked the US embassy in Baghdad; officials discussed troops, sanctions and the "
           "militia's ties to Iran with allies.")
TWEET_A = ("Veterans group tweet about the Baghdad embassy attack draws anger. VoteVets, a liberal veterans group, "
           "posted a tweet as militia supporters attacked the US embassy in Baghdad, and deleted the tweet after "
           "critics said it was rooting for another Benghazi.")
TWEET_B = ("VoteVets deletes tweet rooting for another Benghazi. The liberal group VoteVets deleted a tweet that "
           "critics said was rooting for another Benghazi; the veterans group said the tweet was misread and apologised.")


def test_an_article_goes_with_its_closest_partner_not_the_first_story_it_reaches():
    # read in date order, the first tweet article reached the embassy story first (a weaker link)
    # and the second, which shares nothing with the embassy story, was left alone
    sims = {n: pair_similarity(a, b, CONFIG) for n, a, b in
            (("embassy~a", EMBASSY, TWEET_A), ("a~b", TWEET_A, TWEET_B), ("embassy~b", EMBASSY, TWEET_B))}
    assert sims["a~b"] > sims["embassy~a"] >= CONFIG.threshold > sims["embassy~b"], sims  # the case holds
    x, a, b = doc("x", EMBASSY, date(2020, 1, 1)), doc("a", TWEET_A, date(2020, 1, 2)), doc("b", TWEET_B, date(2020, 1, 3))
    docs = [x, a, b] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, a) == story_of(outcome, b) != story_of(outcome, x)


def test_a_stored_article_leaves_a_looser_story_for_its_closest_partner_arriving_later(tmp_path):
    check_article_leaves_looser_story(tmp_path, lambda name: tmp_path / f"{name}.duckdb")


def write_articles(folder: Path, named: list[tuple[str, str]]) -> dict[str, Path]:
    """Each text as an article file in `folder` (created): file name -> path."""
    folder.mkdir()
    paths = {}
    for name, text in named:
        paths[name] = folder / name
        paths[name].write_text(text + "\n", encoding="utf-8")
    return paths


def stored_stories(store) -> set[frozenset[str]]:
    """The stories a warehouse holds, each as the file names of its documents."""
    _, rows = store.query("SELECT list(regexp_extract(d.source, '[^/]+$')) FROM story_members m "
                          "JOIN documents d USING (doc_id) GROUP BY m.story_id")
    return {frozenset(r[0]) for r in rows}


def check_article_leaves_looser_story(tmp_path, warehouse) -> None:
    """The case above over two runs, into the warehouse `warehouse(name)` gives: the first tweet article
    joins the embassy story (its only link then); its closer partner arrives in the next run. The
    stories end as one run forms them, and the embassy story keeps its seed."""
    from tests.test_dedup import ingest_files

    paths = write_articles(tmp_path / "in", [("embassy.txt", EMBASSY), ("tweet-a.txt", TWEET_A),
                                             ("tweet-b.txt", TWEET_B)] + [(f"f{i}.txt", t) for i, t in enumerate(FILLER)])

    def partition(store) -> set[frozenset[str]]:  # stories of two or more
        return {story for story in stored_stories(store) if len(story) > 1}

    one_run = ingest_files(paths.values(), warehouse("one"))
    two = warehouse("two")
    first = ingest_files([p for n, p in paths.items() if n != "tweet-b.txt"], two)
    assert partition(first) == {frozenset({"embassy.txt", "tweet-a.txt"})}  # the looser link, for now
    two_runs = ingest_files([paths["tweet-b.txt"]], two)
    assert partition(one_run) == partition(two_runs) == {frozenset({"tweet-a.txt", "tweet-b.txt"})}
    _, stories = two_runs.query("SELECT count(*), count(*) FILTER (WHERE s.story_id = s.seed_doc_id AND EXISTS "
                                "(SELECT 1 FROM story_members m WHERE m.story_id = s.story_id)) FROM stories s")
    assert stories == [(len(paths) - 1, len(paths) - 1)]  # the embassy story stays (its seed alone), none empty
    _, moved = two_runs.query("SELECT regexp_extract(d.source, '[^/]+$'), regexp_extract(ls.source, '[^/]+$') "
                              "FROM story_members m JOIN documents d USING (doc_id) "
                              "LEFT JOIN documents ls ON ls.doc_id = m.moved_from_story_id "
                              "WHERE m.moved_from_story_id IS NOT NULL")
    assert moved == [("tweet-a.txt", "embassy.txt")]  # the story it left, named after its seed


def test_an_article_another_joined_through_stays_in_its_story(tmp_path):
    """Moving it would leave the article that joined through it without its link."""
    def later_run(name: str, lean_on_a: bool):
        store = Warehouse(tmp_path / f"{name}.duckdb")
        store.migrate()
        index = WarehouseStoryIndex(store)
        x, a = doc("x", EMBASSY, date(2020, 1, 1)), doc("a", TWEET_A, date(2020, 1, 2))
        first = [x, a] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
        out = deduplicate(first, store)
        stories = assign_stories(first, index, CONFIG)
        assert story_of(stories, a) == x.doc_id
        if lean_on_a:  # a filler article is written as having joined the story through `a`
            for m in stories.members:
                if m["doc_id"] == first[2].doc_id:
                    m.update(story_id=x.doc_id, method="similar", matched_doc_id=a.doc_id)
        store.write_batch("run-1", first, [], out.band_keys, summary_length="sentences=3", stories=stories)
        assert index.leaned_on([a.doc_id, x.doc_id]) == ({a.doc_id, x.doc_id} if lean_on_a else {x.doc_id})
        b = doc("b", TWEET_B, date(2020, 1, 3))
        deduplicate([b], store)
        return assign_stories([b], index, CONFIG), a, b

    later, a, b = later_run("free", lean_on_a=False)
    assert [m["doc_id"] for m in later.moves] == [a.doc_id] and not later.moves[0]["story_emptied"]
    later, a, b = later_run("leaned-on", lean_on_a=True)
    assert later.moves == [] and story_of(later, b) == b.doc_id


def test_two_new_copies_of_a_stored_story_join_it_rather_than_start_their_own(tmp_path):
    # the two new articles are closer to each other than to the stored one, yet all three are one story
    extra = " Aftershocks rattled the region on Thursday and the government declared a state of emergency."
    first_copy = QUAKE_B + extra
    second_copy = ("Survivors pulled from rubble after central Italy earthquake. In Amatrice, emergency crews dug "
                   "survivors out of collapsed homes after the quake overnight; dozens were killed, officials said, "
                   "and Accumoli was left in ruins." + extra)
    assert pair_similarity(first_copy, second_copy, CONFIG) > pair_similarity(first_copy, QUAKE_A, CONFIG)
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    index = WarehouseStoryIndex(store)
    first = [doc("a", QUAKE_A)] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    out = deduplicate(first, store)
    store.write_batch("run-1", first, [], out.band_keys, summary_length="sentences=3",
                      stories=assign_stories(first, index, CONFIG))
    later = [doc("b1", first_copy), doc("b2", second_copy)]
    out = deduplicate(later, store)
    assert all(d.duplicate_of is None for d in later)  # reworded enough not to be near duplicates
    stories = assign_stories(later, index, CONFIG)
    assert {m["story_id"] for m in stories.members} == {first[0].doc_id}


def test_dates_far_apart_keep_a_retold_event_apart():
    a, b = doc("a", QUAKE_A, date(2016, 8, 24)), doc("b", QUAKE_B, date(2018, 8, 24))
    docs = [a, b] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, a) != story_of(outcome, b)


def test_duplicates_join_their_canonicals_story():
    a, copy = doc("a", QUAKE_A), doc("copy", QUAKE_A.upper())
    docs = [a, copy, doc("c", BUDGET)]
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    member = next(m for m in outcome.members if m["doc_id"] == copy.doc_id)
    assert (member["story_id"], member["method"], member["matched_doc_id"]) == (a.doc_id, "duplicate", a.doc_id)
    assert all(t[0] != copy.doc_id for t in outcome.terms)  # only canonicals are indexed


def test_stories_across_runs_use_the_stored_index(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    index = WarehouseStoryIndex(store)
    first = [doc("a", QUAKE_A), doc("c", BUDGET)] + [doc(f"f{i}", t) for i, t in enumerate(FILLER)]
    out = deduplicate(first, store)
    stories = assign_stories(first, index, CONFIG)
    store.write_batch("run-1", first, [], out.band_keys, summary_length="sentences=3", stories=stories)

    later = [doc("b", QUAKE_B), doc("e", FOOTBALL), doc("a-again", QUAKE_A + " Updated.")]
    out = deduplicate(later, store)
    stories = assign_stories(later, index, CONFIG)
    store.write_batch("run-2", later, [], out.band_keys, summary_length="sentences=3", stories=stories)

    _, rows = store.query("SELECT doc_id, story_id, method FROM story_members")
    got = {doc_id: (story, method) for doc_id, story, method in rows}
    assert got[later[0].doc_id] == (first[0].doc_id, "similar")
    assert got[later[2].doc_id] == (first[0].doc_id, "duplicate")
    assert got[later[1].doc_id] == (later[1].doc_id, "seed")
    _, overview = store.query("SELECT story_id, articles, documents FROM story_overview WHERE story_id = ?",
                              [first[0].doc_id])
    assert overview == [(first[0].doc_id, 2, 3)]
    _, df = store.query("SELECT df FROM story_term_df WHERE term = 'amatric'")
    assert df == [(2,)]


def test_seed_pair_2013_deal_and_2015_resolution_stay_apart(seeds_dir):
    docs, _ = read_paths(sorted(Path(seeds_dir).glob("*.txt")), 10_000_000)
    docs, _ = clean_docs(docs)
    # a realistic IDF: the two seeds among other news, as in a warehouse
    others = [doc(f"o{i}", t) for i, t in enumerate([QUAKE_A, QUAKE_B, BUDGET, FOOTBALL, *FILLER])]
    everything = docs + others
    deduplicate(everything, EmptyIndex())
    outcome = assign_stories(everything, EmptyStoryIndex(), CONFIG)
    assert len(docs) == 2
    assert story_of(outcome, docs[0]) != story_of(outcome, docs[1])


def test_candidates_rank_by_shared_query_terms_then_doc_id():
    import pyarrow as pa

    from tasks.dedup.stories import rank_candidates

    postings = [("syria", "d3"), ("chemical", "d3"), ("weapons", "d3"),
                ("syria", "d1"), ("weapons", "d1"),
                ("syria", "d2"), ("weapons", "d2"),
                ("flood", "d9"), ("syria", "d0")]
    queries = {"q1": ["syria", "chemical", "weapons"], "q2": ["flood", "rain"], "q3": ["volcano"]}
    got = rank_candidates(queries, pa.array([t for t, _ in postings]), pa.chunked_array([[d for _, d in postings]]), limit=3)
    # d3 shares 3 terms; d1 and d2 share 2 (tie: smaller doc_id first); d0's single term misses the limit
    assert got == {"q1": ["d3", "d1", "d2"], "q2": ["d9"]}
    assert rank_candidates(queries, pa.array([], pa.string()), pa.array([], pa.string()), limit=3) == {}


def partition(outcome, docs) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for d in docs:
        groups.setdefault(story_of(outcome, d), set()).add(d.source)
    return {frozenset(g) for g in groups.values()}


def test_two_articles_alone_in_an_empty_warehouse_form_a_story_on_the_prior():
    # IDF over the warehouse's own two documents would weigh every shared word zero
    a, b = doc("a", QUAKE_A), doc("b", QUAKE_B)
    deduplicate([a, b], EmptyIndex())
    outcome = assign_stories([a, b], EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, a) == story_of(outcome, b)
    c, e = doc("c", BUDGET), doc("e", FOOTBALL)
    deduplicate([c, e], EmptyIndex())
    outcome = assign_stories([c, e], EmptyStoryIndex(), CONFIG)
    assert story_of(outcome, c) != story_of(outcome, e)


def test_the_order_of_files_in_a_run_does_not_change_the_stories():
    texts = [("a", QUAKE_A), ("b", QUAKE_B), ("c", BUDGET), ("e", FOOTBALL)] + [(f"f{i}", t) for i, t in enumerate(FILLER)]
    seen = set()
    for shift in range(4):
        docs = [doc(s, t) for s, t in texts[shift:] + texts[:shift]][::-1 if shift % 2 else 1]
        deduplicate(docs, EmptyIndex())
        seen.add(frozenset(partition(assign_stories(docs, EmptyStoryIndex(), CONFIG), docs)))
    assert len(seen) == 1


def test_a_story_formed_across_two_runs_equals_one_formed_in_one_run(tmp_path):
    def run(store, run_id, docs):
        out = deduplicate(docs, store)
        stories = assign_stories(docs, WarehouseStoryIndex(store), CONFIG)
        store.write_batch(run_id, docs, [], out.band_keys, summary_length="sentences=3", stories=stories)

    def members(store):
        _, rows = store.query("SELECT d.source, m.story_id = m.doc_id, m.method, m.similarity FROM story_members m "
                              "JOIN documents d USING (doc_id) ORDER BY d.source")
        return rows

    once, twice = Warehouse(tmp_path / "once.duckdb"), Warehouse(tmp_path / "twice.duckdb")
    once.migrate()
    twice.migrate()
    day1, day2 = date(2016, 8, 24), date(2016, 8, 25)
    run(once, "run-1", [doc("a", QUAKE_A, day1), doc("b", QUAKE_B, day2)])
    run(twice, "run-1", [doc("a", QUAKE_A, day1)])
    run(twice, "run-2", [doc("b", QUAKE_B, day2)])  # the second article arrives a day later
    assert members(once) == members(twice)
    assert [m[2] for m in members(once)] == ["seed", "similar"]


@pytest.mark.unit
def test_story_terms_come_from_one_tokenizer_in_the_documents_language(monkeypatch):
    from tasks.dedup import terms

    german = terms.term_counts("Die Häuser in Amatrice wurden durch das Erdbeben zerstört", language="de")
    assert {"haus", "erdbeb", "amatric"} <= set(german) and "die" not in german  # German stems, German stop words
    assert terms.term_counts("2,500 houses; 6.2 magnitude; 1 dead")["#2500"] == 2  # numbers count (lead twice)
    assert terms.language_of(None) == terms.language_of("xx-unknown") == "en"
    # no stemmer: an alphabetic word's first five letters, in every case the language inflects it to
    assert terms.term_counts("Prezydent Trzaskowski; prezydenta Trzaskowskiego", language="pl") == {
        "prezy": 4, "trzas": 4}
    assert terms.term_counts("İstanbul istanbul İsrailli", language="tr") == {"istan": 4, "israi": 2}  # "İ" folds to "i"
    assert set(terms.term_counts("प्रधानमंत्री मोदी", language="hi")) == {"प्रधानमंत्री", "मोदी"}  # not five code points
    assert terms.prior_fraction("year") > 0.1 > 100 * terms.prior_fraction("amatric")  # common vs rare
    monkeypatch.setattr(terms, "tokens", lambda text, language: ["Erdbeben"])  # the one-line swap for CJK
    assert terms.term_counts("日本の地震", language="ja") == {"erdbeben": 2}


def test_story_settings_reach_the_run(monkeypatch):
    from flows.parameters import run_config

    monkeypatch.setenv("NEWSFLOW_STORY__THRESHOLD", "0.4")
    monkeypatch.setenv("NEWSFLOW_STORY__WINDOW_DAYS", "3")
    story = run_config(Settings(_env_file=None)).story
    assert (story.threshold, story.max_gap_days) == (0.4, 3)


def test_newsflow_stories_lists_a_story_and_explains_a_member(tmp_path, capsys):
    from newsflow.cli import main
    from tests.test_dedup import ingest_files

    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, text in [("quake-a.txt", QUAKE_A), ("quake-b.txt", QUAKE_B), ("budget.txt", BUDGET),
                       ("football.txt", FOOTBALL)]:
        (folder / name).write_text(text + "\n", encoding="utf-8")
        paths.append(folder / name)
    warehouse = tmp_path / "w.duckdb"
    ingest_files(paths, warehouse)
    assert main(["stories", "--warehouse", str(warehouse), "--format", "json"]) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1 and listed[0]["articles"] == 2
    assert "amatric" in listed[0]["tying_terms"]
    assert main(["stories", "--warehouse", str(warehouse), "--doc", str(folder / "quake-b.txt")]) == 0
    out = capsys.readouterr().out
    assert "centroid cosine" in out or "started the story" in out
    assert "Amatrice" in out  # the terms as the articles write them, not the stem "amatric"
    assert main(["stories", "--warehouse", str(warehouse), "--doc", "no-such-document"]) == 1


def test_a_paywalled_outlets_headline_joins_the_story_of_the_full_article(tmp_path):
    from tests.test_dedup import ingest_files

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "walled.txt").write_text(
        "Rescuers dig for survivors after Amatrice earthquake\n\n"
        "You have reached the limit for free access to our important and valuable work.\n\n"
        "Subscribers, click below to login or register your subscription to continue receiving unlimited "
        "access. Log In Sign Up\n", encoding="utf-8")
    (folder / "full.txt").write_text(QUAKE_A + "\n", encoding="utf-8")
    (folder / "other.txt").write_text(BUDGET + "\n", encoding="utf-8")
    store = ingest_files(sorted(folder.iterdir()), tmp_path / "w.duckdb")
    _, rows = store.query("SELECT regexp_extract(source, '[^/]+$'), headline_only, text FROM documents ORDER BY 1")
    assert [(r[0], r[1]) for r in rows] == [("full.txt", False), ("other.txt", False), ("walled.txt", True)]
    assert rows[2][2] == "Rescuers dig for survivors after Amatrice earthquake"
    _, stories = store.query("SELECT regexp_extract(d.source, '[^/]+$'), m.story_id FROM story_members m "
                             "JOIN documents d USING (doc_id)")
    story = dict(stories)
    assert story["walled.txt"] == story["full.txt"] != story["other.txt"]
    _, failures = store.query("SELECT count(*) FROM failures")
    assert failures == [(0,)]
    _, summarized = store.query("SELECT regexp_extract(d.source, '[^/]+$') FROM summaries s JOIN documents d "
                                "USING (doc_id) ORDER BY 1")
    assert summarized == [("full.txt",), ("other.txt",)]  # a headline is not summarized


def test_two_reports_behind_one_sign_up_box_are_two_headlines_not_copies_or_a_story(tmp_path):
    """A scraper got an outlet's sign-up box for two of its reports: stored as their text, the zoo fire
    and the e-cigarette ban were exact copies of each other (one kept no summary, and a search for
    the ban found the fire); two subscription pages formed a story on "subscrib print onlin edit"."""
    from tests.test_dedup import ingest_files

    folder = tmp_path / "in"
    folder.mkdir()
    box = "We'll send breaking news and news alerts to you as as they happen!\n\nSign up!\n"
    (folder / "zoo.txt").write_text("Apes, monkeys among 30 animals killed in German zoo fire\n" + box, encoding="utf-8")
    (folder / "ban.txt").write_text("E-cigarette ban now in place in Lincoln\n" + box, encoding="utf-8")
    (folder / "climate.txt").write_text(
        "Climate change conversation to shift dramatically, research shows\nSubscribing to our services is a three "
        "step process. First you have to create an account and then you have to pick if you want to subscribe to "
        "digital and or print.\n\nIf you are already a print subscriber and want online access, it is free.\n",
        encoding="utf-8")
    (folder / "oil.txt").write_text(
        "Oceaneering International, Inc. Announces Financial and Operational Update\nIf you already subscribe to our "
        "print edition, sign up for FREE access to our online edition. Thanks for reading The Henderson News.\n",
        encoding="utf-8")
    store = ingest_files(sorted(folder.iterdir()), tmp_path / "w.duckdb")
    _, rows = store.query("SELECT regexp_extract(source, '[^/]+$'), headline_only, is_canonical FROM documents "
                          "ORDER BY 1")
    assert rows == [("ban.txt", True, True), ("climate.txt", True, True), ("oil.txt", True, True),
                    ("zoo.txt", True, True)]
    _, stories = store.query("SELECT count(DISTINCT story_id) FROM story_members")
    assert stories == [(4,)]


FLOOD_PL = ("Powódź we Wrocławiu: Odra przerwała wał przy Kozanowie\n"
            "Woda z Odry przerwała w nocy wał przeciwpowodziowy na osiedlu Kozanów we Wrocławiu. Prezydent "
            "Wrocławia Jacek Sutryk zarządził ewakuację mieszkańców trzech ulic. Strażacy i żołnierze układali "
            "worki z piaskiem do rana. Według hydrologów fala kulminacyjna dotrze do miasta w czwartek.\n")
EVACUATION_PL = ("Ewakuacja Kozanowa. Zdaniem Sutryka sytuacja jest poważna\n"
                 "Mieszkańców Kozanowa ewakuowano po przerwaniu wału na Odrze. Według Jacka Sutryka, prezydenta "
                 "miasta, do pomocy skierowano wojsko. Żołnierzom i strażakom pomagają wolontariusze napełniający "
                 "worek za workiem. Hydrolodzy zapowiadają kulminację fali powodziowej we Wrocławiu za trzy dni.\n")
BUDGET_PL = ("Sejm przyjął budżet na przyszły rok\n"
             "Posłowie przegłosowali ustawę budżetową po całonocnej debacie. Minister finansów zapowiedział, że "
             "deficyt nie przekroczy trzech procent produktu krajowego brutto. Opozycja krytykowała wydatki na "
             "administrację i zapowiedziała skargę do Trybunału Konstytucyjnego.\n")


# two reports of one typhoon in different words (hand-written), and an unrelated one
TYPHOON_ZH = ("台风“海葵”登陆福建沿海 数万人紧急转移\n"
              "强台风“海葵”周三凌晨在福建省漳浦县沿海登陆，登陆时中心附近最大风力达十四级。当地政府已紧急转移沿海居民三万多人，"
              "厦门和漳州的学校停课，机场取消了大部分航班。气象部门表示，台风将继续向西北方向移动，强度逐渐减弱，"
              "但未来两天福建南部和广东东部仍将出现大暴雨，部分地区可能发生山洪和泥石流。")
TYPHOON_XIAMEN_ZH = ("“海葵”过境厦门 全城停电停航\n"
                     "今年第十一号台风“海葵”周三清晨在漳浦登陆后，狂风暴雨一路袭击厦门。高崎机场两百多个航班被迫取消，"
                     "轮渡全部停航，三万多名居民已被转移。记者在市区看到，不少街道的树木被大风吹倒，环卫工人冒雨清理路面。"
                     "一位开了二十年出租车的司机说，他从没见过这么大的风，早上出门时连车门都很难推开。"
                     "附近一家超市的店员告诉记者，前一天晚上就有很多市民来买面包、饮用水和蜡烛，货架几乎被搬空。"
                     "电力公司说，已有十几万户停电，抢修队伍正在加紧恢复供电，预计周四晚上前大部分地区可以来电。")
BUDGET_ZH = ("市政府公布明年财政预算 教育支出增加一成\n"
             "市财政局周二公布明年预算草案，全年支出预计增加百分之六，其中教育和医疗支出增幅最大。"
             "财政局长表示，政府将继续控制行政开支，并通过发行债券为地铁和医院建设筹集资金。议员将在下月审议预算。")


# two reports of one dyke breach, one in compounds (hand-written), and an unrelated one
DYKE_DE = ("Deichbruch an der Elbe: Hunderte Bewohner verlassen ihre Häuser\n"
           "Nach tagelangem Regen ist in der Nacht zum Mittwoch bei Wittenberge ein Elbdeich gebrochen. "
           "Der Landrat ließ die Ortsteile am Fluss räumen, Feuerwehrleute und Soldaten füllten bis zum Morgen Sandsäcke. "
           "Der Pegel der Elbe soll nach Angaben der Hochwasserzentrale bis Freitag weiter steigen.")
FLOOD_DEFENCES_DE = ("Hochwasserlage in Wittenberge spitzt sich zu\n"
                     "Die Hochwasserschutzanlagen an der Elbe halten dem Wasser nicht mehr stand: Nach dem Bruch eines Deiches "
                     "wurden in Wittenberge Hunderte Menschen in Sicherheit gebracht. Der Krisenstab des Landkreises rechnet mit "
                     "steigenden Wasserständen bis zum Wochenende. Bundeswehrsoldaten unterstützen die Feuerwehr beim Sandsackfüllen.")
BUDGET_DE = ("Landtag beschließt Haushalt für das kommende Jahr\n"
             "Nach einer langen Debatte haben die Abgeordneten den Landeshaushalt verabschiedet. Der Finanzminister "
             "kündigte an, die Neuverschuldung zu begrenzen. Die Opposition kritisierte die Ausgaben für die Verwaltung.")


@pytest.mark.parametrize("language, reports", [
    # Polish has no Snowball stemmer: its words were story terms as written, so "Kozanów" and
    # "Kozanowa", "Sutryk" and "Sutryka", "Odry" and "Odrze" shared nothing, and two reports of one
    # flood stayed apart. A word of a language without a stemmer is now its first five letters.
    ("pl", {"flood.txt": FLOOD_PL, "evacuation.txt": EVACUATION_PL, "budget.txt": BUDGET_PL}),
    # Chinese story terms are character bigrams, and a bigram across two words ("的街", "了圣" of
    # "英国的街道上堆满了圣诞垃圾") weighed like a rare name: most of a vector was such noise, and two
    # reports of one typhoon scored 0.16. Only bigrams found inside listed words count now: 0.22.
    ("zh", {"typhoon.txt": TYPHOON_ZH, "xiamen.txt": TYPHOON_XIAMEN_ZH, "budget.txt": BUDGET_ZH}),
    # German writes "Hochwasserschutzanlagen", "Deichbruch", "Bundeswehrsoldaten" as one word each:
    # they shared no term with the other report's "Hochwasser", "Deiches", "Soldaten" (0.12). A
    # compound's parts count as story terms too now: 0.27.
    ("de", {"dyke.txt": DYKE_DE, "defences.txt": FLOOD_DEFENCES_DE, "budget.txt": BUDGET_DE}),
], ids=["polish-five-letters", "chinese-listed-bigrams", "german-compound-parts"])
def test_two_reports_of_one_event_form_one_story_in_an_empty_warehouse(tmp_path, language, reports):
    """The first two reports (one event, different words) form one story; the budget stays apart
    (tasks/dedup/terms.py)."""
    from tests.test_dedup import ingest_files

    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in reports.items():
        (folder / name).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    store = ingest_files(sorted(folder.iterdir()), tmp_path / "w.duckdb")
    _, rows = store.query("SELECT regexp_extract(d.source, '[^/]+$'), d.language, m.story_id FROM story_members m "
                          "JOIN documents d USING (doc_id)")
    assert [r[1] for r in rows] == [language] * 3
    story = {name: story_id for name, _, story_id in rows}
    first, second, budget = reports
    assert story[first] == story[second] != story[budget]


def test_a_german_compound_counts_its_parts_and_other_words_stay_whole():
    from tasks.dedup.terms import _compound_parts, term_counts

    assert _compound_parts("hochwasserschutz", "de") == ("hochwasser", "schutz")
    assert _compound_parts("bundesregierung", "de") == ("bund", "regierung")  # linking "es" dropped
    assert _compound_parts("regierung", "de") == _compound_parts("donnerstag", "de") == ()
    counts = term_counts("Der Hochwasserschutz hält.", language="de")
    assert {"hochwasserschutz", "hochwass", "schutz"} <= set(counts)
    # English writes "waterfront" and "policeman" too, but its compounds are not split
    assert set(term_counts("The waterfront policeman.", language="en")) == {"waterfront", "policeman"}


FLOOD_FIRST = ("Valencia floods after river bursts its banks. The Turia river burst its banks in Valencia on Monday "
               "night, flooding streets in the old town; the mayor said schools would stay shut and firefighters "
               "rescued drivers trapped in their cars.")
FLOOD_ARMY = ("Valencia flood: army sent to Paiporta as death toll rises. Soldiers and firefighters reached Paiporta "
              "and Alfafar on Tuesday after the flood swept through Valencia, where the river burst its banks; the "
              "regional government said the death toll had risen to 62 and hundreds of cars were piled in the "
              "streets of Paiporta.")
# close to FLOOD_ARMY, linked to FLOOD_FIRST by less than the threshold: only the story reaches the first report
FLOOD_TOLL = ("Army reaches Paiporta as Valencia flood death toll rises to 62. Soldiers arrived in Paiporta and "
              "Alfafar on Tuesday, where hundreds of cars were piled in the streets; the regional government said "
              "62 people had died and dozens were missing after the flood, and the army would stay in Paiporta and "
              "Alfafar for weeks.")


def test_a_lone_article_joins_the_story_its_news_forms_in_a_later_run(tmp_path):
    check_lone_article_joins_later(tmp_path, lambda name: tmp_path / f"{name}.duckdb")


def check_lone_article_joins_later(tmp_path, warehouse) -> None:
    """Three reports of one flood: the first alone in one run, the next two in another, into the
    warehouse `warehouse(name)` gives; the same stories as all three in one run."""
    from tests.test_dedup import ingest_files

    assert pair_similarity(FLOOD_FIRST, FLOOD_TOLL, CONFIG) < CONFIG.threshold < pair_similarity(FLOOD_FIRST, FLOOD_ARMY, CONFIG)
    paths = write_articles(tmp_path / "in", [("first.txt", FLOOD_FIRST), ("army.txt", FLOOD_ARMY),
                                             ("toll.txt", FLOOD_TOLL), ("budget.txt", BUDGET)])
    partition = stored_stories

    one_run = ingest_files(paths.values(), warehouse("one"))
    two = warehouse("two")
    ingest_files([paths["first.txt"], paths["budget.txt"]], two)
    two_runs = ingest_files([paths["army.txt"], paths["toll.txt"]], two)
    expected = {frozenset({"first.txt", "army.txt", "toll.txt"}), frozenset({"budget.txt"})}
    assert partition(one_run) == expected
    assert partition(two_runs) == expected
    _, orphans = two_runs.query("SELECT count(*) FROM stories s WHERE NOT EXISTS "
                                "(SELECT 1 FROM story_members m WHERE m.story_id = s.story_id)")
    assert orphans == [(0,)]
    _, moved = two_runs.query("SELECT m.method, m.matched_doc_id IS NOT NULL, m.moved_from_story_id = m.doc_id "
                              "FROM story_members m JOIN documents d USING (doc_id) WHERE d.source LIKE '%first.txt'")
    assert moved == [("similar", True, True)]  # it left its own one-article story


def test_stories_doc_takes_a_file_name_or_a_pasted_doc_id(tmp_path, capsys):
    """What a user types: the file's name from another folder, a doc_id pasted out of csv output
    (with its \\r); a name two folders share lists both instead of guessing."""
    from newsflow.cli import main
    from tests.test_dedup import ingest_files

    paths = []
    for folder, name, text in [("in", "quake-a.txt", QUAKE_A), ("in", "quake-b.txt", QUAKE_B),
                               ("other", "quake-b.txt", BUDGET)]:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(text + "\n", encoding="utf-8")
        paths.append(tmp_path / folder / name)
    warehouse = tmp_path / "w.duckdb"
    ingest_files(paths, warehouse)
    assert main(["stories", "--warehouse", str(warehouse), "--doc", "quake-a.txt"]) == 0
    out = capsys.readouterr().out
    assert str(paths[0]) in out and "Amatrice" in out
    assert main(["sql", "--warehouse", str(warehouse), "--format", "csv",
                 f"SELECT doc_id FROM documents WHERE source = '{paths[0]}'"]) == 0
    pasted = capsys.readouterr().out.splitlines(keepends=True)[1]
    assert pasted.endswith("\r\n")
    assert main(["stories", "--warehouse", str(warehouse), "--doc", pasted]) == 0
    assert str(paths[0]) in capsys.readouterr().out
    assert main(["stories", "--warehouse", str(warehouse), "--doc", "quake-b.txt"]) == 1
    err = capsys.readouterr().err
    assert "several stored sources" in err and str(paths[1]) in err and str(paths[2]) in err


def test_a_crowd_of_similar_articles_forms_one_story_keeping_each_ones_closest_neighbours_only(monkeypatch):
    """600 articles that each reorder the same rare words (a fuzz audit's clique: template reports): every
    pair was kept as a Python dict entry, 4.4 GB and 26 s for 4,000 in one batch. Each article now keeps its
    closest batch neighbours (`_NEIGHBOURS`), and the crowd still forms one story, as it did."""
    import random

    import tasks.dedup.stories as stories

    monkeypatch.setattr(stories, "_NEIGHBOURS", 10)
    kept = []
    real = stories._close_pairs
    monkeypatch.setattr(stories, "_close_pairs", lambda *a: kept.append(real(*a)) or kept[-1])
    rng = random.Random(1)
    rare = ["quorvex", "blintaph", "zemrukot", "vashlind", "trokkemir", "pelgrast", "onduvrik", "skarmoth",
            "fenbrulo", "ghastrin", "yublomek", "drastovin"]
    docs = []
    for i in range(600):
        words = rare * 8
        rng.shuffle(words)
        docs.append(doc(f"c{i}", " ".join(rare[:5]).capitalize() + "\n\n" + " ".join(words) + f". Note {i} here."))
    deduplicate(docs, EmptyIndex())
    outcome = assign_stories(docs, EmptyStoryIndex(), CONFIG)
    assert len({story_of(outcome, d) for d in docs}) == 1
    near, crowded = kept[0]
    assert len(crowded) == 600 and near.nnz <= 2 * 600 * 10  # not the 359,400 pairs of the whole crowd
