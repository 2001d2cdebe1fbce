"""Several portal processes on one PostgreSQL under load: answers/s, latency, and nothing lost.

Tasks are created by human loops (``LocalHumanLoops.start`` on a flow definition with a
crowd-classifier UI, one worker per task). N simulated workers (threads, each a
``PortalClient`` over real HTTP on 127.0.0.1) sign in and answer until the queue is empty: each
answer is ``GET /queues/<q>/next`` (the hold, the task page) + ``POST .../submit``, timed
together. Worker *i* talks to portal process *i mod P* (a reverse proxy with sticky sessions).
Configurations, all in the same run, on the same machine:

* the baseline: **1 portal process on SQLite** (the embedded default);
* **1, 2 and 4 portal processes** (``gtflow portal``, separate OS processes) sharing one
  PostgreSQL server (a throwaway cluster started by ``scripts/postgres-test.sh`` unless
  ``GTFLOW_TEST_POSTGRES_DSN`` names one) and one store folder.

After each configuration the end state is checked from the database and the store, not from
the clients: tasks with more answers than places (answered twice), answers a client saw accepted
that the database does not have (lost), and loops not ``Completed`` or without their
``output.json`` in the store (incomplete). Each must be 0; the benchmark fails otherwise.

Loopback only; bounded (a fixed number of tasks, a deadline per configuration). The machine's
core count bounds what more processes can give: the clients share it with the servers.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Measurement

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-classifier name="category" categories="['cat', 'dog', 'bird']" header="What is in {{ task.input.taskObject }}?">
    <classification-target>{{ task.input.taskObject }}</classification-target>
  </crowd-classifier>
</crowd-form>
"""
FLOW = "load-review"


def _gtflow() -> str:
    exe = Path(sys.executable).parent / "gtflow"
    return str(exe) if exe.exists() else "gtflow"


