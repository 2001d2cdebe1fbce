"""A labeling-job state write and a human task UI write killed midway (SIGKILL in the rename)
leave a temp file in the store's one temp folder; the next start (opening the backend) removes
it, as it does for object writes, and the state file is either whole or absent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gtflow.backends.local import LocalBackend
from gtflow.config import GtflowConfig
from gtflow.store import LocalStore

CHILD = textwrap.dedent("""
    import os, signal, sys
    from gtflow.store import LocalStore

    root, what = sys.argv[1], sys.argv[2]
    store = LocalStore(root)
    real = os.replace

    def replace(src, dst):  # the process dies between writing the temp file and renaming it
        if str(dst).endswith(("Demo.json", "review-ui.json")):
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)

    if what == "labeling-job":
        from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob

        store.put_text("s3://bkt/in.manifest", '{"source": "hello"}\\n')
        job = LocalLabelingJob(LocalJobSpec(name="Demo", input_manifest="s3://bkt/in.manifest",
                                            output_path="s3://bkt/out", template="<crowd-form></crowd-form>"),
                               store=store)
        os.replace = replace
        job.start()
    else:
        from gtflow.a2i.human_task_ui import HumanTaskUi
        from gtflow.a2i.local import LocalHumanLoops

        loops = LocalHumanLoops.for_store(store)
        os.replace = replace
        loops.create_human_task_ui(HumanTaskUi.bundled("review-ui"))
    print("not killed")
""")


@pytest.mark.parametrize("what,state_file", [("labeling-job", "labeling-jobs/Demo.json"),
                                             ("human-task-ui", "a2i/human-task-uis/review-ui.json")])
def test_temp_file_of_a_killed_state_write_is_removed_at_next_start(tmp_path: Path, what: str,
                                                                    state_file: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), what], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stdout + proc.stderr  # killed in the write, as a crash would
    state_dir = LocalStore(tmp_path).state_dir
    left = list((state_dir / "tmp").glob("put-*"))
    assert len(left) == 1 and left[0].stat().st_size > 0  # the write's data, never renamed into place
    json.loads(left[0].read_text())  # a whole document: only the rename was missing
    assert not (state_dir / state_file).exists()
    # and nothing else beside the state files (no .state-*/.tmp-* leftovers elsewhere)
    assert [p for p in state_dir.rglob("*") if p.is_file() and p.name.startswith(".")] == []

    assert LocalBackend(GtflowConfig.from_env(root=tmp_path)).store  # the next start
    assert list((state_dir / "tmp").glob("*")) == []
