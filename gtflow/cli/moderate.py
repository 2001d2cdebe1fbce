"""``gtflow moderate``: prompts, bulk image screening, adapter data, per-category thresholds."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from gtflow.backends import open_backend
from gtflow.cli import pass_config
from gtflow.errors import UsageError


@click.group()
def command() -> None:
    """Content moderation with humans in the loop."""


def _plugin(spec: str):  # "package.module:function"
    module, _, name = spec.partition(":")
    if not module or not name:
        raise UsageError(f"expected module:function, got {spec!r}", field="provider")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load {spec!r}: {exc}", field="provider") from exc


@command.command("prompt")
@click.argument("text")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False), help="YAML/JSON rules file.")
@click.option("--comprehend", is_flag=True, help="Also score with Amazon Comprehend DetectToxicContent.")
@click.option("--endpoint", default=None, help="Also score with a SageMaker endpoint classifier.")
@click.option("--classifier", default=None, help="A local classifier module:function(text) -> score.")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def prompt_cmd(config, text, rules_file, comprehend, endpoint, classifier, as_json):
    """Moderate one prompt. Exit 0 allowed (maybe with warnings), 1 blocked or sent to review."""
    from gtflow.moderation import (
        CallableClassifier,
        ComprehendToxicity,
        EndpointToxicity,
        PromptModerator,
        RuleFilter,
        load_rules,
    )
    from gtflow.moderation.prompt import negative_prompts

    clf = None
    if comprehend or endpoint:
        from gtflow.store.s3 import make_client

        clf = (ComprehendToxicity(make_client("comprehend", region=config.region)) if comprehend
               else EndpointToxicity(make_client("sagemaker-runtime", region=config.region), endpoint))
    elif classifier:
        clf = CallableClassifier(_plugin(classifier))
    rules = RuleFilter(load_rules(rules_file)) if rules_file else None
    if rules is None and clf is None:
        raise UsageError("give --rules and/or a classifier (--comprehend, --endpoint, --classifier)")
    d = PromptModerator(rules, clf).moderate(text)
    out = {**d.to_dict(), "negativePrompts": negative_prompts(d.categories)}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"{d.action}")
        for r in d.reasons:
            click.echo(f"  {r.source}: {r.name} ({r.action}) {r.detail}")
    sys.exit(0 if d.allowed else 1)


@command.command("screen")
@click.argument("prefix")
@click.option("--out", "out_prefix", required=True, help="s3:// prefix for decisions, report and clean manifest.")
@click.option("--provider", default=None, help="Local provider module:function(uri) -> [ModerationLabel]; default on aws: rekognition.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False), help="Category thresholds (YAML/JSON).")
@click.option("--quarantine", default=None, help="Move unsafe images under this prefix.")
@click.option("--review/--no-review", default=True, help="Send uncertain images to the local portal.")
@click.option("--flow-definition-arn", default=None, help="aws: Rekognition's built-in A2I flow for uncertain images.")
@click.option("--workers", default=8, show_default=True)
@pass_config
def screen_cmd(config, prefix, out_prefix, provider, policy_file, quarantine, review, flow_definition_arn, workers):
    """Screen every image under PREFIX; reruns skip images already decided."""
    import yaml

    from gtflow.moderation import (
        CallableModerator,
        CategoryPolicy,
        LocalReview,
        RekognitionModerator,
        screen,
    )
    from gtflow.tasks import TaskQueue

    backend = open_backend(config)
    store = backend.store
    if provider:
        moderator = CallableModerator(_plugin(provider))
    elif config.backend == "aws":
        moderator = RekognitionModerator(backend.client("rekognition"), flow_definition_arn=flow_definition_arn)
    else:
        raise UsageError("the local backend needs --provider module:function (no moderation model ships with gtflow)")
    policy = CategoryPolicy.from_dict(yaml.safe_load(Path(policy_file).read_text())) if policy_file else CategoryPolicy()
    sink = LocalReview(TaskQueue.for_store(store), out_prefix) if (review and config.backend == "local") else None
    rep = screen(store, prefix, moderator, out_prefix=out_prefix, policy=policy, review=sink,
                 quarantine_prefix=quarantine, workers=workers, progress=True)
    click.echo(f"{rep.images} images: {rep.safe} safe, {rep.unsafe} unsafe, {rep.review} awaiting review, "
               f"{rep.errors} errors, {rep.skipped} already decided")
    click.echo(f"clean manifest: {rep.clean_manifest}\nreport: {rep.report_uri}")
    sys.exit(1 if rep.errors else 0)


@command.command("adapter-data")
@click.argument("decisions_prefix")
@click.option("--out", "out_prefix", required=True)
@click.option("--model-threshold", default=50.0, show_default=True)
@click.option("--start", is_flag=True, help="aws: also start adapter training in Rekognition.")
@click.option("--project", default=None, help="Rekognition project name (with --start).")
@click.option("--output", "output_prefix", default=None, help="Adapter output prefix (with --start).")
@pass_config
def adapter_cmd(config, decisions_prefix, out_prefix, model_threshold, start, project, output_prefix):
    """Build adapter train/test manifests from people's corrections (and start training)."""
    from gtflow.moderation import build_adapter_data, read_decisions, start_adapter_training

    backend = open_backend(config)
    data = build_adapter_data(backend.store, read_decisions(backend.store, decisions_prefix), out_prefix,
                              model_threshold=model_threshold)
    click.echo(json.dumps(data.__dict__, indent=1))
    if start:
        if config.backend != "aws" or not project or not output_prefix:
            raise UsageError("--start needs --backend aws, --project and --output")
        click.echo(json.dumps(start_adapter_training(backend.client("rekognition"), data, project_name=project,
                                                     output_prefix=output_prefix)))


@command.command("thresholds")
@click.argument("decisions_prefix")
@click.option("--cost-ratio", type=float, required=True, help="Cost of a wrong automatic decision vs a right one.")
@click.option("--method", type=click.Choice(["lower-bound", "bucket-walk"]), default="lower-bound", show_default=True)
@pass_config
def thresholds_cmd(config, decisions_prefix, cost_ratio, method):
    """Per-category thresholds from reviewed screening decisions (bulk-QA methods)."""
    from gtflow.moderation import category_thresholds, read_decisions

    store = open_backend(config).store
    click.echo(json.dumps(category_thresholds(read_decisions(store, decisions_prefix), cost_ratio=cost_ratio, method=method), indent=1))
