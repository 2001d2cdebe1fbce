"""Headless Chromium (Debian's package) driven by Playwright, with no browser download."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:  # .ci/run installs it; a missing browser is a broken setup, not a skip
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh page in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def task_frame(page: Any, timeout: float = 15000) -> Any:
    """The sandboxed frame a task's template runs in (a Playwright ``Frame``): template
    elements live there; the bar (Submit, Skip, status) stays on ``page``."""
    handle = page.wait_for_selector("#gtp-frame", timeout=timeout)
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state("load", timeout=timeout)
    return frame
