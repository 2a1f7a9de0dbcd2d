"""BM25 search through DuckDB fts on a real warehouse file, on a small hand-made corpus."""

from datetime import date

import pytest

from tasks.document import Document, Summary, sha256_hex
from warehouse.store import Warehouse

CORPUS = {
    "opcw.txt": ("UN council adopts chemical weapons resolution",
                 "The Security Council unanimously adopted a resolution requiring Syria to give up its "
                 "chemical weapons. Inspectors will verify that the weapons are destroyed."),
    "market.txt": ("Markets rally on trade hopes",
                   "Stocks rose on Tuesday as investors bet that trade talks would resume. The resolution "
                   "of the dispute could lift exports."),
    "storm.txt": ("Storm floods coastal towns",
                  "Heavy rain flooded several coastal towns and forced hundreds of residents to leave their homes."),
    "vote.txt": ("Parliament debates budget",
                 "Lawmakers debated the budget for hours. The opposition said the plan weakens public services."),
}


def doc(source: str, title: str, text: str, published: date | None = date(2024, 5, 1)) -> Document:
    d = Document(source=source, source_kind="file", raw_text=text, raw_sha256=sha256_hex(title + text))
    d.text, d.title, d.outlet, d.published_at = text, title, "Test Wire", published
    d.text_sha256 = sha256_hex(text)
    d.summary = Summary("lead", [(0, text.split(". ")[0] + ".")])
    return d


def indexed_corpus(path) -> Warehouse:
    store = Warehouse(path)
    store.migrate()
    store.write_batch("r1", [doc(s, t, x) for s, (t, x) in CORPUS.items()], [], {}, summary_length="sentences=1")
    assert store.refresh_search_index().rebuilt is True
    return store


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Warehouse:
    """Shared by the tests that only read."""
    return indexed_corpus(tmp_path_factory.mktemp("search") / "search.duckdb")


@pytest.fixture
def store(tmp_path) -> Warehouse:
    return indexed_corpus(tmp_path / "search.duckdb")


def titles(store: Warehouse, query: str, **kwargs) -> list[str]:
    _, rows = store.search(query, **kwargs)
    return [r[0] for r in rows]


def test_relevant_article_ranks_first(corpus):
    columns, rows = corpus.search("chemical weapons resolution")
    assert columns[:5] == ["title", "outlet", "published_at", "score", "summary"]
    assert rows[0][0] == "UN council adopts chemical weapons resolution"
    assert rows[0][4].startswith("The Security Council")
    # the market story mentions "resolution" once, so it matches, but lower
    assert titles(corpus, "chemical weapons resolution") == [
        "UN council adopts chemical weapons resolution", "Markets rally on trade hopes"]
    assert rows[0][3] > rows[1][3] > 0


def test_stemming_matches_other_word_forms(corpus):
    assert titles(corpus, "flooding")[:1] == ["Storm floods coastal towns"]
    assert titles(corpus, "debating budgets") == ["Parliament debates budget"]
    assert titles(corpus, "weapon") == ["UN council adopts chemical weapons resolution"]


def test_stop_words_are_ignored(corpus):
    assert titles(corpus, "the of and to") == []
    assert corpus.search("the storm")[1] == corpus.search("storm")[1]


def test_limit_and_since(corpus):
    assert len(titles(corpus, "the resolution", limit=1)) == 1
    assert titles(corpus, "resolution", since=date(2025, 1, 1)) == []
    assert len(titles(corpus, "resolution", since=date(2024, 1, 1))) == 2


@pytest.mark.parametrize("query", [
    "storm') ; DROP TABLE documents; --",
    "' OR 1=1 --",
    'storm" OR "1"="1',
    "storm'); CREATE TABLE pwned AS SELECT 1; --",
])
def test_query_text_is_bound_never_spliced(corpus, query):
    hits = titles(corpus, query)  # no syntax error: the text only ever reaches match_bm25 as a value
    assert set(hits) <= {"Storm floods coastal towns"}  # words only; never "every row"
    _, rows = corpus.query("SELECT count(*) FROM documents")
    assert rows == [(4,)]
    _, rows = corpus.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pwned'")
    assert rows == [(0,)]


def test_index_follows_loads(store):
    assert titles(store, "volcano") == []
    store.write_batch("r2", [doc("volcano.txt", "Volcano erupts", "A volcano erupted overnight, covering villages in ash.")],
                      [], {}, summary_length="sentences=1")
    assert titles(store, "volcano") == []  # the index is a snapshot until rebuilt
    assert store.refresh_search_index().rebuilt is True
    assert titles(store, "volcano") == ["Volcano erupts"]
    assert store.refresh_search_index().rebuilt is False  # nothing changed: no rebuild


