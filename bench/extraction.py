"""Extraction benchmark: what the warehouse stores for HTML article pages, scored against hand-checked bodies.

Usage: .venv/bin/python bench/extraction.py [DATA_DIR] [--limit N] [--worst N] [--rules] [--no-fetch]

DATA_DIR holds NNNN.html + NNNN.json (`body`, `title`, `url`); default is
`../shared/eval/extraction_dev` relative to the repo root (the data is never copied
into the repo).

Measured in one run, on the same pages:
* stored (files): the pages written as NNNN.html files and ingested through the flow's own
  choreography (`tasks.pipeline.Pipeline` with `InlineStages`) into a fresh warehouse;
  `documents.text`, `title` and `author` read back with SQL;
* stored (fetched): the same pages served by a loopback HTTP server (tests/http_server.py)
  and ingested by URL, read back the same way;
* newsflow extractor alone: `tasks.text.extract.extract_html(...)`, before the cleaner;
* trafilatura: `extract(include_comments=False)` for the body, `extract_metadata` for
  title and author.

Body metric (as in scrapinghub/article-extraction-benchmark `evaluate.py`): tokens are
`\\w+` matches (case kept); each text becomes word 4-gram shingles with counts (a text
shorter than 4 tokens is one shingle); per page tp/fp/fn are summed over shingle counts;
precision and recall are averaged over pages (a page where both texts are empty scores
1, an empty prediction against a non-empty truth scores 0); F1 is the harmonic mean of
the two averages. Title: exact match after collapsing white space and folding curly
quotes. Author: found (non-empty) on the pages that show one: their markup names an
author (meta author / article:author / itemprop=author, JSON-LD author), an author or
byline element holds a short name, or the body starts a line with "By Firstname Lastname".

Per-rule attribution: for each line removed by the cleaner (`documents.removed_lines`) or
by the extractor's post-cleaner, its shingles found in the truth count as content lost,
the others as boilerplate removed, summed per rule.

`--rules` adds the per-kind rule table: the dev pages' F1 under the cleaner's HTML rule set
with each rule toggled, the plain-text rule set on the same pages, and the lines and
characters each rule removes from the seeds (../shared/seeds and seeds/: plain-text
dumps whose removed lines are all boilerplate, as tests/test_clean.py checks).

Speed: extractor pages/s is wall-clock over the whole set, single thread, after one
warm-up call; "cpu" uses process CPU time, steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "extraction_dev"
SEED_DIRS = (REPO_ROOT.parent / "shared" / "seeds", REPO_ROOT / "seeds")

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN_RE.findall(text or "")
    out: Counter = Counter()
    for i in range(0, max(1, len(tokens) - n + 1)):
        sh = " ".join(tokens[i : i + n])
        if sh:
            out[sh] += 1
    return out


def tp_fp_fn(true: str, pred: str, n: int = 4) -> tuple[int, int, int]:
    t, p = shingles(true, n), shingles(pred, n)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    return tp, fp, fn


def page_precision(tp: int, fp: int, fn: int) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def page_recall(tp: int, fp: int, fn: int) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def score(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    """pairs: (truth, prediction). Returns (precision, recall, F1)."""
    counts = [tp_fp_fn(t, p) for t, p in pairs]
    precision = statistics.mean(page_precision(*c) for c in counts)
    recall = statistics.mean(page_recall(*c) for c in counts)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_pages(data_dir: Path, limit: int | None = None) -> list[tuple[str, str, dict]]:
    pages = []
    for html_path in sorted(data_dir.glob("*.html")):
        meta = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
        html = html_path.read_bytes().decode("utf-8", errors="replace")
        pages.append((html_path.stem, html, meta))
        if limit and len(pages) >= limit:
            break
    return pages


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def same_title(truth: str | None, got: str | None) -> bool:
    a = " ".join((truth or "").split()).translate(_QUOTES)
    return bool(a) and a == " ".join((got or "").split()).translate(_QUOTES)


_BY_LINE = re.compile(r"^\s*(?:written |posted )?by:?\s+[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3}", re.M)


def shows_author(html: str, body: str) -> bool:
    """Does the page name its author? (markup, or a "By Firstname Lastname" line)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:
        return bool(_BY_LINE.search(body or ""))
    if tree.xpath('.//meta[@name="author" or @property="article:author" or @name="article:author"'
                  ' or @itemprop="author"][normalize-space(@content)]'):
        return True
    for script in tree.xpath('.//script[@type="application/ld+json"]/text()'):
        if '"author"' in script:
            return True
    for el in tree.xpath('.//*[@itemprop="author"] | .//a[@rel="author"]'
                         ' | .//*[contains(@class, "byline") or contains(@class, "author")]')[:30]:
        text = " ".join(el.text_content().split())
        if 2 <= len(text.split()) <= 6 and text[:1].isupper() or _BY_LINE.search(text):
            return True
    return bool(_BY_LINE.search("\n".join((body or "").split("\n")[:5])))


