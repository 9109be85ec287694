"""The HTML page: one file holding the data as JSON and the code that draws it.

Nothing is fetched: the style and the scripts are inlined from ``assets/``,
the data sits in a ``<script type="application/json">`` block, and a
Content-Security-Policy of ``default-src 'none'`` (inline scripts and styles
allowed) makes the browser refuse any request the page might try, so it opens
the same on a laptop on a plane as in CI. Links to artifacts are navigation,
which that policy leaves alone.

The scripts draw lazily: tables are paginated and only the rows on the page
are built (each with its small plot), a metric's large plot is drawn when its
row is opened, so a run of 10,000 jobs opens as fast as one of ten.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Any

SCRIPTS = ("plots.js", "tables.js", "report.js", "sections.js")
STYLE = "report.css"
POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src data:")

#: Before everything else: any error of the page's scripts is kept in the DOM
#: (``data-errors`` of <html>), so a test reading the rendered page sees it.
ERROR_TRAP = ("window.addEventListener('error', function (e) {"
              "var d = document.documentElement;"
              "d.setAttribute('data-errors', (d.getAttribute('data-errors') || '') + "
              "(e.message || 'error') + '\\n');});")


def _asset(name: str) -> str:
    return files(__package__).joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def embedded_json(data: Any) -> str:
    """JSON safe inside <script>: every ``<`` escaped (it only occurs in strings)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c")


def render(data: dict[str, Any]) -> str:
    """The whole page for ``data`` (``writer.report_data``)."""
    title = html.escape(f"pytest-wa report: {data['run']['name']}")
    scripts = "\n".join(f"<script>\n{_asset(name)}\n</script>" for name in SCRIPTS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n<script>{ERROR_TRAP}</script>\n"
        f"<style>\n{_asset(STYLE)}\n</style>\n</head>\n<body>\n"
        f"<main id=\"report\"><h1>{title}</h1>"
        "<noscript>This report draws its tables and plots with JavaScript.</noscript>"
        "</main>\n"
        f"<script type=\"application/json\" id=\"wa-data\">{embedded_json(data)}</script>\n"
        f"{scripts}\n</body>\n</html>\n")
