"""Tests for tasks.text.clean: seeds, made-up pages, normalisation, cross-document repeats, speed,
robustness (hypothesis)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.text.clean import (
    Cleaned,
    boilerplate_rule,
    clean_document,
    fingerprint_text,
    line_key,
    load_patterns,
    looks_like_caption,
    normalize_text,
    repeated_lines,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TODAY = date(2026, 1, 1)


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def rules(c: Cleaned) -> dict[str, str]:
    return {line: rule for line, rule in c.removed_lines}


def paragraphs(c: Cleaned) -> list[str]:
    return c.text.split("\n\n") if c.text else []


# ------------------------------------------------------------------ seeds


def test_seed_000_nbc():
    c = clean_document(seed("000"), today=TODAY)
    assert c.title == "US, Russia agree on Syria deal, sources say"
    assert c.published_at == date(2013, 9, 26)
    assert c.date_convention == "MDY"
    assert c.published_raw == "09/26/2013"
    removed = rules(c)
    assert removed["IE 11 is not supported. For an optimal experience visit our site on another browser."].startswith(
        "pattern:"
    )
    lead = [line for line in removed if line.endswith("chemical weapon stoc")]
    assert lead and removed[lead[0]] == "truncated_prefix"
    assert removed["Syria resolution news - 09/26/2013"] == "dateline"
    assert removed["Watch Andrea Mitchell's interview with Jordanian Foreign Minister Nasser Judeh below:"] == (
        "pattern:watch_below"
    )
    assert removed["US, Russia agree on Syria deal, sources say"] == "title"
    paras = paragraphs(c)
    # seven body paragraphs: the photo caption (kept, flagged) + six article paragraphs
    assert len(paras) == 7
    assert paras[0].startswith("A Free Syrian Army fighter walks")
    assert c.captions == [paras[0]]
    assert paras[1].startswith("The United States and Russia have come to an agreement")
    assert paras[1].endswith("confirmed to NBC News Thursday.")
    assert paras[-1].startswith("With Russian backing, the draft is virtually sure to pass")
    assert "IE 11" not in c.text and "below:" not in c.text and "09/26/2013" not in c.text
    assert c.title not in c.text
    # NBSP after "resolution" normalised to a plain space
    assert 'a "strong" U.N. resolution to enforce the deal.' in c.text
    assert c.outlet == "NBC News"  # weak, body-mention heuristic


def test_seed_004_moscow_times():
    c = clean_document(seed("004"), today=TODAY)
    assert c.title == "Russia, U.S. Reach Agreement Over UN Draft on Chemical Attacks in Syria"
    assert c.outlet == "The Moscow Times"
    removed = rules(c)
    assert "Support The Moscow Times!" in removed
    assert c.text.rstrip().endswith("then a vote would likely be scheduled for Friday.")
    for gone in [
        "Sign up for our free weekly newsletter",
        "Subscribers agree to the Privacy Policy",
        "A Message from The Moscow Times:",
        "Dear readers,",
        "Once",
        "Monthly",
        "Annual",
        "Continue",
        "paiment methods",
        "Not ready to support today?",
        "Remind me later.",
        "Read more",
    ]:
        assert gone in removed, gone
        assert gone not in c.text.split("\n\n")
    assert "newsletter" not in c.text
    assert "We are facing unprecedented challenges" not in c.text
    assert "Your support, no matter how small" not in c.text
    paras = paragraphs(c)
    assert paras[0] == "Residents walk past damaged buildings in a rebel-controlled area of Aleppo, Syria."
    assert c.captions == [paras[0]]
    assert paras[1].startswith("KUALA LUMPUR — U.S. Secretary of State John Kerry said")
    assert paras[-1].startswith("Several diplomats, speaking on condition of anonymity")
    assert len(paras) == 8  # caption + 7 article paragraphs
    assert any(p.startswith("Officials say Kerry and Lavrov") for p in paras)
    assert c.published_at is None  # no date in this page


def test_drop_captions_option():
    c = clean_document(seed("004"), today=TODAY, drop_captions=True)
    assert not c.text.startswith("Residents walk past")
    assert rules(c)["Residents walk past damaged buildings in a rebel-controlled area of Aleppo, Syria."] == "caption"


def test_known_metadata_wins():
    c = clean_document(
        seed("000"),
        title="US, Russia agree on Syria deal, sources say | NBC News",
        published="2013-09-25T22:00:00Z",
        outlet="NBC",
        today=TODAY,
    )
    assert c.title == "US, Russia agree on Syria deal, sources say | NBC News"
    assert c.published_at == date(2013, 9, 25) and c.date_convention == "ISO"
    assert c.published_raw == "2013-09-25T22:00:00Z"
    assert c.outlet == "NBC"
    assert "US, Russia agree on Syria deal, sources say" not in c.text  # title line still removed
    assert rules(c)["Syria resolution news - 09/26/2013"] == "dateline"


def test_unparseable_published_falls_back_to_dateline():
    c = clean_document(seed("000"), published="sometime", today=TODAY)
    assert c.published_at == date(2013, 9, 26)


# ------------------------------------------------------------------ made-up pages

BODY = [
    "The city council voted on Tuesday to approve a new budget that raises spending on public transport by 12 percent.",
    "Council members said the plan would add three new bus routes and extend service hours on weekends.",
    "Critics argued that the increase would strain the city's finances at a time of falling tax revenue.",
    "The mayor is expected to sign the budget into law next week.",
]


def test_cookie_share_advertisement_between_paragraphs():
    raw = "\n\n".join(
        [
            "City Council Approves Transit Budget",
            "We use cookies to improve your experience on our site. By continuing to browse you agree to our use of cookies.",
            "Accept all cookies",
            "Manage preferences",
            BODY[0],
            "Share this article",
            "Facebook Twitter Email",
            BODY[1],
            "Advertisement",
            BODY[2],
            "ADVERTISEMENT",
            "Story continues below advertisement",
            BODY[3],
            "Follow us on Twitter @citydesk",
            "© 2024 City Daily. All rights reserved.",
            "Privacy Policy | Terms of Use | Contact Us",
        ]
    )
    c = clean_document(raw, today=TODAY)
    assert c.title == "City Council Approves Transit Budget"
    assert paragraphs(c) == BODY
    removed = rules(c)
    assert removed["Advertisement"] == "pattern:advertisement"
    assert removed["Share this article"] == "pattern:share"
    assert removed["Facebook Twitter Email"] == "pattern:share"
    assert removed["Accept all cookies"].startswith("pattern:")
    assert c.outlet == "City Daily"  # from the copyright line


def test_menu_of_short_lines_at_top():
    raw = "\n".join(
        [
            "Home",
            "News",
            "Sport",
            "Business",
            "US & Canada",
            "Science",
            "Skip to main content",
            "",
            "Transit budget approved after long debate",
            "",
            *[p + "\n" for p in BODY],
            "More from City Daily",
            "Opinion",
            "Weather",
        ]
    )
    c = clean_document(raw, today=TODAY)
    assert c.title == "Transit budget approved after long debate"
    assert paragraphs(c) == BODY
    removed = rules(c)
    assert removed["Sport"] == "short_line_run"
    assert removed["US & Canada"] == "short_line_run"


def test_nothing_to_remove_keeps_body_unchanged():
    raw = "\n\n".join(BODY)
    c = clean_document(raw, today=TODAY)
    assert c.text == raw
    assert c.removed_lines == []
    assert c.title is None and c.published_at is None and c.outlet is None


def test_short_real_paragraphs_and_subheadings_kept():
    body = [BODY[0], "He declined.", "What happens next", BODY[1], "“No,” she said.", BODY[2], "Why?", BODY[3]]
    c = clean_document("\n\n".join(body), today=TODAY)
    assert paragraphs(c) == body


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\t \r\n", "\u200b\ufeff", None, 123])
def test_empty_or_whitespace_input(raw):
    c = clean_document(raw)  # type: ignore[arg-type]
    assert isinstance(c, Cleaned)
    assert c.text == "" and c.removed_lines == []


def test_zero_width_crlf_nbsp_rtl():
    raw = (
        "\ufeffCity\u200b Council Approves\u00a0Transit Budget\r\n\r\n"
        + BODY[0].replace(" ", "\u00a0", 3)
        + "\r\n\r\n"
        + "\u202bשלום עולם. זהו משפט בעברית עם טקסט מימין לשמאל.\u202c\r\n\r\n"
        + "مرحبا بالعالم، هذه جملة عربية طويلة بما يكفي لتكون فقرة.\r"
        + "\r"
        + BODY[1]
        + "\u2028"
        + BODY[2]
    )
    c = clean_document(raw, today=TODAY)
    assert c.title == "City Council Approves Transit Budget"
    paras = paragraphs(c)
    assert paras[0] == BODY[0]
    assert paras[1] == "שלום עולם. זהו משפט בעברית עם טקסט מימין לשמאל."
    assert paras[2].startswith("مرحبا بالعالم")
    assert BODY[1] in paras and BODY[2] in paras
    assert "\r" not in c.text and "\u200b" not in c.text and "\u00a0" not in c.text


def test_dateline_iso_and_text_forms():
    for line, expected, conv in [
        ("Published 2013-09-26T10:00:00Z", date(2013, 9, 26), "ISO"),
        ("26 September 2013", date(2013, 9, 26), "text"),
        ("By Jane Doe | Sept. 26, 2013 5:00 PM ET", date(2013, 9, 26), "text"),
        ("Updated: Thursday, 26 September 2013 10:32 BST", date(2013, 9, 26), "text"),
    ]:
        raw = "\n\n".join(["Transit budget approved after long debate", line, *BODY])
        c = clean_document(raw, today=TODAY)
        assert c.published_at == expected, line
        assert c.date_convention == conv, line
        assert rules(c)[line] in ("dateline", "byline"), line
        assert paragraphs(c) == BODY, line
    c = clean_document("\n\n".join(["Transit budget approved", "By Jane Doe | Sept. 26, 2013", *BODY]), today=TODAY)
    assert c.author == "Jane Doe"


def test_future_dateline_rejected():
    raw = "\n\n".join(["Transit budget approved after long debate", "Published 26 September 2031", *BODY])
    c = clean_document(raw, today=date(2026, 1, 1))
    assert c.published_at is None


def test_body_sentence_with_date_is_not_a_dateline():
    body = ["The vote was held on Sept. 20, 2013.", *BODY]
    c = clean_document("\n\n".join(body), today=TODAY)
    assert paragraphs(c) == body


def test_repeated_truncated_and_duplicate_paragraphs():
    teaser = BODY[0][:70] + "…"
    raw = "\n\n".join([teaser, *BODY, BODY[1]])
    c = clean_document(raw, today=TODAY)
    assert paragraphs(c) == BODY
    r = rules(c)
    assert r[teaser] == "truncated_prefix"


def test_trailing_related_block_dropped_but_not_real_ending():
    related = [
        "Related stories",
        "Mayor announces new bike lanes downtown",
        "Bus drivers vote to accept new contract",
        "City Daily newsletter: sign up for our morning briefing",
    ]
    c = clean_document("\n\n".join([*BODY, *related]), today=TODAY)
    assert paragraphs(c) == BODY
    # an ordinary article ending is not a trailing block
    c2 = clean_document("\n\n".join(BODY), today=TODAY)
    assert paragraphs(c2) == BODY


def test_donation_block_kept_when_not_dominated():
    tail = [
        "Donate",
        "The hospital said donations of blood were urgently needed after the crash, and queues formed at three centres.",
        "Officials expect the investigation into the cause of the crash to take several months to complete.",
        "Rail services on the line will remain suspended until at least Friday, the operator said in a statement.",
    ]
    c = clean_document("\n\n".join([*BODY, *tail]), today=TODAY)
    for p in tail[1:]:
        assert p in paragraphs(c)


def test_hard_wrapped_text_is_unwrapped():
    para = " ".join(BODY)
    import textwrap

    raw = "Transit budget approved after long debate\n\n" + textwrap.fill(para, 70) + "\n\n" + textwrap.fill(para, 70)
    c = clean_document(raw, today=TODAY)
    assert paragraphs(c)[0] == para


# ------------------------------------------------------------------ cross-document repeats


def test_repeated_lines_across_documents():
    footer = "Get the latest headlines delivered every morning from City Daily"
    docs = [
        "\n\n".join([f"Story number {i} about the city budget", BODY[i % 4] + f" Extra detail {i}.", footer])
        for i in range(5)
    ]
    rep = repeated_lines(docs)
    assert line_key(footer) in rep
    assert all(line_key(BODY[i]) not in rep for i in range(4))
    c = clean_document(docs[0], repeated_lines=rep, today=TODAY)
    assert footer not in c.text
    assert rules(c)[footer] in ("repeated_across_documents", "pattern:newsletter")


def test_repeated_lines_counts_exact_duplicates_once_and_safeguard():
    doc = "\n\n".join(BODY)
    assert repeated_lines([doc, doc, doc, doc]) == frozenset()
    # syndicated copies (near-identical) would make the whole body "repeated": safeguard keeps it
    docs = [doc + f"\n\nSyndicated by outlet number {i} of the network." for i in range(4)]
    rep = repeated_lines(docs)
    assert line_key(BODY[0]) not in rep  # most of a document: shared content, not furniture
    c = clean_document(docs[0], repeated_lines=rep, today=TODAY)
    assert paragraphs(c)[: len(BODY)] == BODY


def test_a_full_report_keeps_the_lead_its_teasers_repeat():
    """A full report and two teasers of it (its first paragraphs, a link line) in one batch: the lead,
    in three documents, was removed from the full report as cross-document furniture (the teasers kept
    it: it is most of their body), and the teasers were then no copies of it. A footer stays furniture."""
    footer = "Copyright Coast Daily. All rights reserved. Sign up for our newsletter."
    full = "\n\n".join(["Harbour storm report", *BODY, footer])
    teasers = ["\n\n".join(["Latest: harbour storm", *BODY[:2], "Read the full story on our website.", footer]),
               "\n\n".join(["Harbour storm", *BODY[:2], footer])]
    rep = repeated_lines([full, *teasers])
    assert line_key(footer) in rep and line_key(BODY[0]) not in rep
    kept = clean_document(full, repeated_lines=rep, today=TODAY).text
    assert BODY[0] in kept and BODY[1] in kept and footer not in kept


def test_line_key_and_fingerprint():
    assert line_key("  © 2013 NBC   News.") == line_key("© 2014 NBC News")
    assert fingerprint_text("The U.S. said: “don’t”!\r\n\r\nNext  para") == fingerprint_text("the US said dont next para")
    assert fingerprint_text("a b") != fingerprint_text("a c")
    assert fingerprint_text("") == ""


# ------------------------------------------------------------------ normalisation


def test_normalize_text():
    assert normalize_text("\ufeffa\u200bb\r\nc\rd") == "ab\nc\nd"
    assert normalize_text("a\u00a0\u00a0 b\t\tc") == "a b c"
    assert normalize_text("x\n\n\n\n y \n") == "x\n\ny"
    assert normalize_text("ﬁnance ＡＢＣ１２３") == "finance ABC123"
    assert normalize_text("“quoted” — 5 km² ½…") == "“quoted” — 5 km² ½…"
    assert normalize_text("e\u0301") == "é"  # NFC
    assert normalize_text("a\x00b\x07c\x1bd") == "abcd"
    assert normalize_text("\u202bRTL\u202c \u200fmark") == "RTL mark"
    # zero-width joiners kept inside words/emoji, dropped when stray
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"
    assert normalize_text("👩\u200d💻") == "👩\u200d💻"
    assert normalize_text("a \u200d b") == "a b"
    assert normalize_text("bad \ud800 surrogate") == "bad surrogate"


# ------------------------------------------------------------------ patterns and captions


@pytest.mark.parametrize(
    "line",
    [
        "IE 11 is not supported. For an optimal experience visit our site on another browser.",
        "Your browser is out of date",
        "Please enable JavaScript to view the comments",
        "Sign up for our free weekly newsletter",
        "Subscribe to our daily newsletter",
        "Subscribers agree to the Privacy Policy",
        "Support The Moscow Times!",
        "Read more",
        "Read more: Kerry meets Lavrov in Malaysia",
        "Continue reading",
        "Watch Andrea Mitchell's interview with Jordanian Foreign Minister Nasser Judeh below:",
        "Advertisement",
        "Click here to subscribe",
        "Copyright 2013 NBC News. All rights reserved.",
        "© 2024 The Moscow Times",
        "Sign up",
        "Log in",
        "We use cookies to give you the best experience.",
        "Share on Facebook",
        "Follow us on Instagram",
        "Once",
        "paiment methods",
        "$10 per month",
        "Image source, Getty Images",
        "Image caption, Protesters gathered outside",
        "5 min read",
        "Published 3 hours ago",
        "Related stories",
        "Dear readers,",
        "A Message from The Moscow Times:",
        "Remind me later.",
        "This material may not be published, broadcast, rewritten or redistributed.",
        # a list item's bullet hid every pattern ("• Follow us on Twitter" was stored as article text)
        "• Follow us on Twitter",
        "- Sign up for our newsletter",
        "· Share this article",
        "• Read more: Storm hits coast",
        # a follow line with a long tail (News18's) outran the pattern's 80 characters
        "Follow News18.com on Twitter, Instagram, Facebook, Telegram, TikTok and on YouTube, and stay in the know "
        "with what's happening in the world around you – in real time.",
        "Visit Business Insider's homepage for more stories.",  # two SemEval texts kept it as a line
    ],
)
def test_boilerplate_patterns_match(line):
    assert boilerplate_rule(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "US, Russia agree on Syria deal, sources say",
        "Support for the bill grew among Republicans after the vote on Thursday.",
        "Officials say Kerry and Lavrov reached an agreement on the draft resolution during talks in Malaysia on Wednesday.",
        "Copyright law in the United States has changed little since 1998, experts said.",
        "Readers of the newspaper were surprised by the decision.",
        "The company said it would continue reading the data.",
        "Once the resolution passes, inspectors will travel to Damascus.",
        "He said the court would hear the case next month, and that he expected to win.",
        "Registered voters will be able to cast ballots on Sunday.",
        "We and our partners will keep investing in the region, the chief executive said.",
        "По теме встречи стороны так и не договорились.",
        "The second half lasted 45 minutes",
        "- The river rose 3 metres overnight.",  # a bulleted body line stays
        "* NSYNC reunites for one night",
    ],
)
def test_boilerplate_patterns_spare_body_lines(line):
    assert boilerplate_rule(line) is None


def test_pattern_file_parses_and_has_headers():
    p = load_patterns()
    assert {"donation", "newsletter", "block_header"} <= set(p.header_sections)
    assert p.vocab is not None


def test_looks_like_caption():
    assert looks_like_caption(
        "A Free Syrian Army fighter walks through a window in Salah al-Din neighborhood in central Aleppo, Sept. 20, 2013."
    )
    assert looks_like_caption("President Obama speaks at the White House on Monday. (AP Photo/Evan Vucci)")
    assert looks_like_caption("Residents walk past damaged buildings in Aleppo, Syria.", before_body=True)
    assert not looks_like_caption("Residents walk past damaged buildings in Aleppo, Syria.")
    assert not looks_like_caption(BODY[0], before_body=True)


# ------------------------------------------------------------------ speed and robustness


def test_inputs_far_beyond_an_article_clean_to_text():
    # how long they take is bench/reliability.py's (--only long); here: they finish and keep text
    raw = seed("000") + "\n\n" + seed("004")
    big = (raw + "\n\n") * (5_000_000 // len(raw))
    c = clean_document(big, today=TODAY)
    assert c.text and len(c.text) < len(big)  # the repeated page furniture goes
    one_line = "word " * 1_000_000
    assert clean_document(one_line).text.startswith("word word")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_unicode_never_raises(s):
    c = clean_document(s)
    assert isinstance(c.text, str)
    assert normalize_text(normalize_text(s)) == normalize_text(s)
    fingerprint_text(s)
    line_key(s)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Read more", "Once", "", "\n", " ", "Sept. 20, 2013", "By Jane Doe", BODY[0], "A", "…", "\u200b", "Home | News | Sport"]), max_size=40))
def test_random_line_soup_never_raises(parts):
    raw = "\n".join(parts)
    c = clean_document(raw, repeated_lines=frozenset({line_key(BODY[0])}))
    assert isinstance(c, Cleaned)
    h = clean_document(raw, repeated_lines=frozenset({line_key(BODY[0])}), kind="html")
    assert isinstance(h, Cleaned)


# ------------------------------------------------------------------ other sites' layouts

BBC_LIKE = """Skip to content
Home
News
Sport
Weather

