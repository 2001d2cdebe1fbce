"""Analysis of bulk QA verdicts on sets whose answer is known by hand."""

from __future__ import annotations

import json

import pytest

from gtflow.errors import UsageError
from gtflow.qa import Buckets, CorrectRule, Verdict, VerdictError, analyse, parse_verdicts
from gtflow.qa.records import write_verdicts_csv, write_verdicts_jsonl
from gtflow.qa.report import table_rows, to_csv, to_html, to_markdown

EDGES = [80, 85, 90, 95, 100]


def hand_set() -> list[Verdict]:
    return [
        Verdict("s3://b/c1.jpg", "cat", 96, 2, 0),  # confirmed
        Verdict("s3://b/c2.jpg", "cat", 97, 1, 1),  # split, tie
        Verdict("s3://b/c3.jpg", "cat", 100, 2, 1),  # split, majority confirms; 100 is in the top bucket
        Verdict("s3://b/c4.jpg", "cat", 95, 0, 2),  # disconfirmed; 95 opens the top bucket
        Verdict("s3://b/c5.jpg", "cat", 90, 1, 0),  # [90, 95)
        Verdict("s3://b/c6.jpg", "cat", 89.999, 0, 1),  # [85, 90)
        Verdict("s3://b/c7.jpg", "cat", 79.9, 1, 0),  # out of range
        Verdict("s3://b/c8.jpg", "cat", 88, 0, 0),  # unreviewed
        Verdict("s3://b/d1.jpg", "dog", 82, 1, 0),  # a class with one item
        Verdict("s3://b/b1.jpg", "bird", 99, 0, 0),  # a class with no reviewed item
    ]


@pytest.mark.parametrize(("rule", "top_correct"), [("any", 3), ("majority", 2), ("unanimous", 1)])
def test_counts_per_bucket_by_rule(rule: str, top_correct: int) -> None:
    a = analyse(hand_set(), edges=EDGES, rule=rule)
    assert list(a.classes) == ["bird", "cat", "dog"]
    cat = a.classes["cat"]
    low, mid, high, top = cat.buckets
    assert [b.range_label for b in cat.buckets] == ["[80, 85)", "[85, 90)", "[90, 95)", "[95, 100]"]
    assert (top.total, top.confirmed, top.disconfirmed, top.split, top.correct) == (4, 1, 1, 2, top_correct)
    assert (high.total, high.correct) == (1, 1)
    assert (mid.total, mid.disconfirmed, mid.correct) == (1, 1, 0)
    assert (low.total, low.accuracy, low.mean_confidence) == (0, None, None)  # empty bucket
    assert cat.summary.total == 6
    assert cat.summary.correct == top_correct + 1
    assert (cat.unreviewed, cat.out_of_range) == (1, 1)
    dog = a.classes["dog"]
    assert [b.total for b in dog.buckets] == [1, 0, 0, 0]
    assert dog.summary.accuracy == 1.0
    bird = a.classes["bird"]
    assert bird.summary.total == 0 and bird.unreviewed == 1 and bird.summary.accuracy is None
    assert a.summary.total == 7
    assert [b.total for b in a.overall] == [1, 1, 1, 4]
    # class average: mean of the class accuracies (bird has none)
    assert a.macro_accuracy == pytest.approx(((top_correct + 1) / 6 + 1.0) / 2)
    assert (a.unreviewed, a.out_of_range) == (2, 1)


def test_rules_on_ties_and_single_worker() -> None:
    assert CorrectRule.ANY.is_correct(1, 1)
    assert not CorrectRule.MAJORITY.is_correct(1, 1)  # ties count against the label
    assert CorrectRule.MAJORITY.is_correct(2, 1)
    assert not CorrectRule.UNANIMOUS.is_correct(2, 1)
    for rule in CorrectRule:  # one worker: the rules agree
        assert rule.is_correct(1, 0) and not rule.is_correct(0, 1)
    with pytest.raises(UsageError):
        CorrectRule.ANY.is_correct(0, 0)
    with pytest.raises(UsageError):
        CorrectRule.parse("most")


