"""``gtflow manifest``: validate, build and count manifests.

    gtflow manifest validate PATH [--labels] [--task object-detection --label-attribute NAME
                                   --num-classes N --empty error|warn|drop --label-width N] [--json]
    gtflow manifest build from-prefix|from-texts|from-csv|batches ...
    gtflow manifest stats PATH [--json]

PATH and outputs are local files or ``s3://`` URIs (read and written through the configured
backend's store). ``validate`` exits 0 when the manifest is valid, 1 when it is not (one
``PATH:LINE: field: message`` line per problem on stdout), 2 on usage errors. To add a
builder, decorate a function with ``@build.command("from-x")`` in this module.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from gtflow.cli import err_console, pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import ManifestError
from gtflow.store.base import ObjectStore

__all__ = ["command", "build", "store_for"]


def store_for(config: GtflowConfig, *locations: str | None) -> ObjectStore | None:
    """The backend's store when any location is an ``s3://`` URI (None for local files only,
    so validating a local file never creates a store root)."""
    if any(loc is not None and loc.startswith("s3://") for loc in locations):
        from gtflow.backends import open_backend

        return open_backend(config).store
    return None


@contextmanager
def _progress(path: str, what: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A transient progress display on stderr (only on a terminal, so --json stays clean)."""
    console = err_console()
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    size = os.path.getsize(path) if not path.startswith("s3://") and os.path.isfile(path) else None
    with Progress(
        TextColumn(f"{what} [bold]{{task.fields[lines]:,}}[/] lines"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=size, lines=0)

        def update(lines: int, done: int | None = None) -> None:
            if done is None:
                bar.update(task, lines=lines)
            else:
                bar.update(task, lines=lines, completed=done)

        yield update


def _out_stream(dest: str) -> Any:
    return sys.stdout.buffer if dest == "-" else dest


def _wrote(count: int, dest: str, what: str = "lines") -> None:
    if dest != "-":
        err_console().print(f"wrote {count:,} {what} to {dest}", highlight=False, soft_wrap=True)


@click.group("manifest")
def command() -> None:
    """Validate, build and count manifests (JSON Lines with Ground Truth's limits)."""


# -- validate --------------------------------------------------------------------------------
@command.command("validate")
@click.argument("path")
@click.option("--task", type=click.Choice(["object-detection"]), default=None, help="Also lint for this training task.")
@click.option("--label-attribute", default=None, metavar="NAME", help="The label attribute (inferred when there is one).")
@click.option("--num-classes", type=click.IntRange(min=1), default=None, help="class_id must be below this.")
@click.option(
    "--empty",
    "empty_policy",
    type=click.Choice(["error", "warn", "drop"]),
    default="warn",
    show_default=True,
    help="Images with no boxes: an error, a warning, or dropped (see --output).",
)
@click.option("--label-width", type=click.IntRange(min=7), default=None, help="Check 2 + 5 x max boxes fits.")
@click.option("--output", "-o", default=None, metavar="DEST", help="With --empty drop: write a cleaned copy here.")
@click.option("--max-problems", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--labels", is_flag=True, help="Also parse every label through its wire type (as gtflow payload check does).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_config
def validate(
    config: GtflowConfig,
    path: str,
    task: str | None,
    label_attribute: str | None,
    num_classes: int | None,
    empty_policy: str,
    label_width: int | None,
    output: str | None,
    max_problems: int,
    labels: bool,
    as_json: bool,
) -> None:
    """Check every line of PATH; exit 1 if any problem is an error."""
    from gtflow.manifest import validate_manifest

    if task is None and (label_attribute or num_classes or label_width or empty_policy != "warn"):
        raise click.UsageError("--label-attribute, --num-classes, --empty and --label-width need --task")
    if output is not None and empty_policy != "drop":
        raise click.UsageError("--output writes the cleaned copy of --empty drop")
    store = store_for(config, path, output)
    with _progress(path, "validating") as progress:
        report = validate_manifest(
            path,
            store=store,
            task=task,
            label_attribute=label_attribute,
            num_classes=num_classes,
            empty_policy=empty_policy,  # type: ignore[arg-type]
            label_width=label_width,
            cleaned=output,
            max_problems=max_problems,
            progress=progress,
            labels=labels,
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for text in report.format_lines():
            click.echo(text)
    _summary(report)
    click.get_current_context().exit(0 if report.valid else 1)


def _summary(report: Any) -> None:
    console = err_console()
    mark = "[green]valid[/]" if report.valid else "[red]invalid[/]"
    extra = f" ({len(report.problems):,} shown)" if report.truncated else ""
    console.print(
        f"{report.path}: {mark}: {report.lines:,} lines, {report.error_count:,} errors, "
        f"{report.warning_count:,} warnings{extra}",
        highlight=False,
        soft_wrap=True,
    )
    if report.task == "object-detection" and report.lines:
        console.print(
            f"  {report.boxes:,} boxes, at most {report.max_boxes} per image "
            f"(label_width >= {report.min_label_width}), {report.images_without_boxes:,} images "
            f"without boxes, {report.dropped:,} dropped"
            + (f", num_classes >= {report.min_num_classes}" if report.min_num_classes else ""),
            highlight=False,
            soft_wrap=True,
        )
    if report.cleaned_path:
        console.print(f"  cleaned copy written to {report.cleaned_path}", highlight=False, soft_wrap=True)


# -- build -----------------------------------------------------------------------------------
@command.group("build")
def build() -> None:
    """Write input manifests (to stdout unless --output names a file or s3:// URI)."""


_output = click.option("--output", "-o", default="-", show_default=True, metavar="DEST", help="Where to write the manifest.")


@build.command("from-prefix")
@click.argument("prefix")
@click.option("--ext", "-e", "extensions", multiple=True, metavar="EXT", help="File extensions to keep (repeatable; default: image types).")
@_output
@pass_config
def from_prefix(config: GtflowConfig, prefix: str, extensions: tuple[str, ...], output: str) -> None:
    """One source-ref line per image under the store PREFIX (s3://bucket/folder/)."""
    from gtflow.manifest import IMAGE_EXTENSIONS, records_from_prefix, write_manifest

    store = store_for(config, prefix)
    assert store is not None
    if not prefix.startswith("s3://"):
        raise click.UsageError("PREFIX must be an s3:// URI")
    records = records_from_prefix(store, prefix, extensions=extensions or IMAGE_EXTENSIONS)
    count = write_manifest(_out_stream(output), records, store=store)
    _wrote(count, output)


@build.command("from-texts")
@click.argument("texts", type=click.File("r", encoding="utf-8"))
@_output
@pass_config
def from_texts(config: GtflowConfig, texts: Any, output: str) -> None:
    """One source line per non-blank line of TEXTS (a UTF-8 file, or - for stdin)."""
    from gtflow.manifest import records_from_texts, write_manifest

    lines = (line.rstrip("\r\n") for line in texts)
    count = write_manifest(_out_stream(output), records_from_texts(lines), store=store_for(config, output))
    _wrote(count, output)


_csv_options = [
    click.option("--min-confidence", type=float, default=None, help="Keep rows with confidence >= this."),
    click.option("--image-prefix", default=None, metavar="PREFIX", help="s3:// prefix for relative image names."),
]


def _with_csv_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_csv_options):
        fn = option(fn)
    return fn


@build.command("from-csv")
@click.argument("csv_path", metavar="CSV")
@_with_csv_options
@_output
@pass_config
def from_csv(
    config: GtflowConfig, csv_path: str, min_confidence: float | None, image_prefix: str | None, output: str
) -> None:
    """One source-ref line (with label and confidence) per row of an image,label,confidence CSV."""
    from gtflow.manifest import records_from_csv, write_manifest

    store = store_for(config, csv_path, output)
    records = records_from_csv(csv_path, store=store, min_confidence=min_confidence, image_prefix=image_prefix)
    count = write_manifest(_out_stream(output), records, store=store)
    _wrote(count, output)


@build.command("batches")
@click.argument("csv_path", metavar="CSV")
@click.option("--prefix", required=True, metavar="PREFIX", help="s3:// prefix; batch files go to PREFIX/batches/.")
@click.option("--batch-size", type=click.IntRange(min=1), default=25, show_default=True)
@_with_csv_options
@click.option("--output", "-o", default=None, metavar="DEST", help="Manifest destination [default: PREFIX/batches.manifest].")
@pass_config
def batches(
    config: GtflowConfig,
    csv_path: str,
    prefix: str,
    batch_size: int,
    min_confidence: float | None,
    image_prefix: str | None,
    output: str | None,
) -> None:
    """Bulk label QA: group CSV rows by label into batch files of N, plus a manifest of them."""
    from gtflow.manifest import build_batches, read_csv_items

    if not prefix.startswith("s3://"):
        raise click.UsageError("--prefix must be an s3:// URI")
    store = store_for(config, prefix)
    assert store is not None
    items = read_csv_items(csv_path, store=store, min_confidence=min_confidence, image_prefix=image_prefix)
    try:
        result = build_batches(
            items, store=store, prefix=prefix, batch_size=batch_size, manifest=_out_stream(output) if output == "-" else output
        )
    except ManifestError as exc:
        raise exc.at(path=csv_path) from exc  # an item's problem: name the CSV it came from
    per_label = ", ".join(f"{k}: {v}" for k, v in result.batches_per_label.items())
    err_console().print(
        f"wrote {result.batches:,} batches of up to {batch_size} ({result.items:,} items; {per_label}) "
        f"and their manifest to {output or result.manifest}",
        highlight=False,
        soft_wrap=True,
    )


# -- stats -----------------------------------------------------------------------------------
@command.command("stats")
@click.argument("path")
@click.option("--label-attribute", default=None, metavar="NAME", help="Count only this label attribute.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_config
def stats(config: GtflowConfig, path: str, label_attribute: str | None, as_json: bool) -> None:
    """Lines, task types, labels per class, boxes per image (and masks, entities, sequences,
    cuboids for their task types) and a confidence histogram of PATH."""
    from gtflow.manifest import manifest_stats

    with _progress(path, "counting") as progress:
        result = manifest_stats(
            path,
            store=store_for(config, path),
            label_attribute=label_attribute,
            progress=(lambda n: progress(n, None)) if progress else None,
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    _print_stats(result)


def _print_stats(s: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)
    console.print(
        f"[bold]{s.path}[/]: {s.lines:,} lines ({s.source_refs:,} source-ref, {s.sources:,} source"
        + (f", {s.failed:,} failed objects" if s.failed else "")
        + ")",
        highlight=False,
        soft_wrap=True,
    )
    if s.label_types:
        console.print("label types: " + ", ".join(f"{k} ({v:,})" for k, v in s.label_types.most_common()), highlight=False, soft_wrap=True)
    if s.task_types:
        console.print("task types: " + ", ".join(f"{k} ({v:,})" for k, v in s.task_types.most_common()), highlight=False, soft_wrap=True)
    units = [f"{n:,} {what}" for n, what in ((s.masks, "masks"), (s.sequences, "sequences")) if n]
    if units:
        console.print(", ".join(units), highlight=False, soft_wrap=True)
    for title, counter, unit in (("labels per class", s.labels, "labels"),
                                 ("entities per label", s.entities, "entities"),
                                 ("cuboids per class", s.cuboids, "cuboids")):
        if not counter:
            continue
        table = Table(title=title)
        table.add_column("class")
        table.add_column(unit, justify="right")
        for name, count in counter.most_common():
            table.add_row(name, f"{count:,}")
        console.print(table)
    if s.boxes_per_image:
        table = Table(title=f"boxes per image ({s.boxes:,} boxes)")
        table.add_column("boxes", justify="right")
        table.add_column("images", justify="right")
        for k, v in sorted(s.boxes_per_image.items()):
            table.add_row(str(k), f"{v:,}")
        console.print(table)
    hist = s.confidence_histogram()
    if hist:
        peak = max(c for _, _, c in hist) or 1
        table = Table(title=f"confidence ({s.confidences:,} values)")
        table.add_column("range")
        table.add_column("count", justify="right")
        table.add_column("")
        for lo, hi, c in hist:
            table.add_row(f"{lo:g}-{hi:g}", f"{c:,}", "#" * round(30 * c / peak))
        console.print(table)


# -- from-a2i: defined with the human-loop commands (gtflow/cli/loops.py) ----------------------
def _register_from_a2i() -> None:
    from gtflow.cli.loops import from_a2i_command

    command.add_command(from_a2i_command, "from-a2i")


_register_from_a2i()


# -- import / export of VOC, COCO, YOLO (gtflow/cli/_formats.py) -------------------------------
def _register_formats() -> None:
    from gtflow.cli._formats import export_command, import_command

    command.add_command(import_command, "import")
    command.add_command(export_command, "export")


_register_formats()