Ukraine war: Russia and US agree new prisoner swap

Published
26 September 2013

Share
close panel

Image source, Getty Images
Image caption,
Prisoners were exchanged at the border

Russia and the United States have agreed a new prisoner exchange, officials in both countries say.

The deal was brokered by the United Arab Emirates and took months of negotiations.

"This is a positive step," a State Department spokesperson said.

Related Topics
Russia
United States

More on this story
Russia frees US teacher in swap
Published
1 day ago
"""

APPEAL_LIKE = """Kerry and Lavrov agree on Syria chemical weapons resolution
This article is more than 10 years old
Thu 26 Sep 2013 20.32 BST

The US and Russia have agreed on the text of a UN security council resolution on Syria's chemical weapons, officials said on Thursday.

The draft would make the disarmament legally binding, though it stops short of automatic penalties.

Explore more on these topics
Syria
United Nations
Share

I hope you appreciated this article. Before you move on, I was hoping you would consider taking the step of supporting the Guardian's journalism.

We have no billionaire owner or shareholders to consider. Our journalism is produced to serve the public interest.

Support the Guardian
Continue
Remind me in May
"""

WIRE_LIKE = """Kerry says reached deal with Russia on Syria resolution
By Lesley Wroughton and Michelle Nichols
4 Min Read

