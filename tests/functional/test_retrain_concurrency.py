"""Two ``gtflow retrain`` processes at once train once: the second waits for the lease, then
finds the round done. And a holder that died blocks nobody past its lease."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from gtflow.pipeline.lease import Lease
from gtflow.store import LocalStore

from .test_retrain_cli import World


@pytest.mark.training
@pytest.mark.slow
def test_two_concurrent_retrain_processes_train_once(tmp_path: Path) -> None:
    world = World(tmp_path)
    cfg = yaml.safe_load(world.config.read_text())
    cfg["training"]["steps"] = 20  # long enough that the second process arrives while the first trains
    world.config.write_text(yaml.safe_dump(cfg))
    world.answer(3)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [str(Path(sys.executable).parent / "gtflow"), "--root", str(world.root), "retrain", "--config", str(world.config),
           "--json"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lease = world.root / "data" / "retrain" / "lease.json"
    claims = world.root / "data" / "retrain" / "claims"
    deadline = time.monotonic() + 120
    while not (claims.exists() and any(claims.iterdir())) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before the second could start"
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    r1, r2 = json.loads(out1), json.loads(out2)
    assert r1["status"] == "promoted" and r2["status"] == "nothing-new"
    assert "waiting for it to finish" in err2  # it did overlap, and waited instead of training
    jobs = {o.uri.split("/")[4] for o in world.store.list("s3://data/jobs/") if o.uri.endswith("model.tar.gz")}
    assert jobs == {r1["job_name"]}
    assert len(list(world.store.list("s3://data/retrain/lineage/"))) == 1
    assert not lease.exists()


def test_a_dead_holders_lease_expires(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    uri = "s3://state/p/lease.json"
    expired = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).isoformat()
    store.put_text(uri, json.dumps({"holder": "host:999999:dead", "expiresAt": expired}))  # a crashed run's
    with Lease(store, uri, ttl=30, wait=0) as lease:
        assert json.loads(store.get_text(uri))["holder"] == lease.holder
    live = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)).isoformat()
    store.put_text(uri, json.dumps({"holder": "host:1:alive", "expiresAt": live}))
    from gtflow.errors import ConflictError

    with pytest.raises(ConflictError, match="another run holds the lease"):
        Lease(store, uri, ttl=30, wait=0.2, poll=0.05).acquire()


def test_the_holder_renews_its_lease(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    uri = "s3://state/p/lease.json"
    with Lease(store, uri, ttl=0.6, wait=0):
        first = json.loads(store.get_text(uri))["expiresAt"]
        time.sleep(0.5)  # renewed every ttl/3
        assert json.loads(store.get_text(uri))["expiresAt"] > first
        assert not Lease(store, uri, ttl=0.6, wait=0).try_acquire()
    assert not store.exists(uri)
