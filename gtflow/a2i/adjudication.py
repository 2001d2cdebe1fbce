"""Adjudication: a loop whose workers disagree goes to one more worker, whose answer joins theirs.

After :func:`gtflow.a2i.convert.convert_outputs` lists the loops whose workers disagree
(``report.disagreements``), :func:`adjudication_inputs` gives, for each, the same
InputContent with ``adjudicationOf`` naming the loop (so its loop name differs and reruns
converge). Start them in a flow of one worker per task (``--task-count 1``). When the outputs
are converted together (one folder or prefix holding both flows, or both lists),
:func:`merge_adjudications` adds the adjudicator's answer to the original loop's answers, and
the consolidation decides with one more vote.

    >>> from gtflow.wire.a2i import HumanLoopOutput
    >>> def out(name, content, answers):
    ...     return HumanLoopOutput.from_dict({"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/f",
    ...         "humanLoopName": name, "inputContent": content, "humanAnswers": answers})
    >>> a = out("l1", {"taskObject": "s3://b/1.png"}, [{"answerContent": {}, "submissionTime": "t1", "workerId": "w1"}])
    >>> adj = out("l1-adj", adjudication_inputs([a], ["l1"])[0], [{"answerContent": {}, "submissionTime": "t2", "workerId": "w9"}])
    >>> [(o.human_loop_name, [h.worker_id for h in o.human_answers]) for o in merge_adjudications([a, adj])]
    [('l1', ['w1', 'w9'])]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from gtflow.a2i.collect import CollectedOutput
from gtflow.wire.a2i import HumanLoopOutput

__all__ = ["ADJUDICATION_KEY", "adjudication_inputs", "merge_adjudications"]

#: The InputContent key naming the loop an adjudication loop decides.
ADJUDICATION_KEY = "adjudicationOf"


def adjudication_inputs(outputs: Iterable[HumanLoopOutput], loops: Sequence[str]) -> list[dict[str, Any]]:
    """The InputContent of one adjudication loop per loop named in ``loops`` (input order)."""
    wanted = set(loops)
    return [{**dict(o.input_content), ADJUDICATION_KEY: o.human_loop_name}
            for o in outputs if o.human_loop_name in wanted]


def merge_adjudications(items: Iterable[Any]) -> list[Any]:
    """``items`` (HumanLoopOutput or CollectedOutput) with every adjudication loop's answers
    added to the loop it decides (a worker who answered both counts once); an adjudication
    whose loop is not among ``items`` stays as it is."""
    items = list(items)

    def output(it: Any) -> HumanLoopOutput:
        return it.output if isinstance(it, CollectedOutput) else it

    by_name = {output(it).human_loop_name: i for i, it in enumerate(items)
               if ADJUDICATION_KEY not in output(it).input_content}
    extra: dict[int, list[Any]] = {}
    keep: list[bool] = [True] * len(items)
    for i, it in enumerate(items):
        target = output(it).input_content.get(ADJUDICATION_KEY)
        if isinstance(target, str) and target in by_name:
            extra.setdefault(by_name[target], []).extend(output(it).human_answers)
            keep[i] = False
    out = []
    for i, it in enumerate(items):
        if not keep[i]:
            continue
        if i in extra:
            o = output(it)
            seen = {a.worker_id for a in o.human_answers}
            answers = tuple(o.human_answers) + tuple(a for a in extra[i] if a.worker_id not in seen)
            merged = dataclasses.replace(o, human_answers=answers)
            it = dataclasses.replace(it, output=merged) if isinstance(it, CollectedOutput) else merged
        out.append(it)
    return out