KUALA LUMPUR (Reuters) - U.S. Secretary of State John Kerry said on Thursday he had reached an agreement with Russia.

Diplomats say the council is likely to vote on Friday.

Reporting by Lesley Wroughton; Editing by Jonathan Oatis
"""


def test_bbc_like_layout():
    c = clean_document(BBC_LIKE, today=TODAY)
    assert c.title == "Ukraine war: Russia and US agree new prisoner swap"
    assert c.published_at == date(2013, 9, 26)
    assert c.captions == ["Prisoners were exchanged at the border"]
    assert paragraphs(c)[1:] == [
        "Russia and the United States have agreed a new prisoner exchange, officials in both countries say.",
        "The deal was brokered by the United Arab Emirates and took months of negotiations.",
        '"This is a positive step," a State Department spokesperson said.',
    ]


def test_appeal_block_and_topic_list():
    c = clean_document(APPEAL_LIKE, today=TODAY)
    assert c.title == "Kerry and Lavrov agree on Syria chemical weapons resolution"
    assert c.published_at == date(2013, 9, 26)
    assert c.outlet == "The Guardian"
    assert paragraphs(c) == [
        "The US and Russia have agreed on the text of a UN security council resolution on Syria's chemical weapons, officials said on Thursday.",
        "The draft would make the disarmament legally binding, though it stops short of automatic penalties.",
    ]


def test_wire_layout():
    c = clean_document(WIRE_LIKE, today=TODAY)
    assert c.author == "Lesley Wroughton; Michelle Nichols"  # "; "-joined, as the HTML path stores authors
    assert c.outlet == "Reuters"
    assert paragraphs(c) == [
        "KUALA LUMPUR (Reuters) - U.S. Secretary of State John Kerry said on Thursday he had reached an agreement with Russia.",
        "Diplomats say the council is likely to vote on Friday.",
    ]


# ------------------------------------------------------------------ what the cleaner is given (issue 20)

from tasks.text.clean import HTML, PLAIN, RULES  # noqa: E402

LONG = ("The storm that hit the coast on Tuesday killed at least twelve people and left thousands "
        "without power, officials said on Wednesday after a night of rescue work.")
QUOTE = "\u201cWe have never seen water rise this fast in the forty years we have lived here,\u201d said one resident."
EXTRACTED = "\n".join([
    LONG,
    QUOTE,
    "Casualties by district, according to the regional government:",
    "District | Dead | Injured",
    "North | 5 | 40",
    "South | 7 | 22",
    "Relief agencies listed their most urgent needs:",
    "- Drinking water",
    "- Blankets",
    "- Tents and tarpaulins",
    "Rescue teams were still searching the flooded valleys on Thursday, the fire service said.",
    QUOTE,  # a pull quote: the same sentence twice is how the page shows it
])


@pytest.mark.unit
def test_html_kind_keeps_table_rows_list_items_and_quotes():
    c = clean_document(EXTRACTED, kind=HTML, today=TODAY)
    kept = paragraphs(c)
    assert kept == [x for x in EXTRACTED.split("\n")]
    assert c.removed_lines == []


@pytest.mark.unit
def test_plain_kind_is_the_default_and_still_drops_menus_and_duplicates():
    # the same lines read as a plain-text dump: short runs and repeats are what dumps' menus look like
    c = clean_document(EXTRACTED, today=TODAY)
    removed = rules(c)
    assert removed["North | 5 | 40"] == "menu_line"
    assert removed["- Blankets"] == "short_line_run"
    assert removed[QUOTE] == "duplicate_paragraph"
    assert clean_document(EXTRACTED, kind=PLAIN, today=TODAY).text == c.text


@pytest.mark.unit
def test_html_kind_still_removes_page_furniture():
    text = "\n".join([LONG, "Share this article", "Accept cookies", "We use cookies to improve your experience.",
                      "Rescue teams were still searching the flooded valleys on Thursday, the fire service said."])
    c = clean_document(text, kind=HTML, today=TODAY)
    assert "cookies" not in c.text
    assert LONG in c.text


@pytest.mark.unit
@pytest.mark.parametrize("notice", ["<Copyright ⓒ 한국일보. All rights reserved. 무단 전재 및 재배포 금지>",
                                    "<저작권자 © 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>",
                                    "ALSO READ: Brace for very bad weather in Joburg this weekend",
                                    "READ NEXT - Cape Town heads into a weekend of shifting skies",
                                    # photo credits and skip links: the multilingual publishers' bodies
                                    # never hold them; the extractor's text kept them
                                    "Photo: AFP", "Image: Fouzia Van Der Fort", "Hauptinhalt",
                                    "Zum Inhalt springen"])
def test_html_kind_removes_closing_notices_and_labelled_teasers(notice):
    # a Korean outlet's copyright line in angle brackets was kept as "code"; an English labelled teaser
    # stayed where "Lesen Sie auch: ..." went
    c = clean_document("\n".join([LONG, notice, LONG.replace("Monday", "Friday")]), kind=HTML, today=TODAY)
    assert notice not in c.text and [line for line, _ in c.removed_lines] == [notice]
    # code and one-word cells stay, a credit-shaped YAML key among them
    assert clean_document("\n".join([LONG, "<div>", "x = {a: 1}", "image: mailhog/mailhog", "PUBLISHED"]), kind=HTML,
                          today=TODAY).removed_lines == []


@pytest.mark.unit
def test_rule_sets_per_kind():
    assert RULES[HTML] < RULES[PLAIN]
    assert not {"short_line_run", "menu_line", "short_line", "duplicate_paragraph", "truncated_prefix",
                "tail_teasers", "caption_credit"} & RULES[HTML]
    # an unknown kind is treated as a plain dump (the cautious choice for unknown text)
    assert clean_document(EXTRACTED, kind="something", today=TODAY).text == clean_document(EXTRACTED, today=TODAY).text


# ------------------------------------------------------------------ access walls

WALL_BLOB = (
    "Oil to outperform TAKE A FREE TRIAL Registered users can read up to 3 reports. Enter your details below "
    "for immediate access. If you would like to request a full trial of our services, please fill in the trial "
    "request form instead. The password for your account must be at least 8 characters long and contain at least "
    "one number. Email address First Name Last Name Organisation Job Title Telephone City State / Province "
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho"
)


def test_a_wall_dumped_on_one_long_line_is_removed_whole_and_a_page_with_nothing_else_is_empty():
    c = clean_document(WALL_BLOB, today=TODAY)
    assert c.text == "" and not c.headline_only
    assert rules(c) == {WALL_BLOB: "access_wall"}


def test_a_walled_page_with_a_headline_is_stored_headline_only():
    raw = ("Two hurt when snowmobile crashed into tree\n\n"
           "You have reached the limit for free access to our important and valuable work.\n\n"
           "Subscribers, click below to login or register your subscription to continue receiving unlimited "
           "access. Log In Sign Up")
    c = clean_document(raw, title="Two hurt when snowmobile crashed into tree", today=TODAY)
    assert c.headline_only and c.text == "Two hurt when snowmobile crashed into tree"
    assert set(rules(c).values()) == {"title", "pattern:access_wall"}


def test_a_headline_without_a_wall_is_not_an_article():
    c = clean_document("Two hurt when snowmobile crashed into tree\n\nShare\n\nTweet", title="Two hurt when "
                       "snowmobile crashed into tree", today=TODAY)
    assert not c.headline_only and c.text == ""


def test_one_prompt_inside_a_long_paragraph_goes_alone_and_a_story_about_cookies_stays():
    story = ("The regulator said on Monday that websites tracking visitors without consent would face fines, "
             "and that publishers had until March to comply. Officials said the rules covered advertising "
             "networks as well as the sites themselves, and that complaints had doubled in a year. ")
    prompt = "Please enable JavaScript to view the comments powered by Disqus."
    c = clean_document(story * 2 + prompt + " " + story, today=TODAY)
    assert prompt not in c.text and c.text.count("The regulator said") == 3
    assert rules(c)[prompt] == "pattern:browser_warning"
    about = ("Privacy campaigners say the claim that cookies must be enabled for a site to work is often false. " + story)
    assert clean_document(about * 2, today=TODAY).text == (about * 2).strip()


@pytest.mark.parametrize("line", [
    "To begin a trial, prosecutors must file charges within thirty days of the arrest, the court said.",
    "Only registered users can view the documents, the ministry said on Tuesday.",
    "Third-party cookies are being phased out by the browser makers this year, the company said.",
    "The password must be changed every 90 days under the new rules, the agency said.",
    "We will send the latest figures to the ministry next week, the spokesman said.",
    "If you already subscribe to a streaming service, the new tax will add about $2 a month, analysts said.",
    "Subscribing to the newspaper costs $5 a month, its publisher said, and print subscribers fell by a fifth.",
    "When you sign up, you can choose a plan for one or two years, the company said in a statement.",
    "The singer told fans on Tuesday that she would subscribe now to a greener way of touring.",
    # a review of the patterns found each of these removed, and a one-paragraph brief stored headline-only
    "To continue enjoying free bus travel, people over 60 will have to register for a new pass by April, the council said.",
    "To continue reading the meter remotely, the supplier says customers need to register online.",
    "On your next visit to the pharmacy you will be asked to register for the new NHS app, officials said.",
    "We hope you have enjoyed your free trip to the museum, the letter to residents said.",
    "Users are told to disable your ad blocker or pay for YouTube Premium.",
    "Google said users who want to keep watching should pause your ad blocker, in a help page criticised by privacy groups.",
    "Are you a member? The club says refunds will be paid by Friday.",
    "If you already subscribe to our rivals, you will get a discount, the broadcaster said.",
    "Wir setzen auf Dialog, sagte der Minister am Dienstag nach dem Treffen mit den Gewerkschaften.",
    "Checking your browser history regularly is a good habit, the security firm said.",
    "Are you a robot? Scientists say the tests that ask are getting harder to pass.",
    "Access denied to the archive, the historian appealed to the ministry on Monday.",
    "Visit the museum's website for more stories of the flood, the curator said.",
    "Durch die Nutzung der neuen Website sparen Bürger Zeit, doch Datenschützer kritisieren die Cookies.",
])
def test_news_about_passwords_trials_cookies_and_subscriptions_is_not_a_wall(line):
    c = clean_document(f"Headline of the story\n\n{line}\n\nA second paragraph of the article follows here.",
                       title="Headline of the story", today=TODAY)
    assert line in c.text and not c.headline_only


@pytest.mark.parametrize("wall", [
    "We'll send breaking news and news alerts to you as they happen!\n\nSign up!",
    "Subscribing to our services is a three step process. First you have to create an account and then you have "
    "to pick if you want to subscribe to digital and or print.\n\nSome people only want to be a digital subscriber "
    "to get access online and others want to also receive the print edition.\n\nIf you are already a print "
    "subscriber and want online access, it is free, you simply have to create an online account.",
    "If you already subscribe to our print edition, sign up for FREE access to our online edition. Thanks for "
    "reading The Courier.",
    "We hope you have enjoyed your complimentary access for the month.\n\nTo continue viewing content on "
    "example.com, please sign in with your existing account or subscribe.",
    "We noticed you’re blocking ads!\n\nKeep supporting great journalism by turning off your ad blocker. Or "
    "purchase a subscription for unlimited access to real news you can count on.",
    "Thank you for Reading! On your next view you will be asked to log in to your subscriber account or create an "
    "account and subscribe.",
    "Once registered, you can:\n\n- Read additional free articles each month\n\n- Comment on articles and featured "
    "creative work\n\n- Get our curated newsletters delivered to your inbox\n\nAre you a print subscriber? "
    "Activate your account.",
    "Close Get email notifications on {{subject}} daily!\n\nYour notification has been saved.\n\nThere was a "
    "problem saving your notification.\n\nEmail notifications are only sent once a day, and only if there are "
    "new matching items.",
    "Want to enjoy 'Zen' reading - with no ads and just the article? Subscribe today\n\nBack to page",
    "Tweet with a location\n\nYou can add location information to your Tweets, such as your city or precise "
    "location, from the web and via third-party applications.",
])
def test_a_sign_up_box_metered_wall_or_unloaded_post_in_place_of_the_article_leaves_the_headline(wall):
    """What scrapers of news sites often got instead of the article (11 of the 690 SemEval-2022 English
    texts): stored as the article, two different reports behind one outlet's sign-up box were exact
    copies of each other, and a subscription page's words tied unrelated reports into a story."""
    headline = "Apes, monkeys among 30 animals killed in German zoo fire"
    c = clean_document(f"{headline}\n{wall}", title=headline, today=TODAY)
    assert c.headline_only and c.text == headline, c.text



