"""Progress a person can follow: plain lines off a terminal, at least every 10 s, with step/total,
elapsed, ETA and the loss; a tiny training run reports through it."""

from __future__ import annotations

import io
import re
import time

import pytest

from gtflow.progress import ProgressOutput, progress_output

LINE = re.compile(r"^\[gtflow\] (?P<what>[^:]+): (?P<unit>[a-z ]+) (?P<done>\d+)(/(?P<total>\d+) \(\d+%\))?, "
                  r"elapsed (?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)(?P<rest>.*)$")


class FakeClock:
    """Advances by ``tick`` seconds each time it is read."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


class NotATerminal(io.StringIO):
    def isatty(self) -> bool:
        return False


def _seconds(m: re.Match[str]) -> int:
    return int(m["h"]) * 3600 + int(m["m"]) * 60 + int(m["s"])


def test_plain_lines_start_end_and_never_more_than_the_interval_apart() -> None:
    stream = NotATerminal()
    out = ProgressOutput(stream=stream, interval=10.0, clock=FakeClock(0.7), heartbeat=False)
    assert out.is_plain()
    with out.task("train job-x", total=300) as task:
        for k in range(300):
            task.advance(loss=5.0 - k / 100)
    lines = stream.getvalue().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert parsed[0]["done"] == "0" and parsed[0]["total"] == "300"  # a line at the start
    assert parsed[-1]["done"] == "300" and ", done" in parsed[-1]["rest"]  # and at the end
    assert "loss 2.010" in lines[-1]
    # one read of the clock per step: lines at most 10 s + one step apart, about one per 10 s
    elapsed = [_seconds(m) for m in parsed if m]
    assert max(b - a for a, b in zip(elapsed, elapsed[1:], strict=False)) <= 10 + 1
    assert 300 * 0.7 / 10 <= len(lines) <= 300 * 0.7 / 10 + 3
    middle = lines[len(lines) // 2]
    assert re.search(r"eta \d+:\d\d:\d\d, loss \d+\.\d{3}$", middle), middle


def test_heartbeat_prints_while_a_step_runs_long() -> None:
    stream = NotATerminal()
    out = ProgressOutput(stream=stream, interval=0.05)
    with out.task("train slow", total=2) as task:
        deadline = time.monotonic() + 10
        while stream.getvalue().count("\n") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # one long "step": no advance() call at all
        task.advance(loss=1.0)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 4 and all(line.startswith("[gtflow] train slow: step 0/2") for line in lines[:3])


def test_disabled_and_terminal_outputs() -> None:
    silent = NotATerminal()
    with progress_output(False).task("x", 3) as task:
        task.advance()
    assert silent.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    out = ProgressOutput(stream=term, heartbeat=False)
    assert not out.is_plain()
    with out.task("train tty", total=4) as task:
        for _ in range(4):
            task.advance(loss=0.5)
    text = term.getvalue()
    assert "train tty" in text and "4/4" in text and "loss 0.500" in text and "[gtflow]" not in text


@pytest.mark.training
def test_a_tiny_training_reports_plain_progress_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gtflow.store import LocalStore
    from gtflow.training.local_trainer import LocalTrainingConfig, train_local
    from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

    store = LocalStore(tmp_path)
    generate_dataset(store, "s3://data/seed", 4, seed=1, image_size=64, manifest_uri="s3://data/seed.manifest")
    generate_dataset(store, "s3://data/val", 2, seed=2, image_size=64, manifest_uri="s3://data/val.manifest")
    stream = NotATerminal()
    clock = FakeClock(4.0)  # every read of the clock is 4 s later: a slow machine
    train_local(store, train="s3://data/seed.manifest", validation="s3://data/val.manifest",
                label_attribute="bounding-box", output_path="s3://data/out", class_map=dict(enumerate(DEFAULT_CLASSES)),
                config=LocalTrainingConfig(steps=6, image_size=64, batch_size=2, warmup_steps=1), num_threads=1,
                progress=ProgressOutput(stream=stream, clock=clock, interval=10.0, heartbeat=False))
    lines = stream.getvalue().splitlines()
    train = [LINE.match(line) for line in lines if ": step " in line]
    assert all(train) and train[0]["done"] == "0" and train[-1]["done"] == "6" and train[-1]["total"] == "6"
    assert all(re.search(r"loss \d+\.\d{3}", line) for line in lines if ": step " in line and " 0/6" not in line)
    elapsed = [_seconds(m) for m in train if m]
    assert max(b - a for a, b in zip(elapsed, elapsed[1:], strict=False)) <= 10 + 8
    assert any(line.startswith("[gtflow] validate ") and "image pass 4/4" in line for line in lines)
