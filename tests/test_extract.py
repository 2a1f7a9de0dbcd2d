"""HTML main-text + metadata extraction and the post-cleaning rules."""

from __future__ import annotations

from datetime import date

from tasks.text.extract import Extracted, clean_extracted_text, extract_html

PARA = (
    "The city council voted on Tuesday to expand the riverside park by twelve hectares, "
    "after a two-year consultation in which residents asked for more trees and fewer car parks. "
)

ARTICLE = f"""<!doctype html>
<html lang="en-GB"><head>
<title>Council expands riverside park | The Daily Example</title>
<meta property="og:title" content="Council expands riverside park">
<meta property="og:site_name" content="The Daily Example">
<meta name="author" content="Jane Reporter">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "Council expands riverside park"}}</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>Council expands riverside park</h1>
<p>{PARA}</p>
<p>Advertisement</p>
<p>{PARA.replace("Tuesday", "Wednesday")}</p>
<p>Work is expected to start next spring and to last eighteen months, the council said in a statement.</p>
<h2>Related articles</h2>
<ul><li><a href="/a">Budget approved</a></li><li><a href="/b">New bridge opens</a></li></ul>
</article></main>
<footer>Copyright 2024 The Daily Example. All rights reserved.</footer>
</body></html>"""


def test_article_text_and_metadata():
    ex = extract_html(ARTICLE, "https://daily.example/news/park")
    assert isinstance(ex, Extracted)
    assert "voted on Tuesday" in ex.text and "voted on Wednesday" in ex.text
    assert "eighteen months" in ex.text
    for boiler in ("Home", "Advertisement", "All rights reserved", "Budget approved"):
        assert boiler not in ex.text, boiler
    assert not ex.text.startswith("Council expands")  # headline lives in .title
    assert ex.title == "Council expands riverside park"
    assert ex.author == "Jane Reporter"
    assert ex.date == date(2024, 3, 5)
    assert ex.sitename == "The Daily Example"
    assert ex.language == "en"
    assert any(rule == "widget" for _, rule in ex.removed_lines)


def test_bytes_input_and_legacy_encoding():
    html = ARTICLE.replace("riverside", "rivers\u00efde caf\u00e9").encode("cp1252")
    html = html.replace(b"<head>", b'<head><meta charset="windows-1252">')
    ex = extract_html(html)
    assert "caf\u00e9" in ex.title


def test_garbage_and_empty_never_raise():
    for bad in ("", "   ", "<html></html>", "not html at all", "\x00\x01\x02", b"\xff\xfe\x00"):
        ex = extract_html(bad)
        assert isinstance(ex, Extracted) and isinstance(ex.text, str)


def test_future_date_rejected():
    html = ARTICLE.replace("2024-03-05T10:00:00Z", "2999-01-01T00:00:00Z")
    assert extract_html(html).date != date(2999, 1, 1)


def test_clean_title_line_and_widgets():
    text = "My Headline\nLast updated: March 3, 2024\nFirst real paragraph of the story.\nContinue reading below\nSecond paragraph.\nShare this article"
    out, removed = clean_extracted_text(text, "My Headline")
    assert out == "First real paragraph of the story.\nSecond paragraph."
    assert [r for _, r in removed] == ["title", "date_stamp", "widget", "widget"]


def test_tail_cut_only_for_list_like_tails():
    body = "\n".join(f"Paragraph {i} of the story with enough words to count as running prose here." for i in range(10))
    tail = "Related Articles:\n- How to do X\n- Why Y matters\n- Ten facts about Z"
    out, removed = clean_extracted_text(body + "\n" + tail)
    assert out == body and removed[0] == ("Related Articles:", "tail")
    # a "Further reading" section made of real prose stays
    prose = "Further reading\n" + " ".join(["This is a long discussion sentence that belongs to the article."] * 20)
    out, _ = clean_extracted_text(body + "\n" + prose)
    assert out.endswith("belongs to the article.")
    # code blocks with short lines are never treated as a boilerplate tail
    code = "Comments\nconst x = compute(a, b);\nif (x) { return y; }\n}"
    out, _ = clean_extracted_text(body + "\n" + code)
    assert "compute(a, b)" in out


def test_tail_heading_in_first_half_is_kept():
    text = "Related topics\n- one\n- two\n" + "\n".join(["A long paragraph of article content with many words in it."] * 10)
    out, _ = clean_extracted_text(text)
    assert out.startswith("Related topics")
