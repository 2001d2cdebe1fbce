"""Collecting A2I answers: read N ``output.json`` objects and convert them to manifest lines.

gtflow's path (:func:`gtflow.a2i.stream_outputs` + :func:`gtflow.a2i.convert_outputs`): one
listing, GETs on a thread pool, typed parsing, conversion. The baseline is the approach of the
public A2I sample notebooks: a serial loop of list, ``get_object``, ``json.loads`` and the same
conversion. Both run in the same process against the same objects:

* S3: a moto server (``ThreadedMotoServer`` on 127.0.0.1, port 0) through boto3;
* S3 + 20 ms: the same server with 20 ms added to every request (a WSGI middleware that
  sleeps), a stand-in for S3's first-byte latency that loopback does not have;
* local: a LocalStore folder (``LocalHumanLoops`` writes there), baseline = serial
  ``os.walk`` + ``open`` + ``json.loads``.

Sizes: 5,000 objects on S3 (``GTFLOW_BENCH_A2I_S3=20000`` for the full size: on the shared
2-core machine an earlier full run took 9 minutes with the rest and gave 138 vs 124 objects/s,
1.11x, before listing and reads were streamlined), 2,000 with
added latency, 20,000 locally. On loopback there is no network latency to hide: each GET costs
client and moto-server CPU under one GIL, so threads gain little; with latency they overlap the
waits. Parsing and conversion (typed values, the same code on both sides) dominate locally.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from benchmarks.harness import Measurement

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

BUCKET = "gtflow-bench"
PREFIX = "a2i-results/od-review/"
CLASSES = {i: n for i, n in enumerate(["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
                                        "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
                                        "sheep", "sofa", "train", "tvmonitor"])}
LATENCY_S = 0.020


def _doc(i: int) -> dict[str, Any]:
    """An output.json like the live A2I object-detection sample, 1-2 workers, 1-3 boxes."""
    boxes = [{"height": 40 + j, "label": CLASSES[(i + j) % 20], "left": 10 * j, "top": 5 * j, "width": 60 + j}
             for j in range(1 + i % 3)]
    answer = {
        "acceptanceTime": "2021-05-06T21:27:21.938Z",
        "answerContent": {"annotatedResult": {"boundingBoxes": boxes, "inputImageProperties": {"height": 480, "width": 640}}},
        "submissionTime": "2021-05-06T21:28:24.990Z",
        "timeSpentInSeconds": 63.052,
        "workerId": f"{i:016x}",
        "workerMetadata": {"identityData": {"identityProviderType": "Cognito", "issuer": "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_x", "sub": f"sub-{i}"}},
    }
    answers = [answer] if i % 4 else [answer, {**copy.deepcopy(answer), "workerId": "w2"}]
    name = f"loop-{i:06d}"
    return {
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/od-review",
        "humanAnswers": answers,
        "humanLoopName": name,
        "inputContent": {"taskObject": f"s3://images/img{i:06d}.jpg", "labels": list(CLASSES.values()), "initialValue": boxes[:1], "scores": [0.42]},
    }


def _key(i: int) -> str:
    return f"{PREFIX}2021/05/06/21/{(i // 3600) % 60:02d}/{(i // 60) % 60:02d}/loop-{i:06d}/output.json"


def _convert(doc: dict[str, Any]) -> dict[str, Any]:
    from gtflow.a2i import to_manifest_line
    from gtflow.wire.a2i import HumanLoopOutput

    return to_manifest_line(HumanLoopOutput.from_dict(doc), CLASSES, "a2i-retraining")


# -- moto server --------------------------------------------------------------------------------
@contextmanager
def _moto(latency: float = 0.0) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:  # the parent's, with quiet logs and optional latency
            from moto.server import DomainDispatcherApplication, create_backend_app
            from werkzeug.serving import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log_request(self, *a: Any, **k: Any) -> None:
                    pass

            inner = DomainDispatcherApplication(create_backend_app)

            def app(environ: Any, start_response: Any) -> Any:
                if latency:
                    time.sleep(latency)
                return inner(environ, start_response)

            self._server = make_server(self._ip_address, self._port, app, True, request_handler=Quiet)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _client(endpoint: str, pool: int = 10) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(retries={"mode": "standard"}, max_pool_connections=pool))


def _fill_s3(client: Any, n: int, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    bodies = [(i, json.dumps(_doc(i)).encode()) for i in range(n)]
    try:  # the server runs in this process: fill its backend directly (setup, not measured)
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        for i, body in bodies:
            backend.put_object(bucket, _key(i), body)
        return
    except Exception:  # pragma: no cover - moto internals moved: upload over HTTP
        pass
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda t: client.put_object(Bucket=bucket, Key=_key(t[0]), Body=t[1]), bodies))


def _serial_s3(client: Any, bucket: str) -> int:
    """The sample notebooks' way: list, then get + json.loads + convert, one at a time."""
    lines = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for obj in page.get("Contents", ()):
            if not obj["Key"].endswith("/output.json"):
                continue
            doc = json.loads(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            _convert(doc)
            lines += 1
    return lines


def _gtflow(store: Any, prefix: str, workers: int) -> int:
    from gtflow.a2i import convert_outputs, stream_outputs

    outputs = stream_outputs(store, prefix, max_workers=workers)
    return sum(1 for _ in convert_outputs(outputs, CLASSES, "a2i-retraining", strict=True))


def _s3_case(n: int, latency: float, label: str) -> Measurement:
    from gtflow.store import S3Store

    bucket = f"{BUCKET}-{int(latency * 1000)}ms-{n}"  # moto's state outlives one server
    with _moto(latency) as endpoint:
        _fill_s3(_client(endpoint, 16), n, bucket)
        base_client = _client(endpoint)
        t0 = time.perf_counter()
        assert _serial_s3(base_client, bucket) == n
        t_base = time.perf_counter() - t0
        workers = 64
        store = S3Store(_client(endpoint, workers))
        t0 = time.perf_counter()
        assert _gtflow(store, f"s3://{bucket}/{PREFIX}", workers) == n
        t_ours = time.perf_counter() - t0
    return Measurement(
        what=f"collect + convert {n:,} output.json, {label}", figure=n / t_ours, unit="objects/s",
        baseline="serial list-get-parse (sample notebooks)", baseline_figure=n / t_base,
        note=f"{t_ours:.1f} s vs {t_base:.1f} s, {workers} threads",
    )


# -- local store --------------------------------------------------------------------------------
def _fill_local(root: Path, n: int) -> None:
    base = root / BUCKET
    for i in range(n):
        p = base / _key(i)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(_doc(i)))


