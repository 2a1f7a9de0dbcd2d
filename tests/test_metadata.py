"""Tests for tasks.text.metadata: dates, datelines, titles, bylines, outlets."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.text.metadata import (
    byline_author,
    dateline_match,
    find_date_line,
    guess_outlet,
    guess_title,
    parse_date,
)
from tests.test_clean import stored

TODAY = date(2026, 1, 1)


@pytest.mark.parametrize(
    "s, expected, conv",
    [
        ("09/26/2013", date(2013, 9, 26), "MDY"),
        ("26/09/2013", date(2013, 9, 26), "DMY"),
        ("03/04/2013", date(2013, 3, 4), "MDY-ambiguous"),
        ("03.04.2013", date(2013, 4, 3), "DMY-ambiguous"),
        ("26.09.2013", date(2013, 9, 26), "DMY"),
        ("9/26/13", date(2013, 9, 26), "MDY"),
        ("2013-09-26", date(2013, 9, 26), "ISO"),
        ("2013-09-26T10:00:00Z", date(2013, 9, 26), "ISO"),
        ("2013-09-26T23:30:00-05:00", date(2013, 9, 26), "ISO"),
        ("2013/09/26", date(2013, 9, 26), "YMD"),
        ("Sept. 20, 2013", date(2013, 9, 20), "text"),
        ("Sep 20 2013", date(2013, 9, 20), "text"),
        ("September 26th, 2013", date(2013, 9, 26), "text"),
        ("20 September 2013", date(2013, 9, 20), "text"),
        ("Thursday, 26 September 2013 10:32 BST", date(2013, 9, 26), "text"),
        ("Syria resolution news - 09/26/2013", date(2013, 9, 26), "MDY"),
        ("1st of May, 2020", date(2020, 5, 1), "text"),
    ],
)
def test_parse_date(s, expected, conv):
    assert parse_date(s, today=TODAY) == (expected, conv)


@pytest.mark.parametrize(
    "s",
    [
        "",
        "no date here",
        "2031-01-01",  # future
        "26 September 2031",
        "02/30/2013",  # impossible
        "13/13/2013",
        "1066-10-14",  # absurd year
        "version 1.2.13",
        "call 555-12-2013x",
        "May 2013",  # no day
    ],
)
def test_parse_date_rejects(s):
    assert parse_date(s, today=TODAY) == (None, None)


def test_parse_date_future_relative_to_today():
    assert parse_date("2013-09-27", today=date(2013, 9, 26)) == (None, None)
    assert parse_date("2013-09-26", today=date(2013, 9, 26)) == (date(2013, 9, 26), "ISO")


def test_parse_date_skips_invalid_then_takes_valid():
    assert parse_date("02/30/2013 or 2013-09-26", today=TODAY) == (date(2013, 9, 26), "ISO")


def test_find_date_line():
    lines = [
        "IE 11 is not supported. For an optimal experience visit our site on another browser.",
        "",
        "US, Russia agree on Syria deal, sources say",
        "",
        "The United States and Russia have come to an agreement on a draft resolution to enforce the handover",
        "Syria resolution news - 09/26/2013",
        "A Free Syrian Army fighter walks through a window in Salah al-Din neighborhood in central Aleppo, Sept. 20, 2013.",
    ]
    assert find_date_line(lines, today=TODAY) == (5, date(2013, 9, 26), "09/26/2013", "MDY")
    assert find_date_line(["Title of the story", "Published 26 September 2013"], today=TODAY) == (
        1,
        date(2013, 9, 26),
        "26 September 2013",
        "text",
    )
    assert find_date_line(["Nothing here", "Still nothing"]) is None
    assert find_date_line([]) is None


def test_dateline_match_rejects_sentences_and_captions():
    assert dateline_match("The vote was held on Sept. 20, 2013.", today=TODAY) is None
    assert (
        dateline_match(
            "A Free Syrian Army fighter walks through a window in Salah al-Din neighborhood in central Aleppo, Sept. 20, 2013.",
            today=TODAY,
        )
        is None
    )
    assert dateline_match("Last updated on 2013-09-26 at 10:00 GMT", today=TODAY) is not None


def test_guess_title():
    assert (
        guess_title(
            [
                "IE 11 is not supported. For an optimal experience visit our site on another browser.",
                "",
                "US, Russia agree on Syria deal, sources say",
                "",
                "The United States and Russia have come to an agreement.",
            ]
        )
        == "US, Russia agree on Syria deal, sources say"
    )
    assert (
        guess_title(["Support The Moscow Times!", "", "Russia, U.S. Reach Agreement Over UN Draft on Chemical Attacks in Syria"])
        == "Russia, U.S. Reach Agreement Over UN Draft on Chemical Attacks in Syria"
    )
    assert guess_title(["Home", "News", "Sport", "Is this the end of the high street?", "Body text."]) == (
        "Is this the end of the high street?"
    )
    assert guess_title(["Talks collapse as deadline passes for U.S.", "Body."]) == "Talks collapse as deadline passes for U.S."
    # pages that start with body text have no title
    assert guess_title(["The council voted on Tuesday to approve the budget.", "More text here."]) is None
    assert guess_title([]) is None


def test_byline_author():
    assert byline_author("By Jane Doe") == "Jane Doe"
    assert byline_author("By Jane Doe and John Roe, Reuters") == "Jane Doe; John Roe"
    assert byline_author("By Jane Doe | Sept. 26, 2013") == "Jane Doe"
    assert byline_author("By supporting The Moscow Times, you're defending open journalism.") is None
    assert byline_author("By Thursday, the council had agreed to the plan.") is None


def test_byline_author_in_other_languages():
    assert byline_author("Von Jana Muster und Max Muster") == "Jana Muster; Max Muster"
    assert byline_author("Par Jean Dupont, à Paris") == "Jean Dupont"
    assert byline_author("Por Juan Pérez y Ana Gómez") == "Juan Pérez; Ana Gómez"
    assert byline_author("di Mario Rossi") == "Mario Rossi"
    assert byline_author("Oleh Budi Santoso | 3 Mei 2024") == "Budi Santoso"
    assert byline_author("Av Kari Nordmann og Ola Nordmann") == "Kari Nordmann; Ola Nordmann"
    # a sentence that starts with the same word is not a byline
    assert byline_author("Von Montag an gilt die neue Regel.") is None
    assert byline_author("Di Maio ha detto che il governo cadrà.") is None


def test_bylines_name_their_authors_not_their_newsroom_or_job():
    assert byline_author("By Jane Doe, BBC News") == "Jane Doe"
    assert byline_author("By Jane Doe and John Roe, Associated Press") == "Jane Doe; John Roe"
    assert byline_author("By Jane Doe, Political Correspondent") == "Jane Doe"
    assert byline_author("By Jane Doe, John Roe") == "Jane Doe; John Roe"
    assert byline_author("Por Chus del Pino") == "Chus del Pino"
    assert byline_author("Door Kees van der Berg") == "Kees van der Berg"
    assert byline_author("Von Łukasz Żuk und Şule Çelik") == "Łukasz Żuk; Şule Çelik"
    assert byline_author("Автор: Ігор Петренко") == "Ігор Петренко"


def test_bylines_that_name_the_author_without_by():
    assert byline_author("Author: Elena Kuznetsova") == "Elena Kuznetsova"
    assert byline_author("Report by Tom Ellery at Vale Park") == "Tom Ellery"
    assert byline_author("Автор: Ирина Соколова") == "Ирина Соколова"
    assert byline_author("Auteur : Élodie Durand") == "Élodie Durand"
    assert byline_author("Author of the report said the figures were wrong.") is None


def test_guess_outlet_strong_self_reference():
    lines = ["Support The Moscow Times!", "", "Body text.", "A Message from The Moscow Times:"]
    assert guess_outlet(lines, "\n".join(lines)) == "The Moscow Times"
    assert guess_outlet(["Copyright 2013 NBC News. All rights reserved."], "") == "NBC News"
    assert guess_outlet(["Support independent journalism!"], "") is None
    assert guess_outlet(["Support us"], "") is None


def test_guess_outlet_weak_body_mentions():
    text = (
        "Diplomatic sources confirmed to NBC News Thursday that a deal was reached. "
        "NBC News Chief Foreign Affairs Correspondent Andrea Mitchell reported the details."
    )
    assert guess_outlet(text.split(". "), text) == "NBC News"
    # one passing mention, no staff context: no guess
    assert guess_outlet(["The report was first published by The Washington Post."], "") is None
    assert guess_outlet([], "") is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_never_raises(s):
    d, conv = parse_date(s)
    assert (d is None) == (conv is None)
    find_date_line(s.split("\n"))
    guess_title(s.split("\n"))
    guess_outlet(s.split("\n"), s)
    byline_author(s)


def test_month_names_table_is_what_cldr_says():
    from tasks.text.metadata import cldr_month_names, month_names

    assert month_names() == {**cldr_month_names(), "sept": 9}  # else: write_month_names() (see its docstring)


def test_dates_are_read_without_loading_babel():
    # babel keeps each locale it loads whole: ~36 MiB in every pool worker for 514 month names
    import subprocess
    import sys

    code = ("import sys; from datetime import date; from tasks.text.metadata import parse_date; "
            "assert parse_date('3. Juni 2024', today=date(2026, 1, 1))[0] == date(2024, 6, 3); "
            "assert 'babel' not in sys.modules, 'babel imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


FRENCH_PAGE = """Le port rouvre après la tempête

