"""URLs and feeds through the ingest flow, against a real HTTP server on 127.0.0.1."""

import pytest

from flows.artifacts import EveryItemFailed
from tests.http_server import Reply, http_server  # noqa: F401  (fixture)
from warehouse.store import Warehouse

pytestmark = pytest.mark.usefixtures("prefect_harness")

ARTICLE = """<!doctype html><html><head><title>Harbour reopens after storm | Coast Daily</title>
<meta property="og:site_name" content="Coast Daily"></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbour reopens after storm</h1>
<p>The harbour reopened on Thursday morning after a storm closed it for two days, port officials said.</p>
<p>Ferries resumed their normal timetable and fishing boats returned to sea before dawn.</p>
<p>The coast guard said repairs to the outer breakwater would take several weeks and cost millions.</p>
</article><footer>Sign up for our newsletter. Copyright Coast Daily.</footer></body></html>"""

ARTICLE_2 = """<html><head><title>Council approves new bridge</title></head><body><article>
<h1>Council approves new bridge</h1>
<p>The city council voted on Monday to build a new bridge across the river, ending a decade of debate.</p>
<p>Construction is expected to start next spring and the crossing should open to traffic within three years.</p>
<p>Opponents said the money would be better spent on buses, but the vote passed by nine to two.</p>
</article></body></html>"""


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    # The SSRF guard refuses loopback by default; the test server lives there.
    monkeypatch.setenv("NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("NEWSFLOW_FETCH__PER_HOST_DELAY_S", "0")
    monkeypatch.setenv("NEWSFLOW_FETCH__BACKOFF_BASE_S", "0.01")


def test_urls_and_feed_are_ingested_then_refetch_is_conditional(http_server, warehouse_path):  # noqa: F811
    from flows.ingest import ingest

    http_server.route("/a", Reply(200, ARTICLE, headers={"ETag": '"v1"'}))
    http_server.route("/b", Reply(200, ARTICLE_2))
    http_server.route("/missing", Reply(404, "nope"))
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>B</title><link>{http_server.url('/b')}</link><pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
    </channel></rss>"""
    http_server.route("/feed.xml", Reply(200, feed, content_type="application/rss+xml"))

    report = ingest(urls=[http_server.url("/a"), http_server.url("/missing")],
                    feeds=[http_server.url("/feed.xml")], warehouse=str(warehouse_path))
    assert report["documents_new"] == 2, report
    store = Warehouse(warehouse_path)
    _, rows = store.query("SELECT a.title, d.source_kind, a.summary IS NOT NULL FROM documents d JOIN articles a USING (doc_id) "
                          "ORDER BY 1")
    assert [r[0] for r in rows] == ["Council approves new bridge", "Harbour reopens after storm"]
    _, failures = store.query("SELECT stage, reason FROM failures")
    assert failures == [("fetch", "http_404")]
    _, text = store.query("SELECT text FROM documents WHERE url LIKE '%/a'")
    assert "newsletter" not in text[0][0] and "Home" not in text[0][0]
    _, pages = store.query("SELECT count(*) FROM raw_pages")
    assert pages[0][0] == 2

    # second run: /a answers 304 to If-None-Match, /b serves the same body again
    http_server.route("/a", lambda req: Reply(304, b"") if req.headers.get("If-None-Match") == '"v1"'
                      else Reply(200, ARTICLE))
    report = ingest(urls=[http_server.url("/a"), http_server.url("/b")], warehouse=str(warehouse_path))
    assert report["documents_new"] == 0 and report["unchanged"] == 2
    assert store.counts()["documents"] == 2


def test_a_page_refused_for_its_content_fails_again_on_the_next_run(http_server, warehouse_path):  # noqa: F811
    """A menu-only page (no article: its text would be the <nav> links) and a PDF served as text/html
    are failures with their reason, in every run: the same bytes again are not "unchanged"."""
    from flows.ingest import ingest

    menu = ('<html><head><title>Menu</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a>'
            '</nav></body></html>')
    http_server.route("/menu", Reply(200, menu, headers={"ETag": '"m1"'}))
    http_server.route("/pdf", Reply(200, b"%PDF-1.7\n" + bytes(range(256)) * 40, headers={"ETag": '"p1"'}))
    http_server.route("/a", Reply(200, ARTICLE))
    urls = [http_server.url(p) for p in ("/menu", "/pdf", "/a")]
    for run in (1, 2):
        report = ingest(urls=urls, warehouse=str(warehouse_path))
        assert (report["documents_new"], report["unchanged"], report["failures"]) == ((1, 0, 2) if run == 1 else (0, 1, 2))
    store = Warehouse(warehouse_path)
    _, failures = store.query("SELECT regexp_extract(source, '/(\\w+)$', 1), reason, occurrences FROM failures ORDER BY 1")
    assert failures == [("menu", "no_main_text", 2), ("pdf", "binary", 2)]
    assert store.counts()["documents"] == 1


def test_a_page_whose_bytes_change_around_the_same_article_is_unchanged(http_server, warehouse_path):  # noqa: F811
    """Most news pages carry a per-request token or timestamp: the same headline and text again is
    `unchanged`, not a new version each run; an edit to the article is one."""
    import itertools

    from flows.ingest import ingest

    served = itertools.count()
    page = {"body": ARTICLE}

    def handler(req):
        nonce = f'<script>window.csrf="{next(served)}"</script>'
        return Reply(200, page["body"].replace("</head>", nonce + "</head>"))

    http_server.route("/a", handler)
    reports = [ingest(urls=[http_server.url("/a")], warehouse=str(warehouse_path)) for _ in range(3)]
    assert [(r["documents_new"], r["unchanged"]) for r in reports] == [(1, 0), (0, 1), (0, 1)]
    page["body"] = ARTICLE.replace("several weeks", "three months")
    edited = ingest(urls=[http_server.url("/a")], warehouse=str(warehouse_path))
    assert (edited["documents_new"], edited["duplicates"]) == (1, 0)
    store = Warehouse(warehouse_path)
    _, rows = store.query("SELECT version, is_canonical FROM documents ORDER BY version")
    assert rows == [(1, True), (2, True)]
    _, pages = store.query("SELECT count(*) FROM raw_pages")
    assert pages == [(2,)]
    page["body"] = page["body"].replace("</head>", "<script>t=2</script></head>")  # same text, new bytes
    assert ingest(urls=[http_server.url("/a")], warehouse=str(warehouse_path))["unchanged"] == 1
    _, logged = store.query("SELECT d.version FROM fetch_log f JOIN documents d USING (doc_id)")
    assert logged == [(2,)]  # the fetch names the version holding that text (it named no document)


def test_a_page_back_to_its_earlier_text_is_what_the_warehouse_shows(http_server, warehouse_path):  # noqa: F811
    """A page edited and then restored (a correction withdrawn) serves the first version's bytes
    again. Those bytes were counted `unchanged` (their id was stored), so latest_articles and search
    kept the withdrawn edit. They are the page's third version now, with the fetch and the raw page
    pointing at it; fetched again, unchanged, and the fetch log still names the third version."""
    from flows.ingest import ingest

    edited = ARTICLE.replace("several weeks", "three months")
    page = {"body": ARTICLE}
    http_server.route("/a", lambda req: Reply(200, page["body"]))
    reports = []
    # the last body: the restored page's bytes again after other bytes around the same text (a request token)
    for body in (ARTICLE, edited, ARTICLE, ARTICLE.replace("</head>", "<script>t=1</script></head>"), ARTICLE):
        page["body"] = body
        reports.append(ingest(urls=[http_server.url("/a")], warehouse=str(warehouse_path)))
    assert [(r["documents_new"], r["unchanged"]) for r in reports] == [(1, 0), (1, 0), (1, 0), (0, 1), (0, 1)]
    store = Warehouse(warehouse_path)
    _, rows = store.query("SELECT version, is_canonical, text LIKE '%several weeks%', "
                          "previous_doc_id = lag(doc_id) OVER (ORDER BY version) FROM documents ORDER BY version")
    assert rows == [(1, True, True, None), (2, True, False, True), (3, True, True, True)]
    _, latest = store.query("SELECT version FROM latest_articles")
    assert latest == [(3,)]
    _, pointers = store.query("SELECT (SELECT doc_id FROM raw_pages r WHERE r.doc_id = d.doc_id), "
                              "(SELECT count(*) FROM fetch_log f WHERE f.doc_id = d.doc_id) "
                              "FROM documents d ORDER BY version")
    assert [p[0] is not None for p in pointers] == [True, True, True]
    assert [p[1] for p in pointers] == [0, 0, 1]  # the URL's last fetch is of the third version


def test_tracking_tags_and_fragments_do_not_make_another_source(http_server, warehouse_path):  # noqa: F811
    """A feed lists one article four ways (campaign tags, a click id, a #comments anchor): one
    request, one document, under the plain URL; another query parameter is another page."""
    from flows.ingest import ingest

    http_server.route("/a", Reply(200, ARTICLE))
    http_server.route("/b", Reply(200, ARTICLE_2))
    a, b = http_server.url("/a"), http_server.url("/b")
    links = [a, f"{a}?utm_source=rss&amp;utm_medium=feed", f"{a}?fbclid=XYZ", f"{a}#comments", f"{b}?id=2"]
    items = "".join(f"<item><link>{link}</link></item>" for link in links)
    http_server.route("/feed.xml", Reply(200, f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>',
                                         content_type="application/rss+xml"))
    report = ingest(urls=[a + "#top"],
                    feeds=[http_server.url("/feed.xml")], warehouse=str(warehouse_path))
    assert (report["documents_new"], report["failures"]) == (2, 0), report
    assert http_server.hits("/a") == 1
    _, sources = Warehouse(warehouse_path).query("SELECT source FROM documents ORDER BY source")
    assert sources == [(a,), (f"{b}?id=2",)]


@pytest.mark.parametrize("revisit_hours, second_hits", [("24", 1), ("0", 2)])
def test_a_feed_article_fetched_within_the_revisit_window_is_not_requested_again(
        http_server, warehouse_path, monkeypatch, revisit_hours, second_hits):  # noqa: F811
    from flows.ingest import ingest

    monkeypatch.setenv("NEWSFLOW_FETCH__REVISIT_AFTER_HOURS", revisit_hours)
    http_server.route("/a", Reply(200, ARTICLE))
    http_server.route("/b", Reply(200, ARTICLE_2))
    listed = [http_server.url("/a")]

    def feed(req):
        items = "".join(f"<item><link>{u}</link></item>" for u in listed)
        return Reply(200, f'<rss version="2.0"><channel>{items}</channel></rss>', content_type="application/rss+xml")

    http_server.route("/feed.xml", feed)
    first = ingest(feeds=[http_server.url("/feed.xml")], warehouse=str(warehouse_path))
    listed.append(http_server.url("/b"))  # the next run's feed has a new article
    second = ingest(feeds=[http_server.url("/feed.xml")], warehouse=str(warehouse_path))
    assert (first["documents_new"], second["documents_new"], second["unchanged"]) == (1, 1, 1)
    assert http_server.hits("/a") == second_hits and http_server.hits("/b") == 1
    # an article given by URL is always fetched (for its edits)
    ingest(urls=[http_server.url("/a")], warehouse=str(warehouse_path))
    assert http_server.hits("/a") == second_hits + 1


def test_an_article_given_as_a_url_and_listed_in_a_feed_is_one_item_on_every_run(http_server, warehouse_path):  # noqa: F811
    """Re-run, an article given by --url that its feed also lists was counted twice: unchanged from the
    feed (fetched within the revisit window) and again as the URL it was fetched as (a web audit: 10
    items, then 11). Re-running the same input changes nothing, the report's counts included."""
    from flows.ingest import ingest

    http_server.route("/a", Reply(200, ARTICLE, headers={"ETag": '"a1"'}))
    http_server.route("/b", Reply(200, ARTICLE_2))
    http_server.route("/feed.xml", Reply(200, '<rss version="2.0"><channel><item><link>' + http_server.url("/a")
                                         + "</link></item><item><link>" + http_server.url("/b")
                                         + "</link></item></channel></rss>", content_type="application/rss+xml"))
    reports = [ingest(urls=[http_server.url("/a")], feeds=[http_server.url("/feed.xml")],
                      warehouse=str(warehouse_path)) for _ in range(2)]
    assert [(r["items_seen"], r["documents_new"], r["unchanged"]) for r in reports] == [(2, 2, 0), (2, 0, 2)]


def test_a_page_a_later_stage_fails_fails_again_on_the_next_run(http_server, warehouse_path):  # noqa: F811
    """A page fetched whole and failed by cleaning (nothing but furniture) was logged as fetched:
    the next run counted it unchanged, exited 0 and recorded the failure no more."""
    from flows.ingest import ingest

    http_server.route("/furniture", Reply(200, "Skip to content\nShare this article\nSign up for our newsletter\n",
                                          content_type="text/plain; charset=utf-8", headers={"ETag": '"f1"'}))
    http_server.route("/a", Reply(200, ARTICLE))
    urls = [http_server.url("/furniture"), http_server.url("/a")]
    reports = [ingest(urls=urls, warehouse=str(warehouse_path)) for _ in range(2)]
    assert [(r["documents_new"], r["unchanged"], r["failures"]) for r in reports] == [(1, 0, 1), (0, 1, 1)]
    store = Warehouse(warehouse_path)
    _, failures = store.query("SELECT stage, reason, occurrences FROM failures")
    assert failures == [("clean", "empty_after_cleaning", 2)]
    _, log = store.query("SELECT doc_id, content_sha256, etag, error FROM fetch_log WHERE url LIKE '%/furniture'")
    assert log == [(None, None, None, "empty_after_cleaning")]
    asked = [r for r in http_server.requests if r.path == "/furniture"]
    assert len(asked) == 2 and not any("if-none-match" in {k.lower() for k in r.headers} for r in asked)


def test_a_feed_given_as_an_article_url_is_a_failure_not_an_article_of_markup(http_server, warehouse_path):  # noqa: F811
    from flows.ingest import ingest

    feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Example</title>
      <item><title>A</title><link>{http_server.url('/a')}</link></item></channel></rss>"""
    http_server.route("/feed", Reply(200, feed, content_type="application/rss+xml"))
    http_server.route("/sitemap", Reply(200, f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                             f'sitemap/0.9"><url><loc>{http_server.url("/a")}</loc></url></urlset>',
                                        content_type="text/plain"))
    with pytest.raises(EveryItemFailed) as failed:  # nothing else in the run: a failed flow run
        ingest(urls=[http_server.url("/feed"), http_server.url("/sitemap")], warehouse=str(warehouse_path))
    report = failed.value.report
    assert (report["documents_new"], report["failures"]) == (0, 2), report
    _, failures = Warehouse(warehouse_path).query("SELECT reason, detail FROM failures ORDER BY source")
    assert [r[0] for r in failures] == ["not_an_article", "not_an_article"]
    assert "--feed URL" in failures[0][1] and "feeds" in failures[0][1]  # the flag that exists, and the parameter


def test_a_redirect_to_a_tracking_url_stores_the_plain_url(http_server, warehouse_path):  # noqa: F811
    from flows.ingest import ingest

    http_server.route("/r", Reply(301, "", headers={"Location": "/a?utm_medium=email&id=7#top"}))
    http_server.route("/a", Reply(200, ARTICLE))
    ingest(urls=[http_server.url("/r")], warehouse=str(warehouse_path))
    store = Warehouse(warehouse_path)
    plain = http_server.url("/a") + "?id=7"
    assert store.query("SELECT url FROM documents")[1] == [(plain,)]
    assert store.query("SELECT url FROM raw_pages")[1] == [(plain,)]
    assert store.query("SELECT final_url FROM fetch_log")[1] == [(plain,)]


def test_a_host_that_asked_for_no_requests_is_left_alone_for_the_rest_of_the_run(  # noqa: F811
        http_server, warehouse_path):  # noqa: F811
    """Retry-After beyond what a run waits closes the host for the run: the URLs of later batches
    were requested anyway, and robots.txt was fetched again for every batch."""
    from flows.ingest import ingest

    http_server.route("/busy", Reply(429, "slow down", headers={"Retry-After": "3600"}))
    for n in range(4):
        http_server.route(f"/p{n}", Reply(200, ARTICLE.replace("two days", f"{n + 2} days")))
    with pytest.raises(EveryItemFailed) as failed:
        ingest(urls=[http_server.url("/busy")] + [http_server.url(f"/p{n}") for n in range(4)],
               batch_size=1, warehouse=str(warehouse_path))
    report = failed.value.report
    assert report["documents_new"] == 0 and report["failures"] == 5, report
    assert sum(http_server.hits(f"/p{n}") for n in range(4)) == 0
    assert http_server.hits("/robots.txt") == 1
    _, reasons = Warehouse(warehouse_path).query("SELECT reason, count(*) FROM failures GROUP BY 1 ORDER BY 1")
    assert reasons == [("host_backoff", 4), ("http_429", 1)]


def test_a_page_without_a_date_takes_its_feed_or_sitemap_entry_date(http_server, warehouse_path):  # noqa: F811
    """An undated page counted as published on its ingest day: a story window measured from the wrong
    day, and `published_at` empty for an analyst although the feed said when. The page's own date
    still wins; a news sitemap's publication date wins over its lastmod (a later edit)."""
    from flows.ingest import ingest

    dated = ARTICLE.replace("</head>", '<meta property="article:published_time" content="2025-06-09T08:00:00Z">'
                                       "</head>")
    http_server.route("/a", Reply(200, dated))
    http_server.route("/b", Reply(200, ARTICLE_2))
    third = ARTICLE_2.replace("Council approves new bridge", "Ferry fares to rise in spring").replace(
        "build a new bridge across the river", "raise ferry fares by a tenth")
    http_server.route("/c", Reply(200, third))
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>A</title><link>{http_server.url('/a')}</link><pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate></item>
      <item><title>B</title><link>{http_server.url('/b')}</link><pubDate>Wed, 11 Jun 2025 09:30:00 GMT</pubDate></item>
    </channel></rss>"""
    sitemap = f"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>{http_server.url('/c')}</loc>
      <lastmod>2025-06-20</lastmod><news:news><news:publication_date>2025-06-12T07:00:00Z</news:publication_date>
      </news:news></url></urlset>"""
    http_server.route("/feed.xml", Reply(200, feed, content_type="application/rss+xml"))
    http_server.route("/news.xml", Reply(200, sitemap, content_type="application/xml"))

    report = ingest(feeds=[http_server.url("/feed.xml"), http_server.url("/news.xml")], warehouse=str(warehouse_path))
    assert report["documents_new"] == 3, report
    _, rows = Warehouse(warehouse_path).query(
        "SELECT regexp_extract(source, '/(\\w)$', 1), CAST(published_at AS VARCHAR), published_raw FROM documents "
        "ORDER BY 1")
    assert rows == [("a", "2025-06-09", "2025-06-09T08:00:00Z"), ("b", "2025-06-11", "2025-06-11 (feed entry)"),
                    ("c", "2025-06-12", "2025-06-12 (feed entry)")]


def test_a_feed_link_that_is_not_http_is_a_failure_row_not_dropped_quietly(http_server, warehouse_path):  # noqa: F811
    """A feed whose items link to file: or ftp: addresses looked like a quiet day: the links were
    dropped without a word. The feed's http(s) links are still read."""
    from flows.ingest import ingest

    feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Example</title>
      <item><title>A</title><link>{http_server.url('/a')}</link></item>
      <item><title>B</title><link>file:///var/news/b.html</link></item>
      <item><title>C</title><link>ftp://news.example/c.html</link></item>
      <item><title>D</title><link>mailto:desk@news.example</link></item></channel></rss>"""
    http_server.route("/feed", Reply(200, feed, content_type="application/rss+xml"))
    http_server.route("/a", Reply(200, ARTICLE))
    report = ingest(feeds=[http_server.url("/feed")], warehouse=str(warehouse_path))
    assert (report["documents_new"], report["failures"]) == (1, 1), report
    _, failures = Warehouse(warehouse_path).query("SELECT source, reason, detail FROM failures")
    assert failures[0][0] == http_server.url("/feed") and failures[0][1] == "links_skipped"
    assert "2 listed link(s) not http(s)" in failures[0][2] and "file:///var/news/b.html" in failures[0][2]
    # a feed with no other link is one failure, empty_feed, that names them
    http_server.route("/only", Reply(200, feed.replace(http_server.url('/a'), "file:///var/news/a.html"),
                                     content_type="application/rss+xml"))
    with pytest.raises(EveryItemFailed) as failed:
        ingest(feeds=[http_server.url("/only")], warehouse=str(warehouse_path))
    assert failed.value.report["failures"] == 1, failed.value.report
    _, rows = Warehouse(warehouse_path).query("SELECT reason, detail FROM failures WHERE source LIKE '%/only'")
    assert rows[0][0] == "empty_feed" and "3 listed link(s) not http(s)" in rows[0][1], rows
