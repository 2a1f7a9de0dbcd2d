"""Sentence splitter: pysbd-based, no downloads, glued sentences split."""

import pytest

from tasks.sentences import SumyTokenizer, split_paragraphs, split_sentences, tokenize_words


def test_glued_sentences_are_split():
    text = "TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn.For the full-year, it posted a profit."
    assert split_sentences(text) == [
        "TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn.",
        "For the full-year, it posted a profit.",
    ]


def test_glued_quote_boundaries():
    text = 'He said "it was strong."The firm disagreed.It was wrong.'
    assert split_sentences(text) == ['He said "it was strong."', "The firm disagreed.", "It was wrong."]


def test_decimals_abbreviations_and_domains_are_not_split():
    text = "Mr. Smith met Dr. Jones at 5 p.m. on Monday. Profits rose 3.5% to $1.13bn. See bbc.co.uk for more."
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones at 5 p.m. on Monday.",
        "Profits rose 3.5% to $1.13bn.",
        "See bbc.co.uk for more.",
    ]


def test_paragraphs_and_newlines():
    text = "First one. Second one.\n\nThird\nwraps here.\n\n\n  \nFourth!"
    assert split_paragraphs(text) == [["First one.", "Second one."], ["Third wraps here."], ["Fourth!"]]
    assert split_sentences(text) == ["First one.", "Second one.", "Third wraps here.", "Fourth!"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty(text):
    assert split_sentences(text) == []


def test_long_paragraph_is_chunked_without_losing_sentences():
    sents = [f"Sentence number {i} talks about the economy of Ruritania." for i in range(2000)]
    out = split_sentences(" ".join(sents))
    assert out == sents


def test_sumy_tokenizer_with_plaintext_parser():
    from sumy.parsers.plaintext import PlaintextParser

    tok = SumyTokenizer("english")
    assert tok.language == "english"
    parser = PlaintextParser.from_string("Profits rose 2%.It was good.\n\nNew paragraph here.", tok)
    assert [str(s) for s in parser.document.sentences] == ["Profits rose 2%.", "It was good.", "New paragraph here."]
    assert tok.to_words("Time Warner's profit rose 76% in 2004.") == ("Time", "Warner's", "profit", "rose", "in")
    assert tokenize_words("e-mail isn't 42") == ["e-mail", "isn't"]
    with pytest.raises(ValueError):
        SumyTokenizer("klingon")


def test_sentences_ending_in_numbers_are_not_list_items():
    text = "Report 1 says prices rose in region 1. Report 2 says prices fell in region 2. Report 3 is flat in region 3."
    assert split_sentences(text) == [
        "Report 1 says prices rose in region 1.",
        "Report 2 says prices fell in region 2.",
        "Report 3 is flat in region 3.",
    ]


def test_closing_quote_of_a_multi_paragraph_quote_stays_attached():
    text = '"It is a start.\n\nIt is pushing for less free market activity."\n\nBut the problem remained.'
    assert split_sentences(text) == ['"It is a start.', 'It is pushing for less free market activity."', "But the problem remained."]