Publié le 05/03/2025

Le port a rouvert jeudi matin après une tempête qui l'avait fermé pendant deux jours, selon la capitainerie.
Les ferries ont repris leurs horaires habituels et les bateaux de pêche sont repartis en mer avant l'aube.
La garde côtière a indiqué que les réparations de la digue prendraient plusieurs semaines et coûteraient des millions.
"""

ENGLISH_PAGE = """Harbour reopens after storm

Published 05/03/2025

The harbour reopened on Thursday morning after a storm closed it for two days, port officials said.
Ferries resumed their normal timetable and fishing boats returned to sea before dawn on the coast.
The coast guard said repairs to the outer breakwater would take several weeks and cost millions.
"""


def test_an_ambiguous_slash_date_is_read_day_first_in_a_language_that_writes_it_so(tmp_path):
    """A scraped French page dated 05/03/2025 was stored as 3 May: the cleaner reads datelines before
    the language is known, month-first. Only (American) English writes the month first; an English
    page keeps that reading, flagged ambiguous, as before."""
    from tests.test_dedup import ingest_files
    from warehouse.store import Warehouse

    for name, text in (("fr.txt", FRENCH_PAGE), ("en.txt", ENGLISH_PAGE)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest_files([tmp_path / "fr.txt", tmp_path / "en.txt"], tmp_path / "w.duckdb")
    _, rows = Warehouse(tmp_path / "w.duckdb").query(
        "SELECT regexp_extract(source, '(\\w+)\\.txt$', 1), language, CAST(published_at AS VARCHAR), date_convention, "
        "published_raw FROM documents ORDER BY 1")
    assert rows == [("en", "en", "2025-05-03", "MDY-ambiguous", "05/03/2025"),
                    ("fr", "fr", "2025-03-05", "DMY-ambiguous", "05/03/2025")]


def test_the_date_a_page_names_as_published_wins_over_an_updated_one_above_it(tmp_path):
    """A page that shows "Updated 12 March 2021" above "Published 10 March 2021" was stored as published
    on the 12th. A "First published on" line under the story is not the header's and changes nothing."""
    from tests.test_clean import BODY

    header = "\n\n".join(["US to rule on Yukos refuge call", "Updated 12 March 2021, 08:15 GMT\nPublished 10 March 2021, 07:00 GMT",
                           *BODY])
    footer = "\n\n".join(["Council backs new harbour plan", "Updated: Mar 12, 2021 10:00 IST", *BODY,
                           "First published on: 10-03-2021 at 07:00 IST"])
    got = stored(tmp_path, {"header.txt": header, "footer.txt": footer})
    assert (str(got["header.txt"].published_at), got["header.txt"].published_raw) == ("2021-03-10", "10 March 2021")
    assert str(got["footer.txt"].published_at) == "2021-03-12"
    assert "Published 10 March 2021, 07:00 GMT" not in got["header.txt"].text


