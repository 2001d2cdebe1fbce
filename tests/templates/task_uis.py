"""The two public aws-samples task-UI repositories, pinned, for the template-check test.

Their sources are not committed here. Materialise the pinned copy (160 templates) with::

    python -m tests.templates.task_uis                      # clones from GitHub (network)
    python -m tests.templates.task_uis --git-dir amazon-a2i-sample-task-uis=/path/to/mirror.git ...

It writes ``tests/.cache/task-uis/<repository>/`` (gitignored), each with a ``COMMIT`` file
naming the commit it was taken from; ``GTFLOW_TASK_UIS_DIR`` points the test elsewhere.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: repository name (under github.com/aws-samples) -> (pinned commit, number of .html templates)
PINS: dict[str, tuple[str, int]] = {
    "amazon-sagemaker-ground-truth-task-uis": ("5c3ce0eef12943a7c7065f55e17dad9129b4faa5", 87),
    "amazon-a2i-sample-task-uis": ("ac288239a5e30937d8ce99cd5e2c4132f7185455", 73),
}
DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".cache" / "task-uis"
ENV = "GTFLOW_TASK_UIS_DIR"


def cache_dir() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_DIR)


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], check=True, capture_output=True).stdout


def materialise(name: str, git_dir: str | None, dest: Path) -> Path:
    """Extract the pinned commit of ``name`` into ``dest/name`` (from ``git_dir`` or GitHub)."""
    commit, _ = PINS[name]
    with tempfile.TemporaryDirectory() as tmp:
        if git_dir is None:
            git_dir = str(Path(tmp) / "repo.git")
            _git("init", "--bare", "-q", git_dir)
            _git("--git-dir", git_dir, "fetch", "-q", "--depth", "1", f"https://github.com/aws-samples/{name}.git", commit)
        archive = _git("--git-dir", git_dir, "archive", "--format=tar", commit)
        target = dest / name
        staging = Path(tempfile.mkdtemp(dir=dest, prefix=f".{name}."))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging)  # a git archive of a pinned commit: plain files only
        (staging / "COMMIT").write_text(commit + "\n", encoding="ascii")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--git-dir", action="append", default=[], metavar="NAME=PATH", help="a local git directory (bare mirror or .git) holding the pinned commit")
    parser.add_argument("--dest", type=Path, default=cache_dir(), help=f"where to write (default: ${ENV} or {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    sources = dict(item.split("=", 1) for item in args.git_dir)
    unknown = set(sources) - set(PINS)
    if unknown:
        parser.error(f"unknown repository {sorted(unknown)}; pinned: {sorted(PINS)}")
    args.dest.mkdir(parents=True, exist_ok=True)
    for name in PINS:
        target = materialise(name, sources.get(name), args.dest)
        count = sum(1 for _ in target.rglob("*.html"))
        print(f"{target}: {count} templates at {PINS[name][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
