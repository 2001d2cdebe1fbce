"""``gtflow template``: check, render and preview worker task templates.

    gtflow template check PATH... [--input SAMPLE.json]
    gtflow template render PATH --input SAMPLE.json [-o OUT.html] [--preview] [--strict]
    gtflow template list

``check`` prints ``PATH:LINE: message`` per problem and exits 0 when clean (warnings allowed),
1 with problems, 2 on usage errors. Without ``--input``, a sibling ``<name>.sample.json`` of
``<name>.liquid.html`` is used when it exists. ``render`` presigns ``grant_read_access`` URLs
with the configured backend's store (portal URLs signed with a token on the local backend,
S3 presigned URLs on AWS); ``--no-presign`` leaves the ``s3://`` URIs as they are.
A bundled template can be named as ``bundled:<name>``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gtflow.cli import pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

_BUNDLED = "bundled:"


def _read_source(spec: str) -> tuple[str, str]:
    """(display path, source) for a file path or ``bundled:<name>``."""
    from gtflow.ui import load_bundled

    if spec.startswith(_BUNDLED):
        return spec, load_bundled(spec[len(_BUNDLED):])
    path = Path(spec)
    try:
        return spec, path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"no such template file: {spec}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {spec}: {exc}") from exc


def _read_input(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the input {path}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path}: the input is not JSON: {exc}") from exc
    except RecursionError:
        raise UsageError(f"{path}: the input is nested too deeply (more levels than gtflow reads)") from None


def _sibling_sample(spec: str) -> Any | None:
    from gtflow.ui import load_bundled_sample

    if spec.startswith(_BUNDLED):
        return load_bundled_sample(spec[len(_BUNDLED):])
    path = Path(spec)
    name = path.name
    for suffix in (".liquid.html", ".html", ".liquid"):
        if name.endswith(suffix):
            sample = path.with_name(name[: -len(suffix)] + ".sample.json")
            if sample.is_file():
                return _read_input(str(sample))
            break
    return None


class _Unsigned:
    """``--no-presign``: grant_read_access leaves URIs as they are."""

    def presign(self, uri: str, expires_in: int = 900) -> str:
        return uri


@click.group("template")
def command() -> None:
    """Check, render and preview worker task templates (Liquid + Crowd HTML Elements)."""


@command.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Sample task.input (JSON file) for the render-time checks.")
def check_cmd(paths: tuple[str, ...], input_path: str | None) -> None:
    """Check templates; print PATH:LINE: message per problem (exit 1 if any error)."""
    from gtflow.ui import check_template

    task_input = _read_input(input_path) if input_path else None
    failed = False
    for spec in paths:
        display, source = _read_source(spec)
        sample = task_input if task_input is not None else _sibling_sample(spec)
        problems = check_template(source, path=display, task_input=sample)
        for p in problems:
            click.echo(str(p))
        failed = failed or any(p.severity == "error" for p in problems)
    sys.exit(1 if failed else 0)


@command.command("render")
@click.argument("path")
@click.option("--input", "input_path", type=click.Path(dir_okay=False), required=True, help="task.input as a JSON file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the HTML here (default: stdout).")
@click.option("--preview", is_flag=True, help="Wrap the page so that it opens in a browser with the local Crowd elements.")
@click.option("--strict", is_flag=True, help="Undefined variables are errors.")
@click.option("--no-presign", is_flag=True, help="Leave s3:// URIs as they are instead of asking the store for URLs.")
@pass_config
def render_cmd(
    config: GtflowConfig,
    path: str,
    input_path: str,
    output: str | None,
    preview: bool,
    strict: bool,
    no_presign: bool,
) -> None:
    """Render a template with task.input = the JSON in --input."""
    from gtflow.ui import compile_template, preview_page

    display, source = _read_source(path)
    task_input = _read_input(input_path)
    store: Any
    if no_presign:
        store = _Unsigned()
    else:
        from gtflow.backends import open_backend

        store = open_backend(config).store
    try:
        html = compile_template(source, strict=strict, name=display).render(task_input, store=store)
    except RecursionError:  # parsed, but too deep to render
        raise UsageError(f"{input_path}: the input is nested too deeply to render") from None
    if preview:
        html = preview_page(html, title=display)
    if output:
        Path(output).write_text(html, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(html, nl=False)


@command.command("list")
def list_cmd() -> None:
    """List the bundled templates (use them as bundled:<name>)."""
    from gtflow.ui import bundled_templates

    for name in bundled_templates():
        click.echo(name)
