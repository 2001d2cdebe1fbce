"""Worker task templates: Liquid with Ground Truth semantics, checks, bundled templates.

    >>> from gtflow.ui import render_template
    >>> render_template("<p>{{ task.input.header }}</p>", {"header": "a & b"})
    '<p>a &amp; b</p>'

Public API (used by the portal and the CLI):

* :func:`make_environment` - a python-liquid Environment with GT filters and autoescape;
* :func:`compile_template` / :class:`CompiledTemplate` - cached parse, ``.render(task_input)``;
* :func:`render_template` - both at once;
* :func:`check_template` - the checks of ``gtflow template check``;
* :func:`preview_page` - a rendered page wrapped to open in a browser;
* :func:`load_bundled`, :func:`load_bundled_sample`, :func:`bundled_templates`.
"""

from __future__ import annotations

from gtflow.ui.bundled import bundled_templates, load_bundled, load_bundled_sample
from gtflow.ui.checks import CROWD_ELEMENTS, Problem, check_template
from gtflow.ui.environment import GtEnvironment, make_environment, use_store
from gtflow.ui.escaping import escape_html, escape_once, to_json
from gtflow.ui.preview import preview_page
from gtflow.ui.render import CompiledTemplate, compile_template, render_template

__all__ = [
    "CROWD_ELEMENTS",
    "CompiledTemplate",
    "GtEnvironment",
    "Problem",
    "bundled_templates",
    "check_template",
    "compile_template",
    "escape_html",
    "escape_once",
    "load_bundled",
    "load_bundled_sample",
    "make_environment",
    "preview_page",
    "render_template",
    "to_json",
    "use_store",
]
