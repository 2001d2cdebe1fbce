"""Bulk label QA: verdicts on same-label batches, their analysis, per-class thresholds, reports.

See ``docs/bulk-qa.md``. The pure parts (records, analysis, thresholds) import nothing heavy;
reports import matplotlib and jinja2 when called; the job imports the labeling parts.

    >>> from gtflow.qa import Verdict, analyse, recommend
    >>> a = analyse([Verdict("s3://b/1.jpg", "cat", 97, 1, 0)])
    >>> recommend(a, cost_ratio=10, method="bucket-walk")["cat"].threshold
    80.0
"""

from gtflow.qa.analysis import Analysis, Buckets, CorrectRule, analyse
from gtflow.qa.records import Verdict, VerdictError, parse_verdicts, read_verdicts
from gtflow.qa.thresholds import (
    Threshold,
    bucket_walk,
    lower_bound,
    policy_document,
    recommend,
    thresholds_json,
    wilson_lower_bound,
)

__all__ = [
    "Analysis",
    "Buckets",
    "CorrectRule",
    "Threshold",
    "Verdict",
    "VerdictError",
    "analyse",
    "bucket_walk",
    "lower_bound",
    "parse_verdicts",
    "policy_document",
    "read_verdicts",
    "recommend",
    "thresholds_json",
    "wilson_lower_bound",
]
