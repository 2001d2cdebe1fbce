"""``gtflow payload check FILE``: which GT/A2I payload a file is, whether it is valid, and
whether gtflow writes it back as it came (see :mod:`gtflow.payload_check`).

Exit codes: 0 valid and faithfully round-tripped, 1 otherwise, 2 usage errors.
"""

from __future__ import annotations

import json

import click

from gtflow.cli import pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command"]


@click.group("payload")
def command() -> None:
    """Check GT/A2I payloads: manifests, Lambda events, consolidation files, A2I outputs, ..."""


def _kinds() -> list[str]:
    from gtflow.payload_check import KINDS

    return ["auto", *KINDS]


@command.command("check")
@click.argument("path")
@click.option("--kind", default="auto", show_default=True, metavar="NAME",
              help="The payload kind (auto: detect it). One of: " + ", ".join(_kinds()) + ".")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_config
def check(config: GtflowConfig, path: str, kind: str, as_json: bool) -> None:
    """Name the payload in PATH (a file or s3:// URI), validate it through gtflow's wire types,
    write it back and report any difference from the input."""
    from gtflow.cli.manifest import store_for
    from gtflow.payload_check import check_text

    if kind not in _kinds():
        raise UsageError(f"unknown kind {kind!r}; known: {', '.join(_kinds())}", field="--kind")
    store = store_for(config, path)
    if store is not None:
        text = store.get_text(path)
    else:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError as exc:
            raise UsageError(f"no such file: {path}") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: not UTF-8 text") from exc
    report = check_text(text, kind, path=path)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print(report)
    raise SystemExit(0 if report.faithful else 1)


def _print(report: object) -> None:
    from gtflow.payload_check import PayloadReport

    assert isinstance(report, PayloadReport)
    for text in report.format_lines():
        click.echo(text)
    for item in report.items:
        where = f"{report.path}:{item.line}" if item.line is not None else report.path
        labels = ", ".join(f"{a.attribute} ({a.task_type.value})" for a in item.labels)
        if labels:
            click.echo(f"{where}: labels: {labels}")
        for note in item.notes:
            click.echo(f"{where}: note: {note}")
    verdict = "valid" if report.valid else "INVALID"
    trip = "written back unchanged" if report.faithful else ("written back with differences" if report.valid else "not written back")
    n = len(report.items)
    click.echo(f"{report.path}: {report.kind}" + (f", {n} line{'' if n == 1 else 's'}" if report.kind == "manifest" else "") + f": {verdict}, {trip}")