class Portals:
    """``count`` ``gtflow portal`` processes on ``root``, with ``env`` (GTFLOW_QUEUE...)."""

    def __init__(self, root: Path, count: int, env: dict[str, str]) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.urls: list[str] = []
        for _ in range(count):
            p = subprocess.Popen([_gtflow(), "-q", "--root", str(root), "portal", "--port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env={**os.environ, **env})
            self.procs.append(p)
            assert p.stdout is not None
            deadline = time.monotonic() + 60
            line = ""
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                m = re.search(r"gtflow portal on (http://127\.0\.0\.1:\d+)/", line)
                if m:
                    self.urls.append(m.group(1))
                    break
                if not line and p.poll() is not None:
                    break
            else:
                line = "(timed out)"
            if len(self.urls) != len(self.procs):
                self.close()
                raise RuntimeError(f"a portal process did not start: {line.strip()}")
            threading.Thread(target=p.stdout.read, daemon=True).start()  # drain its output
        for url in self.urls:  # ready when /healthz answers, as a proxy would see it
            self._wait_healthy(url)

    def _wait_healthy(self, url: str) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the portal at {url} never became healthy")
            time.sleep(0.1)

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def open_local(root: Path, queue: str) -> Any:
    from gtflow.backends import open_backend
    from gtflow.config import GtflowConfig

    return open_backend(GtflowConfig(root=root, queue=queue))


def create_loops(backend: Any, tasks: int) -> list[str]:
    from gtflow.a2i import FlowDefinition, HumanTaskUi

    loops = backend.human_loops
    ui = loops.create_human_task_ui(HumanTaskUi("load-ui", TEMPLATE))
    loops.create_flow_definition(FlowDefinition(FLOW, "s3://bucket/a2i-out", ui, "Classify", "Pick one"))
    names = []
    for i in range(tasks):
        res = loops.start(FLOW, {"taskObject": f"s3://bucket/img/{i:05d}.jpg"}, name=f"load-{i:05d}")
        names.append(res.name)
    return names


def drive(urls: list[str], tokens: list[str], deadline: float) -> tuple[list[float], int, int, float]:
    """Workers answer until the queue is empty; (latencies, accepted, refused, seconds)."""
    from gtflow.errors import GtflowError
    from gtflow.portal.client import PortalClient

    latencies: list[float] = []
    accepted = [0]
    refused = [0]
    lock = threading.Lock()

    def worker(i: int, token: str) -> None:
        with PortalClient(urls[i % len(urls)], token) as client:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                task = client.next_task(FLOW)
                if task is None:
                    return
                try:
                    client.submit(FLOW, task.task_id, {"category": {"label": ("cat", "dog", "bird")[i % 3]}})
                    ok = True
                except GtflowError:  # refused (held by another worker): counted, never hidden
                    ok = False
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    accepted[0] += ok
                    refused[0] += not ok

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(tokens)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, accepted[0], refused[0], time.perf_counter() - t0


def check_end_state(backend: Any, names: list[str], accepted: int) -> dict[str, int]:
    """Count from the database and the store: answered twice, lost, loops incomplete."""
    q = backend.task_queue
    per_task = {t.task_id: len(q.answers(FLOW, t.task_id)) for t in q.tasks(FLOW)}
    stored = sum(per_task.values())
    incomplete = 0
    for name in names:
        loop = backend.human_loops.describe(name)
        if loop.status != "Completed" or not loop.output_uri or not backend.store.exists(loop.output_uri):
            incomplete += 1
    return {"twice": sum(1 for n in per_task.values() if n > 1), "lost": max(0, accepted - stored),
            "extra": max(0, stored - accepted), "incomplete": incomplete}


def _one(label: str, queue_target: str, processes: int, workers: int, tasks: int,
         budget: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gtflow-load-") as tmp:
        root = Path(tmp) / "store"
        backend = open_local(root, queue_target)
        names = create_loops(backend, tasks)
        tokens = [backend.task_queue.add_worker(f"w{i:02d}") for i in range(workers)]
        portals = Portals(root, processes, {"GTFLOW_QUEUE": queue_target} if queue_target else {})
        try:
            lat, accepted, refused, secs = drive(portals.urls, tokens, time.monotonic() + budget)
        finally:
            portals.close()
        checks = check_end_state(backend, names, accepted)
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
    row = {"label": label, "processes": processes, "workers": workers, "tasks": tasks,
           "answers_per_s": accepted / secs if secs else 0.0, "p50_ms": statistics.median(lat) * 1000 if lat else 0.0,
           "p95_ms": p95 * 1000, "accepted": accepted, "refused": refused, **checks}
    print(f"  {label}: {row['answers_per_s']:.1f} answers/s, p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, "
          f"accepted {accepted}, refused {refused}, twice {checks['twice']}, lost {checks['lost']}, "
          f"incomplete {checks['incomplete']}", flush=True)
    return row


def _postgres() -> tuple[str, str | None]:
    """A DSN: GTFLOW_TEST_POSTGRES_DSN, or a throwaway cluster started here (its folder)."""
    dsn = os.environ.get("GTFLOW_TEST_POSTGRES_DSN")
    if dsn:
        return dsn, None
    out = subprocess.run(["bash", str(REPO / "scripts" / "postgres-test.sh"), "start"], check=True,
                         capture_output=True, text=True).stdout
    values = dict(re.findall(r"(\w+)=(\S+)", out))
    return values["GTFLOW_TEST_POSTGRES_DSN"], values["PGTEST_DIR"]


def _fresh_schema(dsn: str, name: str) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{name}"


def run(quick: bool) -> list[Measurement]:
    worker_counts = (4,) if quick else (4, 16)
    tasks = 40 if quick else 240
    budget = 120.0 if quick else 400.0
    dsn, cluster = _postgres()
    rows = []
    try:
        for workers in worker_counts:
            rows.append(_one(f"SQLite, 1 process, {workers} workers", "", 1, workers, tasks, budget))
            for p in (1, 2, 4):
                rows.append(_one(f"PostgreSQL, {p} process{'es' if p > 1 else ''}, {workers} workers",
                                 _fresh_schema(dsn, f"bench_load_{p}_{workers}"), p, workers, tasks, budget))
    finally:
        if cluster:
            subprocess.run(["bash", str(REPO / "scripts" / "postgres-test.sh"), "stop", cluster], check=False)
    bad = [r for r in rows if r["twice"] or r["lost"] or r["incomplete"] or r["extra"]]
    if bad:
        raise AssertionError(f"answers duplicated, lost or loops incomplete: {bad}")
    out = []
    for r in rows:
        base = next(b for b in rows if b["processes"] == 1 and b["workers"] == r["workers"] and b["label"].startswith("SQLite"))
        note = (f"{r['tasks']} loops; p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms "
                f"vs {base['p95_ms']:.0f} ms; twice {r['twice']}, lost {r['lost']}, incomplete {r['incomplete']}, "
                f"refused {r['refused']}")
        out.append(Measurement(f"portal load: {r['label']}", r["answers_per_s"], "answers/s",
                               f"SQLite, 1 process, {r['workers']} workers", base["answers_per_s"], note=note))
    return out