# -- the real pipeline ---------------------------------------------------------------------
def _pipeline(warehouse: Path):
    from flows.parameters import run_config
    from flows.settings import get_settings
    from tasks.pipeline import InlineStages, Pipeline
    from warehouse.store import Warehouse

    settings = get_settings()
    store = Warehouse(warehouse, memory_limit=settings.duckdb_memory_limit)
    store.migrate()
    run_id = str(uuid.uuid4())
    store.start_run(run_id, None, {"bench": "extraction"})
    return store, run_id, Pipeline(store, run_config(settings), InlineStages(), run_id)


def _finish(store, run_id, pipeline) -> None:
    from tasks.parallel import shutdown_pool

    shutdown_pool()
    totals = pipeline.totals
    store.finish_run(run_id, status="completed", counts=totals.counts, timings=totals.timings)


def _read_back(store, key_sql: str) -> dict[str, dict]:
    """Stored documents by page id, read with SQL."""
    cols, rows = store.query(
        f"SELECT {key_sql} AS page, text, title, author, title_source, author_source, removed_lines "  # noqa: S608
        "FROM documents")
    return {r[0]: dict(zip(cols, r)) for r in rows}


def ingest_files(pages, workdir: Path) -> tuple[dict[str, dict], list]:
    from tasks.sources.files import discover_paths

    folder = workdir / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for stem, html, _ in pages:
        (folder / f"{stem}.html").write_text(html, encoding="utf-8")
    store, run_id, pipeline = _pipeline(workdir / "files.duckdb")
    files, missing = discover_paths([str(folder)])
    for _ in pipeline.run_batches(pipeline.read_files(files, missing)):
        pass
    _finish(store, run_id, pipeline)
    _, failures = store.query("SELECT source, stage, reason FROM failures")
    return _read_back(store, r"regexp_extract(source, '(\d+)\.html$', 1)"), failures


def ingest_fetched(pages, workdir: Path) -> tuple[dict[str, dict], list]:
    """The pages served from 127.0.0.1 and ingested by URL (the SSRF guard is told to allow it)."""
    os.environ["NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES"] = "true"
    os.environ["NEWSFLOW_FETCH__PER_HOST_DELAY_S"] = "0"
    os.environ["NEWSFLOW_FETCH__PER_HOST_CONCURRENCY"] = "8"
    from flows.settings import get_settings
    from tests.http_server import Reply, serve

    if hasattr(get_settings, "cache_clear"):
        get_settings.cache_clear()
    with serve() as server:
        for stem, html, _ in pages:
            server.route(f"/{stem}.html", Reply(200, html.encode("utf-8"), content_type="text/html; charset=utf-8"))
        store, run_id, pipeline = _pipeline(workdir / "fetched.duckdb")
        urls = [server.url(f"/{stem}.html") for stem, _, _ in pages]
        for _ in pipeline.run_batches(pipeline.fetch_urls(urls)):
            pass
        _finish(store, run_id, pipeline)
    _, failures = store.query("SELECT source, stage, reason FROM failures")
    return _read_back(store, r"regexp_extract(source, '(\d+)\.html$', 1)"), failures


# -- comparisons -------------------------------------------------------------------------
def run_trafilatura(pages) -> tuple[list[str], list[str | None], list[str | None], float]:
    import trafilatura

    texts, titles, authors = [], [], []
    t0 = time.perf_counter()
    for _, html, meta in pages:
        texts.append(trafilatura.extract(html, url=meta.get("url"), include_comments=False) or "")
    elapsed = time.perf_counter() - t0
    for _, html, meta in pages:
        md = trafilatura.extract_metadata(html, meta.get("url"))
        titles.append(md.title if md else None)
        authors.append(md.author if md else None)
    return texts, titles, authors, len(pages) / elapsed