@pytest.mark.parametrize("headline, wall", [
    ("Regierung beschließt Haushalt", "Dieser Artikel ist nur für Abonnenten verfügbar. Um diesen Artikel zu lesen, "
     "benötigen Sie ein Abo oder müssen sich anmelden."),
    ("Le gouvernement adopte le budget", "Cet article est réservé aux abonnés. Pour lire la suite, abonnez-vous "
     "ou connectez-vous."),
    ("El Gobierno aprueba el presupuesto", "Este contenido es exclusivo para suscriptores. Para seguir leyendo, "
     "suscríbete o inicia sesión."),
    # a German cookie banner in one paragraph was stored as the article (two of the 654 German SemEval texts)
    ("Stadtrat beschließt neuen Radweg", "OK\n\nWir setzen auf unserer Website Cookies und andere Technologien "
     "ein, um Ihnen den vollen Funktionsumfang unseres Angebotes anzubieten. Zudem ermöglichen Cookies die "
     "Personalisierung von Inhalten. Durch die weitere Nutzung unserer Website erklären Sie sich mit dem Einsatz "
     "von Cookies einverstanden. Weitere Informationen, auch zur Deaktivierung der Cookies, finden Sie in unserer "
     "Datenschutzerklärung."),
    ("Le gouvernement adopte le budget", "En poursuivant votre navigation sur ce site, vous acceptez "
     "l'utilisation de cookies pour vous proposer des contenus adaptés."),
])
def test_a_paywall_in_another_language_leaves_the_headline(headline, wall):
    c = clean_document(f"{headline}\n\n{wall}", title=headline, today=TODAY)
    assert c.headline_only and c.text == headline


