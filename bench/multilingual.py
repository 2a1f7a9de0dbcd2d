"""Multilingual quality through the real pipeline (issue 23).

    .venv/bin/python bench/multilingual.py [--data ../shared/eval/multilingual_dev] [--limit N]

Drives `tasks.pipeline.Pipeline` with `InlineStages` (the flow's own choreography) into fresh
DuckDB files in a temporary folder and reads every number back from the warehouse with SQL:

1. extraction: the 95 pages ingested as they were crawled; per language and overall, beside
   trafilatura (`bare_extraction`, same pages, same run): language accuracy (trafilatura detects
   none; the page markup alone, which is what was stored before, is shown instead), body F1 as
   stored (bags of lower-cased unicode word tokens; characters for ja/zh/ko/th; averaged over
   pages), headline exact match (whitespace-normalised), date match (YYYY-MM-DD), author match
   (every expected name in the stored author string; none expected, none stored).
2. summaries: each page with a standfirst, its body without the standfirst as a JSON record
   (title + text), ingested once per method with k = the standfirst's sentences (at most 3);
   ROUGE-1/2 F1 against the standfirst (unicode word tokens, characters for CJK, no stemming) for
   newsflow, lead-k and TextRank in the document's language, and newsflow with English rules
   (`--language en`, what every page got before).
3. near-duplicates: every body and a lightly edited copy (one word in 60 replaced; one character
   in 60 for unspaced scripts) ingested together: share of copies linked to their original, and
   any other link (a false positive).
4. search: one query per page taken from its headline (the longest word; two characters of its
   first CJK run) with `newsflow search --language`'s analysis: share of pages ranked in the top 3.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATA = REPO.parent / "shared" / "eval" / "multilingual_dev"
CJK = {"ja", "zh", "ko", "th"}
_WORD = re.compile(r"\w+", re.UNICODE)
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def tokens(text: str, language: str | None) -> list[str]:
    """The README's scoring units: lower-cased word tokens, characters for CJK and Thai."""
    text = (text or "").casefold()
    if language in CJK:
        return [ch for ch in text if ch.isalnum()]
    return _WORD.findall(text)


def bag_f1(got: str, want: str, language: str) -> float:
    g, w = Counter(tokens(got, language)), Counter(tokens(want, language))
    if not g or not w:
        return float(g == w)
    common = sum((g & w).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def author_match(stored: str | None, expected: list[str]) -> bool:
    stored = norm(stored).casefold()
    if not expected:
        return not stored
    return all(norm(name).casefold() in stored for name in expected)


def load(data: Path, limit: int | None) -> list[dict]:
    rows = []
    for path in sorted(data.glob("*.json"))[:limit]:
        row = json.loads(path.read_text(encoding="utf-8"))
        row["html_path"] = path.with_suffix(".html")
        rows.append(row)
    return rows


def ingest(paths: list[Path], warehouse: Path, **parameters):
    """One run of the flow's choreography; returns the warehouse."""
    from flows.parameters import run_config
    from flows.settings import get_settings
    from tasks.parallel import shutdown_pool
    from tasks.pipeline import InlineStages, Pipeline
    from tasks.sources.files import discover_paths
    from warehouse.store import Warehouse

    config = run_config(get_settings(), **parameters)
    store = Warehouse(warehouse)
    store.migrate()
    run_id = str(uuid.uuid4())
    pipeline = Pipeline(store, config, InlineStages(), run_id)
    store.start_run(run_id, None, {"bench": "multilingual", **{k: str(v) for k, v in parameters.items()}})
    files, missing = discover_paths([str(p) for p in paths])
    for _ in pipeline.run_batches(pipeline.read_files(files, missing)):
        pass
    shutdown_pool()
    pipeline.refresh_search_index()
    store.finish_run(run_id, status="completed", counts=pipeline.totals.counts, timings=pipeline.totals.timings)
    return store


def rows_of(store, sql: str, params=None) -> list[tuple]:
    return store.query(sql, params)[1]


def table(title: str, header: list[str], lines: list[list], first_width: int = 8) -> None:
    print(f"\n{title}")
    widths = [max(first_width, len(header[0]))] + [max(7, len(h)) for h in header[1:]]
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        cells = []
        for i, (v, w) in enumerate(zip(line, widths)):
            s = f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))
            cells.append(s.ljust(w) if i == 0 else s.rjust(w))
        print("  ".join(cells))


def per_language(rows: list[dict], metrics: dict[str, callable]) -> list[list]:
    by_lang = defaultdict(list)
    for r in rows:
        by_lang[r["language"]].append(r)
    order = sorted(by_lang, key=lambda k: (-len(by_lang[k]), k))
    out = []
    for name, group in [*((k, by_lang[k]) for k in order), ("overall", rows)]:
        line = [name, len(group)]
        for fn in metrics.values():
            values = [v for v in (fn(r) for r in group) if v is not None]
            line.append(statistics.fmean(values) if values else None)
        out.append(line)
    return out


