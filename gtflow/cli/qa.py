"""``gtflow qa``: bulk label QA jobs, their verdicts, analysis, reports and per-class thresholds.

    gtflow qa report VERDICTS [--format terminal|markdown|csv|json] [--out FILE] [--html FILE]
    gtflow qa thresholds VERDICTS --cost-ratio R [--method lower-bound|bucket-walk] [--policy-out FILE]
    gtflow qa run --csv FILE --prefix s3://bucket/qa/ [--min-confidence 80] [--batch-size 25] [--workers N]
    gtflow qa export --prefix s3://bucket/qa/ --out verdicts.jsonl
    gtflow qa follow-up VERDICTS --prefix s3://bucket/qa/ --labels cat,dog,...

VERDICTS is a JSON Lines file as ``gtflow qa export`` writes it, or a CSV with the same
columns (image,label,confidence,confirmed,disconfirmed[,workers]); a local path or an
``s3://`` URI read through the backend's store.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from gtflow.cli import console, pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command"]


def _store_for(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    return open_backend(config).store


def _read(config: GtflowConfig, source: str) -> list[Any]:
    from gtflow.qa.records import read_verdicts

    return read_verdicts(source, store=_store_for(config) if source.startswith("s3://") else None)


def _write(config: GtflowConfig, dest: str, text: str, content_type: str) -> None:
    """Write ``text`` to a local path (atomically: temp file + rename) or an s3:// URI."""
    if dest == "-":
        click.echo(text, nl=False)
        return
    if dest.startswith("s3://"):
        _store_for(config).put_text(dest, text, content_type=content_type)
        return
    path = Path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_common = [
    click.option("--edges", default="80,85,90,95,100", show_default=True,
                 help="Confidence bucket edges (lower edge included; the top bucket includes both)."),
    click.option("--rule", type=click.Choice(["any", "majority", "unanimous"]), default="majority",
                 show_default=True, help="When several workers answered, which images count as correct."),
]


def _with_common(f: Any) -> Any:
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.group(name="qa")
def command() -> None:
    """Bulk label QA: verdicts, analysis, reports and per-class thresholds (docs/bulk-qa.md)."""


@command.command("report")
@click.argument("verdicts")
@_with_common
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown", "csv", "json"]), default="terminal",
              show_default=True, help="Table format.")
@click.option("--out", default=None, help="Write the table here instead of the terminal.")
@click.option("--html", "html_out", default=None, help="Also write a self-contained HTML report with plots.")
@click.option("--cost-ratio", type=float, default=None,
              help="Add both methods' thresholds to the HTML report (cost of a false positive : value of a true positive).")
@pass_config
def report_cmd(config: GtflowConfig, verdicts: str, edges: str, rule: str, fmt: str, out: str | None,
               html_out: str | None, cost_ratio: float | None) -> None:
    """Per class and confidence bucket: total, confirmed, disconfirmed, split, % correct."""
    from gtflow.qa import analyse, recommend
    from gtflow.qa import report as rp

    analysis = analyse(_read(config, verdicts), edges=edges, rule=rule)
    if fmt == "terminal" and out is None:
        rp.print_table(analysis, console())
    else:
        text = {"markdown": rp.to_markdown, "csv": rp.to_csv,
                "json": lambda a: json.dumps(a.to_dict(), indent=2) + "\n",
                "terminal": rp.to_markdown}[fmt](analysis)
        _write(config, out or "-", text, "text/plain")
    if html_out:
        ths = None
        if cost_ratio is not None:
            ths = {m: recommend(analysis, cost_ratio=cost_ratio, method=m) for m in ("lower-bound", "bucket-walk")}
        html = rp.to_html(analysis, thresholds=ths, cost_ratio=cost_ratio, source=verdicts)
        _write(config, html_out, html, "text/html")
        click.echo(f"wrote {html_out}", err=True)


@command.command("thresholds")
@click.argument("verdicts")
@click.option("--cost-ratio", type=float, required=True,
              help="Cost of auto-accepting a wrong label relative to the value of a right one (10 for 10:1).")
@click.option("--method", type=click.Choice(["lower-bound", "bucket-walk"]), default="lower-bound", show_default=True)
@_with_common
@click.option("--confidence-level", type=float, default=0.95, show_default=True,
              help="One-sided confidence of the Wilson lower bound (lower-bound method).")
@click.option("--policy-out", default=None, help="Write the routing policy file (per-class thresholds) here.")
@click.option("--scale", type=float, default=None,
              help="Divide thresholds by this for the policy file, whose scores are 0..1 "
                   "(default: 100 when the top bucket edge is above 1, else 1).")
@click.option("--default", "default_threshold", type=float, default=None,
              help="Policy threshold for classes not in the verdicts (policy scale; default 1.0, "
                   "i.e. route nearly every prediction of an unseen class).")
@click.option("--explain", is_flag=True, help="Print each class's evidence instead of the bare thresholds.")
@pass_config
def thresholds_cmd(config: GtflowConfig, verdicts: str, cost_ratio: float, method: str, edges: str, rule: str,
                   confidence_level: float, policy_out: str | None, scale: float | None,
                   default_threshold: float | None, explain: bool) -> None:
    """Recommend each class's threshold; prints JSON {class: threshold or null}."""
    from gtflow.qa import analyse, recommend, thresholds_json
    from gtflow.qa.thresholds import scaled_policy

    analysis = analyse(_read(config, verdicts), edges=edges, rule=rule)
    result = recommend(analysis, cost_ratio=cost_ratio, method=method, confidence=confidence_level)
    if explain:
        click.echo(json.dumps({k: t.to_dict() for k, t in result.items()}, indent=2))
    else:
        click.echo(json.dumps(thresholds_json(result), indent=2))
    if policy_out:
        doc = scaled_policy(result, top_edge=analysis.buckets.edges[-1], scale=scale, default=default_threshold)
        _write(config, policy_out, json.dumps(doc, indent=2) + "\n", "application/json")
        click.echo(f"wrote {policy_out}", err=True)




if __name__ == "__main__":  # pragma: no cover
    command()