# ------------------------------------------------------------------ a scraped page's layout
# Lines a site prints above its headline, each shaped like a headline itself (3+ words)
FURNITURE = ["Keyboard shortcuts for audio player", "Metro Wire Daily", "Tech | Gadgets | Science | Reviews",
             "Startseite > Politik > Deutschland", "Skip to contentSkip to site index"]
WIRE_BODY = [
    "SANTIAGO, Dec 1 (Reuters) - Chile's copper production fell 4% in October from a year earlier, the "
    "national statistics agency said on Monday, as output at the Escondida mine stalled during maintenance.",
    "The world's largest copper producer has struggled to lift output as ore grades decline at its older mines.",
    "Analysts expect production to recover next year when two expansion projects come online.",
]


@pytest.mark.parametrize("furniture", FURNITURE)
def test_the_headline_is_the_line_above_the_cut_lead_not_the_furniture_above_it(furniture):
    """A scraped page: furniture, headline, the lead cut off, a date line, the body. The headline
    is the line above the lead whatever stands above it, and that furniture is not article text."""
    raw = "\n\n".join([furniture, "Chile's copper output falls 4% in October as Escondida stalls",
                       "Chile's copper production fell 4% in October from a year earlier, the national statistics…",
                       "2025-12-01T08:30:00+00:00", *WIRE_BODY])
    c = clean_document(raw, today=TODAY)
    assert c.title == "Chile's copper output falls 4% in October as Escondida stalls"
    assert paragraphs(c) == WIRE_BODY
    assert str(c.published_at) == "2025-12-01"
    assert furniture in rules(c)


