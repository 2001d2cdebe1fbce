"""Count how many corpus artifacts gtflow handles correctly, by one criterion for every version.

    python tests/conformance/measure.py            # this checkout (uses gtflow payload check)
    PYTHONPATH=<old checkout> python tests/conformance/measure.py --before
                                                   # a checkout without payload check (6baaaf4)

An artifact is handled correctly when gtflow (1) knows what payload it is, (2) gives the
expected verdict (valid or not), (3) writes it back as expected (faithfully, or with exactly
the documented differences), (4) for manifests finds exactly the expected label attributes
(and, where the version has task types, with the expected ones), ``manifest validate`` agrees
with the wire API, ``manifest stats`` counts what ``expected.json`` says, and the source-ref /
payload URIs can be read (``S3Uri.parse``; ``payload check`` checks them itself).

``--before`` emulates the check with the wire API a version without ``payload check`` has,
generously: it is told each artifact's kind instead of detecting it, and task types are not
asked of it. Kinds no wire type held then (flow definitions, SeqLabel.json, "not a payload")
count as not handled.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
# The element of each crowd artifact (--before only: the old API must be told it).
_ELEMENTS = {
    "crowd_classifier_output_docs.json": "crowd-classifier",
    "crowd_instance_segmentation_output_docs.json": "crowd-instance-segmentation",
    "crowd_polyline_output_docs.json": "crowd-polyline",
}


def artifacts() -> dict[str, dict[str, Any]]:
    expected: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text())
    return expected


def _stats(text: str) -> dict[str, Any]:
    from gtflow.manifest import manifest_stats

    return manifest_stats(io.BytesIO(text.encode())).to_dict()


def _validate_ok(text: str) -> bool:
    from gtflow.manifest import validate_manifest

    return validate_manifest(io.BytesIO(text.encode())).valid


def observe_now(name: str, text: str) -> dict[str, Any]:
    from gtflow.payload_check import check_text

    r = check_text(text, path=name)
    labels = {a.attribute: a.task_type.value for it in r.items for a in it.labels}
    obs: dict[str, Any] = {
        "kind": r.kind,
        "valid": r.valid,
        "faithful": r.faithful,
        "labels": labels,
        "differences": [d for it in r.items for d in it.differences],
    }
    if r.kind == "manifest":
        obs["stats"] = _stats(text)
        obs["agree"] = _validate_ok(text) or not r.valid
    return obs


def _diff(a: Any, b: Any) -> list[str]:
    # the same comparison as payload check's, written out for versions that lack it
    out: list[str] = []
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and type(a) is type(b)):
        return [f"{a!r:.40} became {b!r:.40}"]
    if isinstance(a, dict):
        if list(a) != list(b):
            out.append("keys or key order changed")
        for k in a:
            if k in b:
                out.extend(_diff(a[k], b[k]))
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append("length changed")
        for x, y in zip(a, b, strict=False):
            out.extend(_diff(x, y))
    elif a != b:
        out.append(f"{a!r:.40} became {b!r:.40}")
    return out


def _uris_readable(value: Any) -> bool:
    """Whether every ``s3://`` string in ``value`` parses (what reading the object needs)."""
    from gtflow.uris import S3Uri

    if isinstance(value, str):
        if not value.startswith("s3://"):
            return True
        try:
            S3Uri.parse(value)
        except Exception:
            return False
        return True
    if isinstance(value, dict):
        return all(_uris_readable(v) for v in value.values())
    if isinstance(value, list):
        return all(_uris_readable(v) for v in value)
    return True


