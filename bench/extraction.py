"""Extraction benchmark: ScrapingHub article-extraction-benchmark metric on a local dev set.

Usage: .venv/bin/python bench/extraction.py [DATA_DIR] [--limit N]

DATA_DIR holds NNNN.html + NNNN.json (`body`, `title`, `url`); default is
`../shared/eval/extraction_dev` relative to the repo root (the data is never copied
into the repo).

Metric (as in scrapinghub/article-extraction-benchmark `evaluate.py`): tokens are
`\\w+` matches (case kept); each text becomes word 4-gram shingles with counts
(a text shorter than 4 tokens is one shingle); per page tp/fp/fn are summed over
shingle counts; precision and recall are averaged over pages (a page where both
texts are empty scores 1, an empty prediction against a non-empty truth scores 0);
F1 is the harmonic mean of the two averages.

Speed: pages/s is wall-clock over the whole set, single thread, after one warm-up
call; "cpu p/s" uses process CPU time, which is steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "eval" / "extraction_dev"

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


def _trafilatura(**kwargs):
    import trafilatura

    def run(html: str, url: str | None) -> str:
        return trafilatura.extract(html, url=url, **kwargs) or ""

    return run


def _ours(html: str, url: str | None) -> str:
    from tasks.text.extract import extract_html

    return extract_html(html, url).text


def configs():
    return [
        ("trafilatura defaults", _trafilatura()),
        ("trafilatura include_comments=False", _trafilatura(include_comments=False)),
        ("newsflow extract_html", _ours),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--worst", type=int, default=0, help="list the N worst pages of our configuration")
    args = ap.parse_args(argv)
    pages = load_pages(Path(args.data_dir), args.limit)
    if not pages:
        print(f"no pages in {args.data_dir}", file=sys.stderr)
        return 2
    print(f"{len(pages)} pages from {args.data_dir}")
    print(f"{'configuration':40s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'pages/s':>8s} {'cpu p/s':>8s}")
    for name, fn in configs():
        fn(pages[0][1], pages[0][2].get("url"))  # warm-up (imports, lazy init)
        preds = []
        t0, c0 = time.perf_counter(), time.process_time()
        for _, html, meta in pages:
            preds.append(fn(html, meta.get("url")))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        p, r, f = score([(meta.get("body") or "", pred) for (_, _, meta), pred in zip(pages, preds)])
        print(f"{name:40s} {p:9.4f} {r:7.4f} {f:7.4f} {len(pages) / elapsed:8.1f} {len(pages) / cpu:8.1f}")
        if args.worst and name.startswith("newsflow"):
            rows = []
            for (stem, _, meta), pred in zip(pages, preds):
                c = tp_fp_fn(meta.get("body") or "", pred)
                rows.append((page_precision(*c) + page_recall(*c), stem, page_precision(*c), page_recall(*c)))
            for _, stem, pp, rr in sorted(rows)[: args.worst]:
                print(f"   {stem}: precision {pp:.3f} recall {rr:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