def run_extractor(pages):
    from tasks.text.extract import extract_html

    extract_html(pages[0][1], pages[0][2].get("url"))  # warm-up
    out = []
    t0, c0 = time.perf_counter(), time.process_time()
    for _, html, meta in pages:
        out.append(extract_html(html, meta.get("url")))
    return out, len(pages) / (time.perf_counter() - t0), len(pages) / (time.process_time() - c0)


def attribution(pairs: list[tuple[str, list[tuple[str, str]]]]) -> dict[str, list[int]]:
    """rule -> [lines, content words lost, boilerplate words removed]. A removed line is
    content when its word sequence occurs in the page's truth body (a short line has no
    4-gram shingle of its own, so words, not shingles, are counted)."""
    out: dict[str, list[int]] = {}
    for truth, removed in pairs:
        body = " " + " ".join(_TOKEN_RE.findall(truth or "")) + " "
        for line, rule in removed:
            words = _TOKEN_RE.findall(line)
            row = out.setdefault(rule, [0, 0, 0])
            row[0] += 1
            row[1 if words and f" {' '.join(words)} " in body else 2] += len(words)
    return out


def rules_table(pages, extracted) -> None:
    """Per-kind rule table: dev pages (HTML kind), seeds (plain kind)."""
    from tasks.text.clean import ALL_RULES, HTML, PLAIN, RULES, clean_document, repeated_lines

    truth = [m.get("body") or "" for _, _, m in pages]
    rep = repeated_lines([e.text for e in extracted])

    def dev_f1(rules) -> float:
        return score([(t, clean_document(e.text, title=e.title, repeated_lines=rep, rules=rules).text)
                      for t, e in zip(truth, extracted)])[2]

    seeds = {}
    for folder in SEED_DIRS:
        for path in sorted(folder.glob("*.txt")) if folder.exists() else []:
            seeds.setdefault(path.name, path.read_text(encoding="utf-8", errors="replace"))
    seed_removed: Counter = Counter()
    seed_chars: Counter = Counter()
    seed_rep = repeated_lines(seeds.values())
    for text in seeds.values():
        for line, rule in clean_document(text, repeated_lines=seed_rep, kind=PLAIN).removed_lines:
            key = "pattern:editorial" if rule.startswith("pattern:") and rule[8:] in _editorial() else (
                "pattern" if rule.startswith("pattern:") else rule)
            seed_removed[key] += 1
            seed_chars[key] += len(line)
    base = dev_f1(RULES[HTML])
    print(f"\nRules per kind ({len(pages)} dev pages as HTML extractor output; {len(seeds)} seeds as plain text)")
    print(f"HTML rule set on dev: F1 {base:.4f}; plain rule set on the same pages: F1 {dev_f1(RULES[PLAIN]):.4f}; "
          f"extractor alone: {score([(t, e.text) for t, e in zip(truth, extracted)])[2]:.4f}")
    print("| rule | plain | html | dev F1 with the rule toggled (Δ) | seeds: lines (chars) it removes |")
    print("|---|---|---|---|---|")
    for rule in sorted(ALL_RULES):
        toggled = RULES[HTML] - {rule} if rule in RULES[HTML] else RULES[HTML] | {rule}
        f = dev_f1(toggled)
        sign = "off" if rule in RULES[HTML] else "on"
        print(f"| {rule} | {'yes' if rule in RULES[PLAIN] else 'no'} | {'yes' if rule in RULES[HTML] else 'no'} | "
              f"{sign}: {f:.4f} ({f - base:+.4f}) | {seed_removed[rule]} ({seed_chars[rule]}) |")


