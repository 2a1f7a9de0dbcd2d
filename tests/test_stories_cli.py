"""`newsflow stories` as an analyst meets it: typed in a folder of articles (its own main, parser and
output; the installed command where the process matters) against a real DuckDB warehouse built by the
pipeline without Prefect, as tests/test_dedup does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.http_server import Reply, http_server  # noqa: F401 (fixture)
from tests.test_dedup import ingest_files
from tests.test_stories import BUDGET, FLOOD_ARMY, FLOOD_FIRST, FLOOD_TOLL, QUAKE_A, QUAKE_B

REPO = Path(__file__).resolve().parent.parent
NEWSFLOW = Path(sys.executable).with_name("newsflow")

WALLED = ("Rescuers dig for survivors after Amatrice earthquake\n\n"
          "You have reached the limit for free access to our important and valuable work.\n\n"
          "Subscribers, click below to login or register your subscription to continue receiving unlimited "
          "access. Log In Sign Up\n")


def article(text: str) -> str:
    """A headline line and a body, as an outlet's text file has them."""
    headline, body = text.split(". ", 1)
    return f"{headline}\n\n{body}\n"


class Done:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def newsflow(monkeypatch, capsys):
    """`newsflow stories ARGS` typed in folder `cwd` on a terminal `columns` wide, warehouse
    `cwd/news.duckdb` from NEWSFLOW_WAREHOUSE: in this process (the command's own main, parser and
    output; a process start costs seconds of imports), or as the installed command (`process=True`)."""
    from newsflow.cli import main

    def run(cwd: Path, *args: str, columns: int = 100, process: bool = False) -> Done:
        if process:
            environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
            environ.update(PYTHONPATH=str(REPO), COLUMNS=str(columns), NEWSFLOW_WAREHOUSE=str(cwd / "news.duckdb"))
            done = subprocess.run([str(NEWSFLOW), "stories", *args], cwd=cwd, env=environ, capture_output=True,
                                  text=True, timeout=120)
            return Done(done.returncode, done.stdout, done.stderr)
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("NEWSFLOW_WAREHOUSE", str(cwd / "news.duckdb"))
        capsys.readouterr()
        try:
            code = main(["stories", *args])
        except SystemExit as exc:  # argparse refusing an option
            code = exc.code
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    """An analyst's folder: in/ holds two quake reports, a copy of one under another name, an
    outlet's paywall page with the quake headline, an unrelated budget story and an empty file;
    all ingested in one run into news.duckdb."""
    root = tmp_path_factory.mktemp("desk")
    folder = root / "in"
    folder.mkdir()
    for name, text in [("quake-a.txt", QUAKE_A), ("quake-b.txt", QUAKE_B), ("quake-a-reprint.txt", QUAKE_A),
                       ("budget.txt", BUDGET)]:
        (folder / name).write_text(article(text), encoding="utf-8")
    (folder / "walled.txt").write_text(WALLED, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    ingest_files(sorted(folder.iterdir()), root / "news.duckdb")
    return root


def explain(newsflow, desk: Path, doc: str) -> dict:
    done = newsflow(desk, "--doc", doc, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def test_a_document_is_found_by_the_relative_path_it_was_ingested_from(desk, newsflow):
    done = newsflow(desk, "--doc", "in/quake-b.txt", process=True)
    assert done.returncode == 0, done.stderr
    assert "Rescuers dig for survivors" in done.stdout
    assert str(desk / "in" / "quake-b.txt") in done.stdout  # the source as stored


def test_a_failed_source_is_named_with_its_failure_not_as_unknown(desk, newsflow):
    done = newsflow(desk, "--doc", "in/empty.txt")
    assert done.returncode == 1
    assert "was not stored: it failed at read (empty" in done.stderr
    unknown = newsflow(desk, "--doc", "in/never-ingested.txt")
    assert unknown.returncode == 1
    assert "no stored document or failed source" in unknown.stderr


def test_a_seed_says_it_started_its_story_and_a_lone_article_that_it_is_alone(desk, newsflow):
    seed = explain(newsflow, desk, str(desk / "in" / "quake-a.txt"))
    if seed["method"] != "seed":
        seed = explain(newsflow, desk, seed["story_id"])
    text = newsflow(desk, "--doc", seed["doc_id"]).stdout
    assert "started the story" in text and "nothing stored was close enough" not in text
    alone = newsflow(desk, "--doc", "in/budget.txt", columns=300).stdout
    assert "alone in its own story" in alone and "1 article" in alone and "1 documents" not in alone


def test_a_copy_is_explained_as_a_copy_of_its_original(desk, newsflow):
    rows = {name: explain(newsflow, desk, f"in/{name}") for name in ("quake-a.txt", "quake-a-reprint.txt")}
    copy, original = (rows["quake-a-reprint.txt"], rows["quake-a.txt"]) if rows["quake-a.txt"]["is_canonical"] \
        else (rows["quake-a.txt"], rows["quake-a-reprint.txt"])
    assert copy["method"] == "duplicate" and copy["duplicate_method"] == "exact"
    text = newsflow(desk, "--doc", copy["doc_id"], columns=200).stdout
    assert f"exact copy (similarity 1.000) of {original['title']} [{original['doc_id']}]" in text
    assert "closest" not in text


def test_a_headline_only_page_says_so(desk, newsflow):
    text = newsflow(desk, "--doc", "in/walled.txt").stdout
    assert "headline only" in text
    assert explain(newsflow, desk, "in/walled.txt")["headline_only"] is True


def test_an_undated_story_without_outlets_says_so_rather_than_zero_outlets(desk, newsflow):
    # the desk's files name no outlet and carry no date line: the days shown are ingest days
    text = newsflow(desk, columns=200).stdout
    assert "3 articles (+1 copy) · outlet unknown · ingested " in text, text
    assert "0 outlets" not in text
    assert json.loads(newsflow(desk, "--format", "json").stdout)[0]["dated"] is False
    # and in SQL, an empty list (NULL made `len(outlets) = 0` find no story)
    con = duckdb.connect(str(desk / "news.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM story_overview WHERE len(outlets) = 0").fetchone()[0] == 2
    finally:
        con.close()


def test_one_line_dumps_are_named_by_their_opening_words_when_explained(tmp_path, newsflow):
    # scraped text saved as one line has no headline line: "(untitled)" everywhere said nothing
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in [("a.txt", QUAKE_A), ("b.txt", QUAKE_B)]:
        (folder / name).write_text(text, encoding="utf-8")
    ingest_files(sorted(folder.iterdir()), tmp_path / "news.duckdb")
    text = " ".join(newsflow(tmp_path, "--doc", "in/b.txt", columns=400).stdout.split())
    assert text.startswith("(no headline) Rescuers dig for survivors after Italy quake."), text
    assert "story (no headline) Earthquake strikes central Italy" in text or \
        "story (no headline) Rescuers dig" in text, text
    assert "(untitled)" not in text


def test_search_calls_a_one_line_dump_headline_less_not_untitled(tmp_path, monkeypatch, capsys):
    from newsflow.cli import main

    (tmp_path / "a.txt").write_text(QUAKE_A, encoding="utf-8")
    ingest_files([tmp_path / "a.txt"], tmp_path / "news.duckdb")
    assert main(["reindex", "--warehouse", str(tmp_path / "news.duckdb")]) == 0  # as a flow run's end does
    capsys.readouterr()
    assert main(["search", "Amatrice", "--warehouse", str(tmp_path / "news.duckdb")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == " 1. (no headline)", first


def test_a_dated_story_with_an_outlet_shows_its_publication_day(tmp_path, newsflow):
    ingest_files(sorted((REPO / "seeds").glob("*.txt"))[:1], tmp_path / "news.duckdb")
    text = newsflow(tmp_path, "--min-articles", "1", columns=200).stdout
    assert "1 article · 1 outlet · 2013-" in text and "ingested" not in text, text


def test_the_list_fits_a_narrow_terminal_and_keeps_ids_whole(desk, newsflow):
    done = newsflow(desk, columns=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 60, done.stdout
    narrower = newsflow(desk, columns=36).stdout.splitlines()  # titles wrap too; only "story id <id>" may not
    assert [line.split()[:2] for line in narrower if len(line) > 36] == [["story", "id"]], narrower
    story = json.loads(newsflow(desk, "--format", "json").stdout)[0]
    assert story["story_id"] in done.stdout and story["articles"] == 3 and story["documents"] == 4
    assert "3 articles (+1 copy)" in done.stdout
    explained = newsflow(desk, "--doc", "in/quake-b.txt", columns=60).stdout
    wide = [line for line in explained.splitlines() if len(line) > 60]
    assert wide == [f"  source     {desk / 'in' / 'quake-b.txt'}"], explained  # a path is kept whole


def test_a_japanese_story_fits_the_terminal_in_columns_not_characters(tmp_path, newsflow):
    from rich.cells import cell_len

    # a CJK character takes two columns and a title has no spaces to break at: textwrap printed a
    # 96-column line on a 60-column terminal
    headline = "韓国の尹錫悦大統領が非常戒厳を宣言、野党が国政をまひさせていると主張して緊急談話を出した"
    body = "尹錫悦大統領は３日夜、緊急談話を出し、野党が国政をまひさせているとして非常戒厳を宣言した。" * 4
    (tmp_path / "ja.txt").write_text(f"{headline}\n\n{body}\n", encoding="utf-8")
    ingest_files([tmp_path / "ja.txt"], tmp_path / "news.duckdb")
    for args in (("--doc", "ja.txt"), ("--min-articles", "1")):
        out = newsflow(tmp_path, *args, columns=60).stdout
        assert "尹錫悦" in out, out
        lines = [line for line in out.splitlines() if not line.lstrip().startswith(("source", "story id"))]
        assert max(cell_len(line) for line in lines) <= 60, out


def test_an_edited_article_alone_shares_no_terms_with_its_own_earlier_version(tmp_path, newsflow):
    path = tmp_path / "quake.txt"
    path.write_text(article(QUAKE_A), encoding="utf-8")
    ingest_files([path], tmp_path / "news.duckdb")
    path.write_text(article(QUAKE_A) + "\nThe death toll rose to 247 on Thursday, officials said.\n", encoding="utf-8")
    ingest_files([path], tmp_path / "news.duckdb")
    row = explain(newsflow, tmp_path, "quake.txt")
    assert row["story_articles"] == 1 and row["story_documents"] == 2
    # it joined through its version 1, and the output says so
    assert (row["method"], row["matched_own_version"]) == ("similar", True)
    assert "this article's earlier version" in newsflow(tmp_path, "--doc", "quake.txt", columns=400).stdout
    assert row["shared_terms"] in (None, [])  # its own version 1 is not another article
    assert "(none: no other article in the story)" in newsflow(tmp_path, "--doc", "quake.txt").stdout


def test_json_as_the_other_commands_spell_it(desk, newsflow):
    assert newsflow(desk, "--json").stdout == newsflow(desk, "--format", "json").stdout
    assert json.loads(newsflow(desk, "--doc", "in/quake-b.txt", "--json").stdout)[0]["method"] in ("seed", "similar")


def test_csv_cells_hold_lists_as_text_not_python_reprs(desk, newsflow):
    out = newsflow(desk, "--format", "csv").stdout
    assert "[" not in out and "'" not in out
    assert "amatric" in out


def test_an_empty_list_says_why_and_a_long_one_says_it_was_cut(desk, newsflow):
    empty = newsflow(desk, "--min-articles", "5")
    assert empty.returncode == 0 and "no stories of 5 articles or more" in empty.stdout
    cut = newsflow(desk, "--min-articles", "1", "--limit", "1")
    assert cut.returncode == 0 and "showing the first 1" in cut.stderr


def test_bad_options_and_a_missing_warehouse_are_one_line_errors(desk, tmp_path, newsflow):
    bad = newsflow(desk, "--limit", "-1")
    assert bad.returncode == 2 and "is not 1 or more" in bad.stderr and "Binder Error" not in bad.stderr
    missing = newsflow(tmp_path, "--warehouse", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2
    assert "no warehouse at" in missing.stderr and "IO Error" not in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_a_reader_that_leaves_early_gets_no_traceback(desk, newsflow):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    environ.update(PYTHONPATH=str(REPO), NEWSFLOW_WAREHOUSE=str(desk / "news.duckdb"))
    proc = subprocess.Popen([str(NEWSFLOW), "stories", "--min-articles", "1", "--format", "csv"], cwd=desk,
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_a_lone_article_that_joined_a_later_story_says_so(tmp_path, newsflow):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in [("first.txt", FLOOD_FIRST), ("army.txt", FLOOD_ARMY), ("toll.txt", FLOOD_TOLL),
                       ("budget.txt", BUDGET)]:
        (folder / name).write_text(article(text), encoding="utf-8")
    store = ingest_files([folder / "first.txt", folder / "budget.txt"], tmp_path / "news.duckdb")
    lone = json.loads(newsflow(tmp_path, "--doc", "in/first.txt", "--format", "json").stdout)[0]
    assert lone["method"] == "seed" and lone["story_id"] == lone["doc_id"] and not lone["joined_later"]
    ingest_files([folder / "army.txt", folder / "toll.txt"], store)
    done = newsflow(tmp_path, "--doc", "in/first.txt")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # as read, across the wrapped lines
    assert "it joined this story when a later run formed it" in text
    assert f"it was alone until then (its one-article story [{lone['doc_id']}] is deleted)" in text
    assert "tied to" not in text  # the case it was, not both
    row = json.loads(newsflow(tmp_path, "--doc", lone["doc_id"], "--format", "json").stdout)[0]
    assert row["joined_later"] and row["story_id"] != lone["doc_id"] and row["method"] == "similar"
    # the terms listed are the ones that weigh in the match, not the words every report uses
    assert "said" not in row["shared_terms"][:3]


def test_an_article_that_left_a_looser_story_names_the_story_it_left(tmp_path, newsflow):
    from tests.test_stories import EMBASSY, FILLER, TWEET_A, TWEET_B, write_articles

    def dated(text: str, day: int) -> str:  # the embassy report first: the story is named after it
        headline, body = article(text).split("\n\n", 1)
        return f"{headline}\n\nPublished 2020-01-0{day}\n\n{body}"

    paths = write_articles(tmp_path / "in", [("embassy.txt", dated(EMBASSY, 1)), ("tweet-a.txt", dated(TWEET_A, 2)),
                                             ("tweet-b.txt", dated(TWEET_B, 3))]
                           + [(f"f{i}.txt", t) for i, t in enumerate(FILLER)])
    store = ingest_files([p for n, p in paths.items() if n != "tweet-b.txt"], tmp_path / "news.duckdb")
    embassy = json.loads(newsflow(tmp_path, "--doc", "in/embassy.txt", "--format", "json").stdout)[0]
    ingest_files([paths["tweet-b.txt"]], store)
    done = newsflow(tmp_path, "--doc", "in/tweet-a.txt")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # as read, across the wrapped lines
    assert "it joined this story when a later run formed it" in text
    assert embassy["title"] == "Trump administration weighs its response in Iraq"
    assert f"it left {embassy['title']} [{embassy['doc_id']}], a story it was tied to less closely than to" \
        in text, text
    assert "alone until then" not in text
    row = json.loads(newsflow(tmp_path, "--doc", "in/tweet-a.txt", "--format", "json").stdout)[0]
    assert row["moved_from_story_id"] == embassy["doc_id"] and row["moved_from_title"] == embassy["title"]


def test_the_example_queries_in_the_schema_doc_run(desk, newsflow, monkeypatch, capsys):
    """docs/schema.md's example queries, as an analyst pastes them into `newsflow sql`."""
    import re

    from newsflow.cli import main

    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    block = doc.split("### Example queries", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    queries = [q.strip() for q in re.sub(r"^--.*$", "", block, flags=re.M).split(";") if q.strip()]
    assert any("story_overview" in q for q in queries) and any("story_articles" in q for q in queries)
    story = json.loads(newsflow(desk, "--format", "json").stdout)[0]["story_id"]
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", str(desk / "news.duckdb"))
    for query in queries:
        capsys.readouterr()
        assert main(["sql", query.replace("'…'", f"'{story}'"), "--format", "json"]) == 0, query
        rows = json.loads(capsys.readouterr().out)
        if "story_articles" in query:  # the story's members; the articles alone (the budget report)
            assert rows, query


def test_a_url_is_found_as_typed_though_stored_with_its_token_redacted(tmp_path, newsflow, http_server,  # noqa: F811
                                                                       monkeypatch):
    import uuid
    from dataclasses import replace

    from flows.parameters import run_config
    from flows.settings import Settings
    from tasks.pipeline import InlineStages, Pipeline
    from warehouse.store import Warehouse

    monkeypatch.setenv("NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES", "true")  # the loopback server
    page = (f"<html><head><title>Rescuers dig for survivors after Italy quake</title></head><body><article>"
            f"<h1>Rescuers dig for survivors after Italy quake</h1><p>{QUAKE_B}</p></article></body></html>")
    http_server.route("/quake", Reply(200, page.encode(), content_type="text/html"))
    url = http_server.url("/quake") + "?token=s3cret"
    store = Warehouse(tmp_path / "news.duckdb")
    store.migrate()
    pipeline = Pipeline(store, replace(run_config(Settings(_env_file=None)), workers=1), InlineStages(),
                        f"run-{uuid.uuid4()}")
    store.start_run(pipeline.run_id, None, {})
    for _ in pipeline.run_batches(pipeline.fetch_urls([url])):
        pass
    _, sources = store.query("SELECT source FROM documents")
    assert sources == [(url.replace("s3cret", "REDACTED"),)]  # what ingest stores
    done = newsflow(tmp_path, "--doc", url)
    assert done.returncode == 0, done.stderr
    assert "Rescuers dig for survivors" in done.stdout and "s3cret" not in done.stdout


def test_a_url_is_found_as_typed_though_ingest_normalised_it(tmp_path, newsflow, http_server,  # noqa: F811
                                                              monkeypatch):
    """Ingest stores an article under its normalised URL (`article_url`: no fragment or tracking
    parameters, scheme and host lower-cased), secrets redacted: the URL typed at ingest finds it, and
    finds a URL that failed the same way."""
    import uuid
    from dataclasses import replace

    from flows.parameters import run_config
    from flows.settings import Settings
    from tasks.pipeline import InlineStages, Pipeline
    from tasks.sources.web import article_urls
    from warehouse.store import Warehouse

    monkeypatch.setenv("NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES", "true")  # the loopback server
    page = (f"<html><head><title>Rescuers dig for survivors after Italy quake</title></head><body><article>"
            f"<h1>Rescuers dig for survivors after Italy quake</h1><p>{QUAKE_B}</p></article></body></html>")
    http_server.route("/quake", Reply(200, page.encode(), content_type="text/html"))
    typed = http_server.url("/quake").replace("http://", "HTTP://") + "?utm_source=newsletter&token=s3cret#comments"
    gone = http_server.url("/gone").replace("http://", "HTTP://") + "?fbclid=abc&token=s3cret#top"  # a 404
    store = Warehouse(tmp_path / "news.duckdb")
    store.migrate()
    pipeline = Pipeline(store, replace(run_config(Settings(_env_file=None)), workers=1), InlineStages(),
                        f"run-{uuid.uuid4()}")
    store.start_run(pipeline.run_id, None, {})
    for _ in pipeline.run_batches(pipeline.fetch_urls(article_urls([typed, gone]))):  # as flows/ingest.py does
        pass
    _, sources = store.query("SELECT source FROM documents UNION ALL SELECT source FROM failures ORDER BY 1")
    assert sources == [(http_server.url("/gone") + "?token=REDACTED",),
                       (http_server.url("/quake") + "?token=REDACTED",)]  # what ingest stores
    done = newsflow(tmp_path, "--doc", typed)
    assert done.returncode == 0, done.stderr
    assert "Rescuers dig for survivors" in done.stdout and "s3cret" not in done.stdout
    failed = newsflow(tmp_path, "--doc", gone)
    assert failed.returncode == 1
    assert "was not stored: it failed at fetch (http_404" in failed.stderr and "s3cret" not in failed.stderr


def test_a_failed_file_is_found_by_its_file_name_as_a_stored_one_is(tmp_path, newsflow):
    """docs/operations.md: a path that matches no source as typed is looked up as the end of one (a
    file's name, or a path typed from another folder), a source that failed at read included."""
    folder = tmp_path / "in" / "day1"
    folder.mkdir(parents=True)
    (folder / "quake.txt").write_text(article(QUAKE_A), encoding="utf-8")
    (folder / "bin.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    ingest_files(sorted(folder.iterdir()), tmp_path / "news.duckdb")
    for typed in ("bin.txt", "day1/bin.txt"):
        done = newsflow(tmp_path, "--doc", typed)
        assert done.returncode == 1
        assert f"{folder / 'bin.txt'} was not stored: it failed at read (binary" in done.stderr, done.stderr
    stored = newsflow(tmp_path, "--doc", "quake.txt")  # as a stored file is found
    assert stored.returncode == 0 and "Earthquake" in stored.stdout, stored.stderr
    # two sources ending so, one failed: both listed, nothing guessed
    other = tmp_path / "in" / "day2"
    other.mkdir()
    (other / "bin.txt").write_text(article(BUDGET), encoding="utf-8")
    ingest_files([other / "bin.txt"], tmp_path / "news.duckdb")
    both = newsflow(tmp_path, "--doc", "bin.txt")
    assert both.returncode == 1 and "'bin.txt' names several stored or failed sources" in both.stderr
    assert "(failed)" in both.stderr and str(folder / "bin.txt") in both.stderr and str(other / "bin.txt") in both.stderr


def test_a_story_of_articles_without_headlines_is_listed_by_its_opening_words(tmp_path, newsflow):
    """Text dumps with the headline run into the body (one line per article, as scrapers often save
    them) have no headline; the list names such a story by its first article's opening words."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in [("army.txt", FLOOD_ARMY), ("toll.txt", FLOOD_TOLL)]:
        (folder / name).write_text(text.replace(". ", " ", 1) + "\n", encoding="utf-8")
    ingest_files(sorted(folder.iterdir()), tmp_path / "news.duckdb")
    done = newsflow(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 articles" in done.stdout and "(untitled)" not in done.stdout
    opening = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("1."))
    assert "(no headline) " in opening and ("Valencia flood: army sent" in opening or "Army reaches Paiporta" in opening)


def test_the_terms_that_tie_a_small_warehouses_story_are_the_events_not_its_grammar(tmp_path, newsflow):
    """Tying terms were ranked by the warehouse's own counts: with four articles, "wurd" (from
    "wurde", which sumy's German stop list lacks) tied a German story as much as its names. They are
    ranked as the story stage weighs them, its word-frequency prior included, and shown as the articles
    write them ("Sonderprüfung", not the stem "sonderpruf")."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "de1.txt").write_text(
        "Bankenaufsicht prüft Payvest\n\nDie Finanzaufsicht Bafin hat am Montag eine Sonderprüfung bei der "
        "Zahlungsfirma Payvest eingeleitet. Es wurde bekannt, dass die Firma Kundengelder in Höhe von 340 Millionen "
        "Euro nicht nachweisen konnte. Der Vorstand wurde zu einer Stellungnahme aufgefordert.\n", encoding="utf-8")
    (folder / "de2.txt").write_text(
        "Payvest: Bafin leitet Sonderprüfung ein\n\nNach Hinweisen auf fehlende Kundengelder hat die Bafin bei "
        "Payvest eine Sonderprüfung angeordnet. Es geht um 340 Millionen Euro, wie die Behörde mitteilte. Der "
        "Vorstand wurde aufgefordert, bis Freitag Unterlagen vorzulegen.\n", encoding="utf-8")
    for n, (place, day) in enumerate((("Kallo", "Tuesday"), ("Kallo", "Tuesday"))):
        (folder / f"en{n}.txt").write_text(
            f"Flood closes {place} bridge\n\nHeavy rain flooded the harbour bridge in {place} on {day} and officials "
            f"closed it{' to traffic' * n}. The mayor said repairs would take weeks.\n", encoding="utf-8")
    ingest_files(sorted(folder.iterdir()), tmp_path / "news.duckdb")
    listed = newsflow(tmp_path, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    german = next(s for s in json.loads(listed.stdout) if "payv" in s["tying_terms"])
    assert german["tying_terms"][:3] == ["payv", "sonderpruf", "bafin"] and "wurd" not in german["tying_terms"]
    shared = explain(newsflow, tmp_path, str(folder / "de2.txt"))
    assert shared["shared_terms"][:3] == ["payv", "sonderpruf", "bafin"] and "wurd" not in shared["shared_terms"]
    # and a reader sees them as the articles write them, not as stems
    assert german["tying_words"][:3] == shared["shared_words"][:3] == ["Payvest", "Sonderprüfung", "Bafin"]
    assert len(german["tying_words"]) == len(german["tying_terms"])
    assert "terms      Payvest, Sonderprüfung, Bafin" in newsflow(tmp_path).stdout
    assert "shared     Payvest, Sonderprüfung, Bafin" in newsflow(tmp_path, "--doc", str(folder / "de2.txt")).stdout