# -- 1. extraction ---------------------------------------------------------------------------
def extraction(rows: list[dict], work: Path) -> None:
    import trafilatura

    from tasks.text.language import normalise

    pages = work / "pages"
    pages.mkdir()
    for r in rows:
        shutil.copyfile(r["html_path"], pages / r["html_path"].name)  # the reader skips symlinks
    started = time.perf_counter()
    store = ingest([pages], work / "pages.duckdb")
    elapsed = time.perf_counter() - started
    stored = {Path(src).stem: row for src, *row in rows_of(
        store, "SELECT source, language, language_source, title, text, CAST(published_at AS VARCHAR), author "
               "FROM documents")}
    started = time.perf_counter()
    for r in rows:
        html = r["html_path"].read_text(encoding="utf-8")
        t = trafilatura.bare_extraction(html, with_metadata=True)
        r["traf"] = {"text": t.text or "", "title": t.title, "date": t.date, "author": t.author}
        markup = re.search(r"<html[^>]*\blang=[\"']?([\w-]+)", html, re.I)
        r["markup"] = normalise(markup.group(1)) if markup else None
        got = stored.get(r["html_path"].stem)
        r["got"] = dict(zip(("language", "source", "title", "text", "date", "author"), got)) if got else None
    traf_s = time.perf_counter() - started

    def ours(field):
        return lambda r: None if r["got"] is None else field(r, r["got"])

    metrics = {
        "lang": ours(lambda r, g: float(g["language"] == r["language"])),
        "markup": lambda r: float(r["markup"] == r["language"]),
        "body F1": ours(lambda r, g: bag_f1(g["text"], r["body"], r["language"])),
        "traf F1": lambda r: bag_f1(r["traf"]["text"], r["body"], r["language"]),
        "title": ours(lambda r, g: float(norm(g["title"]) == norm(r["title"]))),
        "traf": lambda r: float(norm(r["traf"]["title"]) == norm(r["title"])),
        "date": ours(lambda r, g: float((g["date"] or "")[:10] == r["publishing_date"][:10])),
        "traf ": lambda r: float((r["traf"]["date"] or "")[:10] == r["publishing_date"][:10]),
        "author": ours(lambda r, g: float(author_match(g["author"], r["authors"]))),
        "traf  ": lambda r: float(author_match(r["traf"]["author"], r["authors"])),
    }
    table(f"1. extraction: {len(rows)} pages, {len(stored)} stored ({elapsed:.1f} s through the pipeline; "
          f"trafilatura {traf_s:.1f} s)  [lang: stored language; markup: <html lang> alone, as stored before]",
          ["language", "pages", *metrics], per_language(rows, metrics))
    wrong = [(r["html_path"].stem, r["language"], r["got"] and r["got"]["language"], r["got"] and r["got"]["source"])
             for r in rows if r["got"] and r["got"]["language"] != r["language"]]
    print(f"language wrong: {wrong or 'none'}; sources: "
          f"{dict(Counter(r['got']['source'] for r in rows if r['got']))}")
    # every page is a different article: a story among them joins different news (or one event
    # reported twice, which a reader judges from the titles and days printed)
    joined = rows_of(store, "SELECT m.story_id, d.language, CAST(d.published_at AS VARCHAR), d.title "
                            "FROM story_members m JOIN documents d USING (doc_id) WHERE m.story_id IN "
                            "(SELECT story_id FROM story_members GROUP BY story_id HAVING count(*) > 1) "
                            "ORDER BY m.story_id, d.published_at")
    stories: dict[str, list[str]] = {}
    for story_id, language, day, title in joined:
        stories.setdefault(story_id, []).append(f"{language} {day} {(title or '')[:60]!r}")
    print(f"stories of 2+ among these {len(stored)} pages: {len(stories)}"
          + "".join(f"\n  {' + '.join(members)}" for members in stories.values()))


# -- 2. summaries ----------------------------------------------------------------------------
SUMMARY_METHODS = (("newsflow", "newsflow", None), ("lead-k", "lead", None), ("TextRank", "textrank", None),
                   ("newsflow, English rules", "newsflow", "en"))


