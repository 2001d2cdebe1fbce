"""``gtflow manifest import`` / ``gtflow manifest export`` (registered in the manifest group).

    gtflow manifest import --format voc|coco|yolo SRC -o OUT.manifest
                           (--images-to s3://bkt/images | --image-prefix s3://bkt/images)
                           [--images DIR] [--classes FILE] [--label-attribute bounding-box]
                           [--job-name NAME] [--skip-invalid] [--json]
    gtflow manifest export --format voc|coco|yolo|sagemaker-json|lst MANIFEST -o DEST
                           [--label-attribute A] [--class-map FILE] [--image-prefix P] [--copy-images]

SRC: a VOC folder (``Annotations/`` + ``JPEGImages/``, or a folder of XML and images), a COCO
JSON file, or a YOLO folder (``images/`` + ``labels/`` + ``classes.txt``/``data.yaml``).
OUT and MANIFEST are local paths or ``s3://`` URIs in the backend's store; DEST is a folder or
an ``s3://`` prefix.
"""

from __future__ import annotations

import json

import click

from gtflow.cli import err_console, pass_config
from gtflow.config import GtflowConfig

__all__ = ["import_command", "export_command"]


def _store(config: GtflowConfig) -> object:
    from gtflow.backends import open_backend

    return open_backend(config).store


def _report(report: object, as_json: bool, what: str) -> None:
    d = report.to_dict()  # type: ignore[attr-defined]
    if as_json:
        click.echo(json.dumps(d))
        return
    err_console().print(
        f"{what}: {d['images']:,} images, {d['boxes']:,} boxes ({d['empty']:,} images without boxes), "
        f"{len(d['class_map'])} classes" + (f", {d['copied']:,} images copied" if d["copied"] else "")
        + (f", {len(d['invalid'])} invalid annotations left out" if d["invalid"] else ""),
        highlight=False, soft_wrap=True)
    for e in d["invalid"]:
        err_console().print(f"[yellow]invalid:[/] {e}", highlight=False, soft_wrap=True)


@click.command("import")
@click.argument("src")
@click.option("--format", "fmt", type=click.Choice(["voc", "coco", "yolo"]), required=True)
@click.option("--output", "-o", required=True, metavar="OUT", help="Manifest path or s3:// URI.")
@click.option("--images-to", default=None, metavar="S3PREFIX", help="Copy the images here (source-ref points here).")
@click.option("--image-prefix", default=None, metavar="S3PREFIX", help="Or: the images are already here; reference them.")
@click.option("--images", "images_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Image folder (default: JPEGImages/ for VOC, the JSON's folder for COCO).")
@click.option("--classes", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Class names, one per line (or data.yaml): fixes the class ids.")
@click.option("--label-attribute", default="bounding-box", show_default=True)
@click.option("--job-name", default=None, help="job-name in the metadata [gtflow-import-FORMAT].")
@click.option("--skip-invalid", is_flag=True, help="Leave out invalid annotations (each one reported) instead of failing.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def import_command(config: GtflowConfig, src: str, fmt: str, output: str, images_to: str | None,
                   image_prefix: str | None, images_dir: str | None, classes: str | None, label_attribute: str,
                   job_name: str | None, skip_invalid: bool, as_json: bool) -> None:
    """Turn a VOC, COCO or YOLO dataset into a Ground Truth object-detection manifest."""
    from gtflow.formats import import_dataset

    report = import_dataset(fmt, src, output, store=_store(config), images_to=images_to, image_prefix=image_prefix,
                            images_dir=images_dir, classes=classes, label_attribute=label_attribute,
                            job_name=job_name, skip_invalid=skip_invalid)
    _report(report, as_json, f"wrote {output}")


@click.command("export")
@click.argument("manifest")
@click.option("--format", "fmt", type=click.Choice(["voc", "coco", "yolo", "sagemaker-json", "lst"]), required=True)
@click.option("--output", "-o", "dest", required=True, metavar="DEST", help="Folder or s3:// prefix.")
@click.option("--label-attribute", default="bounding-box", show_default=True)
@click.option("--class-map", "class_map_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help='{"0": "name", ...} or ["name", ...] [the union of the lines\' class maps].')
@click.option("--image-prefix", default=None, help="Name images by their path under this prefix [file name].")
@click.option("--copy-images", is_flag=True, help="Copy the images next to the labels.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def export_command(config: GtflowConfig, manifest: str, fmt: str, dest: str, label_attribute: str,
                   class_map_path: str | None, image_prefix: str | None, copy_images: bool, as_json: bool) -> None:
    """Write a Ground Truth object-detection manifest as VOC, COCO, YOLO, image+JSON or .lst."""
    from gtflow.formats import export_manifest
    from gtflow.routing import load_class_map

    cmap = load_class_map(class_map_path) if class_map_path else None
    report = export_manifest(fmt, manifest, dest, store=_store(config), label_attribute=label_attribute,
                             class_map=cmap, image_prefix=image_prefix, copy_images=copy_images)
    _report(report, as_json, f"wrote {fmt} to {dest}")
