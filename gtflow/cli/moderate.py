"""``gtflow moderate``: prompts, bulk image screening, adapter data, per-category thresholds."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, cast

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
@click.option("--guardrail", default=None, help="Also score with this Bedrock guardrail (ApplyGuardrail).")
@click.option("--guardrail-version", default="DRAFT", show_default=True)
@click.option("--classifier", default=None, help="A local classifier module:function(text) -> score.")
@click.option("--local/--no-local", "use_local", default=None,
              help="The offline model of gtflow[moderation] (default: on when no rules and no other classifier are named).")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def prompt_cmd(config, text, rules_file, comprehend, endpoint, guardrail, guardrail_version, classifier, use_local,
               as_json):
    """Moderate one prompt. Exit 0 allowed (maybe with warnings), 1 blocked or sent to review.

    With no rules and no classifier named, the offline text model of gtflow[moderation] scores it."""
    from gtflow.moderation import (
        CallableClassifier,
        ComprehendToxicity,
        EndpointToxicity,
        PromptModerator,
        RuleFilter,
        load_rules,
    )
    from gtflow.moderation.prompt import negative_prompts

    clfs = cast(list[Any], [])
    if comprehend or endpoint or guardrail:
        from gtflow.store.s3 import make_client

        if comprehend:
            clfs.append(ComprehendToxicity(make_client("comprehend", region=config.region)))
        if endpoint:
            clfs.append(EndpointToxicity(make_client("sagemaker-runtime", region=config.region), endpoint))
        if guardrail:
            from gtflow.moderation.guardrails import BedrockGuardrail

            clfs.append(BedrockGuardrail(make_client("bedrock-runtime", region=config.region), guardrail,
                                         guardrail_version))
    if classifier:
        clfs.append(CallableClassifier(_plugin(classifier)))
    if use_local or (use_local is None and not clfs and not rules_file):
        from gtflow.moderation.local_models import LocalProfanity

        clfs.append(LocalProfanity())
    rules = RuleFilter(load_rules(rules_file)) if rules_file else None
    if rules is None and not clfs:
        raise UsageError("give --rules and/or a classifier (--local, --comprehend, --endpoint, --guardrail, --classifier)")
    d = PromptModerator(rules, clfs or None).moderate(text)
    out = {**d.to_dict(), "negativePrompts": negative_prompts(d.categories)}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"{d.action}")
        for r in d.reasons:
            click.echo(f"  {r.source}: {r.name} ({r.action}) {r.detail}")
        if d.toxicity is not None:
            labels = ", ".join(f"{k} {v:.2f}" for k, v in sorted(d.toxicity.labels.items()))
            click.echo(f"  scores: toxicity {d.toxicity.toxicity:.2f}" + (f" ({labels})" if labels else ""))
    sys.exit(0 if d.allowed else 1)


def _image_provider(config, backend, *, provider, guardrail, guardrail_version, rekognition, store,
                    flow_definition_arn=None, content_classifiers=()):
    """The image provider the options name; the offline model of gtflow[moderation] by default."""
    from gtflow.moderation import CallableModerator, RekognitionModerator

    if provider:
        return CallableModerator(_plugin(provider))
    if guardrail:
        from gtflow.moderation.guardrails import BedrockGuardrail

        return BedrockGuardrail(backend.client("bedrock-runtime"), guardrail, guardrail_version, source="OUTPUT",
                                store=store)
    if rekognition:
        return RekognitionModerator(backend.client("rekognition"), flow_definition_arn=flow_definition_arn,
                                    store=store, content_classifiers=content_classifiers)
    from gtflow.moderation.local_models import LocalNsfw

    return LocalNsfw(store=store)


_PROVIDER_OPTIONS = [
    click.option("--provider", default=None, help="Your provider module:function(image) -> [ModerationLabel]."),
    click.option("--guardrail", default=None, help="A Bedrock guardrail (ApplyGuardrail, PNG/JPEG up to 4 MB)."),
    click.option("--guardrail-version", default="DRAFT", show_default=True),
    click.option("--rekognition", is_flag=True, help="Amazon Rekognition DetectModerationLabels."),
    click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False),
                 help="Category thresholds (YAML/JSON: block, review, ignore)."),
]


def _provider_options(f):
    for opt in reversed(_PROVIDER_OPTIONS):
        f = opt(f)
    return f


def _policy(policy_file):
    import yaml

    from gtflow.moderation import CategoryPolicy

    return CategoryPolicy.from_dict(yaml.safe_load(Path(policy_file).read_text())) if policy_file else CategoryPolicy()


@command.command("image")
@click.argument("image")
@_provider_options
@click.option("--json", "as_json", is_flag=True)
@pass_config
def image_cmd(config, image, provider, guardrail, guardrail_version, rekognition, policy_file, as_json):
    """Moderate one image: a local FILE or an s3:// URI (read through the backend's store).
    Exit 0 safe, 1 unsafe or for review.

    With no provider named, the offline image model of gtflow[moderation] scores it."""
    backend = open_backend(config)
    # a local file goes as bytes; an s3:// URI goes by reference to Rekognition on AWS, else through the store
    by_ref = rekognition and backend.supports("aws_clients")
    store = None if by_ref else backend.store
    mod = _image_provider(config, backend, provider=provider, guardrail=guardrail, guardrail_version=guardrail_version,
                          rekognition=rekognition, store=store)
    result = mod.moderate(image)
    decision = _policy(policy_file).decide(result.labels)
    if as_json:
        click.echo(json.dumps({"image": result.image, "action": decision.action, "modelVersion": result.model_version,
                               "labels": [lab.to_dict() for lab in result.labels], "reasons": list(decision.reasons)}))
    else:
        click.echo(decision.action)
        for lab in result.labels:
            parent = f" ({lab.parent_name})" if lab.parent_name else ""
            click.echo(f"  {lab.name}{parent}: {lab.confidence:.1f}%")
        click.echo(f"  model: {result.model_version}")
    sys.exit(0 if decision.action == "safe" else 1)


@command.command("screen")
@click.argument("prefix")
@click.option("--out", "out_prefix", required=True, help="s3:// prefix for decisions, report and clean manifest.")
@_provider_options
@click.option("--quarantine", default=None, help="Move unsafe images under this prefix.")
@click.option("--review/--no-review", default=True, help="Send uncertain images to the local portal.")
@click.option("--audit-sample", type=float, default=0.0, show_default=True,
              help="Share (0-1) of images the model found safe also sent to review, so people can find what it misses.")
@click.option("--flow-definition-arn", default=None, help="aws: Rekognition's built-in A2I flow for uncertain images.")
@click.option("--free-of-pii", is_flag=True,
              help="aws, with --flow-definition-arn: declare the images free of personally identifiable information.")
@click.option("--free-of-adult-content", is_flag=True,
              help="aws, with --flow-definition-arn: declare the images free of adult content.")
@click.option("--workers", default=8, show_default=True)
@pass_config
def screen_cmd(config, prefix, out_prefix, provider, guardrail, guardrail_version, rekognition, policy_file, quarantine,
               review, audit_sample, flow_definition_arn, free_of_pii, free_of_adult_content, workers):
    """Screen every image under PREFIX; reruns skip images already decided.

    Default provider: Rekognition on --backend aws, the offline model of gtflow[moderation]
    locally. (Rekognition's bulk analysis is closed to new customers since 2026-04-30; this
    command calls DetectModerationLabels per image.)"""
    from gtflow.moderation import LocalReview, screen

    backend = open_backend(config)
    store = backend.store
    classifiers = [c for c, on in (("FreeOfPersonallyIdentifiableInformation", free_of_pii),
                                   ("FreeOfAdultContent", free_of_adult_content)) if on]
    use_rek = rekognition or (backend.supports("aws_clients") and not provider and not guardrail)
    moderator = _image_provider(config, backend, provider=provider, guardrail=guardrail,
                                guardrail_version=guardrail_version, rekognition=use_rek,
                                store=None if (use_rek and backend.supports("aws_clients")) else store,
                                flow_definition_arn=flow_definition_arn, content_classifiers=classifiers)
    sink = LocalReview(backend.task_queue, out_prefix) if (review and backend.supports("task_queue")) else None
    rep = screen(store, prefix, moderator, out_prefix=out_prefix, policy=_policy(policy_file), review=sink,
                 quarantine_prefix=quarantine, workers=workers, progress=True, audit_fraction=audit_sample)
    click.echo(f"{rep.images} images: {rep.safe} safe, {rep.unsafe} unsafe, {rep.review} awaiting review, "
               f"{rep.quarantined} quarantined, {rep.errors} errors, {rep.skipped} already decided")
    if rep.quarantined:
        click.echo(f"{rep.quarantined} images are not readable images (bad input): "
                   f"gtflow quarantine list --prefix {out_prefix}", err=True)
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
    """Build adapter train/test manifests from people's corrections (and start training).

    Prints the counts — false negatives (labels reviewers added or confirmed that the model
    did not assert), false positives, per category — and what is still missing against
    Rekognition's minimums (50 false negatives or 20 false positives; 20 test images); exits 1
    while they are not met (the manifests are written either way, --start is refused)."""
    from gtflow.moderation import build_adapter_data, read_decisions, start_adapter_training

    backend = open_backend(config)
    data = build_adapter_data(backend.store, read_decisions(backend.store, decisions_prefix), out_prefix,
                              model_threshold=model_threshold, enforce_minimums=False)
    click.echo(json.dumps(data.__dict__, indent=1))
    if not data.sufficient:
        for problem in data.problems:
            click.echo(f"not enough for an adapter yet: {problem}", err=True)
        sys.exit(1)
    if start:
        if not backend.supports("aws_clients") or not project or not output_prefix:
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
