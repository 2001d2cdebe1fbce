"""The portal on an S3-compatible store (issue 20): ``/files/`` reads task images through the
store over HTTP (moto's server mode, through ``endpoint_url``), still behind the portal's own
signed, expiring, single-object URLs — so portal processes on several hosts need no shared
folder for images."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from gtflow.cli.portal import _open
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError
from gtflow.portal import create_app
from gtflow.portal.app import _image_size
from gtflow.store import S3Store
from gtflow.tasks import TaskQueue

TEMPLATE = (
    '<crowd-form><crowd-image-classifier name="category" src="{{ task.input.taskObject | grant_read_access }}" '
    'header="Pick" categories="{{ task.input.labels | to_json | escape }}"></crowd-image-classifier></crowd-form>'
)


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_portal_serves_task_images_from_an_s3_compatible_store(tmp_path: Path, endpoint_store: S3Store,
                                                               s3_endpoint: str) -> None:
    f = tmp_path / "gtflow.yaml"
    f.write_text(f"root: {tmp_path / 'state'}\nstore: s3://\nendpoint_url: {s3_endpoint}\n")
    config = GtflowConfig.from_env({"GTFLOW_CONFIG": str(f)})
    store, tq = _open(config)  # `gtflow portal` with `store: s3://` is no longer refused
    assert isinstance(store, S3Store) and store.endpoint_url == s3_endpoint
    image = _png(40, 30)
    endpoint_store.put_bytes("s3://bucket/img/a.png", image)  # written over HTTP, no local file
    assert not list(tmp_path.rglob("a.png"))
    tq.register_queue("q", owner="test", template=TEMPLATE, title="Classify")
    tq.add_task("q", "t0", {"taskObject": "s3://bucket/img/a.png", "labels": ["cat", "dog"]})
    token = tq.add_worker("alice")
    app = create_app(store, tq, state_dir=config.state_dir)
    c = TestClient(app, base_url="http://127.0.0.1")
    assert c.post("/signin", data={"token": token, "next": "/"}, follow_redirects=False).status_code == 303

    # the task frame names the image by a portal URL (its own origin), not a presigned S3 URL
    page = c.get("/queues/q/next").text
    frame = c.get(page.split('<iframe id="gtp-frame" class="gtp-frame" src="', 1)[1].split('"', 1)[0])
    assert frame.status_code == 200 and s3_endpoint not in frame.text
    url = "/files/" + frame.text.split('src="/files/', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    r = c.get(url)
    assert r.status_code == 200 and r.content == image
    assert r.headers["content-type"] == "image/png" and r.headers["cache-control"].startswith("private")
    assert "sandbox" in r.headers["content-security-policy"]
    assert c.head(url).status_code == 200
    assert _image_size(app.state.portal, url) == (40, 30)

    signer = app.state.portal.signer
    assert c.get(url.replace("sig=", "sig=0")).status_code == 403  # bad signature
    assert c.get(signer.sign("s3://bucket/img/a.png", 60, now=time.time() - 120)).status_code == 403  # expired
    assert c.get("/files/bucket/img/a.png").status_code == 403  # unsigned
    assert c.get(signer.sign("s3://bucket/img/missing.png", 60)).status_code == 404
    assert c.get(signer.sign("s3://nobucket/img/a.png", 60)).status_code == 404
    assert _image_size(app.state.portal, signer.sign("s3://bucket/img/missing.png", 60)) is None


def test_portal_on_a_store_without_a_folder_needs_a_state_dir(tmp_path: Path, endpoint_store: S3Store) -> None:
    tq = TaskQueue(tmp_path / "tasks.db", store=endpoint_store)
    with pytest.raises(UsageError, match="state_dir"):
        create_app(endpoint_store, tq)