def test_a_lead_repeated_behind_a_wire_dateline_is_removed_once():
    """The standfirst repeats the body's first paragraph without its dateline ("SANTIAGO, Dec 1
    (Reuters) - "): it is the cut lead all the same, and the outlet is the agency."""
    lead = "Chile's copper production fell 4% in October from a year earlier, the national statistics agency said"
    raw = "\n\n".join(["Chile's copper output falls 4% in October", lead + "...", "Dec. 1, 2025", *WIRE_BODY])
    c = clean_document(raw, today=TODAY)
    assert paragraphs(c) == WIRE_BODY
    assert rules(c)[lead + "..."] == "truncated_prefix"
    assert c.outlet == "Reuters"


def test_every_date_line_at_the_top_goes_the_first_gives_the_date():
    raw = "\n\n".join(["Harbour commissioners approve cruise terminal", "Published 4 Dec 2025",
                       "Last modified on Fri 5 Dec 2025 11.12 GMT", *BODY])
    c = clean_document(raw, today=TODAY)
    assert paragraphs(c) == BODY
    assert str(c.published_at) == "2025-12-04"
    assert rules(c)["Last modified on Fri 5 Dec 2025 11.12 GMT"] == "dateline"


def test_menus_are_never_headlines():
    from tasks.text.metadata import title_candidate

    assert not title_candidate("Tech | Gadgets | Science | Reviews")
    assert not title_candidate("Startseite > Politik > Deutschland")
    assert not title_candidate("Home › Wirtschaft › Konjunktur")
    assert title_candidate("Rose Parade 2020 | CNN")
    assert title_candidate("北海道で記録的な大雪 札幌で観測史上最多の積雪")