GERMAN_BODY = [
    ("Nach der Beschlagnahme eines Öltankers vor der Küste Venezuelas hat der Präsident erneut über Einsätze an "
     "Land gesprochen, ohne dabei konkret zu werden."),
    "Er nannte weder ein Land noch einen Zeitpunkt. Auch zur Art der möglichen Einsätze äußerte er sich nicht.",
    "Die Opposition forderte eine Abstimmung im Kongress, bevor Soldaten in ein anderes Land geschickt werden.",
]
ENGLISH_BODY = [
    "A strike on the city's underground has caused traffic chaos and long queues at bus stops across the capital.",
    "Workers walked out last week demanding a pay rise and in protest against new automatic ticket machines.",
    "The operator has offered an 8% increase in wages and promised that no jobs would be lost.",
]
RUSSIAN_BODY = [
    "Как развеселили себя президент и премьер-министр на встрече в Кремле, выяснял наш специальный корреспондент.",
    "Главная интрига содержалась в самом конце, когда лидеры двух стран уже зачитали свои заявления.",
]


def _page(*blocks: str) -> str:
    return "\n\n".join(blocks)


TITLE_PAGES = {
    # a date line above the headline, under a breadcrumb with "›" between its items
    "date_above.txt": (_page("Startseite › Politik › Ausland", "Stand: 12.12.2025 05:07 Uhr",
                             "Trump spricht nach Tanker-Stürmung über Bodeneinsätze",
                             GERMAN_BODY[0][:70], *GERMAN_BODY), "Trump spricht nach Tanker-Stürmung über Bodeneinsätze"),
    # a one-sentence tagline above the headline; the standfirst is cut off with no ellipsis
    "tagline.txt": (_page("AP is a global news agency that offers unbiased and factual news.",
                          "Underground strike grips the capital", ENGLISH_BODY[0][:60],
                          "Updated 3:04 PM GMT, March 5, 2020", *ENGLISH_BODY), "Underground strike grips the capital"),
    # the paragraph the standfirst repeats opens with an agency's dateline in ordinary case
    "agency.txt": (_page("Präsident spricht über Einsätze an Land", GERMAN_BODY[0][:60], "12.07.2025, 14:30 Uhr",
                         "Berlin (dpa) - " + GERMAN_BODY[0], *GERMAN_BODY[1:]), "Präsident spricht über Einsätze an Land"),
    # a headline of two words right above the cut standfirst, a byline and a date line under it
    "two_words.txt": (_page("Легкий троннинг", RUSSIAN_BODY[0][:45], "Автор: Андрей Колесников\n14.05.2025, 20:28",
                            *RUSSIAN_BODY), "Легкий троннинг"),
    # the page's age instead of its date under the headline, under the site's name and menu
    "age.txt": (_page("Skip to content\nBritish Broadcasting Corporation\nHome\nNews\nSport",
                      "Underground strike grips the capital", "2 hours ago\nShare\nSave", *ENGLISH_BODY),
                "Underground strike grips the capital"),
    "age_de.txt": (_page("Nachrichten aus aller Welt", "Präsident spricht über Einsätze an Land", "vor 3 Stunden",
                         *GERMAN_BODY), "Präsident spricht über Einsätze an Land"),
    # a blog's excerpt mark "[…]" ends the standfirst
    "excerpt.txt": (_page("Underground strike grips the capital", ENGLISH_BODY[0][:70] + " […]",
                          "Posted on September 5, 2004", *ENGLISH_BODY), "Underground strike grips the capital"),
}


