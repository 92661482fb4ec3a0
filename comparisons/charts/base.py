"""The shared ground of the dashboard figures: palette, band icons, JSON-safe values, layout.

No ORM, no request. A figure is plain data, ``{"data": [traces], "layout": {...}}``, built
directly rather than through ``plotly.graph_objects`` (whose validation and encoding cost
~15-20 ms per figure). Values are JSON-safe: Python numbers, strings and None, NaN and
infinities written as None as Plotly's encoder wrote them. Every builder ends with `_layout`,
which escapes the texts that come from the data: Plotly reads titles, labels and hover texts as
pseudo-HTML (`_escape_texts`).

Colours are the Okabe-Ito palette (distinguishable with every common colour-vision
deficiency); a band is never told by colour alone — every band also carries its icon
(▲ ● ▼ -) in labels, hover texts and tables.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

# Okabe-Ito.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#999999"

BAND_COLOURS = {"green": BLUISH_GREEN, "yellow": YELLOW, "red": VERMILLION, "grey": GREY}
BAND_ICONS = {"green": "▲", "yellow": "●", "red": "▼", "grey": "–"}  # noqa: RUF001 - the en dash is the "no value" icon
BAND_SYMBOLS = {"green": "triangle-up", "yellow": "circle", "red": "triangle-down", "grey": "line-ew-open"}
# Heatmap cells: a discrete colour scale over band codes.
BAND_CODES = {"red": 1, "yellow": 2, "green": 3}
OWN_COLOUR = ORANGE
PEER_COLOUR = SKY_BLUE


def band_icon(band: str | None) -> str:
    return BAND_ICONS.get(band or "", "")


Figure = dict[str, Any]


def _plain(value: Any) -> Any:
    """One value as Plotly's JSON encoder wrote it: numpy scalars as Python ones, and NaN,
    infinities and pandas' missing markers as None (JSON has no NaN)."""
    kind = type(value)
    if kind is str or kind is int or value is None:  # the common cases first: a chart has thousands
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _plain(float(value))
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _values(values: Iterable) -> list:
    """A data array (x, y, customdata...): its values as they are, made JSON-safe."""
    return [_plain(value) for value in values]


def _texts(values: Iterable) -> list[str | None]:
    """A text array: every value as a string, as Plotly coerced it (None stays None)."""
    return [value if value is None or isinstance(value, str) else str(value) for value in values]


def _text(value: Any) -> str | None:
    """One string property (a name, a legend group): a number becomes its string, as in Plotly."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise ValueError(f"not a string: {value!r}")


def _trace(kind: str, **props: Any) -> dict:
    """A trace of type ``kind``; properties given as None are left out, as Plotly did."""
    trace = {key: value for key, value in props.items() if value is not None}
    trace["type"] = kind
    return trace


def _figure(*traces: dict, **layout: Any) -> Figure:
    return {"data": list(traces), "layout": layout}


def _layout(figure: Figure, *, title: str, separators: str, height: int | None = None) -> Figure:
    figure["layout"].update(
        {
            "title": {"text": title},
            "separators": separators,
            # Plotly's "none" template, as graph_objects wrote it: Plotly's default template would
            # add ~10 kB of unused styling to every figure's JSON.
            "template": {"data": {"scatter": [{"type": "scatter"}]}},
            "paper_bgcolor": "#FFFFFF",
            "plot_bgcolor": "#FFFFFF",
            "margin": {"l": 10, "r": 10, "t": 50, "b": 40},
            "font": {"family": "system-ui, sans-serif", "size": 13},
            "legend": {"orientation": "h", "y": -0.15},
        }
    )
    # Without a template nothing makes room for long municipality names; automargin does.
    figure["layout"].setdefault("xaxis", {})["automargin"] = True
    figure["layout"].setdefault("yaxis", {})["automargin"] = True
    if height:
        figure["layout"]["height"] = height
    return _escape_texts(figure)


# Trace and axis properties that show text from the data (names of municipalities and
# indicators, units, labels) rather than the builders' fixed settings.
_TRACE_TEXTS = ("name", "text", "hovertext", "x", "y", "customdata")
_AXIS_TEXTS = ("categoryarray", "tickvals", "ticktext")


class Markup(str):
    """A text a builder escaped itself and marked up in Plotly's pseudo-HTML (a line break
    `<br>` between escaped lines): `_escape_texts` leaves it as it is."""


def _escaped(value: Any) -> Any:
    """Text as Plotly shows it verbatim: it reads titles, labels and hover texts as its own
    pseudo-HTML (`<a href>`, `<b>`, `<br>`), and shows `&lt;` as `<`. Numbers stay numbers."""
    if isinstance(value, Markup):
        return value
    if type(value) is str:
        return html.escape(value, quote=False) if ("<" in value or "&" in value or ">" in value) else value
    if type(value) is list:
        return [_escaped(item) for item in value]
    return value


def _escape_texts(figure: Figure) -> Figure:
    """Every text from the data escaped, so a name like `<a href="…">` is shown, not a link.

    Done once here, on the finished figure (every builder ends with `_layout`), so the builders
    compare and place names as they are and the same name is escaped alike in every place
    (a bar's category and the axis's category order)."""
    for trace in figure["data"]:
        for key in _TRACE_TEXTS:
            if key in trace:
                trace[key] = _escaped(trace[key])
    layout = figure["layout"]
    layout["title"]["text"] = _escaped(layout["title"]["text"])
    for axis in ("xaxis", "yaxis"):
        for key in _AXIS_TEXTS:
            if key in layout.get(axis, {}):
                layout[axis][key] = _escaped(layout[axis][key])
    return figure


def _present(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["value"].notna()]


def sparkline_points(values: Sequence[float | None], *, width: int = 100, height: int = 24) -> str:
    """SVG path data for a small trend line (drawn by the page as SVG, no script).

    One position per period, so every profile's lines align; a missing value leaves a gap (the
    line is not drawn across it) and a value alone between gaps is a dot. No value gives "".
    """
    present = [v for v in values if v is not None and not math.isnan(v)]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    parts: list[str] = []
    drawing = False
    for index, value in enumerate(values):
        if value is None or math.isnan(value):
            drawing = False
            continue
        point = f"{index * step:.1f},{height - 2 - (value - low) / span * (height - 4):.1f}"
        parts.append(f"L{point}" if drawing else f"M{point} l0,0")
        drawing = True
    return " ".join(parts)


def figure_data(figure: Figure) -> Figure:
    """The figure as plain JSON data for `json_script`: the builders give it so already."""
    return figure