def test_a_japanese_page_keeps_its_headline_date_and_short_paragraphs():
    """Japanese has no spaces: a headline is one 'word' and a full sentence under 40 characters
    looked like a menu item. Lengths count a character as half a word; 2025年12月5日 is a date."""
    body = ["5日午前10時ごろ、東京都渋谷区道玄坂の雑居ビルから出火した。", "東京消防庁によると、ポンプ車など30台が出動した。",
            "火は約2時間後に消し止められた。", "けが人はいなかった。"]
    raw = "\n\n".join(["ログイン 会員登録 ニュースレター", "東京・渋谷で火災 けが人なし", body[0], "2025年12月5日 12時10分", *body])
    c = clean_document(raw, today=TODAY)
    assert c.title == "東京・渋谷で火災 けが人なし"
    assert str(c.published_at) == "2025-12-05"
    assert paragraphs(c) == body


def test_a_cut_teaser_and_the_authors_bio_are_not_article_text():
    teaser = "The measure makes the city the largest in the state to require all-electric..."
    bio = "Daniel Okafor covers city government and has reported on the council since 2021."
    raw = "\n\n".join(["Transit budget approved after long debate", teaser, "Dec. 4, 2025", "By Daniel Okafor", bio,
                       *BODY])
    c = clean_document(raw, today=TODAY)
    assert paragraphs(c) == BODY
    assert rules(c)[teaser] == "cut_lead" and rules(c)[bio] == "byline"
    assert c.author == "Daniel Okafor"


def test_chinese_punctuation_is_kept_and_still_ends_sentences():
    from tasks.text.clean import normalize_text
    from tasks.text.sentences import split_sentences

    text = normalize_text("上海地铁19号线今日开通运营，全长约44公里！你知道吗？ＡＢＣ１２３")
    assert text == "上海地铁19号线今日开通运营，全长约44公里！你知道吗？ABC123"  # letters and digits unfold
    assert split_sentences(text, "zh") == ["上海地铁19号线今日开通运营，全长约44公里！", "你知道吗？", "ABC123"]


def test_a_page_cut_off_in_its_first_paragraph_keeps_it():
    """A scraped page whose only paragraph ends in an ellipsis is that article, cut off by the scrape:
    not a teaser (a dev article was rejected as empty)."""
    body = ("WASHINGTON The Trump administration is facing a dilemma in Iraq after the embassy attack, and "
            "officials said on Tuesday that every option now carried risks for the troops still stationed...")
    c = clean_document("In Chess Game With Iran, Trump Has Only Bad Options\n" + body, today=TODAY)
    assert paragraphs(c) == [body]


def test_a_date_line_below_the_first_paragraph_does_not_make_a_sub_heading_the_title():
    """The headline rule reads the top of a page: once the article has begun, a sub-heading over a
    later date line is not the headline, and the short paragraph above it stays."""
    raw = "\n\n".join([BODY[0], "He said no.", "What happens next", "Updated 4 Dec 2025", *BODY[1:]])
    c = clean_document(raw, today=TODAY)
    assert c.title is None
    assert "He said no." in paragraphs(c) and "What happens next" in paragraphs(c)


@pytest.mark.unit
def test_mojibake_is_repaired_word_by_word_and_before_lines_are_compared():
    """One broken word made ftfy 'repair' a whole text: Portuguese AMANHÃ became AMANHà. A footer
    repeated across a batch's documents was no longer found once the text was repaired and the
    repeated lines were not."""
    from tasks.text.clean import repair_mojibake

    assert repair_mojibake("A IRMÃ DO PREFEITO: AMANHÃ VAI HAVER. CafÃ© reabre, weâ\x80\x99ll see.") == \
        "A IRMÃ DO PREFEITO: AMANHÃ VAI HAVER. Café reabre, we’ll see."
    assert repair_mojibake("Ã la carte, déjà vu, „Spaß“, José’s") == "Ã la carte, déjà vu, „Spaß“, José’s"
    footer = "Visit CafÃ© SociÃ©tÃ© Weekly for the best stories from our newsroom"
    texts = [f"Story {n}\n\n{BODY[n % len(BODY)]} Report number {n} of the day.\n\n{footer}" for n in range(3)]
    rep = repeated_lines(texts)
    assert all("Société" not in clean_document(t, repeated_lines=rep, today=TODAY).text for t in texts)
    assert clean_document(BODY[0], outlet="Le CafÃ© Times", today=TODAY).outlet == "Le Café Times"


def test_a_paragraph_two_articles_share_does_not_keep_a_sites_furniture_in_the_others():
    """A review caught a 'copies' exception that took any two articles sharing a paragraph (an author's
    bio) for copies and kept the site's footer in every article of the batch."""
    furniture = ("The Valley Courier is an independent newspaper founded in 1887 and owned by its readers "
                 "through a cooperative trust.")
    bio = "Jane Doe is a senior reporter who has covered climate and energy for the Valley Courier since 2015."
    texts = [f"Story {n}\n\n" + f"{BODY[n % len(BODY)]} Report number {n} of the day.\n\n" * 3
             + (f"{bio}\n\n" if n < 2 else "") + furniture for n in range(5)]
    rep = repeated_lines(texts)
    assert all(furniture not in clean_document(t, repeated_lines=rep, today=TODAY).text for t in texts)


# ------------------------------------------------------------------ scraped pages (seeds audit)

def stored(tmp_path: Path, pages: dict[str, str]) -> dict:
    """What an ingest stores for these scraped pages, by file name: the files read and cleaned as the
    flow does it (`tasks.batch.read_paths` + `clean_docs`, one batch)."""
    from tasks.batch import clean_docs, read_paths

    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    docs, failures = read_paths([tmp_path / name for name in pages], 10_000_000)
    kept, failed = clean_docs(docs, today=TODAY)
    assert not failures and not failed
    return {Path(d.source).name: d for d in kept}


DANISH_BODY = [
    ("Et stort flertal af den grønlandske befolkning ønsker ikke, at Grønland træder ud af rigsfællesskabet, "
     "viser en ny måling."),
    "Alligevel svarer knap halvdelen, at de ser den amerikanske interesse for Grønland som en mulighed.",
    "Skal man vælge mellem dansk og amerikansk statsborgerskab, foretrækker langt størstedelen det danske.",
]
TURKISH_BODY = [
    ("Merkez Bankası faiz kararını açıkladı ve politika faizini yüzde 50 seviyesinde sabit tuttu, piyasalar "
     "kararı yakından izledi."),
    ("Ekonomistler kararın beklentilere uygun olduğunu ve enflasyonun yılın ikinci yarısında düşmesinin "
     "beklendiğini söyledi."),
]


