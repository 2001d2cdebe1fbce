"""Preview pages: local Crowd elements inlined when present, a clear banner when not."""

from __future__ import annotations

from pathlib import Path

from gtflow.ui import preview_page
from gtflow.ui.preview import LOCAL_CROWD_JS

FRAGMENT = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n<crowd-form></crowd-form>'


def test_inlines_the_local_script_and_drops_the_aws_one(tmp_path: Path) -> None:
    js = tmp_path / "crowd.js"
    js.write_text("window.crowdLoaded = '</script>';")
    page = preview_page(FRAGMENT, title="t <1>", crowd_js=js)
    assert "assets.crowd.aws" not in page
    assert "window.crowdLoaded = '<\\/script>';" in page
    assert "<title>t &lt;1&gt;</title>" in page
    assert "<crowd-form></crowd-form>" in page


def test_inlines_the_elements_css_beside_the_script(tmp_path: Path) -> None:
    js = tmp_path / "crowd-html-elements.js"
    js.write_text("window.x = 1;")
    (tmp_path / "crowd-elements.css").write_text("crowd-form { display: block; }")
    page = preview_page(FRAGMENT, crowd_js=js)
    assert "<style>\ncrowd-form { display: block; }\n</style>" in page


def test_says_so_when_the_local_script_is_absent(tmp_path: Path) -> None:
    page = preview_page(FRAGMENT, crowd_js=tmp_path / "missing.js")
    assert "is not available" in page
    assert "assets.crowd.aws" in page  # left as the template wrote it


def test_default_script_location_is_the_portals() -> None:
    assert LOCAL_CROWD_JS.parts[-3:] == ("portal", "static", "crowd-html-elements.js")