def test_bucket_edges() -> None:
    b = Buckets.parse("0.8, 0.9, 1")
    assert b.edges == (0.8, 0.9, 1.0)
    assert [b.index(x) for x in (0.79, 0.8, 0.8999, 0.9, 1.0, 1.01)] == [None, 0, 0, 1, 1, None]
    assert b.label(0) == "[0.8, 0.9)" and b.label(1) == "[0.9, 1]"
    for bad in ("90,80", "80", "80,80,90", "a,b"):
        with pytest.raises(UsageError):
            Buckets.parse(bad)


def test_duplicate_records_are_summed() -> None:
    a = analyse([Verdict("x", "cat", 91, 1, 0, {"w1": True}), Verdict("x", "cat", 91, 0, 1, {"w2": False})],
                edges=EDGES, rule="unanimous")
    top = a.classes["cat"].buckets[2]
    assert (top.total, top.split, top.correct) == (1, 1, 0)


def test_jsonl_and_csv_round_trip_and_errors() -> None:
    vs = hand_set()
    vs[0] = Verdict(vs[0].image, "cat", 96, 2, 0, {"w1": True, "w2": True})
    back = list(parse_verdicts(write_verdicts_jsonl(vs), name="v.jsonl"))
    assert back == vs and back[0].workers == {"w1": True, "w2": True}
    back_csv = list(parse_verdicts(write_verdicts_csv(vs), name="v.csv"))
    assert back_csv == vs and back_csv[0].workers == {"w1": True, "w2": True}
    # a CSV with only the three prediction columns and counts given as text
    assert list(parse_verdicts("image,label,confidence,confirmed,disconfirmed\na,cat,91.5,2,\n"))[0] == Verdict("a", "cat", 91.5, 2, 0)
    # unknown keys are kept
    v = next(parse_verdicts(json.dumps({"image": "a", "label": "c", "confidence": 90, "batchId": "c-0001"})))
    assert v.extra == {"batchId": "c-0001"} and v.to_dict()["batchId"] == "c-0001"
    with pytest.raises(VerdictError) as e:
        list(parse_verdicts('{"image":"a","label":"c","confidence":90}\n{"image":"b","label":"c"}\n', name="v.jsonl"))
    assert str(e.value).startswith("v.jsonl:2: confidence")
    with pytest.raises(VerdictError) as e:
        list(parse_verdicts("image,label,confidence,confirmed\na,c,90,1\nb,c,91,-1\n", name="v.csv"))
    assert str(e.value).startswith("v.csv:3: confirmed")
    with pytest.raises(VerdictError) as e:
        list(parse_verdicts("{not json\n", name="v.jsonl"))
    assert "v.jsonl:1" in str(e.value)
    with pytest.raises(VerdictError):
        list(parse_verdicts('{"image":"a","label":"c","confidence":"NaN"}'))


def test_tables() -> None:
    a = analyse(hand_set(), edges=EDGES, rule="majority")
    rows = table_rows(a)
    assert rows[0][:3] == ["bird", "[80, 85)", "0"]
    cat_all = next(r for r in rows if r[:2] == ["cat", "all"])
    assert cat_all[2:8] == ["6", "2", "2", "2", "3", "50.0 %"]
    assert rows[-1][:3] == ["all", "all", "7"]
    md = to_markdown(a)
    assert "| cat | [95, 100] | 4 | 1 | 1 | 2 | 2 | 50.0 % | 97.0 |" in md
    csv_text = to_csv(a)
    assert 'cat,"[95, 100]",4,1,1,2,2,0.5,97.0' in csv_text


def test_html_report_escapes_class_names() -> None:
    vs = [Verdict("a", "<script>alert(1)</script>", 91, 1, 0), Verdict("b", 'x" onerror="y', 96, 0, 1)]
    html = to_html(analyse(vs))
    assert "<script>alert" not in html and 'x" onerror' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('src="data:image/png;base64,') == 3  # the overview and one per class