def test_a_pages_furniture_in_other_languages_and_its_closing_headline_list_are_not_article_text(tmp_path):
    """Seed-like pages (a seeds audit): reading time, "listen to this article", newsletter prompts and
    "read also" teasers in Danish, Icelandic, Turkish, Indonesian, Russian, Japanese and Korean; the IAB
    consent text, a gallery's "Item 1 of 2", "Related article <headline>", a blog's like button and post
    footer; the list of headlines a page ends with under a furniture line ("Mer om saken"), none of which
    were known. The headlines an article ends with itself, under no furniture line, stay."""
    # (body, furniture under the date line, furniture after the first paragraph, furniture at the end)
    spec = {
        "da.txt": (DANISH_BODY, ["Lyt til artiklen", "3 min. læsetid"], ["Læs også: Storm rammer Vestjylland"],
                   ["Tilmeld dig vores nyhedsbrev."]),
        "is.txt": (DANISH_BODY, ["Hlusta", "3 mín lestur"], ["Lesa einnig: Eldgos hafið á Reykjanesskaga"],
                   ["Skráðu þig á póstlistann okkar."]),
        "tr.txt": (TURKISH_BODY, ["Haberi dinle", "Okuma süresi: 3 dk"], ["İlgili Haber: Dolar güne yükselişle başladı"],
                   ["E-bültenimize abone olun, gündemi kaçırmayın.", "İlgili Haberler", "Meteoroloji'den sağanak uyarısı",
                    "Altın fiyatları yeni rekor kırdı"]),
        "id.txt": (DANISH_BODY, ["Dengarkan berita", "Waktu baca 3 menit"], ["Baca juga: Banjir rendam ribuan rumah di Bekasi"],
                   ["Dapatkan berita terbaru setiap hari di email Anda."]),
        "ru.txt": (DANISH_BODY, ["Слушать статью", "Время чтения: 5 мин"], ["По теме: В Москве ожидаются сильные морозы"],
                   ["Подписывайтесь на нашу рассылку."]),
        "ja.txt": (DANISH_BODY, ["音声で聴く", "3分で読めます"], ["関連記事：台風10号、週末にかけて接近"], ["ニュースレターの登録はこちら"]),
        "ko.txt": (DANISH_BODY, ["기사 듣기", "3분 읽기"], ["관련기사: 정부, 내년 예산안 발표"], ["뉴스레터를 구독하세요"]),
        "no.txt": (DANISH_BODY, ["Lytt til saken", "Lesetid: 2 min"], [],
                   ["Mer om saken", "Strømprisen stiger igjen på Østlandet", "Ny rekord på Oslo Børs i dag"]),
        "de.txt": (DANISH_BODY, ["Artikel anhören", "Lesezeit: 4 Min."], [],
                   ["Lesen Sie auch", "Unwetter in Bayern sorgt für Chaos", "Neue Regeln für Mieter ab Januar",
                    "© 2025 Verlagsgruppe Nord GmbH"]),
        "en.txt": (BODY, [("We and our partners store and/or access information on a device, such as cookies and process "
                           "personal data, such as unique identifiers and standard information sent by a device."),
                          "Item 1 of 2 A view of the company's headquarters. REUTERS/Dado Ruvic/File Photo"],
                   ["Related article Markets slide as oil prices jump"],
                   ["Like this:", "Like Loading...", "Posted in News | Tagged economy, local", "Leave a Reply Cancel reply"]),
    }
    pages = {name: "\n\n".join([f"Headline of the {name[:2]} page for this test", "5 March 2025", *head, body[0], *mid,
                                 *body[1:], *tail]) for name, (body, head, mid, tail) in spec.items()}
    # an article that ends with its own list of headline-shaped lines
    listed = BODY + ["The candidates standing in the ward are:", "Jane Doe of the Labour Party",
                     "John Roe of the Green Party", "Mary Major of the Liberal Democrats"]
    pages["list.txt"] = "\n\n".join(["Three candidates stand in the ward by-election", "5 March 2025", *listed])
    got = stored(tmp_path, pages)
    assert {name: got[name].text.split("\n\n") for name in spec} == {name: body for name, (body, *_) in spec.items()}
    assert got["list.txt"].text.split("\n\n") == listed


SWEDISH_BODY = [
    "18-åriga Hanna försvann i Uddevalla i tisdags, och polisen har nu inlett en särskild händelse.",
    "– Allmänheten har hittat kläder som kan tillhöra henne, säger en talesperson för polisen.",
    "Polisen ber alla som har sett henne sedan tisdagen att höra av sig.",
]


def test_a_caption_that_ends_with_its_photo_credit_is_no_article_text_in_any_language(tmp_path):
    """Seed-like pages (a seeds audit): a Swedish page's summary opened with its photo caption
    ("Polisen på plats i Uddevalla. Foto: TT"); the summarizer's caption patterns are English. A
    paragraph of wire copy that ends with its agency ("(ANSA).") or names a paper ("laut Bild/BamS")
    is article text, and so is a line that points at the photo ("(see photo above)")."""
    from tasks.batch import compute_summaries
    from tasks.summarize.length import SummaryLength

    captions = {"sv.txt": "Polisen på plats i Uddevalla. Foto: TT",
                "de.txt": "Demonstranten versammeln sich vor dem Reichstag in Berlin. Foto: dpa/Michael Kappeler",
                "en.txt": "A man walks past a shuttered shop in Manchester, England. (AP Photo/Evan Vucci)",
                "tr.txt": "Maç sonrası futbolcular sevinç yaşadı. Fotoğraf: AA"}
    wire = ["Il governo ha approvato il decreto sulle bollette, che entrerà in vigore da lunedì. (ANSA).",
            "Wie die Zeitung laut Bild/BamS berichtet, will der Minister noch in dieser Woche zurücktreten.",
            "Look for the new energy labels on the packaging (see photo above)"]
    pages = {name: "\n\n".join(["Hanna, 18, försvunnen i Uddevalla", "8 januari 2025 kl. 13.14", caption, *SWEDISH_BODY])
             for name, caption in captions.items()}
    pages["wire.txt"] = "\n\n".join(["Bollette, il decreto è legge", "8 gennaio 2025", *wire, *SWEDISH_BODY])
    got = stored(tmp_path, pages)
    assert {name: got[name].text.split("\n\n") for name in captions} == {name: SWEDISH_BODY for name in captions}
    assert got["wire.txt"].text.split("\n\n") == wire + SWEDISH_BODY
    summaries, _ = compute_summaries([got["sv.txt"]], "newsflow", SummaryLength(sentences=2))
    assert "på plats" not in summaries[got["sv.txt"].doc_id].text