def _editorial() -> frozenset[str]:
    from tasks.text import clean

    return clean._EDITORIAL_SECTIONS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--worst", type=int, default=0, help="list the N worst stored pages")
    ap.add_argument("--rules", action="store_true", help="also print the per-kind rule table")
    ap.add_argument("--no-fetch", action="store_true", help="skip the loopback-fetch ingest")
    args = ap.parse_args(argv)
    pages = load_pages(Path(args.data_dir), args.limit)
    if not pages:
        print(f"no pages in {args.data_dir}", file=sys.stderr)
        return 2
    truth = {stem: meta for stem, _, meta in pages}
    print(f"{len(pages)} pages from {args.data_dir}")
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-extraction-"))
    try:
        extracted, pps, cpu_pps = run_extractor(pages)
        t_texts, t_titles, t_authors, t_pps = run_trafilatura(pages)
        stored = {"stored (files)": ingest_files(pages, workdir)}
        if not args.no_fetch:
            stored["stored (fetched)"] = ingest_fetched(pages, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    showing = [stem for stem, html, meta in pages if shows_author(html, meta.get("body") or "")]
    print(f"\n| configuration | precision | recall | F1 | title exact | author found (of {len(showing)} showing one) |")
    print("|---|---|---|---|---|---|")
    bodies = [meta.get("body") or "" for _, _, meta in pages]

    def line(name, texts, titles, authors) -> None:
        p, r, f = score(list(zip(bodies, texts)))
        te = sum(same_title(meta.get("title"), t) for (_, _, meta), t in zip(pages, titles)) if titles else None
        found = sum(1 for (stem, _, _), a in zip(pages, authors) if stem in showing and a) if authors else None
        tcell = f"{te}/{len(pages)}" if te is not None else "-"
        acell = f"{found} ({found / max(1, len(showing)):.0%})" if found is not None else "-"
        print(f"| {name} | {p:.4f} | {r:.4f} | {f:.4f} | {tcell} | {acell} |")

    line(f"trafilatura include_comments=False ({t_pps:.1f} pages/s)", t_texts, t_titles, t_authors)
    line(f"newsflow extractor alone ({pps:.1f} pages/s, cpu {cpu_pps:.1f})", [e.text for e in extracted],
         [e.title for e in extracted], [e.author for e in extracted])
    for name, (rows, failures) in stored.items():
        got = [rows.get(stem, {}) for stem, _, _ in pages]
        line(name, [g.get("text") or "" for g in got], [g.get("title") for g in got], [g.get("author") for g in got])
        if failures:
            print(f"|   {len(failures)} failures: {Counter(f[2] for f in failures).most_common(5)} | | | | | |")

    rows, _ = stored["stored (files)"]
    print("\ntitle source: " + ", ".join(f"{k}: {v}" for k, v in Counter(r.get("title_source") for r in rows.values()).most_common()))
    print("author source: " + ", ".join(f"{k}: {v}" for k, v in Counter(r.get("author_source") for r in rows.values()).most_common()))

    # per-page effect of the cleaner and per-rule attribution (stored files vs extractor alone)
    better = worse = 0
    for (stem, _, meta), e in zip(pages, extracted):
        a = tp_fp_fn(meta.get("body") or "", e.text)
        b = tp_fp_fn(meta.get("body") or "", (rows.get(stem) or {}).get("text") or "")
        fa = page_precision(*a) + page_recall(*a)
        fb = page_precision(*b) + page_recall(*b)
        better += fb > fa + 1e-9
        worse += fb < fa - 1e-9
    print(f"\ncleaner vs extractor alone, per page: {better} better, {worse} worse, {len(pages) - better - worse} same")
    pairs = [(truth[stem].get("body") or "", [(x["line"], x["rule"]) for x in json.loads(r.get("removed_lines") or "[]")])
             for stem, r in rows.items() if stem in truth]
    pairs += [(meta.get("body") or "", [(ln, "extractor:" + rule) for ln, rule in e.removed_lines])
              for (_, _, meta), e in zip(pages, extracted)]
    print("\n| removed by | lines | content words lost | boilerplate words removed |\n|---|---|---|---|")
    for rule, (n, lost, gained) in sorted(attribution(pairs).items(), key=lambda kv: -kv[1][1]):
        print(f"| {rule} | {n} | {lost} | {gained} |")

    if args.worst:
        ranked = []
        for stem, _, meta in pages:
            c = tp_fp_fn(meta.get("body") or "", (rows.get(stem) or {}).get("text") or "")
            ranked.append((page_precision(*c) + page_recall(*c), stem, page_precision(*c), page_recall(*c)))
        for _, stem, pp, rr in sorted(ranked)[: args.worst]:
            print(f"   {stem}: precision {pp:.3f} recall {rr:.3f}")
    if args.rules:
        rules_table(pages, extracted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