def observe_before(name: str, text: str, kind: str) -> dict[str, Any]:
    import gtflow.wire as w

    obs: dict[str, Any] = {"kind": None, "valid": None, "faithful": None, "labels": None, "differences": []}
    parsers = {
        "pre-annotation-event": w.PreAnnotationEvent.from_dict,
        "pre-annotation-response": w.PreAnnotationResponse.from_dict,
        "post-annotation-event": w.PostAnnotationEvent.from_dict,
        "consolidation-request": w.ConsolidationRequest.from_list,
        "consolidation-response": w.ConsolidationResponse.from_list,
        "worker-response": w.WorkerResponse.from_dict,
        "a2i-output": w.HumanLoopOutput.from_dict,
        "endpoint-response": w.parse_endpoint_response,
    }
    if kind == "manifest":
        obs["kind"] = kind
        valid, diffs, labels = True, [], {}
        for raw in text.splitlines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            rebuilt = dict(line)
            for attr in w.label_attributes(line):
                labels[attr] = None
                try:
                    lab = w.OutputLabel.from_line(line, attr)
                except Exception:
                    valid = False
                    continue
                rebuilt.update(lab.to_items())
            diffs.extend(_diff(line, {k: rebuilt[k] for k in line if k in rebuilt}))
        readable = all(_uris_readable(line.get("source-ref")) for line in map(json.loads, filter(str.strip, text.splitlines())))
        obs["unreadable"] = not readable
        obs.update(valid=valid, faithful=valid and not diffs, labels=labels, differences=diffs)
        obs["stats"] = _stats(text)
        obs["agree"] = _validate_ok(text) == valid
        return obs
    value = json.loads(text)
    if kind == "crowd-output" and name in _ELEMENTS:
        obs["kind"] = kind
        inner = w.unwrap_docs_sample(value)
        try:
            typed = {k: w.validate_element_output(_ELEMENTS[name], v) for k, v in inner.items()}
        except Exception:
            obs.update(valid=False, faithful=False)
            return obs
        out = w.form_to_dict(typed)
        diffs = _diff(inner, out)
        obs.update(valid=True, faithful=not diffs, differences=diffs)
        return obs
    parse = parsers.get(kind)
    if parse is None:
        return obs
    obs["kind"] = kind
    try:
        typed = parse(value)
    except Exception:
        obs.update(valid=False, faithful=False)
        return obs
    out = typed.to_list() if hasattr(typed, "to_list") else typed.to_dict()
    diffs = _diff(value, out)
    labels = {}
    if kind == "consolidation-response":
        for item in value:
            for attr in w.label_attributes(item["consolidatedAnnotation"]["content"]):
                labels[attr] = None
    obs.update(valid=True, faithful=not diffs, differences=diffs, labels=labels)
    if kind in ("post-annotation-event", "pre-annotation-event") and not _uris_readable(value):
        obs["unreadable"] = True
    return obs


def judge(exp: dict[str, Any], obs: dict[str, Any]) -> list[str]:
    """Why an artifact is not handled correctly ([] when it is)."""
    why = []
    if obs["kind"] != exp["kind"]:
        why.append(f"kind {obs['kind']} (expected {exp['kind']})")
        return why
    if obs["valid"] != exp["valid"]:
        why.append(f"valid={obs['valid']} (expected {exp['valid']})")
    if obs["faithful"] != exp["faithful"]:
        why.append(f"faithful={obs['faithful']} (expected {exp['faithful']}): {obs['differences'][:2]}")
    if "labels" in exp:
        got = obs["labels"] or {}
        if set(got) != set(exp["labels"]):
            why.append(f"label attributes {sorted(got)} (expected {sorted(exp['labels'])})")
        elif any(v is not None and v != exp["labels"][k] for k, v in got.items()):
            why.append(f"task types {got} (expected {exp['labels']})")
    if obs.get("unreadable"):
        why.append("an s3:// URI in it cannot be read (S3Uri.parse refuses it)")
    if exp["kind"] == "manifest" and not obs.get("agree", True):
        why.append("manifest validate and the wire API disagree")
    for key, want in (exp.get("stats") or {}).items():
        have = (obs.get("stats") or {}).get(key)
        if have != want:
            why.append(f"stats {key}={have} (expected {want})")
    return why


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", action="store_true", help="use only the wire API of a version without payload check")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    import gtflow

    ok = 0
    exp_all = artifacts()
    for name, exp in exp_all.items():
        text = (HERE / name).read_text(encoding="utf-8")
        try:
            obs = observe_before(name, text, exp["kind"]) if args.before else observe_now(name, text)
            why = judge(exp, obs)
        except Exception as exc:  # a crash is a failure to handle, not a crash of the count
            why = [f"exception {type(exc).__name__}: {exc}"]
        ok += not why
        if args.verbose or why:
            print(("ok  " if not why else "FAIL") + f" {name}" + (": " + "; ".join(why) if why else ""))
    print(f"{ok} of {len(exp_all)} artifacts handled correctly ({gtflow.__file__})")
    return 0 if ok == len(exp_all) else 1


if __name__ == "__main__":
    sys.exit(main())
