"""Amazon A2I human loops, on AWS or on one machine.

* :class:`HumanTaskUi`, :class:`FlowDefinition` - build, validate and create the A2I resources
  (``CreateHumanTaskUi`` / ``CreateFlowDefinition``), with least-privilege policies;
* :class:`HumanLoops` - one interface over :class:`AwsHumanLoops` (``sagemaker-a2i-runtime`` +
  S3) and :class:`LocalHumanLoops` (the local task queue + store): ``start``/``start_many``
  (idempotent: names derive from the flow and a hash of the input), ``describe``, ``list``,
  ``stop``, ``collect`` (output.json read concurrently into typed values);
* :func:`review_input` - InputContent for the ``object-detection-review`` template from a
  model prediction; :func:`encode_input_content` checks A2I's 3 MiB limit;
* :func:`from_a2i` / :func:`to_manifest_line` - answers to an object-detection augmented manifest.

Routing (which predictions need a human) is :mod:`gtflow.routing`. See docs/human-loops.md.

    >>> loop_name("od-review", '{"taskObject":"s3://b/1.jpg"}')[:10]
    'od-review-'
"""

from __future__ import annotations

from gtflow.a2i.aws import AwsHumanLoops
from gtflow.a2i.collect import (
    CollectedOutput,
    collect_outputs,
    find_outputs,
    iter_outputs,
    parse_output,
    read_outputs,
    stream_outputs,
)
from gtflow.a2i.convert import (
    ConversionReport,
    convert_outputs,
    find_answer_field,
    from_a2i,
    read_a2i_source,
    to_manifest_line,
)
from gtflow.a2i.flow_definition import (
    FlowDefinition,
    caller_policy,
    create_flow_definition,
    flow_role_policy,
    flow_trust_policy,
    local_arn,
    wait_for_active,
)
from gtflow.a2i.human_loops import HumanLoop, HumanLoops, LoopInput, StartResult, prepare
from gtflow.a2i.human_task_ui import HumanTaskUi, create_human_task_ui
from gtflow.a2i.input_content import encode_input_content, image_size, review_input
from gtflow.a2i.local import LocalHumanLoops, on_task_complete
from gtflow.a2i.names import (
    HUMAN_LOOP_NAME_RE,
    MAX_INPUT_CONTENT_CHARS,
    input_hash,
    loop_name,
    slug,
    validate_loop_name,
    validate_resource_name,
)

__all__ = [
    "AwsHumanLoops",
    "CollectedOutput",
    "ConversionReport",
    "FlowDefinition",
    "HUMAN_LOOP_NAME_RE",
    "HumanLoop",
    "HumanLoops",
    "HumanTaskUi",
    "LocalHumanLoops",
    "LoopInput",
    "MAX_INPUT_CONTENT_CHARS",
    "StartResult",
    "caller_policy",
    "collect_outputs",
    "convert_outputs",
    "create_flow_definition",
    "create_human_task_ui",
    "encode_input_content",
    "find_answer_field",
    "find_outputs",
    "flow_role_policy",
    "flow_trust_policy",
    "from_a2i",
    "image_size",
    "input_hash",
    "iter_outputs",
    "local_arn",
    "loop_name",
    "on_task_complete",
    "parse_output",
    "prepare",
    "read_a2i_source",
    "read_outputs",
    "review_input",
    "slug",
    "stream_outputs",
    "to_manifest_line",
    "validate_loop_name",
    "validate_resource_name",
    "wait_for_active",
]