def test_duplicates_and_old_versions_are_not_returned(store):
    copy = doc("copy.txt", "UN council adopts chemical weapons resolution", CORPUS["opcw.txt"][1])
    copy.duplicate_of, copy.duplicate_method, copy.similarity = "x", "exact", 1.0
    edited = doc("storm.txt", "Storm floods coastal towns (updated)", CORPUS["storm.txt"][1] + " Two died.")
    edited.meta.update(version=2)
    store.write_batch("r2", [copy, edited], [], {}, summary_length="sentences=1")
    store.refresh_search_index()
    assert titles(store, "chemical weapons") == ["UN council adopts chemical weapons resolution"]
    assert titles(store, "storm") == ["Storm floods coastal towns (updated)"]


def test_analysts_get_a_sql_macro(corpus):
    _, rows = corpus.query("SELECT title FROM search_articles(?) LIMIT 1", ["chemical weapons"])
    assert rows == [("UN council adopts chemical weapons resolution",)]
    _, rows = corpus.query("SELECT count(*) FROM search_articles('resolution', since := DATE '2030-01-01')")
    assert rows == [(0,)]


def test_index_build_runs_under_its_own_memory_cap_and_gives_the_connection_its_limit_back(tmp_path):
    import duckdb

    from warehouse import search

    store = Warehouse(tmp_path / "w.duckdb", memory_limit="700MB")
    store.migrate()
    store.write_batch("r1", [doc(s, t, x) for s, (t, x) in CORPUS.items()], [], {}, summary_length="sentences=1")
    seen = []
    real_execute = duckdb.DuckDBPyConnection.execute

    with store.transaction() as con:
        before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

        class Spy:  # records the limit in force when the fts pragma runs
            def execute(self, sql, *args):
                if "create_fts_index" in sql:
                    seen.append(real_execute(con, "SELECT current_setting('memory_limit')").fetchone()[0])
                return real_execute(con, sql, *args)

        search.build(Spy())
        after = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert seen and seen[0] != before and seen[0].startswith("244")  # 256 MB, as DuckDB prints it (MiB)
    assert after == before
    assert store.search("chemical weapons")[1][0][0] == "UN council adopts chemical weapons resolution"


# -- when a run rebuilds the index -----------------------------------------------------
from datetime import datetime, timedelta  # noqa: E402

from warehouse.search import IndexState, RefreshPolicy, rebuild_reason  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0)
LARGE = RefreshPolicy(always_below=1_000, new_fraction=0.05, max_age=timedelta(hours=1))


@pytest.mark.parametrize("state, rebuild", [
    (IndexState(10, None, None), "no index yet"),
    (IndexState(10, 10, NOW), None),  # nothing new
    (IndexState(500, 490, NOW), "10 new documents (warehouse under 1,000 documents)"),
    (IndexState(100_000, 99_990, NOW - timedelta(minutes=5)), None),  # a few new, index fresh: kept
    (IndexState(105_000, 100_000, NOW - timedelta(minutes=5)), "5000 new documents, 5.0% of the indexed ones"),
    (IndexState(100_010, 100_000, NOW - timedelta(minutes=61)), "10 new documents, index built at 2026-11-25 10:59 UTC"),
    (IndexState(100_010, 100_000, None), "10 new documents, index built at an unlogged build"),
    (IndexState(99_000, 100_000, NOW), "1000 indexed documents no longer stored"),
])
def test_rebuild_policy(state, rebuild):
    assert rebuild_reason(state, LARGE, NOW) == rebuild


def test_a_large_warehouse_defers_the_rebuild_until_enough_is_new_or_old(store):
    """The fts rebuild reads every document; a schedule every few minutes must not pay it each run."""
    deferring = RefreshPolicy(always_below=0, new_fraction=0.5, max_age=timedelta(hours=1))
    store.write_batch("r2", [doc("volcano.txt", "Volcano erupts", "A volcano erupted overnight, covering villages in ash.")],
                      [], {}, summary_length="sentences=1")
    built = store.search_index_state().built_at
    kept = store.refresh_search_index(policy=deferring, now=built + timedelta(minutes=10))
    assert not kept.rebuilt and kept.unindexed == 1 and "1 new documents not searchable" in kept.describe()
    assert titles(store, "volcano") == [] and store.search_index_state().unindexed == 1

    later = store.refresh_search_index(policy=deferring, now=built + timedelta(minutes=61))
    assert later.rebuilt and "index built at" in later.rebuilt_because
    assert titles(store, "volcano") == ["Volcano erupts"] and store.search_index_state().unindexed == 0
    _, rows = store.query("SELECT documents, reason FROM search_index_builds ORDER BY built_at")
    assert [r[0] for r in rows] == [4, 5] and rows[1][1] == later.rebuilt_because

    assert store.refresh_search_index(policy=deferring).rebuilt is False  # up to date
    assert store.refresh_search_index(force=True).rebuilt_because == "forced"
