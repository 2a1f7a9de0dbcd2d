"""Metadata guessed from scraped article text: publication date, title, outlet, author.

Pure functions; month names come from CLDR (babel). Everything here is a *guess* used when the
source (JSON record fields, HTML extractor) did not provide the value; callers pass
known metadata to `tasks.text.clean.clean_document`, which always wins.

Date conventions returned by `parse_date` (stored as `Document.date_convention`):

    "ISO"            2013-09-26, 2013-09-26T10:00:00Z, 2013-09-26 10:00
    "YMD"            2013/09/26, 2013.09.26
    "MDY"            09/26/2013 -- unambiguous US order (day > 12)
    "DMY"            26/09/2013, 26.09.2013 -- unambiguous day-first order
    "MDY-ambiguous"  03/04/2013 -- both fields <= 12; read month-first (US default)
    "DMY-ambiguous"  03.04.2013 -- dotted numeric dates are a European convention,
                     so an ambiguous *dotted* date is read day-first
    "text"           Sept. 20, 2013 / 20 September 2013 / Thursday, September 26th, 2013

Rejected: dates after `today` (default `date.today()`), years before 1900, impossible
calendar dates (02/30/2013). Month names in the languages of `DATE_LOCALES` (CLDR, via babel);
relative dates ("3 hours ago") are not resolved.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

from tasks.text.tokens import layout_words

MIN_YEAR = 1900

# English abbreviations CLDR does not list ("Sept.") beside the month names of the languages
# below, from CLDR through babel (already installed by trafilatura's courlan): "3. Juni 2024",
# "3 juin 2024", "3 de junio de 2024", "3 июня 2024 года", "26 Eylül 2013", "15 مارس 2024".
_ENGLISH_MONTHS = {"sept": 9}
DATE_LOCALES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "nn", "fi", "is", "pl", "cs", "sk",
                "sl", "hr", "hu", "ro", "tr", "id", "ms", "ca", "et", "lv", "lt", "ru", "uk", "bg", "el",
                "ar", "fa", "he")
# cldr_month_names() written out (tests/test_metadata.py checks it against the installed babel):
# babel keeps every locale it loads whole, and the 31 locales of this list then held ~36 MiB in each
# pool worker (and in the flow process when a small batch is cleaned there) for 514 names (548 now)
MONTH_NAMES_PATH = Path(__file__).with_name("data") / "month_names.txt"


def _table_rows(path: Path) -> list[tuple[str, str]]:
    """The (key, value) rows of one of tasks/text/data's two-column tables: key<TAB>value, "#" comments."""
    return [tuple(line.rsplit("\t", 1)) for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Lower-cased month name or abbreviation -> month number, across `DATE_LOCALES`
    (tasks/text/data/month_names.txt, from `cldr_month_names`)."""
    return {**{name: int(number) for name, number in _table_rows(MONTH_NAMES_PATH)}, **_ENGLISH_MONTHS}


def cldr_month_names() -> dict[str, int]:
    """The month names of `DATE_LOCALES` from CLDR (babel). A name that means two months in two
    languages (Polish/Czech "listopad" is November, Croatian October) is left out: the cleaner
    reads dates before the document's language is known. Regenerate the table with
    `python -c "from tasks.text.metadata import write_month_names; write_month_names()"`."""
    from babel import Locale

    seen: dict[str, set[int]] = {}
    for code in DATE_LOCALES:
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    key = re.sub(r"^(?:de |d[’'])", "", name.lower()).rstrip(".")  # Catalan "de gener"
                    if len(key) >= 3 and key.replace(" ", "").isalpha():
                        seen.setdefault(key, set()).add(number)
    return {name: min(numbers) for name, numbers in seen.items() if len(numbers) == 1}


def write_month_names(path: Path = MONTH_NAMES_PATH) -> None:
    import babel

    lines = [f"# Month names of tasks.text.metadata.DATE_LOCALES from CLDR (babel {babel.__version__}):",
             "# name<TAB>month number, written by tasks.text.metadata.write_month_names()"]
    lines += [f"{name}\t{number}" for name, number in sorted(cldr_month_names().items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_ORDINALS = "st|nd|rd|th"
_ORD = rf"(?:{_ORDINALS})?"

_DIGIT_RE = re.compile(r"\d")
_ISO_RE = re.compile(
    r"(?<![\d./-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d])"
)
_YMD_RE = re.compile(r"(?<![\d./-])(?P<y>\d{4})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d]|[./-]\d)")
# 2026年12月5日 (Chinese, Japanese), 2026년 12월 5일 (Korean)
_CJK_YMD_RE = re.compile(r"(?<!\d)(?P<y>\d{4})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]")
_NUM_RE = re.compile(
    r"(?<![\d./-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?![\d]|[./-]\d)"
)


# "Sept. 20, 2013" (month first) and "20 September 2013", "3. Juni 2024", "3 de junio de 2024"
# (day first). Any word may stand in the month's place; `month_names()` decides, which keeps
# the regex small (an alternation of 500 names made the cleaner 80% slower).
_WORD_MON = r"(?P<mon>[^\W\d_]{3,})\.?"
_TEXT_MDY_RE = re.compile(rf"\b{_WORD_MON}\s*(?P<d>\d{{1,2}}){_ORD}\b,?\s*(?P<y>\d{{4}})(?!\d)")
_TEXT_DMY_RE = re.compile(rf"\b(?P<d>\d{{1,2}})(?:{_ORDINALS}|\.|º|er)?\s+(?:of\s+|de\s+)?{_WORD_MON},?\s+"
                          rf"(?:de\s+|del\s+)?(?P<y>\d{{4}})(?!\d)")


def _mk(y: int, m: int, d: int, today: date) -> date | None:
    if y < MIN_YEAR:
        return None
    try:
        out = date(y, m, d)
    except ValueError:
        return None
    return None if out > today else out


def _year2(yy: str, today: date) -> int:
    y = int(yy)
    if len(yy) == 4:
        return y
    return 2000 + y if y <= today.year % 100 else 1900 + y


def find_date(s: str, *, today: date | None = None) -> tuple[date, str, int, int] | None:
    """First valid date in `s`: (date, convention, start, end) of the matched text, or None."""
    if not s or not isinstance(s, str):
        return None
    s = s[:10_000]
    if not _DIGIT_RE.search(s):
        return None
    today = today or date.today()
    cands: list[tuple[int, int, date, str]] = []

    def first(regex: re.Pattern, build) -> None:
        for m in regex.finditer(s):
            got = build(m)
            if got is not None:
                cands.append((m.start(), m.end(), got[0], got[1]))
                return

    first(_ISO_RE, lambda m: _ok(_mk(int(m["y"]), int(m["m"]), int(m["d"]), today), "ISO"))
    first(_YMD_RE, lambda m: _ok(_mk(int(m["y"]), int(m["m"]), int(m["d"]), today), "YMD"))
    first(_CJK_YMD_RE, lambda m: _ok(_mk(int(m["y"]), int(m["m"]), int(m["d"]), today), "YMD"))

    def num(m: re.Match):
        a, b, sep = int(m["a"]), int(m["b"]), m["sep"]
        if len(m["y"]) == 2 and sep != "/":
            return None  # 1.2.13 / 1-2-13: versions, scores, phone fragments
        y = _year2(m["y"], today)
        if a > 12 and b <= 12:
            return _ok(_mk(y, b, a, today), "DMY")
        if b > 12 and a <= 12:
            return _ok(_mk(y, a, b, today), "MDY")
        if a <= 12 and b <= 12:
            if sep == ".":
                return _ok(_mk(y, b, a, today), "DMY-ambiguous")
            return _ok(_mk(y, a, b, today), "MDY-ambiguous")
        return None

    first(_NUM_RE, num)
    def text(m: re.Match):
        month = _month_number(m["mon"])
        return None if month is None else _ok(_mk(int(m["y"]), month, int(m["d"]), today), "text")

    first(_TEXT_MDY_RE, text)
    first(_TEXT_DMY_RE, text)
    if not cands:
        return None
    start, end, d, conv = min(cands, key=lambda c: c[0])
    return d, conv, start, end


def _month_number(word: str) -> int | None:
    word = word.lower()
    names = month_names()
    # Hebrew writes its "in" onto the month ("15 במרץ 2024": CLDR's pattern is "d בMMMM y")
    return names.get(word) or (names.get(word[1:]) if word.startswith("ב") else None)


def _ok(d: date | None, conv: str):
    return None if d is None else (d, conv)


def parse_date(s: str, *, today: date | None = None) -> tuple[date | None, str | None]:
    """(date, convention) of the first valid date in `s`, else (None, None).

    Ambiguous numeric dates like 03/04/2013 are read month-first (US) and reported as
    "MDY-ambiguous"; dotted 03.04.2013 is read day-first ("DMY-ambiguous").
    """
    found = find_date(s, today=today)
    if found is None:
        return None, None
    return found[0], found[1]


# Only English, as Americans write it, puts the month first (09/26/2013); newsrooms in every other
# language write the day first (26/09/2013)
MONTH_FIRST_LANGUAGES = frozenset({"en"})


def in_language_order(day: date, convention: str | None, language: str | None, today: date
                      ) -> tuple[date, str | None]:
    """An ambiguous slash date read month-first (the cleaner reads dates before the language is
    known) read again day-first when the document's language writes the day first; a reading that
    would lie in the future keeps the first one. Anything else comes back as it was."""
    if convention != "MDY-ambiguous" or language is None or language in MONTH_FIRST_LANGUAGES:
        return day, convention
    try:
        swapped = date(day.year, day.day, day.month)
    except ValueError:
        return day, convention
    return (day, convention) if swapped > today else (swapped, "DMY-ambiguous")


# ---------------------------------------------------------------- dateline

_TIME_RE = re.compile(
    r"\b\d{1,2}(?:[:.]|\s?h\s?)\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*(?:[A-Z]{2,5}|GMT[+-]?\d*|UTC[+-]?\d*))?\b"
    r"|\d{1,2}\s*[時시]\s*(?:\d{1,2}\s*[分분])?",
    re.IGNORECASE,
)
_WEEKDAY_RE = re.compile(r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\b\.?", re.IGNORECASE)
# words that open a date line, in the languages the cleaner knows: "Published", "Mis à jour le",
# "Aktualisiert am", "Actualizado:", "Опубликовано"; _PUBLISHED_WORDS name the publication's date
_PUBLISHED_WORDS = (r"first published|published|posted|publié|veröffentlicht|publicado|pubblicato|gepubliceerd"
                    r"|publicerad|publisert|publiceret|опубликовано")
_DATELINE_LEAD = (rf"(?:{_PUBLISHED_WORDS}|updated|last updated|date|dated|modified|last modified"
                  r"|mis à jour|actualisé|aktualisiert|stand|actualizado|atualizado"
                  r"|aggiornato|bijgewerkt|uppdaterad|oppdatert|opdateret|обновлено)")
_DATELINE_LEAD_RE = re.compile(rf"^\W*{_DATELINE_LEAD}\b", re.IGNORECASE)
# a page's age where others give its date, under the headline: "2 hours ago", "Updated 5 mins ago",
# "vor 5 Stunden", "il y a 3 heures", "hace 5 horas", "3 timmar sedan", "3時間前", "3시간 전", "5 часов назад"
RELATIVE_TIME_RE = re.compile(
    rf"^\W*(?:{_DATELINE_LEAD}\s*:?\s*)?"
    r"(?:\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?)\s+ago"
    r"|vor\s+\d+\s+(?:sekunden|minuten|stunden|tagen|wochen|monaten)"
    r"|il y a\s+\d+\s+(?:secondes?|minutes?|heures?|jours?|semaines?|mois)"
    r"|hace\s+\d+\s+(?:segundos?|minutos?|horas?|días?|semanas?|meses)"
    r"|\d+\s+(?:sekunder|minuter|minutter|timmar|timme|timer|time|dagar|dager|dage)\s+(?:sedan|siden)"
    r"|\d+\s*(?:秒|分|時間|日)前|\d+\s*(?:초|분|시간|일)\s*전"
    r"|\d+\s+(?:секунд\w*|минут\w*|час\w*|дн\w*|день)\s+назад)\W*$",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")
DATELINE_MAX_CHARS = 160
DATELINE_SCAN_LINES = 15


def dateline_match(line: str, *, today: date | None = None) -> tuple[date, str, str] | None:
    """(date, raw date text, convention) when `line` is a dateline, i.e. mostly a date.

    After removing the date, times and weekday names, at most 8 words may remain, at most 3
    of them lowercase (so "Syria resolution news - 09/26/2013", "Published 26 September
    2013 10:00 BST", "By Jane Doe | Sept. 26, 2013" qualify, but a body sentence such as
    "The vote was held on Sept. 20, 2013." does not). Lines starting with
    Published/Updated/Posted may have up to 12 words.
    """
    if not line or len(line) > DATELINE_MAX_CHARS:
        return None
    found = find_date(line, today=today)
    if found is None:
        return None
    d, conv, start, end = found
    rest = line[:start] + " " + line[end:]
    rest = _TIME_RE.sub(" ", rest)
    rest = _WEEKDAY_RE.sub(" ", rest)
    words = _WORD_RE.findall(rest)
    lower = [w for w in words if w[0].islower()]
    lead = bool(_DATELINE_LEAD_RE.match(line))
    if len(words) > (12 if lead else 8) or (len(lower) > 3 and not lead):
        return None
    return d, line[start:end], conv


# "Published 10 March 2021", "First published: ...", "Publié le ...", "Veröffentlicht am ..."
_PUBLISHED_RE = re.compile(rf"\b(?:{_PUBLISHED_WORDS})\b(?:\s+(?:on|am|le|el|il|op|den))?\s*:?\s*", re.IGNORECASE)


def publication_date(line: str, *, today: date | None = None) -> tuple[date, str, str] | None:
    """(date, raw date text, convention) of the date a date line names as the publication's, right
    after a word such as "Published" ("Updated 12 March 2021 | Published 10 March 2021" -> 10 March),
    or None when it names none that way."""
    if not line or len(line) > DATELINE_MAX_CHARS:
        return None
    for m in _PUBLISHED_RE.finditer(line):
        found = find_date(line[m.end():m.end() + 80], today=today)
        if found is not None and found[2] <= 40:  # the date after the word, not one further on
            d, conv, start, end = found
            return d, line[m.end() + start:m.end() + end], conv
    return None


def find_date_line(lines: Sequence[str], *, today: date | None = None, scan: int = DATELINE_SCAN_LINES):
    """(index, date, raw date text, convention) of the first dateline among the first `scan`
    non-empty lines, or None. `index` is the position in `lines`."""
    found = _first_in_lead(lines, scan, lambda line: dateline_match(line.strip(), today=today))
    return None if found is None else (found[0], *found[1])


def _first_in_lead(lines: Sequence[str], scan: int, match):
    """(index, match) of the first of the first `scan` non-empty lines that `match` gives a value for."""
    seen = 0
    for i, line in enumerate(lines):
        if not isinstance(line, str) or not line.strip():
            continue
        seen += 1
        if seen > scan:
            break
        got = match(line)
        if got:
            return i, got
    return None


# ---------------------------------------------------------------- title

TITLE_MIN_WORDS = 3
TITLE_MAX_WORDS = 30
TITLE_MAX_CHARS = 250
TITLE_SCAN_LINES = 15
_ABBREV_END_RE = re.compile(r"(?:\b[A-Z]\.){2,}$|\b(?:Inc|Co|Corp|Ltd|Jr|Sr|St|Dr|Mr|Mrs|Ms|Gen|Gov|Sen|Rep)\.$")


_MENU_SPLIT_RE = re.compile(r"\s+[|•·/>»›‹→]\s+|\s*[|•·»›]\s*")


def menu_line(line: str) -> bool:
    """Navigation, not prose: three or more items of at most three words between separators
    ("Tech | Gadgets | Science", "Startseite > Politik > Deutschland", "Home › Wirtschaft › Konjunktur")."""
    if len(line) > 200:
        return False
    items = [x for x in _MENU_SPLIT_RE.split(line) if x.strip()]
    return len(items) >= 3 and all(layout_words(x) <= 3 for x in items)


def title_candidate(line: str) -> bool:
    """A line shaped like a headline: 3-30 words (`layout_words`: a Japanese headline counts one word
    per two characters), <= 250 chars, no sentence-ending period (a final abbreviation such as "U.S."
    is fine; "?" and "!" are fine), not a menu."""
    line = line.strip()
    if not line or len(line) > TITLE_MAX_CHARS:
        return False
    n = layout_words(line)
    if n < TITLE_MIN_WORDS or n > TITLE_MAX_WORDS:
        return False
    if not any(ch.isalpha() for ch in line):
        return False
    if line.endswith((".", "…", ",", ";", ":", "。")) and not _ABBREV_END_RE.search(line):
        return False
    if line.count(". ") >= 2 or menu_line(line):  # several sentences; navigation
        return False
    return True


def guess_title(lines: Sequence[str], *, today: date | None = None) -> str | None:
    """First substantial line near the top that is not boilerplate (pattern list in
    tasks/text/data/boilerplate_patterns.txt), not a dateline/byline, and headline-shaped
    (see `title_candidate`). Only the first 15 non-empty lines before the first body-like
    paragraph (>= 12 words ending with sentence punctuation) are considered; None if
    nothing fits (e.g. a page that starts straight with body paragraphs)."""
    idx = guess_title_index(lines, today=today)
    return None if idx is None else lines[idx].strip()


def guess_title_index(lines: Sequence[str], *, today: date | None = None, boilerplate=None) -> int | None:
    """Index in `lines` of the guessed title (see `guess_title`). A headline-shaped line
    that sits inside a run of short menu-like lines (<= 4 words, <= 40 chars, no final
    punctuation, e.g. "US & Canada" between "Business" and "Science") is only used when
    no other candidate exists."""
    if boilerplate is None:
        from tasks.text.clean import boilerplate_rule as boilerplate  # local import: clean imports this module

    top: list[tuple[int, str]] = []
    for i, raw in enumerate(lines):
        if not isinstance(raw, str):
            continue
        line = " ".join(raw.split())
        if line:
            top.append((i, line))
            if len(top) > TITLE_SCAN_LINES:
                break
    kinds = []  # "bp" boilerplate/dateline/byline, "short", "other"
    dated = [dateline_match(line, today=today) is not None for _i, line in top]
    for k, (_i, line) in enumerate(top):
        if (
            boilerplate(line) is not None
            or dated[k]
            or byline_author(line) is not None
        ):
            kinds.append("bp")
        elif len(line) <= 40 and len(line.split()) <= 4 and not line.endswith(tuple(".!?…:;\"'”’»)")):
            kinds.append("short")
        else:
            kinds.append("other")
    anchored = _title_above_lead(top, kinds, dated, lines)
    if anchored is not None:
        return anchored
    fallback = None
    for k, (i, line) in enumerate(top[:TITLE_SCAN_LINES]):
        if _article_begun(kinds[k], line):
            break
        if kinds[k] == "bp" or not title_candidate(line):
            continue
        in_menu = kinds[k] == "short" and (
            (k > 0 and kinds[k - 1] == "short") and (k + 1 < len(kinds) and kinds[k + 1] in ("short", "bp"))
        )
        if not in_menu:
            return i
        if fallback is None:
            fallback = i
    return fallback


# "…", "...", and the excerpt marks of blog software: "[…]", "[...]", "(...)"
ELLIPSIS_END_RE = re.compile(r"\s*(?:[\[(](?:…|\.\.\.)[\])]|…|\.\.\.)$")


def cut_off(line: str) -> bool:
    """A sentence cut off with an ellipsis, eight words or more: a scraped standfirst or teaser."""
    return ELLIPSIS_END_RE.search(line.rstrip()) is not None and layout_words(line) >= 8


def _article_begun(kind: str, line: str) -> bool:
    """A body paragraph: twelve words or more ending as a sentence; a title comes before it."""
    return kind == "other" and layout_words(line) >= 12 and line.endswith(tuple(".!?\"”’"))


def _opens_later(line: str, later, i: int) -> bool:
    """A standfirst as scraped pages repeat it above the article: the opening of a later, longer
    paragraph, with or without an ellipsis (`later(i, head)`: the lines after line i that open with
    `head`, casefolded, wire datelines taken off)."""
    key = ELLIPSIS_END_RE.sub("", line.casefold()).rstrip(".… ")
    return len(key) >= 30 and any(len(x) > len(key) and x.startswith(key) for x in later(i, key[:30]))


def _title_above_lead(top: list[tuple[int, str]], kinds: list[str], dated: list[bool],
                      lines: Sequence[str]) -> int | None:
    """The headline of a scraped page sits right above its standfirst or its date line; lines
    further up are site furniture however headline-shaped ("Keyboard shortcuts for audio player",
    a section or outlet name). So the first headline-shaped line above such an anchor, with at most
    three other lines between, is the title, wherever the page starts; bylines, date lines (a page's
    age, "2 hours ago", too), a second teaser and other known furniture between do not count.

    A standfirst (cut off with an ellipsis, or the opening of a later paragraph) is the stronger
    anchor and is tried first: a date line may sit above the headline ("Stand: 12.12.2025" under a
    skip link). Right above a standfirst a headline of one or two words is a headline too ("Легкий
    троннинг"). A standfirst is never the title itself: cut off, it may lack its final full stop, as a
    headline does. A name alone ("Michelle de Oliveira") under a headline-shaped line is the byline
    without its "By", not the headline.

    Only the page's top holds anchors: its lines down to the first body paragraph (a long headline
    ending with a quote looks like one: the line under it still counts), or down to a standfirst that
    a later paragraph opens with (the article starts below that, and a one-sentence tagline or consent
    notice above it is none of its paragraphs)."""
    # the page's lines casefolded without wire datelines, by their first 30 characters (made when first needed)
    by_head: dict[str, list[tuple[int, str]]] = {}

    def later(i: int, head: str) -> list[str]:
        if not by_head:
            for j, x in enumerate(lines):
                x = strip_wire_dateline(x).casefold() if isinstance(x, str) else ""
                by_head.setdefault(x[:30], []).append((j, x))
        return [x for j, x in by_head.get(head, ()) if j > i]

    window = top[:TITLE_SCAN_LINES]
    top_end = next((k + 1 for k, (_i, line) in enumerate(window) if _article_begun(kinds[k], line)), len(window))
    # (a teaser cut off right under the first long line: that line was a long headline, not a paragraph)
    cut = [_opens_later(line, later, i) or (k <= top_end and cut_off(line)) for k, (i, line) in enumerate(window)]
    top_end = max([top_end] + [k + 1 for k, c in enumerate(cut) if c])
    timed = [k < top_end and (dated[k] or RELATIVE_TIME_RE.match(line) is not None)
             for k, (_i, line) in enumerate(window)]

    def headline_above(k: int) -> int | None:
        between = 0
        found = None
        for c in range(k - 1, -1, -1):
            line = top[c][1]
            if kinds[c] == "bp" or cut[c] or timed[c]:
                continue
            if found is not None:
                # a name alone over the date line, under a headline: the byline without its "By"
                return top[c][0] if title_candidate(line) and bare_name_author(line) is None else found
            if title_candidate(line) or (cut[k] and c == k - 1 and _short_headline(line)):
                if not bare_name_author(line):
                    return top[c][0]
                found = top[c][0]
                continue
            between += 1
            if layout_words(line) < 12 or between == 3:
                return None  # a short non-headline line between: not the layout this rule knows
        return found

    for anchors in (cut, timed):
        for k, anchor in enumerate(anchors):
            got = headline_above(k) if anchor else None
            if got is not None:
                return got
    return None


def _short_headline(line: str) -> bool:
    """One or two words with a letter, no final full stop, comma or colon, not a menu."""
    return (0 < layout_words(line) < TITLE_MIN_WORDS and len(line) <= 60 and any(ch.isalpha() for ch in line)
            and not line.endswith((".", ",", ";", ":", "。")) and not menu_line(line))


# ---------------------------------------------------------------- author

# Words that introduce a byline and join two names in it, per language (data, like the cleaner's
# per-language phrases): "By Jane Doe", "Von Jana Muster und Max Muster", "Par Jeanne Dupont",
# "Por Juan Pérez y Ana Gómez", "Di Mario Rossi", "Av Kari Nordmann og Ola Nordmann", "Oleh Budi Santoso".
BYLINE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("by", "written by", "words by", "story by", "text by", "reporting by", "report by", "reported by",
           "author"),
    "de": ("von", "text von", "ein kommentar von", "ein gastbeitrag von", "autor", "autorin"),
    "fr": ("par", "auteur"),
    "es": ("por", "escrito por", "autor"),
    "pt": ("por", "autor"),
    "it": ("di", "a cura di", "autore"),
    "nl": ("door",),
    "sv": ("av",),
    "no": ("av",),
    "da": ("af",),
    "id": ("oleh",),
    "ru": ("автор",),
}
# ... and what a byline may name after a comma instead of another author, the writer's job ("By Jane Doe,
# Political Correspondent", "Von Anna Fink, Korrespondentin in Paris"); a newsroom is a media name
# (`_KNOWN_MEDIA`, `_MEDIA_SUFFIXES`: "By Jane Doe, BBC News", "By Jane Doe and John Roe, Associated Press")
BYLINE_ROLES: dict[str, tuple[str, ...]] = {
    "en": ("correspondent", "reporter", "editor", "writer", "staff", "contributor", "producer", "analyst",
           "columnist", "journalist", "photographer", "presenter", "anchor", "desk", "team", "bureau", "newsroom"),
    "de": ("redaktion", "redakteur", "redakteurin", "korrespondent", "korrespondentin", "reporterin", "autorin"),
    "fr": ("rédaction", "rédacteur", "rédactrice", "correspondant", "correspondante", "envoyé", "envoyée", "journaliste"),
    "es": ("redacción", "corresponsal", "enviado", "enviada", "periodista"),
    "it": ("redazione", "inviato", "inviata", "corrispondente", "giornalista"),
}
NAME_CONJUNCTIONS: dict[str, tuple[str, ...]] = {
    "en": ("and",), "de": ("und",), "fr": ("et",), "es": ("y",), "pt": ("e",), "it": ("e",), "nl": ("en",),
    "sv": ("och",), "no": ("og",), "da": ("og",), "id": ("dan",), "ru": ("и",),
}


def _alternation(words) -> str:
    # longest first, so "written by" is tried before "by"
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))


BYLINE_WORD = _alternation(w for ws in BYLINE_WORDS.values() for w in ws)
CONJUNCTION = _alternation(w for ws in NAME_CONJUNCTIONS.values() for w in ws)
_ROLE_WORDS = frozenset(w for ws in BYLINE_ROLES.values() for w in ws)
_NAME_PARTICLES = frozenset("van von de der da del la le bin dos du".split())
# a name word starts with a capital: Latin (Extended-A and -B too: "Łukasz Żuk", "Şule Çelik"), Greek or
# Cyrillic ("Ігор"); the lower-case letters these ranges hold are refused by the capital check below
_CAPITAL = "A-ZÀ-ÖØ-ÞĀ-ɏΑ-ΩЀ-Я"
# a particle is a whole word: "del Pino" is not "de" and "l Pino", "van der Berg" not "van de" and "r Berg"
_NAME = (rf"[{_CAPITAL}][\w'’.-]*(?:\s+(?:[{_CAPITAL}][\w'’.-]*|(?:van|von|der|del|de|da|la|le|bin)(?![\w'’.-])"
         rf"|al-\w+)){{1,3}}")
_NAME_JOIN = rf"\s*(?:,|&|\b(?:{CONJUNCTION})\b)\s*"  # between two names: "," "&" "and" "und" ...
_BYLINE_RE = re.compile(rf"^(?i:{BYLINE_WORD})\s*:?\s+(?P<names>{_NAME}(?:{_NAME_JOIN}{_NAME})*)(?P<rest>.*)$")
_NAMES_SPLIT = re.compile(_NAME_JOIN)
_JOIN_SPLIT = re.compile(rf"{_NAME_JOIN}|\s+")


def byline_author(line: str) -> str | None:
    """Author name(s) from a byline like "By Jane Doe", "By Jane Doe and John Roe, Reuters",
    "By JANE DOE | Sept. 26, 2013", "By Jane Doe, BBC News" (the newsroom is no author). Names must
    be 2-4 capitalised words; the line must be short (<= 120 chars) so a body sentence starting with
    "By" is not taken."""
    line = line.strip()
    if not line or len(line) > 120:
        return None
    m = _BYLINE_RE.match(line)
    if not m:
        return None
    rest = m["rest"].strip()
    if rest and not re.match(r"^(?:[|,–—\-/·•(]|on\b|for\b|at\b|in\b|updated\b|published\b)", rest, re.IGNORECASE):
        return None
    return _authors(m["names"])


def _authors(names: str) -> str | None:
    """The names of a byline "; "-joined, as the HTML path stores several authors; None unless every
    name word is capitalised (particles aside). A newsroom or the writer's job after the last comma is
    no author ("Jane Doe, BBC News", "Jane Doe, Political Correspondent")."""
    for w in _JOIN_SPLIT.split(names):
        if w and w not in _NAME_PARTICLES and not w.startswith("al-") and not w[0].isupper():
            return None
    if job_after_comma(names):
        names = names.rpartition(",")[0]
    return "; ".join(n.strip().rstrip(".,") for n in _NAMES_SPLIT.split(names) if n.strip().rstrip(".,")) or None


def job_after_comma(line: str) -> bool:
    """A byline's last comma is followed by the writer's newsroom or job, not another name."""
    _, comma, last = line.rpartition(",")
    return bool(comma) and _newsroom_or_job(last.strip())


def _newsroom_or_job(name: str) -> bool:
    """A media name ("BBC News", "Associated Press", "The Times") or a job ("Political Correspondent")
    where a byline lists its names."""
    words = name.split()
    return bool(words) and (name in _KNOWN_MEDIA or words[0] in ("The", "the") or words[-1] in _MEDIA_SUFFIXES
                            or any(w.casefold() in _ROLE_WORDS for w in words))


_BARE_NAMES_RE = re.compile(rf"^(?P<names>{_NAME}(?:{_NAME_JOIN}{_NAME})*)(?:,(?P<job>[^,]{{1,60}}))?$")


def bare_name_author(line: str) -> str | None:
    """Author name(s) of a line that holds nothing but them, or them and the writer's job or newsroom
    after a comma ("Jane Doe", "Anna Fink und Jan Marchart", "Jane Doe, Business reporter"): a byline
    without its "By". Only the caller knows that the line sits where a byline does; a media name or a
    job alone ("BBC News", "Political Correspondent") is no author."""
    line = line.strip()
    m = _BARE_NAMES_RE.match(line) if len(line) <= 80 else None
    if m is None or (m["job"] and not _newsroom_or_job(m["job"].strip())):
        return None
    found = _authors(m["names"])
    return None if found is None or any(_newsroom_or_job(n) for n in found.split("; ")) else found


def job_line(line: str) -> bool:
    """A writer's job on a line of its own under a byline: "Political correspondent", "Staff Writer"."""
    words = line.split()
    return 0 < len(words) <= 5 and any(w.casefold().strip(".,:") in _ROLE_WORDS for w in words)


def find_byline(lines: Sequence[str], scan: int = DATELINE_SCAN_LINES) -> tuple[int, str] | None:
    return _first_in_lead(lines, scan, byline_author)


# ---------------------------------------------------------------- outlet

_OWORD = r"[A-Z][\w&'’-]*(?:\.(?=[A-Za-z])[\w&'’-]*)*"  # periods only inside abbreviations (U.S)
_ONAME = rf"(?P<name>(?:[Tt]he\s+)?{_OWORD}(?:\s+(?:{_OWORD}|of|and|&|de|du|di|la|le|el)){{0,5}})"
# Strong: the outlet speaking about itself (appeals, copyright, newsletter boxes).
# (lowercase trigger substrings, regex): a regex is only tried on lines containing a trigger
_OUTLET_SELF = [
    (("support",), re.compile(rf"^Support\s+{_ONAME}\s*[!.]?$")),
    (("message", "note", "letter"), re.compile(rf"^(?:A\s+)?(?:Message|Note|Letter)\s+from\s+{_ONAME}\s*:?$")),
    (("©", "copyright", "(c)"), re.compile(rf"^(?:©|Copyright|\(c\))\s*(?:©\s*)?(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?\s*,?\s+)?{_ONAME}")),
    (("journalists",), re.compile(rf"\bjournalists\s+(?:of|at)\s+{_ONAME}")),
    (("by supporting",), re.compile(rf"\bBy\s+supporting\s+{_ONAME}")),
    (("subscribe", "sign up"), re.compile(rf"^(?:Subscribe|Sign\s+up)\s+to\s+{_ONAME}")),
    (("newsletter",), re.compile(rf"\bnewsletter\b.{{0,120}}?\bfrom\s+{_ONAME}")),
    (("thank you",), re.compile(rf"\bThank\s+you\s+for\s+(?:reading|supporting)\s+{_ONAME}")),
]

NEWS_AGENCIES_PATH = Path(__file__).with_name("data") / "news_agencies.txt"


@lru_cache(maxsize=1)
def news_agencies() -> dict[str, str]:
    """A news agency's short name as a dateline gives it in brackets, casefolded ("dpa", "ap") -> the
    name its stories' outlet is stored under (tasks/text/data/news_agencies.txt)."""
    return {short.casefold(): name for short, name in _table_rows(NEWS_AGENCIES_PATH)}


# A dateline opening a story: "KUALA LUMPUR (Reuters) -", "SANTIAGO, Dec 1 (Reuters) -",
# "NAIROBI, Kenya (AP) —", "WASHINGTON —": the place in capitals, an optional region or date after a
# comma, an optional agency in brackets, a dash
_WIRE_DATELINE_RE = re.compile(
    r"^[A-Z][A-Z .'’/-]{1,40}(?:,\s*[A-Z][\w .'’]{0,30})?\s*(?:\((?P<agency>[A-Za-z]{2,10})\)\s*)?[-—–]+\s+")


# ... and as most European agencies and papers write it, the place in ordinary case: "Berlin (dpa) -",
# "Paris (AFP) –", "Frankfurt/Main (dpa/lhe) -", "İSTANBUL (AA) -"; only with a known agency in brackets
_AGENCY_DATELINE_RE = re.compile(
    r"^[^\W\d_][\w .,'’/-]{0,40}?\s*\((?P<agency>[A-Za-z]{2,10}(?:/[A-Za-z]{2,10})?)\)\s*[-—–]+\s+")


def strip_wire_dateline(line: str) -> str:
    """The paragraph without its opening dateline ("SANTIAGO, Dec 1 (Reuters) - Chile's …" ->
    "Chile's …", "Berlin (dpa) - Die …" -> "Die …"), for comparing it with a standfirst that repeats
    it without one."""
    m = _WIRE_DATELINE_RE.match(line)
    if m and (m["agency"] or m.end() <= 40):
        return line[m.end():]
    m = _AGENCY_DATELINE_RE.match(line)
    if m and line[:1].isupper() and m["agency"].split("/")[0].casefold() in news_agencies():
        return line[m.end():]
    return line


_OUTLET_STOP = {
    "us", "our", "independent", "quality", "local", "this", "journalism", "the", "it", "all",
    "rights", "reserved", "news", "we", "you", "your", "them", "free", "fearless", "a",
}
_MEDIA_SUFFIXES = (
    "News Times Post Journal Tribune Herald Gazette Telegraph Guardian Chronicle Press Daily "
    "Radio Television TV Network Agency Observer Independent Standard Mail Express Star Sun Record "
    "Examiner Courier Bulletin Review Monitor Insider Wire Today"
).split()
_KNOWN_MEDIA = (
    "BBC News|BBC|CNN|NPR|CNBC|MSNBC|Reuters|AFP|Agence France-Presse|Associated Press|AP|"
    "Bloomberg|Al Jazeera|Fox News|NBC News|ABC News|CBS News|Politico|Axios|Interfax|TASS|RIA Novosti|"
    "Xinhua|Kyodo|Yonhap|Deutsche Welle|DW|Euronews|Sky News|ITV News|Channel 4 News|France 24"
).split("|")
OUTLET_TEXT_LIMIT = 100_000  # weak tier looks at the first 100k characters only
OUTLET_LINE_LIMIT = 300  # strong tier looks at the first and last 300 lines only


_STAFF_BEFORE_RE = re.compile(
    r"\b(?:told|confirmed\s+to|spoke\s+to|speaking\s+to|said\s+to|in\s+an\s+interview\s+with)\s+$"
)
_STAFF_AFTER_RE = re.compile(
    r"^(?:'s|’s)?\s+(?:(?:[A-Z][\w-]*|and|of|for)\s+){0,5}?(?:[Cc]orrespondent|[Rr]eporter|[Pp]roducer|[Aa]nchor|[Cc]ontributor)s?\b"
    r"|^\s+has\s+(?:learned|confirmed|obtained)\b"
)
_CAP_TOKEN_RE = re.compile(r"^[A-Z][\w&'’.-]*$")


_MENTION_RE = re.compile(
    r"(?:"
    + "|".join(re.escape(w) for w in sorted({*_KNOWN_MEDIA, *_MEDIA_SUFFIXES}, key=len, reverse=True))
    + r")(?![\w-])"
)


def _media_mentions(text: str):
    """Yield (name, start, end) for media-shaped names: a known outlet, or up to three
    capitalised words (plus a leading "The") before a media suffix word (News, Times ...)."""
    known = set(_KNOWN_MEDIA)
    last_end = -1
    for m in _MENTION_RE.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        if start < last_end or (start and (text[start - 1].isalnum() or text[start - 1] in "_-")):
            continue
        if word in known and word not in _MEDIA_SUFFIXES:
            last_end = end
            yield word, start, end
            continue
        toks = text[max(0, start - 80) : start].split(" ")
        if toks and toks[-1] == "":
            toks.pop()
        else:
            continue  # suffix glued to something else
        name_toks: list[str] = []
        while toks and len(name_toks) < 3 and _CAP_TOKEN_RE.match(toks[-1]) and toks[-1] != "The":
            name_toks.insert(0, toks.pop())
        if toks and toks[-1] == "The":
            name_toks.insert(0, toks.pop())
        if not [t for t in name_toks if t != "The"]:
            continue
        name = " ".join([*name_toks, word])
        nstart = start - len(" ".join(name_toks)) - 1
        last_end = end
        yield name, nstart, end


def _clean_name(name: str) -> str | None:
    name = name.strip().rstrip(".,;:!'’")
    words = name.split()
    while words and words[-1].lower() in {"of", "and", "&", "de", "du", "di", "la", "le", "el"}:
        words.pop()
    if not words:
        return None
    core = [w for w in words if w.lower() != "the"]
    if not core or core[0].lower() in _OUTLET_STOP or len(" ".join(words)) < 2:
        return None
    if words[0] == "the":
        words[0] = "The"
    return " ".join(words)


def guess_outlet(lines: Sequence[str], raw: str = "") -> str | None:
    """Outlet name, or None rather than a wrong guess.

    1. Strong: the outlet talking about itself in boilerplate lines (usually removed by the
       cleaner, so pass the *original* lines): "Support The Moscow Times!", "A Message from
       The Moscow Times:", "© 2013 NBC News", "the journalists of X", "newsletter ... from X".
       The most frequent such name wins.
    2. A wire-service dateline opening a paragraph: "KUALA LUMPUR (Reuters) -" -> Reuters,
       "WASHINGTON (AP) —" -> Associated Press.
    3. Weak: a media-shaped name ("... News/Times/Post", BBC, Reuters ...) mentioned at least
       twice in `raw` (or the lines) with at least one own-staff context: "confirmed to NBC
       News", "NBC News Chief Foreign Affairs Correspondent", "X has learned". This can be
       wrong for wire copy ("told Reuters" in a paper reprinting Reuters), hence only used
       when tiers 1-2 find nothing.
    """
    all_lines = [x for x in (lines or ()) if isinstance(x, str)]
    if len(all_lines) > 2 * OUTLET_LINE_LIMIT:
        all_lines = all_lines[:OUTLET_LINE_LIMIT] + all_lines[-OUTLET_LINE_LIMIT:]
    votes: Counter[str] = Counter()
    low_lines = [x.lower() for x in all_lines]
    low_all = "\n".join(low_lines)
    starts, pos = [], 0
    for x in low_lines:
        starts.append(pos)
        pos += len(x) + 1
    todo: set[tuple[int, int]] = set()  # (line index, regex index) worth trying
    for r, (trig, _rx) in enumerate(_OUTLET_SELF):
        for t in trig:
            at = low_all.find(t)
            while at != -1 and len(todo) < 10_000:
                todo.add((bisect_right(starts, at) - 1, r))
                at = low_all.find(t, at + len(t))
    for i, r in sorted(todo):
        raw_line = all_lines[i]
        if not raw_line or len(raw_line) > 600:
            continue
        for m in _OUTLET_SELF[r][1].finditer(" ".join(raw_line.split())):
            name = _clean_name(m["name"])
            if name:
                votes[name] += 1
    if votes:
        return votes.most_common(1)[0][0]

    # Wire-service dateline at the start of a paragraph: "KUALA LUMPUR (Reuters) -"
    for raw_line in all_lines[:40]:
        m = _WIRE_DATELINE_RE.match(raw_line)
        if m and m["agency"] and m["agency"].casefold() in news_agencies():
            return news_agencies()[m["agency"].casefold()]

    text = raw if isinstance(raw, str) and raw else "\n".join(all_lines)
    text = " ".join(text[:OUTLET_TEXT_LIMIT].split())
    staff: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for name, start, end in _media_mentions(text):
        name = _clean_name(name)
        if not name:
            continue
        mentions[name] += 1
        if _STAFF_BEFORE_RE.search(text[max(0, start - 40) : start]) or _STAFF_AFTER_RE.match(text[end : end + 100]):
            staff[name] += 1
    best = [(mentions[n], staff[n], n) for n in staff if mentions[n] >= 2]
    if not best:
        return None
    best.sort(key=lambda t: (-t[0], -t[1]))
    return best[0][2]
