"""Extractive summarizer: API contract, length options, edge cases, every algorithm."""

import pytest

from tasks.document import Summary
from tasks.text.sentences import split_sentences
from tasks.summarize.algorithms import ALGORITHMS, is_non_content, summarize

TITLE = "Ad sales boost Time Warner profit"
ARTICLE = """Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m) for the three months to December, from $639m year-earlier.

The firm, which is now one of the biggest investors in Google, benefited from sales of high-speed internet connections and higher advert sales. TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn.Its profits were buoyed by one-off gains which offset a profit dip at Warner Bros, and less users for AOL.

Time Warner said on Friday that it now owns 8% of search-engine Google. But its own internet business, AOL, had has mixed fortunes. It lost 464,000 subscribers in the fourth quarter profits were lower than in the preceding three quarters. However, the company said AOL's underlying profit before exceptional items rose 8% on the back of stronger internet advertising revenues.

Read more: our full coverage of media stocks here

Time Warner's fourth quarter profits were slightly better than analysts' expectations. But its film division saw profits slump 27% to $284m, helped by box-office flops Alexander and Catwoman. For the full-year, TimeWarner posted a profit of $3.36bn, up 27% from its 2003 performance, while revenues grew 6.4% to $42.09bn.

Sign up for our newsletter to get the latest business news.

TimeWarner is to restate its accounts as part of efforts to resolve an inquiry into AOL by US market regulators. It has already offered to pay $300m to settle charges, in a deal that is under review by the SEC."""

SENTS = split_sentences(ARTICLE)


def _check(summary: Summary, algorithm: str):
    assert isinstance(summary, Summary)
    assert summary.algorithm == algorithm
    positions = [p for p, _ in summary.sentences]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for p, s in summary.sentences:
        assert SENTS[p] == s


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_runs(algorithm):
    summary = summarize(ARTICLE, title=TITLE, algorithm=algorithm, sentences=4)
    _check(summary, algorithm)
    assert len(summary.sentences) == 4
    assert not any(is_non_content(s) for _, s in summary.sentences)


def test_default_is_newsflow_with_three_sentences():
    summary = summarize(ARTICLE, title=TITLE)
    _check(summary, "newsflow")
    assert len(summary.sentences) == 3
    assert summary.text == " ".join(s for _, s in summary.sentences)


def test_glued_sentences_are_separate_units():
    assert "TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn." in SENTS
    assert "Its profits were buoyed by one-off gains which offset a profit dip at Warner Bros, and less users for AOL." in SENTS


def test_ratio_option():
    summary = summarize(ARTICLE, title=TITLE, ratio=0.25)
    _check(summary, "newsflow")
    assert len(summary.sentences) == round(0.25 * len(SENTS))
    assert len(summarize(ARTICLE, ratio=0.01).sentences) == 1


def test_word_budget_option():
    summary = summarize(ARTICLE, title=TITLE, words=60)
    _check(summary, "newsflow")
    assert 1 <= len(summary.sentences)
    assert sum(len(s.split()) for _, s in summary.sentences) <= 60
    # a budget smaller than any sentence still yields one sentence
    assert len(summarize(ARTICLE, words=5).sentences) == 1


def test_non_content_sentences_are_dropped_even_when_asking_for_everything():
    summary = summarize(ARTICLE, title=TITLE, sentences=len(SENTS))
    texts = [s for _, s in summary.sentences]
    assert not any(t.startswith(("Read more", "Sign up")) for t in texts)
    assert len(texts) == len(SENTS) - 2


@pytest.mark.parametrize(
    "line",
    [
        "Read more: our full coverage here",
        "Sign up for our newsletter to get the latest news.",
        "Watch the moment the goal went in below:",
        "LONDON (Reuters) -",
        "Photo: Getty Images",
        "Click here to subscribe.",
    ],
)
def test_non_content_detector(line):
    assert is_non_content(line)


