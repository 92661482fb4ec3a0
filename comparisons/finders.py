"""Serve plotly.js from the plotly wheel: the exact version the Python package pins, no CDN.

Only `plotly.min.js` is exposed (as ``plotly/plotly.min.js``), not the wheel's data sets.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"
STATIC_PATH = "plotly/plotly.min.js"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PACKAGE_DATA))
        self.storage.prefix = "plotly"

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != STATIC_PATH:
            return [] if find_all or kwargs.get("all") else None
        found = str(PACKAGE_DATA / "plotly.min.js")
        return [found] if find_all or kwargs.get("all") else found

    def list(self, ignore_patterns):
        yield "plotly.min.js", self.storage


_RULE = re.compile(r"""(?:"([^"]*)"|'([^']*)')\s*:\s*(?:"([^"]*)"|'([^']*)')""")


def plotly_css() -> str:
    """The style rules plotly.js would inject at run time, as a stylesheet.

    A strict CSP (`style-src 'self'`) blocks plotly.js's injected <style>; the dashboards link
    this file instead (`static/css/plotly.css`, with id `plotly.js-style-global` and class
    `no-inline-styles`, which tells plotly.js not to inject). A test keeps the file equal to
    what the installed plotly.js carries: after a plotly upgrade, regenerate it with
    ``python -c "from comparisons.finders import plotly_css; print(plotly_css(), end='')" > static/css/plotly.css``.
    """
    source = (PACKAGE_DATA / "plotly.min.js").read_text(encoding="utf-8")
    start = source.index('{"X,X div"')
    end = source.index("}", start)
    lines = ["/* Generated from the plotly wheel's plotly.min.js by comparisons.finders.plotly_css(). */"]
    for match in _RULE.finditer(source[start + 1 : end]):
        selector = match.group(1) if match.group(1) is not None else match.group(2)
        rule = match.group(3) if match.group(3) is not None else match.group(4)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        lines.append(f"{selector}{{{rule}}}")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def maplibre_style_id() -> str:
    """The id of the <style> the plotly.js bundle injects for MapLibre (tile maps) unless an
    element with that id exists. The dashboards use no tile maps, so the page carries an empty
    element with this id and plotly.js injects nothing (which the CSP would block anyway)."""
    source = (PACKAGE_DATA / "plotly.min.js").read_text(encoding="utf-8")
    match = re.search(
        r'document\.getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)', source
    )
    return match.group(1) if match else ""