def test_the_headline_of_a_scraped_page_is_found_under_its_furniture_and_above_its_standfirst(tmp_path):
    """Seed-like pages (a seeds audit) stored furniture, a cut standfirst or nothing as the title: a
    breadcrumb with "›", a tagline above the headline, a standfirst that a "Berlin (dpa) -" paragraph
    repeats, a two-word headline, "2 hours ago" where the date goes, a blog excerpt's "[…]". The
    standfirst is not article text either."""
    got = stored(tmp_path, {name: text for name, (text, _) in TITLE_PAGES.items()})
    assert {name: doc.title for name, doc in got.items()} == {name: title for name, (_, title) in TITLE_PAGES.items()}
    for name, doc in got.items():
        opening = next(b[:40] for b in (GERMAN_BODY[0], ENGLISH_BODY[0], RUSSIAN_BODY[0]) if b[:40] in doc.text)
        assert doc.text.count(opening) == 1, name


AUTHOR_PAGES = {
    "newsroom.txt": (_page("Underground strike grips the capital", "By Jane Doe, BBC News", "5 March 2020", *ENGLISH_BODY),
                     "Jane Doe"),
    "particle.txt": (_page("El Gobierno aprueba la subida del salario mínimo", "Por Chus del Pino",
                           "14 de marzo de 2023", *ENGLISH_BODY), "Chus del Pino"),
    # a name alone above or under the date line is no author (a place, an outlet or a heading sits there
    # too, and nothing tells them apart); a name with the writer's job is
    "bare.txt": (_page("Präsident spricht über Einsätze an Land", "Michelle de Oliveira\n06.11.2025, 12:26 Uhr",
                       *GERMAN_BODY), None),
    "job.txt": (_page("Underground strike grips the capital", ENGLISH_BODY[0][:60],
                      "Peter O'Neill\nPolitical correspondent\nThu 10 Jun 2004 05.19 GMT", *ENGLISH_BODY), "Peter O'Neill"),
    "job_comma.txt": (_page("Underground strike grips the capital", "Jane Reid, Business reporter\n"
                            "Published 4:22 PM EST, Tue May 4, 2004", *ENGLISH_BODY), "Jane Reid"),
    "below.txt": (_page("Underground strike grips the capital", "March 6, 2004 6:18 PM ET", "Laura Nakamura",
                        "Technology reporter", *ENGLISH_BODY), "Laura Nakamura"),
    # neither a newsroom alone nor the standfirst next to the date line is an author
    "none.txt": (_page("Underground strike grips the capital", ENGLISH_BODY[0][:60], "BBC News\n5 March 2020",
                       *ENGLISH_BODY), None),
}


