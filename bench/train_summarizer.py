"""Retrain newsflow's sentence scorer and report cross-validated ROUGE.

    .venv/bin/python bench/train_summarizer.py [path/to/summaries_dev.jsonl] [--folds 5] [--write]

Labels: a body sentence is positive when it occurs verbatim in the reference summary (the
BBC summaries are extractive). Model: L2 logistic regression over
`tasks.summarize.algorithms.FEATURE_NAMES` (standardised). Cross-validation splits by *document*
(GroupKFold over articles, shuffled with a fixed seed; near copies of one article share a group),
so every reported number is on articles the model never saw, in any version. Each fold's held-out articles are summarized with k = number of
reference sentences, exactly like bench/summaries.py, and scored with ROUGE (stemmer on).
With --write the model is refit on all rows and saved to tasks/summarize/data/summarizer_weights.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.summaries import DEFAULT_DATA, load_rows  # noqa: E402

_WS = re.compile(r"\s+")


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip()


def build(rows):
    from tasks.summarize.algorithms import MAX_CANDIDATES, _prefilter, prepare, sentence_features

    docs = []
    for row in rows:
        doc = prepare(row["body"], row["title"])
        pool = _prefilter(doc, MAX_CANDIDATES)
        X = sentence_features(doc, pool)
        summary = _norm(row["summary"])
        y = [1 if _norm(doc.sentences[i]) in summary else 0 for i in pool]
        docs.append({"row": row, "doc": doc, "pool": pool, "X": X, "y": y})
    return docs


def near_copy_groups(docs, jaccard: float = 0.3, containment: float = 0.5) -> list[int]:
    """A group id per document: articles that are versions of one another (5-word shingles with Jaccard
    >= `jaccard` or containment >= `containment`, chained) share one, so cross-validation never trains
    on one version of an article and scores another. The BBC set holds re-edited copies of a story
    (8 such links among the dev articles, 100 among the 2,225 of the whole corpus)."""
    shingles = []
    for d in docs:
        words = re.findall(r"\w+", (d["row"]["title"] + " " + d["row"]["body"]).lower())
        shingles.append({tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4))})
    owner: dict = {}
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for n, sh in enumerate(shingles):
        shared: dict[int, int] = {}
        for g in sh:
            for m in owner.setdefault(g, []):
                shared[m] = shared.get(m, 0) + 1
            owner[g].append(n)
        for m, inter in shared.items():
            if (inter / len(sh | shingles[m]) >= jaccard
                    or inter / max(1, min(len(sh), len(shingles[m]))) >= containment):
                parent[find(n)] = find(m)
    return [find(n) for n in range(len(docs))]


def fit(docs, C: float):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.array([x for d in docs for x in d["X"]], dtype=float)
    y = np.array([v for d in docs for v in d["y"]])
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit((X - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def score_docs(docs, params, scorer):
    import numpy as np

    mean, scale, coef, intercept = params
    r1, r2, rl = [], [], []
    for d in docs:
        pool, k = d["pool"], d["row"]["k"]
        if k >= len(pool):
            chosen = list(pool)
        else:
            s = ((np.array(d["X"]) - mean) / scale) @ coef + intercept
            order = sorted(range(len(pool)), key=lambda j: (-s[j], pool[j]))
            chosen = sorted(pool[j] for j in order[:k])
        text = " ".join(d["doc"].sentences[i] for i in chosen)
        sc = scorer.score(d["row"]["reference"], text)
        r1.append(sc["rouge1"].fmeasure)
        r2.append(sc["rouge2"].fmeasure)
        rl.append(sc["rougeL"].fmeasure)
    return statistics.fmean(r1), statistics.fmean(r2), statistics.fmean(rl)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--write", action="store_true", help="refit on all rows and write the weights JSON")
    args = ap.parse_args(argv)

    import numpy as np
    from rouge_score import rouge_scorer
    from sklearn.model_selection import GroupKFold

    from tasks.summarize.algorithms import FEATURE_NAMES, WEIGHTS_PATH

    rows = load_rows(args.data)
    docs = build(rows)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    n_pos = sum(sum(d["y"]) for d in docs)
    n_all = sum(len(d["y"]) for d in docs)
    print(f"{len(docs)} documents, {n_all} candidate sentences, {n_pos} in a reference summary")

    # TextRank alone (feature 0) as the in-script reference point
    tr_only = (np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)), np.eye(len(FEATURE_NAMES))[0], 0.0)
    print("TextRank alone (all docs)     R1 %.4f  R2 %.4f  RL %.4f" % score_docs(docs, tr_only, scorer))

    # folds by article, with the versions of one article (near copies) kept in one fold
    groups = near_copy_groups(docs)
    print(f"{len(docs) - len(set(groups))} documents share a fold with a near copy")
    kf = GroupKFold(n_splits=args.folds, shuffle=True, random_state=0)
    folds = []
    idx = np.arange(len(docs))
    for f, (tr, te) in enumerate(kf.split(idx, groups=groups)):
        params = fit([docs[i] for i in tr], args.C)
        res = score_docs([docs[i] for i in te], params, scorer)
        folds.append(res)
        print(f"fold {f}: held-out R1 {res[0]:.4f}  R2 {res[1]:.4f}  RL {res[2]:.4f}  ({len(te)} docs)")
    m = np.array(folds)
    print(
        "CV mean (held-out)            R1 %.4f  R2 %.4f ± %.4f  RL %.4f"
        % (m[:, 0].mean(), m[:, 1].mean(), m[:, 1].std(), m[:, 2].mean())
    )

    if args.write:
        mean, scale, coef, intercept = fit(docs, args.C)
        payload = {
            "model": "logistic regression over standardised features; score = intercept + sum(coef * (x - mean) / scale)",
            "trained_on": Path(args.data).name,
            "documents": len(docs),
            "cv_folds": args.folds,
            "cv_rouge2_f1": round(float(m[:, 1].mean()), 4),
            "C": args.C,
            "features": list(FEATURE_NAMES),
            "mean": [round(float(v), 6) for v in mean],
            "scale": [round(float(v), 6) for v in scale],
            "coef": [round(float(v), 6) for v in coef],
            "intercept": round(intercept, 6),
        }
        WEIGHTS_PATH.parent.mkdir(parents=True, exist_ok=True)
        WEIGHTS_PATH.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_PATH}")
        for name, c in sorted(zip(FEATURE_NAMES, coef), key=lambda t: -abs(t[1])):
            print(f"  {name:<14} {c:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
