"""``gtflow train``: training manifests, local SSD training, SageMaker Object Detection jobs.

    gtflow train synthetic --prefix s3://data/synth -n 200 [--seed 0 --image-size 128]
    gtflow train prepare --reviewed URI [--previous URI] --label-attribute A --out-prefix URI
                         [--validation-fraction 0.1 --replay-ratio R --allow-new-classes]
    gtflow train local --train URI --validation URI --label-attribute A --output URI
                       [--previous-model URI --steps N --image-size N ...]
    gtflow train sagemaker --train URI --validation URI --label-attribute A --output URI --role ARN
                           [--previous-job NAME | --previous-model URI] [--hp k=v ...] [--dry-run] [--wait]
    gtflow train promote --job NAME | --model-data URI  --endpoint NAME --role ARN
    gtflow train rollback --endpoint NAME [--to CONFIG]

URIs are ``s3://`` URIs in the configured backend's store (a folder on the local backend).
"""

from __future__ import annotations

import json
from typing import Any

import click

from gtflow.cli import console, err_console, pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command"]


def _store(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    return open_backend(config).store


def _backend_of(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    return open_backend(config)


def _sagemaker(config: GtflowConfig) -> Any:
    from gtflow.backends import open_backend

    backend = open_backend(config)
    if backend.supports("aws_clients"):
        return backend.client("sagemaker")
    from gtflow.store.s3 import make_client

    return make_client("sagemaker", region=config.region)


def _echo_json(obj: Any) -> None:
    from gtflow.strict_json import dumps_strict

    click.echo(dumps_strict(obj, indent=2, sort_keys=True, default=str))  # NaN/Infinity as null


@click.group(name="train")
def command() -> None:
    """Train SSD object detectors on reviewed labels, locally or on SageMaker."""


@command.command()
@click.option("--prefix", required=True, help="s3:// prefix for images/ and dataset.manifest.")
@click.option("-n", "count", type=click.IntRange(0), required=True, help="Number of images.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--start", type=click.IntRange(0), default=0, show_default=True, help="Index of the first image.")
@click.option("--image-size", type=click.IntRange(32, 2048), default=128, show_default=True)
@click.option("--label-attribute", default="bounding-box", show_default=True)
@click.option("--format", "image_format", type=click.Choice(["png", "jpeg"]), default="png", show_default=True)
@click.option("--manifest", "manifest_uri", default=None, help="Manifest URI (default PREFIX/dataset.manifest).")
@pass_config
def synthetic(config: GtflowConfig, prefix: str, count: int, seed: int, start: int, image_size: int,
              label_attribute: str, image_format: str, manifest_uri: str | None) -> None:
    """Write a deterministic synthetic detection dataset (shapes) and its manifest."""
    from gtflow.training.synthetic import generate_dataset

    uri = manifest_uri or f"{prefix.rstrip('/')}/dataset.manifest"
    recs = generate_dataset(_store(config), prefix, count, seed=seed, start=start, image_size=image_size,
                            label_attribute=label_attribute, image_format=image_format, manifest_uri=uri)
    boxes = sum(len(r[label_attribute]["annotations"]) for r in recs)
    err_console().print(f"wrote {len(recs)} images ({boxes} boxes) and {uri}", highlight=False, soft_wrap=True)


@command.command()
@click.option("--reviewed", "reviewed_uris", multiple=True, required=True, help="Reviewed manifest(s), oldest first.")
@click.option("--previous", "previous_uri", default=None, help="The previous training manifest (all labeled lines).")
@click.option("--label-attribute", required=True, help="Label attribute of the training manifest.")
@click.option("--reviewed-label-attribute", default=None, help="Label attribute of the reviewed lines, if different.")
@click.option("--out-prefix", required=True, help="Writes all.manifest, train.manifest, validation.manifest here.")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True)
@click.option("--replay-ratio", type=click.FloatRange(0), default=None,
              help="Train on the changed lines plus R x as many old ones (default: all lines).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the replay sample.")
@click.option("--allow-new-classes", is_flag=True, help="Give unknown class names new ids (a new model).")
@click.option("--class-map", "class_map_src", default=None,
              help='The training class map: a JSON/YAML file or inline JSON ({"0": "dog"} or ["dog", ...]); '
                   "default: the union of the previous manifest's maps.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def prepare(config: GtflowConfig, reviewed_uris: tuple[str, ...], previous_uri: str | None, label_attribute: str,
            reviewed_label_attribute: str | None, out_prefix: str, validation_fraction: float,
            replay_ratio: float | None, seed: int, allow_new_classes: bool, class_map_src: str | None,
            as_json: bool) -> None:
    """Merge reviewed labels into the training manifest, then split train/validation."""
    from gtflow.training.manifests import (
        merge_reviewed,
        read_manifest,
        split_train_validation,
        write_manifest,
    )

    class_map = None
    if class_map_src is not None:
        from gtflow.routing import load_class_map, parse_class_map

        text = class_map_src.strip()
        if text.startswith(("{", "[")):
            try:
                class_map = parse_class_map(json.loads(text), path="--class-map")
            except json.JSONDecodeError as exc:
                raise UsageError(f"--class-map is not JSON: {exc.msg}", field="--class-map") from exc
        else:
            class_map = load_class_map(text)
    store = _store(config)
    previous = read_manifest(store, previous_uri) if previous_uri else []
    reviewed: list[dict[str, Any]] = []
    for uri in reviewed_uris:
        reviewed.extend(read_manifest(store, uri))
    res = merge_reviewed(previous, reviewed, label_attribute=label_attribute,
                         reviewed_label_attribute=reviewed_label_attribute, allow_new_classes=allow_new_classes,
                         class_map=class_map,
                         previous_path=previous_uri, reviewed_path=",".join(reviewed_uris))
    train_all, val = split_train_validation(res.records, validation_fraction)
    val_refs = {r["source-ref"] for r in val}
    train = [r for r in res.training_subset(replay_ratio, seed=seed) if r["source-ref"] not in val_refs]
    base = out_prefix.rstrip("/")
    k = res.num_classes
    uris = {
        "all": write_manifest(store, f"{base}/all.manifest", res.records, label_attribute=label_attribute, num_classes=k),
        "train": write_manifest(store, f"{base}/train.manifest", train, label_attribute=label_attribute, num_classes=k),
        "validation": write_manifest(store, f"{base}/validation.manifest", val, label_attribute=label_attribute,
                                     num_classes=k),
    }
    summary = {"manifests": uris, "lines": len(res.records), "train": len(train), "validation": len(val),
               "train_pool": len(train_all), "added": len(res.added), "replaced": len(res.replaced),
               "ignored_reviews": len(res.ignored_reviews), "clipped_boxes": res.clipped_boxes,
               "dropped_boxes": res.dropped_boxes, "emptied_reviews": list(res.emptied_reviews),
               "class_map": {str(c): n for c, n in res.class_map.items()}}
    if as_json:
        _echo_json(summary)
    else:
        console().print(f"{len(res.records)} labeled images ({len(res.added)} added, {len(res.replaced)} replaced, "
                        f"{len(res.ignored_reviews)} older reviews ignored): train {len(train)}, validation "
                        f"{len(val)}\n" + "\n".join(f"  {k}: {v}" for k, v in uris.items()), highlight=False,
                        soft_wrap=True)


def _print_job(job_name: str, model: str | None, metrics: dict[str, float], attached: bool, as_json: bool) -> None:
    if as_json:
        _echo_json({"TrainingJobName": job_name, "ModelArtifacts": model, "Metrics": metrics, "Attached": attached})
        return
    lines = [f"[bold]{job_name}[/bold]{' (already finished: attached)' if attached else ''}", f"model: {model}"]
    lines += [f"{k}: {v:.4f}" for k, v in sorted(metrics.items())]
    console().print("\n".join(lines), highlight=False, soft_wrap=True)


@command.command()
@click.option("--train", "train_uri", required=True, help="Training manifest URI.")
@click.option("--validation", "validation_uri", default=None, help="Validation manifest URI.")
@click.option("--label-attribute", required=True)
@click.option("--output", "output_path", required=True, help="Output path: OUTPUT/JOB/output/model.tar.gz.")
@click.option("--previous-model", default=None, help="model.tar.gz to continue from (incremental).")
@click.option("--job-name", default=None, help="Default: derived from the inputs.")
@click.option("--base-network", type=click.Choice(["ssdlite-mobilenet-v3", "ssd300-vgg16"]), default=None,
              help="[the previous model's, else ssdlite-mobilenet-v3]")
@click.option("--image-size", type=click.IntRange(32, 1024), default=None,
              help="[the previous model's; 300 for ssd300-vgg16; else 128]")
@click.option("--weights", default="none", show_default=True,
              help="How a new model starts: none (random), default (torchvision's published detection weights, "
                   "downloaded once into torch's cache), imagenet (the ImageNet backbone, as SageMaker's "
                   "use_pretrained_model=1), or PATH to a state_dict file.")
@click.option("--steps", type=click.IntRange(1), default=300, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option("--learning-rate", type=float, default=1e-3, show_default=True)
@click.option("--warmup-steps", type=click.IntRange(0), default=20, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for torch.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def local(config: GtflowConfig, train_uri: str, validation_uri: str | None, label_attribute: str,
          output_path: str, previous_model: str | None, job_name: str | None, base_network: str | None,
          image_size: int | None, weights: str, steps: int, batch_size: int, learning_rate: float, warmup_steps: int,
          seed: int, device: str, threads: int | None, as_json: bool) -> None:
    """Train an SSD with torch on this machine (GPU when present).

    With --previous-model, its base network, image size and class map are used unless given.
    """
    from gtflow.training.local_trainer import LocalTrainingConfig, train_local

    store = _store(config)
    if previous_model is not None:
        from gtflow.training._model import read_model_metadata

        prev = read_model_metadata(store.get_bytes(previous_model), path=previous_model)
        base_network = base_network or prev.base_network
        image_size = image_size or prev.image_size
    base_network = base_network or "ssdlite-mobilenet-v3"
    image_size = image_size or (300 if base_network == "ssd300-vgg16" else 128)
    cfg = LocalTrainingConfig(base_network=base_network, image_size=image_size, steps=steps, batch_size=batch_size,
                              learning_rate=learning_rate, warmup_steps=warmup_steps, seed=seed, weights=weights)
    job = train_local(store, train=train_uri, validation=validation_uri, label_attribute=label_attribute,
                      output_path=output_path, config=cfg, previous_model=previous_model, job_name=job_name,
                      device=device, num_threads=threads, progress=not as_json)
    _print_job(job.job_name, job.model_uri, dict(job.metrics), job.attached, as_json)


def _parse_hp(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key:
            raise UsageError(f"--hp takes name=value, not {v!r}", field="--hp")
        out[key.strip()] = val.strip()
    return out


@command.command()
@click.option("--train", "train_uri", required=True)
@click.option("--validation", "validation_uri", required=True)
@click.option("--label-attribute", required=True)
@click.option("--output", "output_path", required=True, help="S3OutputPath.")
@click.option("--role", "role_arn", required=True, help="SageMaker execution role ARN.")
@click.option("--previous-job", default=None, help="Continue from this finished job's model (incremental).")
@click.option("--previous-model", default=None, help="Continue from this model.tar.gz (give --hp num_classes/base_network as it was).")
@click.option("--hp", "hps", multiple=True, help="Hyperparameter name=value (repeatable).")
@click.option("--weights", type=click.Choice(["imagenet", "none"]), default=None,
              help="imagenet: use_pretrained_model=1 (the algorithm's default for a fresh job); none: 0. "
                   "Same meaning as train local --weights.")
@click.option("--instance-type", default="ml.p3.2xlarge", show_default=True)
@click.option("--instance-count", type=click.IntRange(1), default=1, show_default=True)
@click.option("--max-runtime", type=click.IntRange(1), default=4 * 3600, show_default=True, help="Seconds.")
@click.option("--job-name", default=None)
@click.option("--image-uri", default=None, help="Default: object-detection:1 of the region.")
@click.option("--dry-run", is_flag=True, help="Print the CreateTrainingJob request (checked against botocore's "
              "model); call nothing, no credentials needed.")
@click.option("--wait/--no-wait", default=False, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_config
def sagemaker(config: GtflowConfig, train_uri: str, validation_uri: str, label_attribute: str, output_path: str,
              role_arn: str, previous_job: str | None, previous_model: str | None, hps: tuple[str, ...],
              weights: str | None, instance_type: str, instance_count: int, max_runtime: int, job_name: str | None,
              image_uri: str | None, dry_run: bool, wait: bool, as_json: bool) -> None:
    """Start (or attach to) a built-in Object Detection training job."""
    from gtflow.training.sagemaker_job import (
        ObjectDetectionHyperParameters,
        PreviousModel,
        TrainingJobSpec,
        build_create_training_job_request,
        previous_model_from_job,
        start_training_job,
        wait_for_training_job,
    )

    if previous_job and previous_model:
        raise UsageError("give --previous-job or --previous-model, not both")
    hp_values = _parse_hp(hps)
    if weights is not None:
        want = "1" if weights == "imagenet" else "0"
        if hp_values.get("use_pretrained_model", want) != want:
            raise UsageError(f"--weights {weights} means use_pretrained_model={want}, but --hp gives "
                             f"{hp_values['use_pretrained_model']}", field="--weights")
        hp_values["use_pretrained_model"] = want
    if "num_training_samples" not in hp_values or "num_classes" not in hp_values:
        if dry_run and _backend_of(config).supports("aws_clients"):
            raise UsageError("--dry-run reads nothing from S3: give --hp num_training_samples=N --hp num_classes=K "
                             "(gtflow manifest stats on a local copy prints them)", field="--hp")
        from gtflow.training.manifests import manifest_stats, read_manifest

        stats = manifest_stats(read_manifest(_store(config), train_uri), label_attribute)
        hp_values.setdefault("num_training_samples", str(stats.num_images))
        hp_values.setdefault("num_classes", str(stats.num_classes))
        hp_values.setdefault("label_width", str(max(350, stats.label_width)))
    hp = ObjectDetectionHyperParameters.from_strings(hp_values)
    client = None
    prev = None
    if previous_job:
        if dry_run:
            raise UsageError("--dry-run calls nothing, and --previous-job needs DescribeTrainingJob: give "
                             "--previous-model URI with the previous --hp num_classes/base_network/image_shape",
                             field="--previous-job")
        client = _sagemaker(config)
        prev = previous_model_from_job(client, previous_job)
    elif previous_model:
        prev = PreviousModel(previous_model, num_classes=hp.num_classes, base_network=hp.base_network,
                             image_shape=hp.image_shape)
    spec = TrainingJobSpec(role_arn=role_arn, region=config.region, train_manifest=train_uri,
                           validation_manifest=validation_uri, label_attribute=label_attribute,
                           output_path=output_path, hyperparameters=hp, previous_model=prev,
                           instance_type=instance_type, instance_count=instance_count,
                           max_runtime_seconds=max_runtime, job_name=job_name, image_uri=image_uri)
    request = build_create_training_job_request(spec)
    if dry_run:
        from gtflow.dry_run import DryRun, render

        plan = DryRun()
        plan.add("sagemaker", "CreateTrainingJob", request)
        click.echo(render(plan.calls))
        return
    client = client or _sagemaker(config)
    name, attached = start_training_job(client, request)
    if not wait:
        _print_job(name, None, {}, attached, as_json)
        return
    result = wait_for_training_job(client, name, progress=not as_json)
    _print_job(name, result.model_artifacts, dict(result.metrics), attached, as_json)
    result.raise_for_status()


@command.command()
@click.option("--job", "job_name", default=None, help="A finished SageMaker training job.")
@click.option("--model-data", default=None, help="Or a model.tar.gz URI.")
@click.option("--endpoint", "endpoint_name", required=True)
@click.option("--role", "role_arn", required=True)
@click.option("--instance-type", default="ml.m5.xlarge", show_default=True)
@click.option("--instance-count", type=click.IntRange(1), default=1, show_default=True)
@click.option("--image-uri", default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_config
def promote(config: GtflowConfig, job_name: str | None, model_data: str | None, endpoint_name: str, role_arn: str,
            instance_type: str, instance_count: int, image_uri: str | None, as_json: bool) -> None:
    """Serve a model on a SageMaker endpoint (update, keeping the old config for rollback)."""
    from dataclasses import asdict

    from gtflow.training.sagemaker_job import (
        previous_model_from_job,
        promote_model,
        training_image_uri,
    )

    if bool(job_name) == bool(model_data):
        raise UsageError("give exactly one of --job and --model-data")
    client = _sagemaker(config)
    url = model_data or previous_model_from_job(client, str(job_name)).model_data_url
    p = promote_model(client, model_data_url=url, role_arn=role_arn, endpoint_name=endpoint_name,
                      image_uri=image_uri or training_image_uri(config.region), instance_type=instance_type,
                      initial_instance_count=instance_count)
    if as_json:
        _echo_json(asdict(p))
    else:
        console().print(f"endpoint {p.endpoint_name} {p.action}: {p.endpoint_config_name} "
                        f"(previous: {p.previous_endpoint_config_name})", highlight=False, soft_wrap=True)


@command.command()
@click.option("--endpoint", "endpoint_name", required=True)
@click.option("--to", "to_config", default=None, help="Endpoint config (default: the one recorded at promotion).")
@pass_config
def rollback(config: GtflowConfig, endpoint_name: str, to_config: str | None) -> None:
    """Point an endpoint back at its previous endpoint config."""
    from gtflow.training.sagemaker_job import rollback_endpoint

    cfg = rollback_endpoint(_sagemaker(config), endpoint_name, to_config)
    console().print(f"endpoint {endpoint_name} -> {cfg}", highlight=False, soft_wrap=True)
