"""Preview pages: a rendered worker task wrapped so that it opens in a browser.

Ground Truth templates are HTML fragments that load
``https://assets.crowd.aws/crowd-html-elements.js``. A preview page replaces that script with
gtflow's local implementation of the Crowd elements (``gtflow/portal/static/
crowd-html-elements.js``, shipped by the portal), inlined so the page works from a
``file://`` URL with no network (with ``crowd-elements.css`` from beside it, which the script
would otherwise fetch relative to its own URL). When that file is absent, the page says so in a banner and
the elements stay inert (their text and layout still show).

    >>> page = preview_page("<crowd-form></crowd-form>", title="demo", crowd_js=None)
    >>> "<!DOCTYPE html>" in page and "not available" in page
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from gtflow.ui.escaping import escape_html

__all__ = ["preview_page", "LOCAL_CROWD_JS", "AWS_CROWD_JS"]

AWS_CROWD_JS = "https://assets.crowd.aws/crowd-html-elements.js"
#: Where the portal ships its implementation of the Crowd HTML Elements.
LOCAL_CROWD_JS = Path(__file__).resolve().parent.parent / "portal" / "static" / "crowd-html-elements.js"

_AWS_SCRIPT_TAG = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?https://assets\.crowd\.aws/crowd-html-elements\.js[\"']?[^>]*>\s*</script\s*>",
    re.IGNORECASE,
)
_DEFAULT = object()

_STYLE = """
  .gtflow-preview-banner { font: 14px/1.4 system-ui, sans-serif; padding: .5rem .75rem;
    margin: 0 0 1rem; border-radius: 4px; background: #eef4fb; color: #123; }
  .gtflow-preview-banner.gtflow-missing { background: #fff4e5; color: #5a3200; }
"""


def preview_page(html: str, *, title: str = "", crowd_js: Path | None | object = _DEFAULT) -> str:
    """``html`` (a rendered template) as a standalone page with the local Crowd elements.

    ``crowd_js`` is the local elements script (default: the portal's, when installed; None:
    none). The AWS script tag in ``html`` is removed when the local script is inlined.
    """
    path = LOCAL_CROWD_JS if crowd_js is _DEFAULT else crowd_js
    script = ""
    if isinstance(path, Path) and path.is_file():
        js = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
        script = f"<script>\n{js}\n</script>"
        css_path = path.with_name("crowd-elements.css")  # the script loads it from beside itself
        if css_path.is_file():
            css = css_path.read_text(encoding="utf-8").replace("</style", "<\\/style")
            script = f"<style>\n{css}\n</style>\n{script}"
        html = _AWS_SCRIPT_TAG.sub("", html)
        banner = (
            '<div class="gtflow-preview-banner" role="note">gtflow preview'
            f"{': ' + str(escape_html(title)) if title else ''} - Crowd elements from the local "
            "implementation; submitting shows nothing here.</div>"
        )
    else:
        banner = (
            '<div class="gtflow-preview-banner gtflow-missing" role="note">gtflow preview'
            f"{': ' + str(escape_html(title)) if title else ''} - the local Crowd elements script "
            "(gtflow/portal/static/crowd-html-elements.js) is not available, so the crowd-* "
            "elements are inert here (the page may try to load them from assets.crowd.aws). "
            "Serve the task from the review portal to use them.</div>"
        )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape_html(title or 'gtflow preview')}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{banner}\n{html}\n"
        # At the end, like the portal's deferred script: elements upgrade with their children.
        f"{script}\n</body>\n</html>\n"
    )
