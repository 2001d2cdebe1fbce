"""Progress of long stages (training steps, images predicted) that a person can follow.

On a terminal: a rich progress bar (done/total, elapsed, ETA, and the latest values such as the
loss). Anywhere else (CI, a log file, ``nohup``): plain lines, one at the start, one at least
every ``interval`` seconds (a heartbeat thread prints the latest state even while a step or an
evaluation runs long) and one at the end::

    [gtflow] train demo-v0: step 120/300 (40%), elapsed 0:00:42, eta 0:01:03, loss 3.214

Progress goes to stderr, so a command's stdout (JSON lines) stays clean.

    >>> import io
    >>> out = ProgressOutput(stream=io.StringIO(), heartbeat=False)
    >>> with out.task("train demo", total=2, unit="step") as t:
    ...     t.advance(loss=1.5)
    ...     t.advance(loss=1.25)
    >>> print(out.stream.getvalue().splitlines()[-1])  # doctest: +ELLIPSIS
    [gtflow] train demo: step 2/2 (100%), elapsed 0:00:00, done, loss 1.250
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TextIO

__all__ = ["ProgressOutput", "ProgressTask", "progress_output"]

#: seconds between plain lines (well inside the promised "at least every 10 s")
DEFAULT_INTERVAL = 5.0


def _hms(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@dataclass
class ProgressOutput:
    """Where and how progress is shown. ``plain=None`` decides by ``stream.isatty()``."""

    stream: TextIO | None = None  # None: sys.stderr at the time of use
    interval: float = DEFAULT_INTERVAL
    clock: Callable[[], float] = time.monotonic
    plain: bool | None = None
    heartbeat: bool = True
    enabled: bool = True

    def _stream(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def is_plain(self) -> bool:
        if self.plain is not None:
            return self.plain
        isatty = getattr(self._stream(), "isatty", None)
        return not (callable(isatty) and isatty())

    def task(self, description: str, total: int | None, *, unit: str = "step") -> ProgressTask:
        """A context manager: ``with out.task("train", 300) as t: ... t.advance(loss=...)``."""
        return ProgressTask(self, description, total, unit)


def progress_output(progress: bool | ProgressOutput | None) -> ProgressOutput:
    """Normalize a ``progress=`` argument: ``True`` → the default output, falsy → disabled."""
    if isinstance(progress, ProgressOutput):
        return progress
    return ProgressOutput(enabled=bool(progress))


@dataclass
class ProgressTask:
    output: ProgressOutput
    description: str
    total: int | None
    unit: str = "step"
    done: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    _started: float = 0.0
    _last_line: float = 0.0
    _bar: Any = None
    _bar_task: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> ProgressTask:
        out = self.output
        self._started = self._last_line = out.clock()
        if not out.enabled:
            return self
        if out.is_plain():
            self._line(now=self._started)
            if out.heartbeat:
                self._thread = threading.Thread(target=self._beat, name="gtflow-progress", daemon=True)
                self._thread.start()
        else:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 TextColumn("{task.fields[info]}"), console=Console(file=out._stream()),
                                 transient=False)
            self._bar.start()
            self._bar_task = self._bar.add_task(self.description, total=self.total, info="")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
        if not self.output.enabled:
            return
        if self._bar is not None:
            self._bar.stop()
        else:
            self._line(final="done" if exc_type is None else f"stopped ({exc_type.__name__})")

    # -- updates ----------------------------------------------------------------------------
    def advance(self, n: int = 1, **info: Any) -> None:
        """``n`` more units done; ``info`` (e.g. ``loss=...``) is shown beside the count."""
        with self._lock:
            self.done += n
            self.info.update(info)
        if not self.output.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._bar_task, advance=n,
                             info=", ".join(f"{k} {_fmt(v)}" for k, v in self.info.items()))
        else:
            now = self.output.clock()
            if now - self._last_line >= self.output.interval:
                self._line(now=now)

    def _beat(self) -> None:
        step = max(0.05, self.output.interval / 4)
        while not self._stop.wait(step):
            now = self.output.clock()
            if now - self._last_line >= self.output.interval:
                self._line(now=now)

    def line(self, final: str | None = None, *, now: float | None = None) -> str:
        """The plain progress line for the current state."""
        now = self.output.clock() if now is None else now
        elapsed = now - self._started
        with self._lock:
            done, info = self.done, dict(self.info)
        parts = [f"[gtflow] {self.description}: {self.unit} {done}"]
        if self.total:
            parts[0] += f"/{self.total} ({100 * done // self.total}%)"
        parts.append(f"elapsed {_hms(elapsed)}")
        if final is not None:
            parts.append(final)
        elif self.total and done:
            parts.append(f"eta {_hms(elapsed / done * (self.total - done))}")
        parts += [f"{k} {_fmt(v)}" for k, v in info.items()]
        return ", ".join(parts)

    def _line(self, final: str | None = None, *, now: float | None = None) -> None:
        now = self.output.clock() if now is None else now
        text = self.line(final, now=now)
        with self._lock:
            self._last_line = now
            stream = self.output._stream()
            stream.write(text + "\n")
            stream.flush()
