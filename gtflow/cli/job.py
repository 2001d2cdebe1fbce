"""``gtflow job``: run a Ground Truth custom labeling job locally (and see where it stands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gtflow.cli import console, pass_config
from gtflow.cli.lambda_ import _parse_options
from gtflow.config import GtflowConfig
from gtflow.errors import TemplateError

__all__ = ["command"]


def _backend(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    backend = open_backend(config)
    backend.require("task_queue", "gtflow job (local labeling jobs; on AWS use gtflow.labeling.aws)")
    return backend


def _template(value: str) -> str:
    p = Path(value)
    if p.is_file():
        return p.read_text(encoding="utf-8")
    from gtflow.ui.bundled import load_bundled

    return load_bundled(value)


def _show(status: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(status.to_dict(), indent=2))
        return
    s = status
    console().print(
        f"[bold]{s.name}[/bold]: {s.objects} objects, {s.queued} queued, {s.skipped} skipped, "
        f"{s.failed_pre} failed before labeling; {s.pending} tasks pending, {s.answers} answers\n"
        + (f"output: {s.output_manifest} ({s.labeled} labeled, {s.failed} failed)" if s.complete
           else "not complete: answer the tasks in the portal (gtflow portal), then gtflow job run again"),
        highlight=False,
    )


@click.group(name="job")
def command() -> None:
    """Local Ground Truth labeling jobs."""


@command.command()
@click.option("--name", required=True, help="LabelingJobName (letters, digits, hyphens).")
@click.option("--manifest", required=True, help="Input manifest s3:// URI in the local store.")
@click.option("--output", "output_path", required=True, help="S3OutputPath (s3:// URI in the local store).")
@click.option("--template", required=True, help="Template file or bundled template name (bulk-qa, ...).")
@click.option("--pre", "pre_handler", default="pre/passthrough", show_default=True,
              help="Pre-annotation handler: bundled id or module:function.")
@click.option("--post", "post_handler", default="post/passthrough", show_default=True,
              help="Post-annotation handler: bundled id or module:function.")
@click.option("--label-attribute", default=None, help="LabelAttributeName (default: the job name).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 9), help="Workers per object.")
@click.option("--categories", default=None, help="Label categories, comma-separated (labelCategories).")
@click.option("--title", default="", help="Task title shown to workers.")
@click.option("--pre-option", multiple=True, help="Pre handler option KEY=VALUE.")
@click.option("--post-option", multiple=True, help="Post handler option KEY=VALUE.")
@click.option("--expire", is_flag=True, help="Close pending tasks now with the answers they have, then consolidate.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def run(config: GtflowConfig, name: str, manifest: str, output_path: str, template: str, pre_handler: str,
        post_handler: str, label_attribute: str | None, workers: int, categories: str | None, title: str,
        pre_option: tuple[str, ...], post_option: tuple[str, ...], expire: bool, as_json: bool) -> None:
    """Start (or resume) a local labeling job; consolidates once every task is answered."""
    from gtflow.handlers import HANDLERS, get_handler
    from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob

    def ref(v: str, kind: str) -> str:
        return v if ":" in v or v in HANDLERS else get_handler(v, kind).id

    spec = LocalJobSpec(
        name=name, input_manifest=manifest, output_path=output_path, template=_template(template),
        pre_handler=ref(pre_handler, "pre"), post_handler=ref(post_handler, "post"),
        label_attribute_name=label_attribute, workers_per_object=workers,
        label_categories=tuple(c.strip() for c in categories.split(",")) if categories else None,
        pre_options=_parse_options(pre_option), post_options=_parse_options(post_option), title=title,
    )
    b = _backend(config)
    job = LocalLabelingJob(spec, store=b.store, queue=b.task_queue, verdicts=b.verdicts)
    try:
        status = job.start()
    except TemplateError as exc:  # e.g. an element the local portal cannot run
        raise exc.at(path=template) from None
    if expire or (not status.complete and status.pending == 0):
        status = job.finish(expire=expire)
    _show(status, as_json)


@command.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def status(config: GtflowConfig, name: str, as_json: bool) -> None:
    """Where local labeling job NAME stands."""
    from gtflow.labeling.local import LocalLabelingJob

    b = _backend(config)
    _show(LocalLabelingJob.open(name, store=b.store, queue=b.task_queue).status(), as_json)
