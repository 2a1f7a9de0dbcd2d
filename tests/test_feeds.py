"""Feed and sitemap parsing, and discovery through the fetcher on a loopback server."""

from __future__ import annotations

from datetime import date

from tasks.sources.fetch import FetchSettings
from tasks.sources.feeds import discover_article_entries, parse_feed, parse_sitemap, sitemap_kind

try:
    from tests.http_server import Reply, http_server  # noqa: F401  (fixture)
except ImportError:  # pragma: no cover
    from http_server import Reply, http_server  # noqa: F401

def discover_article_urls(feeds, settings, previous=None):
    """(article URLs, failed fetches) of the feeds and sitemaps, as the run lists them."""
    entries, failures, _ = discover_article_entries(feeds, settings, previous)
    return [url for url, _ in entries], failures


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>News</title><link>https://news.example/</link>
  <item><title>A</title><link>https://news.example/a</link><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>
  <item><title>B</title><link>/b</link><dc:date>2003-06-11T09:00:00Z</dc:date></item>
  <item><title>C</title><guid isPermaLink="true">https://news.example/c</guid></item>
  <item><title>D</title><guid isPermaLink="false">tag:1234</guid></item>
  <item><title>dup</title><link>https://news.example/a</link></item>
  <item><title>bad scheme</title><link>javascript:alert(1)</link></item>
  <item><title>future</title><link>https://news.example/f</link><pubDate>Tue, 10 Jun 2999 04:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/posts/">
  <title>Blog</title>
  <entry><title>One</title><link rel="alternate" href="one.html"/><link rel="edit" href="/edit/1"/>
    <published>2024-05-01T10:00:00+02:00</published><updated>2024-05-02T00:00:00Z</updated></entry>
  <entry><title>Two</title><link href="https://other.example/two"/><updated>2024-05-03T00:00:00Z</updated></entry>
  <entry><title>Three</title><id>https://blog.example/3</id></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://x.example/"><title>X</title></channel>
  <item rdf:about="https://x.example/1"><title>1</title><link>https://x.example/1</link><dc:date>2020-01-02</dc:date></item>
</rdf:RDF>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://site.example/p1</loc><lastmod>2023-02-03</lastmod></url>
  <url><loc>https://site.example/p2</loc><news:news><news:publication_date>2023-03-04T05:06:07Z</news:publication_date></news:news></url>
  <url><loc> https://site.example/p3 </loc></url>
</urlset>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><link>https://e.example/&x;</link></item></channel></rss>"""


def test_rss2():
    entries = parse_feed(RSS, base_url="https://news.example/feed")
    assert entries == [
        ("https://news.example/a", date(2003, 6, 10)),
        ("https://news.example/b", date(2003, 6, 11)),
        ("https://news.example/c", None),
        ("https://news.example/f", None),  # future date dropped
    ]


def test_atom_with_xml_base_and_str_input():
    assert parse_feed(ATOM) == [
        ("https://blog.example/posts/one.html", date(2024, 5, 1)),
        ("https://other.example/two", date(2024, 5, 3)),
        ("https://blog.example/3", None),
    ]


def test_rss1_rdf():
    assert parse_feed(RDF) == [("https://x.example/1", date(2020, 1, 2))]


def test_not_a_feed_and_garbage():
    assert parse_feed(b"<html><body>hi</body></html>") == []
    assert parse_feed(b"") == []
    assert parse_feed(b"\x00\x01 not xml") == []


def test_bare_ampersands_in_links_are_literal():
    feed = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
      <item><link>https://n.example/article.php?id=5&lang=en</link></item>
      <item><link>https://n.example/article.php?id=6&amp;lang=en</link></item>
      <item><link>https://n.example/article.php?id=7&#38;lang=en&amp;x=1</link></item>
    </channel></rss>"""
    assert [u for u, _ in parse_feed(feed)] == [
        "https://n.example/article.php?id=5&lang=en",
        "https://n.example/article.php?id=6&lang=en",
        "https://n.example/article.php?id=7&lang=en&x=1",
    ]


def test_no_external_entities():
    urls = [u for u, _ in parse_feed(XXE)]
    assert all("root:" not in u for u in urls)


def test_sitemaps():
    assert sitemap_kind(URLSET) == "urlset"
    assert parse_sitemap(URLSET) == [
        ("https://site.example/p1", date(2023, 2, 3)),
        ("https://site.example/p2", date(2023, 3, 4)),
        ("https://site.example/p3", None),
    ]
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>/s1.xml</loc><lastmod>2024-01-01</lastmod></sitemap></sitemapindex>"""
    assert sitemap_kind(index) == "sitemapindex"
    assert parse_sitemap(index, base_url="https://site.example/sitemap.xml") == [
        ("https://site.example/s1.xml", date(2024, 1, 1))
    ]
    assert parse_sitemap(RSS) == [] and sitemap_kind(RSS) is None