@pytest.mark.parametrize(
    "line",
    [
        "The firm said it would read the report before making a decision.",
        "Watch makers in Switzerland reported record exports last year.",
        '"We are delighted," said the chairman.',
    ],
)
def test_content_is_kept(line):
    assert not is_non_content(line)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_very_short_documents_return_all_sentences(algorithm):
    one = "Only one sentence here."
    two = "The first sentence is here. The second follows it."
    assert summarize(one, algorithm=algorithm).sentences == [(0, one)]
    assert summarize(two, algorithm=algorithm, sentences=5).sentences == [
        (0, "The first sentence is here."),
        (1, "The second follows it."),
    ]


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_empty_text(text):
    summary = summarize(text, title="Anything")
    assert summary == Summary(algorithm="newsflow", sentences=[])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithm": "nope"},
        {"sentences": 0},
        {"sentences": -2},
        {"sentences": 2.5},
        {"ratio": 0.0},
        {"ratio": 1.5},
        {"words": 0},
        {"sentences": 2, "ratio": 0.5},
        {"ratio": 0.5, "words": 10},
        {"sentences": True},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        summarize(ARTICLE, **kwargs)
    with pytest.raises(ValueError):
        summarize("", **kwargs)


def test_long_document_two_thousand_sentences():
    topics = ["oil prices", "the central bank", "car exports", "steel tariffs", "bond yields"]
    sents = [f"Report {i} says {topics[i % 5]} moved by {i % 13} points in region {i % 41}." for i in range(2000)]
    text = "\n\n".join(" ".join(sents[j : j + 10]) for j in range(0, 2000, 10))
    assert len(split_sentences(text)) == 2000
    for algorithm in ("newsflow", "textrank", "lexrank"):
        summary = summarize(text, title="Markets move", algorithm=algorithm, sentences=5)
        positions = [p for p, _ in summary.sentences]
        assert len(positions) == 5 and positions == sorted(positions)
        assert all(sents[p] == s for p, s in summary.sentences)


def test_three_megabyte_inputs_summarize_to_real_sentences():
    """A 3 MB line with no sentence punctuation and 3 MB of punctuated text each give a summary of
    three sentences taken from the text (time: bench/reliability.py, "long inputs")."""
    import random

    rng = random.Random(5)
    words = "council harbour ferry storm bridge budget minister election court river police Smith".split()
    line = " ".join(rng.choice(words) for _ in range(430_000))
    assert len(line) > 3_000_000
    summary = summarize(line, title="Harbour council")
    assert len(summary.sentences) == 3
    for position, sentence in summary.sentences:
        assert 0 < len(sentence) <= 2000 and f" {sentence} " in f" {line} "
    assert [p for p, _ in summary.sentences] == sorted(p for p, _ in summary.sentences)

    sents = [f"Officials in district {i} said the {rng.choice(words)} would reopen after the {rng.choice(words)} "
             f"inquiry." for i in range(40_000)]
    text = "\n\n".join(" ".join(sents[j : j + 8]) for j in range(0, len(sents), 8))
    assert len(text) > 3_000_000
    summary = summarize(text, title="Harbour council")
    assert len(summary.sentences) == 3
    assert all(sents[p] == s for p, s in summary.sentences)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_sentence_the_article_repeats_is_in_the_summary_once(algorithm):
    """A pull quote repeating a quoted sentence (and a standfirst sentence repeated in the body)
    says nothing new: the summary never carries it twice, however long it is asked to be."""
    quote = "It is the first evidence that the permafrost is thawing under the sea"
    text = (f'Scientists found methane leaking from the Arctic seabed at a record rate. "{quote}," the authors '
            f'wrote. The team sampled forty sites over two summers.\n\n"{quote}."\n\nThe findings were published '
            "in Nature on Tuesday. Other researchers urged caution about the estimates.\n\nThe team sampled forty "
            "sites over two summers.")
    got = [s for _, s in summarize(text, algorithm=algorithm, sentences=10).sentences]
    assert sum(quote in s for s in got) == 1
    assert sum("forty sites" in s for s in got) == 1
    assert len(got) == 5