def summaries(rows: list[dict], work: Path) -> None:
    from rouge_score import rouge_scorer, tokenizers

    from tasks.text.sentences import split_sentences

    with_standfirst = [r for r in rows if r["standfirst"].strip() and r["body"].startswith(r["standfirst"][:40])]
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in with_standfirst:
        r["k"] = max(1, min(3, len(split_sentences(r["standfirst"], r["language"]))))
        groups[r["k"]].append(r)

    class Tok(tokenizers.Tokenizer):
        def __init__(self, language):
            self.language = language

        def tokenize(self, text):
            return tokens(text, self.language)

    scores: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    notes: Counter = Counter()
    for label, algorithm, language in SUMMARY_METHODS:
        for k, group in groups.items():
            folder = work / f"summaries-{algorithm}-{language}-{k}"
            folder.mkdir()
            with open(folder / "pages.jsonl", "w", encoding="utf-8") as fh:
                for r in group:
                    body = r["body"][len(r["standfirst"]):].strip()
                    fh.write(json.dumps({"title": r["title"], "text": body, "url": r["url"], "id": r["id"]},
                                        ensure_ascii=False) + "\n")
            store = ingest([folder / "pages.jsonl"], folder / "w.duckdb", algorithm=algorithm, summary_sentences=k,
                           language=language)
            got = dict(rows_of(store, "SELECT d.url, s.summary FROM summaries s JOIN documents d USING (doc_id)"))
            if label == "newsflow":
                notes.update(n for (n,) in rows_of(store, "SELECT note FROM summaries WHERE note IS NOT NULL"))
            for r in group:
                scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], tokenizer=Tok(r["language"]))
                s = scorer.score(r["standfirst"], got.get(r["url"], ""))
                scores[label][r["id"]] = (s["rouge1"].fmeasure, s["rouge2"].fmeasure)
    metrics = {}
    for label, *_ in SUMMARY_METHODS:
        short = label.replace(", English rules", " en")
        metrics[f"{short} R1"] = lambda r, label=label: scores[label].get(r["id"], (None, None))[0]
        metrics[f"{short} R2"] = lambda r, label=label: scores[label].get(r["id"], (None, None))[1]
    table(f"2. summaries against the standfirst: {len(with_standfirst)} pages with one, standfirst removed, "
          f"k = its sentences (max 3)", ["language", "pages", *metrics], per_language(with_standfirst, metrics))
    print(f"notes stored with newsflow summaries: {dict(notes) or 'none'}")


# -- 3. near-duplicates ----------------------------------------------------------------------
def light_edit(text: str, language: str) -> str:
    if language in CJK or _UNSPACED.search(text[:200]):
        chars = list(text)
        for i in range(30, len(chars), 60):
            if chars[i].isalnum():
                chars[i] = "〇"
        return "".join(chars)
    words = text.split(" ")
    for i in range(30, len(words), 60):
        words[i] = "xyzzy"
    return " ".join(words)


def near_duplicates(rows: list[dict], work: Path) -> None:
    folder = work / "neardup"
    folder.mkdir()
    with open(folder / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"title": r["title"], "text": r["body"], "url": f"orig:{r['id']}",
                                 "published": r["publishing_date"][:10]}, ensure_ascii=False) + "\n")
        for r in rows:
            fh.write(json.dumps({"title": r["title"], "text": light_edit(r["body"], r["language"]),
                                 "url": f"copy:{r['id']}", "published": r["publishing_date"][:10]},
                                ensure_ascii=False) + "\n")
    store = ingest([folder / "pairs.jsonl"], folder / "w.duckdb")
    links = rows_of(store, "SELECT d.url, o.url, x.method FROM duplicates x JOIN documents d ON d.doc_id = x.doc_id "
                           "JOIN documents o ON o.doc_id = x.duplicate_of")
    found = {a.split(":", 1)[1] for a, b, _ in links if a.startswith("copy:") and b == "orig:" + a.split(":", 1)[1]}
    wrong = [(a, b) for a, b, _ in links if not (a.startswith("copy:") and b == "orig:" + a.split(":", 1)[1])]
    metrics = {"copy found": lambda r: float(r["id"] in found)}
    table("3. near-duplicates: each body and a light edit (1 word in 60; 1 character in 60 for CJK)",
          ["language", "pages", *metrics], per_language(rows, metrics))
    print(f"links other than copy -> its original: {len(wrong)} {wrong[:5]}")


# -- 4. search -------------------------------------------------------------------------------
def query_for(r: dict) -> str:
    run = re.search(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]{2,}", r["title"])
    if run:
        return run.group(0)[:2]
    words = sorted(_WORD.findall(r["title"]), key=lambda w: (-len(w), w))
    return words[0] if words else r["title"]


def search_checks(rows: list[dict], work: Path) -> None:
    from tasks.text.tokens import search_query

    store = ingest([work / "pages"], work / "pages.duckdb")  # already stored: re-run is a no-op
    by_url = {src: Path(src).stem for (src,) in rows_of(store, "SELECT source FROM documents")}
    hits = {}
    for r in rows:
        q = query_for(r)
        _, results = store.search(search_query(q, r["language"]), limit=3, language=r["language"])
        ids = {doc_id for *_, doc_id in results}
        sources = {by_url[s] for (s,) in rows_of(store, "SELECT source FROM documents WHERE list_contains(?, doc_id)",
                                                 [list(ids)])} if ids else set()
        hits[r["id"]] = float(r["html_path"].stem in sources)
    metrics = {"top-3 hit": lambda r: hits[r["id"]]}
    table("4. search: a headline word per page (--language of the page), its page in the top 3",
          ["language", "pages", *metrics], per_language(rows, metrics))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (quick runs)")
    ap.add_argument("--only", default="1,2,3,4", help="which parts to run, e.g. 1,4")
    args = ap.parse_args()
    rows = load(args.data, args.limit)
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="newsflow-multilingual-") as tmp:
        work = Path(tmp)
        if "1" in parts or "4" in parts:
            extraction(rows, work)
        if "2" in parts:
            summaries(rows, work)
        if "3" in parts:
            near_duplicates(rows, work)
        if "4" in parts:
            search_checks(rows, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