def _settings(**kw):
    base = dict(allow_private_addresses=True, obey_robots=False, per_host_delay_s=0.0, retries=0,
                read_timeout_s=1.0, total_timeout_s=2.0)
    base.update(kw)
    return FetchSettings(**base)


def test_discover_from_feed_and_sitemap_index(http_server):
    u = http_server.url
    rss = f"""<rss version="2.0"><channel>
      <item><link>{u('/art/1')}</link><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>
      <item><link>/art/2</link></item></channel></rss>"""
    http_server.route("/feed.xml", Reply(200, rss, content_type="application/rss+xml"))
    http_server.route("/sitemap_index.xml", Reply(200, f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>{u('/sm1.xml')}</loc></sitemap><sitemap><loc>/sm-missing.xml</loc></sitemap></sitemapindex>""",
                                                    content_type="application/xml"))
    http_server.route("/sm1.xml", Reply(200, f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>{u('/art/3')}</loc><lastmod>2024-02-02</lastmod></url><url><loc>{u('/art/1')}</loc></url></urlset>""",
                                        content_type="text/xml"))
    http_server.route("/page.html", Reply(200, "<html><body>" + "x" * 50 + "</body></html>"))
    urls, failures = discover_article_urls(
        [u("/feed.xml"), u("/sitemap_index.xml"), u("/page.html"), u("/gone.xml")], _settings()
    )
    assert urls == [u("/art/1"), u("/art/2"), u("/art/3")]
    assert sorted((f.url.rsplit("/", 1)[-1], f.error) for f in failures) == [
        ("gone.xml", "http_404"), ("page.html", "not_a_feed"), ("sm-missing.xml", "http_404"),
    ]
    entries, _, fetched = discover_article_entries([u("/feed.xml")], _settings())
    assert entries[0][1] == date(2024, 1, 1) and fetched[0].ok


def test_discover_skips_not_modified_feed(http_server):
    def handler(req):
        if req.headers.get("If-None-Match") == '"f1"':
            return Reply(304, headers={"ETag": '"f1"'})
        return Reply(200, "<rss><channel><item><link>https://a.example/1</link></item></channel></rss>",
                     content_type="application/rss+xml", headers={"ETag": '"f1"'})

    http_server.route("/feed", handler)
    urls, failures = discover_article_urls([http_server.url("/feed")], _settings())
    assert urls == ["https://a.example/1"] and not failures
    _, _, fetched = discover_article_entries([http_server.url("/feed")], _settings())
    prev = {fetched[0].url: fetched[0].as_previous()}
    urls, failures = discover_article_urls([http_server.url("/feed")], _settings(), prev)
    assert urls == [] and failures == []


def test_gzipped_sitemaps_are_read_and_an_index_says_what_it_did_not_read(http_server):
    """Most news sites gzip their sitemaps: they failed as `content_type` (application/x-gzip). An
    index listing more children than are read dropped the rest without a word."""
    import gzip

    from tasks.sources.feeds import MAX_CHILD_SITEMAPS

    u = http_server.url
    urlset = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{u('/art/1')}</loc></url>
      </urlset>""".encode()
    http_server.route("/sm-1.xml.gz", Reply(200, gzip.compress(urlset), content_type="application/x-gzip"))
    http_server.route("/sm-2.xml.gz", Reply(200, gzip.compress(urlset.replace(b"/art/1", b"/art/2")),
                                            content_type="application/octet-stream"))
    http_server.route("/bomb.xml.gz", Reply(200, gzip.compress(b"<urlset>" + b" " * 3_000_000 + b"</urlset>"),
                                            content_type="application/gzip"))
    children = "".join(f"<sitemap><loc>{u(f'/sm-{n}.xml.gz')}</loc></sitemap>" for n in range(1, MAX_CHILD_SITEMAPS + 6))
    http_server.route("/index.xml", Reply(200, f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                               f'{children}</sitemapindex>', content_type="application/xml"))
    urls, failures = discover_article_urls([u("/index.xml"), u("/bomb.xml.gz")], _settings(max_body_bytes=1_000_000))
    assert urls == [u("/art/1"), u("/art/2")]
    by_url = {f.url.rsplit("/", 1)[-1]: f for f in failures}
    assert by_url["index.xml"].error == "sitemaps_skipped"
    assert f"lists {MAX_CHILD_SITEMAPS + 5} sitemaps; the first {MAX_CHILD_SITEMAPS} were read" in by_url["index.xml"].detail
    assert by_url["bomb.xml.gz"].error == "too_large"
    assert http_server.hits(f"/sm-{MAX_CHILD_SITEMAPS + 1}.xml.gz") == 0
