"""``gtflow qa``: bulk label QA jobs, their verdicts, analysis, reports and per-class thresholds.

    gtflow qa report VERDICTS [--format terminal|markdown|csv|json] [--out FILE] [--html FILE]
    gtflow qa thresholds VERDICTS --cost-ratio R [--method lower-bound|bucket-walk] [--json] [--policy-out FILE]
    gtflow qa run --csv FILE --prefix s3://bucket/qa/ [--min-confidence 80] [--batch-size 25] [--workers N]
    gtflow qa export --prefix s3://bucket/qa/ --out verdicts.jsonl
    gtflow qa follow-up VERDICTS --prefix s3://bucket/qa/ --labels cat,dog,...
    gtflow qa convert-sample MANIFEST --prefix s3://bucket/qa/    (AWS bulk-QA sample → gtflow batches)
    gtflow qa import-sample REQUESTS_PREFIX --job-name NAME      (a sample job's answers → verdicts)

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
    """The verdicts of ``source``. A bad record is left out and counted (and quarantined under
    ``--quarantine PREFIX``, else listed on stderr); the counts go to ``ctx.meta["gtflow.records"]``
    and, when a record was left out, to stderr. A file with no usable record is an error."""
    from gtflow.qa.records import VerdictError, read_verdicts

    ctx = click.get_current_context()
    encoding = ctx.meta.get("gtflow.encoding") or "utf-8-sig"
    bad: list[VerdictError] = []
    vs = read_verdicts(source, store=_store_for(config) if source.startswith("s3://") else None, encoding=encoding,
                       on_bad=bad.append)
    if bad and not vs:
        raise VerdictError(f"no usable record (all {len(bad)} are bad; the first: {bad[0]})", path=source)
    counts = {"read": len(vs) + len(bad), "used": len(vs), "quarantined": 0, "skipped": 0}
    prefix = ctx.meta.get("gtflow.quarantine")
    if bad and prefix:
        from gtflow.quarantine import Quarantine

        q = Quarantine(_store_for(config), prefix)
        for exc in bad:
            q.add(stage="qa-verdicts", source=f"{source}:{exc.line}", reason=str(exc),
                  record={"file": source, "line": exc.line})
        counts["quarantined"] = len(bad)
    elif bad:
        for exc in bad:
            click.echo(f"left out: {exc}", err=True)
        counts["skipped"] = len(bad)
    ctx.meta["gtflow.records"] = counts
    if bad:
        click.echo(f"{source}: {counts['read']} records read, {counts['used']} used, {counts['quarantined']} "
                   f"quarantined, {counts['skipped']} left out", err=True)
    return vs


def _set_encoding(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise click.BadParameter(f"unknown encoding {value!r}") from None
        ctx.meta["gtflow.encoding"] = value


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
    click.option("--encoding", default=None, expose_value=False, callback=_set_encoding, is_eager=True,
                 help="Text encoding of the verdicts file (default UTF-8; e.g. shift_jis, cp932 for "
                      "Japanese Excel CSVs)."),
    click.option("--quarantine", default=None, expose_value=False, metavar="S3PREFIX",
                 callback=lambda ctx, p, v: ctx.meta.__setitem__("gtflow.quarantine", v),
                 help="Quarantine bad verdict records under this prefix (gtflow quarantine list --prefix); "
                      "without it they are listed on stderr. Either way they are left out and counted."),
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
              show_default=True, help="Table format (terminal with --out writes Markdown).")
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
                "json": lambda a: json.dumps({**a.to_dict(), "records": click.get_current_context().meta[
                    "gtflow.records"]}, indent=2) + "\n",
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
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON {class: {threshold, accepted, correct, seen, needed, reason, ...}}.")
@click.option("--explain", "as_json", is_flag=True, hidden=True)
@pass_config
def thresholds_cmd(config: GtflowConfig, verdicts: str, cost_ratio: float, method: str, edges: str, rule: str,
                   confidence_level: float, policy_out: str | None, scale: float | None,
                   default_threshold: float | None, as_json: bool) -> None:
    """Recommend each class's threshold, and say why a class has none (verdicts seen, verdicts needed)."""
    from gtflow.qa import analyse, recommend
    from gtflow.qa.thresholds import scaled_policy

    analysis = analyse(_read(config, verdicts), edges=edges, rule=rule)
    result = recommend(analysis, cost_ratio=cost_ratio, method=method, confidence=confidence_level)
    if as_json:
        click.echo(json.dumps({k: t.to_dict() for k, t in result.items()}, indent=2))
    else:
        width = max((len(k) for k in result), default=0)
        for label, t in result.items():
            click.echo(f"{label:<{width}}  {t.explain()}")
    if policy_out:
        doc = scaled_policy(result, top_edge=analysis.buckets.edges[-1], scale=scale, default=default_threshold)
        _write(config, policy_out, json.dumps(doc, indent=2) + "\n", "application/json")
        click.echo(f"wrote {policy_out}", err=True)