def test_a_scraped_pages_author_is_read_from_its_byline_with_or_without_by(tmp_path):
    """Seed-like pages (a seeds audit): "By Jane Doe, BBC News" stored "Jane Doe; BBC News", "Por Chus
    del Pino" nothing (the particle "de" was read as "de" and "l Pino"), and a byline without "By" next
    to the date line ("Jane Doe, Business reporter", the job on a line under it) nothing. The byline and
    the job are not article text; neither is a name alone by the date line, which is no author."""
    got = stored(tmp_path, {name: text for name, (text, _) in AUTHOR_PAGES.items()})
    assert {name: doc.author for name, doc in got.items()} == {name: a for name, (_, a) in AUTHOR_PAGES.items()}
    assert got["bare.txt"].title == "Präsident spricht über Einsätze an Land"  # was the name
    for name, doc in got.items():
        first = doc.text.split("\n\n")[1 if name == "bare.txt" else 0]  # the name alone stays text
        assert first in (ENGLISH_BODY[0], GERMAN_BODY[0]), name


@pytest.mark.parametrize("line, author", [
    ("Jane Smith", None), ("San Francisco", None), ("Le Monde", None), ("Budget Battle", None),
    ("New York, New York", None), ("Buenos Aires, Capital Federal", None),
    ("Jane Smith, Business reporter", "Jane Smith"), ("Jane Smith\nBusiness reporter", "Jane Smith"),
    ("Political correspondent\nJane Smith", "Jane Smith"),
])
def test_a_capitalised_line_by_the_date_is_an_author_only_with_the_writers_job(line, author):
    """A name alone next to the date line looked like a byline without its "By", but a dateline's place,
    an outlet and a section heading sit there too ("San Francisco", "Le Monde", "Budget Battle" were
    stored as authors; a diff review): only the writer's job beside the name makes it the byline."""
    from tasks.batch import clean_docs
    from tasks.document import Document

    body = ("A storm hit the coast overnight, cutting power to thousands of homes, officials said on "
            "Wednesday morning.\n\nCrews worked through the night to restore lines, and most homes had power "
            "again by noon, the utility said.")
    text = f"Storm hits the coast overnight\n{line}\nMarch 3, 2021\n\n{body}"
    kept, _ = clean_docs([Document(source="a.txt", source_kind="file", raw_text=text, raw_sha256="x")])
    assert kept[0].author == author and kept[0].title == "Storm hits the coast overnight"
