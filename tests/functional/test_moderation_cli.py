"""`gtflow moderate` end to end on the local backend."""

import io
import json

from click.testing import CliRunner
from PIL import Image

from gtflow.cli import cli
from gtflow.moderation.image import ModerationLabel
from gtflow.store import LocalStore


def provider(uri):  # plugged in as tests.functional.test_moderation_cli:provider
    return [ModerationLabel("Violence", "", 97.0, 1)] if "bad" in uri else []


def classifier(text):
    return 0.9 if "hate" in text else 0.0


def test_prompt_command(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("- id: gore\n  terms: [gore]\n  category: violence\n  action: block\n")
    runner = CliRunner()
    ok = runner.invoke(cli, ["moderate", "prompt", "a quiet lake", "--rules", str(rules)])
    assert ok.exit_code == 0 and ok.output.strip() == "allow"
    bad = runner.invoke(cli, ["moderate", "prompt", "g o r e everywhere", "--rules", str(rules), "--json"])
    assert bad.exit_code == 1
    out = json.loads(bad.output)
    assert out["action"] == "block" and "gore" in out["negativePrompts"]
    clf = runner.invoke(cli, ["moderate", "prompt", "hate speech", "--classifier",
                              "tests.functional.test_moderation_cli:classifier", "--json"])
    assert clf.exit_code == 1 and json.loads(clf.output)["reasons"][0]["source"] == "classifier"
    usage = runner.invoke(cli, ["moderate", "prompt", "x", "--no-local"])
    assert usage.exit_code == 2


def test_screen_command_and_rerun(tmp_path):
    store = LocalStore(tmp_path)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    for name in ["ok1", "ok2", "bad1"]:
        store.put_bytes(f"s3://data/set/{name}.png", buf.getvalue())
    args = ["--root", str(tmp_path), "moderate", "screen", "s3://data/set/", "--out", "s3://data/screen",
            "--provider", "tests.functional.test_moderation_cli:provider", "--quarantine", "s3://data/aside/"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "3 images: 2 safe, 1 unsafe" in res.output
    again = CliRunner().invoke(cli, args)
    assert "2 already decided" in again.output  # the unsafe one was moved aside
    assert store.exists("s3://data/aside/bad1.png")