# -- the job ----------------------------------------------------------------------------------
def _truth_judge(truth_file: str | None, error_rate: float) -> Any:
    """A simulated worker's eye: the true label of each image from a CSV ``image,label``
    (missing: every box stays checked), wrong on a fixed ``error_rate`` share of boxes."""
    import csv
    import hashlib

    truth: dict[str, str] = {}
    if truth_file:
        with open(truth_file, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                truth[row["image"]] = row["label"]

    def judge(worker: str, image: str, label: str, confidence: float | None) -> bool:
        right = truth.get(image, label) == label
        draw = int.from_bytes(hashlib.sha256(f"{worker}\0{image}".encode()).digest()[:4], "big") / 2**32
        return right if draw >= error_rate else not right

    return judge


@command.command("run")
@click.option("--csv", "csv_path", required=True, help="Predictions CSV image,label,confidence (path or s3:// URI).")
@click.option("--prefix", required=True, help="s3:// prefix for the batches, manifest and job output.")
@click.option("--min-confidence", type=float, default=80.0, show_default=True, help="Drop rows below this confidence.")
@click.option("--batch-size", type=int, default=25, show_default=True, help="Images per page (same label).")
@click.option("--workers", type=int, default=1, show_default=True, help="Workers per batch.")
@click.option("--job-name", default=None, help="Labeling job name (default: from the prefix).")
@click.option("--image-prefix", default=None, help="Joined to CSV image names that are not s3:// URIs.")
@click.option("--header", default=None, help="A line shown above every page.")
@click.option("--show-confidence", is_flag=True,
              help="Show workers the model's confidence (off by default: it anchors their verdicts).")
@click.option("--simulate-workers", type=int, default=0, help="Local: let K simulated workers answer.")
@click.option("--truth", default=None, help="Local simulation: CSV image,label of the true labels.")
@click.option("--worker-error", type=float, default=0.0, help="Local simulation: share of boxes a simulated worker gets wrong.")
@click.option("--role-arn", default=None, help="AWS: the job's IAM role.")
@click.option("--workteam-arn", default=None, help="AWS: the private workteam.")
@click.option("--pre-lambda-arn", default=None, help="AWS: the bulk-qa pre-annotation Lambda.")
@click.option("--post-lambda-arn", default=None, help="AWS: the bulk-qa-verdicts post-annotation Lambda.")
@click.option("--dry-run", is_flag=True, help="AWS: print the CreateLabelingJob request instead of sending it.")
@click.option("--encoding", default=None, expose_value=False, callback=_set_encoding, is_eager=True,
              help="Text encoding of the CSV (default UTF-8; shift_jis or cp932 for Japanese Excel).")
@pass_config
def run_cmd(config: GtflowConfig, csv_path: str, prefix: str, min_confidence: float, batch_size: int,
            workers: int, job_name: str | None, image_prefix: str | None, header: str | None,
            show_confidence: bool, simulate_workers: int, truth: str | None, worker_error: float, role_arn: str | None,
            workteam_arn: str | None, pre_lambda_arn: str | None, post_lambda_arn: str | None,
            dry_run: bool) -> None:
    """Build same-label batches from a CSV and run the bulk QA labeling job."""
    from gtflow.backends import open_backend
    from gtflow.qa import job as qj

    spec = qj.BulkQaSpec(csv=csv_path, prefix=prefix, min_confidence=min_confidence, batch_size=batch_size,
                         workers=workers, job_name=job_name, image_prefix=image_prefix, header=header,
                         show_confidence=show_confidence,
                         encoding=click.get_current_context().meta.get("gtflow.encoding") or "utf-8-sig")
    backend = open_backend(config)
    if backend.supports("aws_clients"):
        missing = [n for n, v in (("--role-arn", role_arn), ("--workteam-arn", workteam_arn),
                                  ("--pre-lambda-arn", pre_lambda_arn), ("--post-lambda-arn", post_lambda_arn)) if not v]
        if missing:
            raise UsageError(f"the aws backend needs {', '.join(missing)}")
        result = qj.start_aws(spec, backend, role_arn=role_arn or "", workteam_arn=workteam_arn or "",
                              pre_lambda_arn=pre_lambda_arn or "", post_lambda_arn=post_lambda_arn or "",
                              dry_run=dry_run)
        click.echo(json.dumps(result, indent=2, default=str))
        return
    rows = qj.RowCounts()
    job = qj.start_local(spec, backend.store, rows=rows)
    if rows.quarantined:
        click.echo(f"{rows.quarantined} bad CSV rows quarantined (gtflow quarantine list --prefix {spec.root})",
                   err=True)
    if simulate_workers:
        judge = _truth_judge(truth, worker_error)
        from gtflow.portal import create_app

        # through the portal's HTTP endpoints (in process), the path a person's answers take; the
        # simulated workers are this job's own, so a concurrent run of another job signing its
        # workers in (a new token each) never ends this run's sessions
        n = qj.simulate_workers(job, [f"{spec.name}.sim-{i + 1}" for i in range(simulate_workers)], judge,
                                portal=create_app(backend.store, job.queue))
        click.echo(f"simulated workers submitted {n} answers", err=True)
    status = job.status()
    click.echo(json.dumps({"job": spec.name, "queue": job.queue_name, "manifest": spec.manifest_uri,
                           "rows": rows.to_dict(), **status.to_dict()}, indent=2))
    if not status.complete:
        click.echo(f"{status.pending} batches wait for workers: gtflow portal add-worker NAME, then "
                   f"gtflow portal (queue {job.queue_name})", err=True)


@command.command("status")
@click.option("--prefix", default=None, help="The job's prefix (names the job).")
@click.option("--job-name", default=None, help="The job name.")
@pass_config
def status_cmd(config: GtflowConfig, prefix: str | None, job_name: str | None) -> None:
    """Where a local bulk QA job stands."""
    from gtflow.backends import open_backend
    from gtflow.labeling.local import LocalLabelingJob
    from gtflow.qa.job import job_name_for

    name = job_name or (job_name_for(prefix) if prefix else None)
    if not name:
        raise UsageError("give --prefix or --job-name")
    job = LocalLabelingJob.open(name, store=open_backend(config).store)
    click.echo(json.dumps(job.status().to_dict(), indent=2))


@command.command("export")
@click.option("--prefix", default=None, help="Only this job's verdicts (the job named from its prefix).")
@click.option("--job-name", default=None, help="Only this job's verdicts.")
@click.option("--all-jobs", is_flag=True, help="Every verdict in the table.")
@click.option("--out", default="-", show_default=True, help="Where to write (path, s3:// URI, or - for stdout).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--verdict-table", default=None, help="AWS: the DynamoDB verdict table (default gtflow-verdicts).")
@pass_config
def export_cmd(config: GtflowConfig, prefix: str | None, job_name: str | None, all_jobs: bool, out: str,
               fmt: str, verdict_table: str | None) -> None:
    """Write the verdict table as JSON Lines (one object per image, with each worker's answer)."""
    from gtflow.qa.job import export_verdicts, job_name_for, open_table
    from gtflow.qa.records import write_verdicts_csv, write_verdicts_jsonl

    name = job_name or (job_name_for(prefix) if prefix else None)
    if not name and not all_jobs:
        raise UsageError("give --prefix or --job-name (or --all-jobs)")
    from gtflow.backends import open_backend

    table = open_table(open_backend(config), table_name=verdict_table)
    vs = list(export_verdicts(table, job=None if all_jobs else name))
    text = write_verdicts_jsonl(vs) if fmt == "jsonl" else write_verdicts_csv(vs)
    _write(config, out, text, "application/x-ndjson" if fmt == "jsonl" else "text/csv")
    click.echo(f"{len(vs)} images exported", err=True)


@command.command("follow-up")
@click.argument("verdicts")
@click.option("--prefix", required=True, help="s3:// prefix for the follow-up manifest and job output.")
@click.option("--labels", required=True, help="Comma-separated classes the worker chooses from.")
@click.option("--rule", type=click.Choice(["any", "majority", "unanimous"]), default="majority", show_default=True,
              help="Images not correct under this rule are sent.")
@click.option("--workers", type=int, default=1, show_default=True, help="Workers per image.")
@click.option("--job-name", default=None, help="Labeling job name (default: from the prefix).")
@pass_config
def follow_up_cmd(config: GtflowConfig, verdicts: str, prefix: str, labels: str, rule: str, workers: int,
                  job_name: str | None) -> None:
    """Send rejected images to an image-classification job to get their right class."""
    from gtflow.backends import open_backend
    from gtflow.qa.follow_up import start_follow_up_local

    backend = open_backend(config)
    if not backend.supports("task_queue"):
        raise UsageError("follow-up starts a local job; on AWS write the manifest with "
                         "gtflow.qa.follow_up.follow_up_records and create a classification job")
    result = start_follow_up_local(_read(config, verdicts), store=backend.store, prefix=prefix,
                                   labels=[x.strip() for x in labels.split(",") if x.strip()], rule=rule,
                                   workers=workers, job_name=job_name)
    click.echo(json.dumps(result, indent=2))


# -- jobs from AWS's bulk-QA sample -----------------------------------------------------------
@command.command("convert-sample")
@click.argument("manifest")
@click.option("--prefix", required=True, help="s3:// prefix for gtflow's batch files and batches.manifest.")
@pass_config
def convert_sample_cmd(config: GtflowConfig, manifest: str, prefix: str) -> None:
    """Convert the AWS bulk-QA sample's manifest and batch files (arrays of s3_image_url, label,
    confidence) into gtflow batches, ready for a gtflow bulk-QA job."""
    from gtflow.qa.sample import convert_sample_batches

    click.echo(json.dumps(convert_sample_batches(_store_for(config), manifest, prefix), indent=2))


@command.command("import-sample")
@click.argument("requests_prefix")
@click.option("--job-name", required=True, help="The job the verdicts are kept under (qa export --job-name).")
@click.option("--label-attribute-name", default="bulk-qa", show_default=True)
@click.option("--verdict-table", default=None, help="AWS: the DynamoDB verdict table (default gtflow-verdicts).")
@pass_config
def import_sample_cmd(config: GtflowConfig, requests_prefix: str, job_name: str, label_attribute_name: str,
                      verdict_table: str | None) -> None:
    """Read an existing job's consolidation requests (the AWS bulk-QA sample's batches and
    <label>-<i> answers, or gtflow's) into the verdict table; rerunning adds nothing."""
    from gtflow.backends import open_backend
    from gtflow.qa.job import open_table
    from gtflow.qa.sample import import_sample_requests

    backend = open_backend(config)
    result = import_sample_requests(backend.store, requests_prefix, job_name=job_name,
                                    verdicts=open_table(backend, table_name=verdict_table),
                                    label_attribute_name=label_attribute_name)
    click.echo(json.dumps(result.to_dict(), indent=2))
    if result.failed:
        click.echo(f"{len(result.failed)} objects could not be consolidated (see 'failed')", err=True)


@command.command("import-sample-table")
@click.argument("export", required=False)
@click.option("--table", default=None, help="aws: scan this DynamoDB table (the sample's BulkQALabelTable).")
@click.option("--out", default="-", show_default=True, help="Verdict file to write (path, s3:// URI, or -).")
@pass_config
def import_sample_table_cmd(config: GtflowConfig, export: str | None, table: str | None, out: str) -> None:
    """The AWS bulk-QA sample's verdict table (s3_image_url, label, confidence, WorkerConfirmCount,
    WorkerDisconfirmCount), from an EXPORT file (JSON Lines / JSON / CSV) or a --table scan, as a
    gtflow verdict file for qa report and qa thresholds."""
    from gtflow.qa.records import write_verdicts_jsonl
    from gtflow.qa.sample import read_sample_table, scan_sample_table

    if bool(export) == bool(table):
        raise UsageError("give an EXPORT file or --table (one of them)")
    if table:
        from gtflow.backends import open_backend

        backend: Any = open_backend(config)
        if not backend.supports("aws_clients"):
            raise UsageError("--table scans DynamoDB: use --backend aws (or give an export file)")
        verdicts = scan_sample_table(backend.client("dynamodb"), table)
    else:
        verdicts = read_sample_table(export or "", store=_store_for(config) if (export or "").startswith("s3://") else None)
    _write(config, out, write_verdicts_jsonl(verdicts), "application/x-ndjson")
    click.echo(f"{len(verdicts)} images", err=True)


if __name__ == "__main__":  # pragma: no cover
    command()
