"""bench/semeval_pairs.py: the held-out same-story pairs bench/stories.py reads (docs/benchmarks.md)."""

import csv
import importlib.util
import json
from pathlib import Path

spec = importlib.util.spec_from_file_location("semeval_pairs", Path(__file__).parents[1] / "bench" / "semeval_pairs.py")
semeval_pairs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(semeval_pairs)

FIELDS = ["pair_id", "lang1", "lang2", "text1", "text2", "Overall"]


def _text(i: int) -> str:
    return f"Headline {i}\n" + " ".join(f"word{i}x{k}" for k in range(40))


def test_pairs_are_labelled_by_the_overall_cut_and_leave_out_the_dev_articles(tmp_path):
    rows = [("1_2", "en", "en", _text(1), _text(2), "1.0"), ("3_4", "en", "en", _text(3), _text(4), "2.5"),
            ("5_6", "de", "de", _text(5), _text(6), "1.0"), ("7_8", "en", "en", _text(7), _text(8), "2.333"),
            ("9_10", "en", "en", _text(9), _text(10), "1.5")]
    source = tmp_path / "set.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        writer.writerows(rows)
    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"a": "  " + _text(9) + " ", "b": _text(99), "label": 1}) + "\n", encoding="utf-8")
    out = tmp_path / "pairs.jsonl"
    assert semeval_pairs.main([str(source), "--lang", "en", "--dev", str(dev), "-o", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(p["pair_id"], p["label"]) for p in got] == [("1_2", 1), ("3_4", 0), ("7_8", 1)]
    assert got[0]["a"] == _text(1) and got[0]["b"] == _text(2)


def test_a_story_tied_only_by_two_scrapes_of_one_article_is_marked_as_copies_and_a_template_is_not():
    stories_spec = importlib.util.spec_from_file_location("bench_stories",
                                                          Path(__file__).parents[1] / "bench" / "stories.py")
    bench_stories = importlib.util.module_from_spec(stories_spec)
    stories_spec.loader.exec_module(bench_stories)
    body = " ".join(f"word{k}" for k in range(60))
    text_of = {"a1": "Raupe isst Plastik " + body, "b1": _text(1),
               "a2": "Raupe ist Plastik " + body.replace("word30", "wort30"), "b2": _text(2),
               "c": _text(3)}
    assert bench_stories.copies_only([["a1", "b1"], ["a2", "b2"]], text_of)
    assert not bench_stories.copies_only([["a1", "b1"], ["a2", "b2"], ["c"]], text_of)
    assert not bench_stories.copies_only([["b1"], ["b2"]], text_of)
    # two companies' notes from one template: the same words, another headline
    text_of["t1"] = "Does Great Atlantic Resources Corp. (CVE:GR) Have A Particularly Volatile Share Price? " + body
    text_of["t2"] = "Does Hurco Companies, Inc. (NASDAQ:HURC) Have A Particularly Volatile Share Price? " + body
    assert not bench_stories.copies_only([["t1"], ["t2"]], text_of)
