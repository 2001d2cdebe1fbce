"""``gtflow lambda``: list, package, invoke and print IAM for the bundled GT handlers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gtflow.cli import console, pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command"]


_TOO_DEEP = "the event is nested too deeply (more levels than gtflow reads)"


def _parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option takes KEY=VALUE, not {pair!r}", field="--option")
        try:
            opts[key] = json.loads(raw)
        except ValueError:
            opts[key] = raw
    return opts


@click.group(name="lambda")
def command() -> None:
    """Ground Truth pre/post-annotation handlers: list, package, invoke, iam."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool) -> None:
    """The bundled handlers (pre: passthrough, bulk-qa, object-detection-review; post: ...)."""
    from gtflow.handlers import HANDLERS

    rows: list[dict[str, Any]] = [{"id": s.id, "kind": s.kind, "name": s.name, "handler": s.lambda_handler,
             "options": list(s.options), "summary": s.summary} for s in HANDLERS.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    t = Table("id", "Lambda handler", "options", "what it does")
    for r in rows:
        t.add_row(r["id"], r["handler"], ", ".join(r["options"]) or "-", r["summary"])
    console().print(t)


@command.command()
@click.argument("name")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Zip file to write.")
@click.option("--pyc/--no-pyc", default=False, show_default=True,
              help="Also ship compiled __pycache__ files (faster cold start; compiled by --python).")
@click.option("--runtime", default=None, metavar="python3.X",
              help="The Lambda runtime the .pyc files are for; must match --python's version.")
@click.option("--python", "python", default=sys.executable, show_default="this interpreter",
              help="Interpreter that traces imports and compiles the .pyc files (the target runtime's version).")
def package(name: str, output: str, pyc: bool, runtime: str | None, python: str) -> None:
    """Build the deployment zip of handler NAME (only the modules it imports)."""
    from gtflow.handlers.packaging import package_handler

    result = package_handler(name, output, pyc=pyc, runtime=runtime, python=python)
    click.echo(f"wrote {result.path}: {result.size:,} bytes, {len(result.files)} files; "
               f"Lambda handler setting: {result.handler}")


@command.command()
@click.argument("name")
@click.option("--event", "event_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A recorded GT event (JSON).")
@click.option("--store", "store_dir", type=click.Path(file_okay=False),
              help="Resolve s3:// URIs under this local folder (default: the configured backend's store).")
@click.option("--option", "options", multiple=True, help="Handler option KEY=VALUE (VALUE may be JSON).")
@click.option("--kind", type=click.Choice(["pre", "post"]), default=None, help="Disambiguate NAME.")
@pass_config
def invoke(config: GtflowConfig, name: str, event_path: str, store_dir: str | None,
           options: tuple[str, ...], kind: str | None) -> None:
    """Run handler NAME on a recorded event and print the response (the offline test harness)."""
    from gtflow.handlers import invoke as run_handler

    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"not valid JSON: {exc}", path=event_path) from exc
    except RecursionError:
        raise UsageError(_TOO_DEEP, path=event_path) from None
    if store_dir is not None:
        from gtflow.store import LocalStore

        store: Any = LocalStore(store_dir)
    else:
        from gtflow.backends import open_backend

        store = open_backend(config).store
    try:
        result = run_handler(name, event, store=store, options=_parse_options(options), kind=kind)
        text = json.dumps(result, indent=2, ensure_ascii=False)
    except RecursionError:  # parsed, but too deep for the handler or its response
        raise UsageError(_TOO_DEEP, path=event_path) from None
    click.echo(text)


@command.command()
@click.argument("name")
@click.option("--read-arn", "read_arns", multiple=True,
              help="S3 object ARN(s) the handler may read (default: a placeholder).")
@click.option("--account", default="<account-id>")
@click.option("--function-name", default="<function-name>")
@click.option("--verdict-table", default="gtflow-verdicts")
@pass_config
def iam(config: GtflowConfig, name: str, read_arns: tuple[str, ...], account: str, function_name: str,
        verdict_table: str) -> None:
    """Print the least-privilege policy for handler NAME's execution role."""
    from gtflow.handlers import get_handler, iam_statements

    kwargs: dict[str, Any] = {"region": config.region, "account": account, "function_name": function_name,
                              "verdict_table": verdict_table}
    if read_arns:
        kwargs["read_arns"] = tuple(read_arns)
    click.echo(json.dumps(iam_statements(get_handler(name), **kwargs), indent=2))