def _serial_local(folder: Path) -> int:
    lines = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if f == "output.json":
                with open(os.path.join(dirpath, f), "rb") as fh:
                    _convert(json.loads(fh.read()))
                lines += 1
    return lines


def _local_case(n: int) -> Measurement:
    from gtflow.store import LocalStore

    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        _fill_local(root, n)
        t0 = time.perf_counter()
        assert _serial_local(root / BUCKET / PREFIX) == n
        t_base = time.perf_counter() - t0
        store = LocalStore(root)
        t0 = time.perf_counter()
        assert _gtflow(store, f"s3://{BUCKET}/{PREFIX}", 8) == n
        t_ours = time.perf_counter() - t0
    return Measurement(
        what=f"collect + convert {n:,} output.json, local store", figure=n / t_ours, unit="objects/s",
        baseline="serial os.walk-open-json.loads", baseline_figure=n / t_base,
        note=f"{t_ours:.1f} s vs {t_base:.1f} s",
    )


def run(quick: bool) -> list[Measurement]:
    n_s3 = 500 if quick else int(os.environ.get("GTFLOW_BENCH_A2I_S3", "5000"))
    n_lat = 200 if quick else int(os.environ.get("GTFLOW_BENCH_A2I_LATENCY", "2000"))
    n_local = 1000 if quick else int(os.environ.get("GTFLOW_BENCH_A2I_LOCAL", "20000"))
    return [
        _s3_case(n_s3, 0.0, "S3 (moto, loopback)"),
        _s3_case(n_lat, LATENCY_S, f"S3 (moto, +{LATENCY_S * 1000:.0f} ms per request)"),
        _local_case(n_local),
    ]
