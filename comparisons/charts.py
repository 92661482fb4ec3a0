"""Plotly figures for the dashboards: pure functions from a DataFrame to a figure.

No ORM, no request: the views hand in frames built from stored results and get a figure back,
which reaches the page as JSON (`json_script`) and is drawn by `static/js/charts.js`.

A figure is plain data, ``{"data": [traces], "layout": {...}}``, built here directly rather than
through ``plotly.graph_objects``: the browser only needs the JSON, and graph_objects' validation
and encoding cost ~15-20 ms per figure (issue #5). The values are JSON-safe (Python numbers,
strings, None; NaN and infinities become None, as Plotly's JSON encoder writes them), and every
builder gives exactly what ``pio.to_json(go_figure, validate=False)`` gave for the graph_objects
version (comparisons/tests/test_charts_reference.py), except that texts from the data are
HTML-escaped: Plotly reads titles, labels and hover texts as pseudo-HTML (`_escape_texts`).

Colours are the Okabe-Ito palette (distinguishable with every common colour-vision
deficiency); a band is never told by colour alone — every band also carries its icon
(▲ ● ▼ -) in labels, hover texts and tables.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
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
_AXIS_TEXTS = ("categoryarray", "ticktext")


def _escaped(value: Any) -> Any:
    """Text as Plotly shows it verbatim: it reads titles, labels and hover texts as its own
    pseudo-HTML (`<a href>`, `<b>`, `<br>`), and shows `&lt;` as `<`. Numbers stay numbers."""
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


def ranked_bar(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> Figure:
    """All peers' values as horizontal bars, best first, the highlighted municipality apart.

    ``frame``: columns ``name``, ``value``, ``rank`` (missing values are left out), and the
    group's ``median``, ``q1``, ``q3`` (equal on every row). ``highlight``: the name of the
    viewer's municipality. ``labels``: ``peers``, ``median``, ``q1``, ``q3`` (translated).
    The median and quartiles are line traces, so they have legend entries.
    """
    present = _present(frame).sort_values(["rank", "name"], na_position="last")
    rows = list(zip(present["name"].tolist(), present["value"].tolist(), strict=True))
    names = _values(name for name, _ in rows)
    # As pandas compares: nothing equals a highlight of None.
    others = [(name, value) for name, value in rows if highlight is None or name != highlight]
    data = [
        _trace(
            "bar",
            name=_text(labels["peers"]),
            x=_values(value for _, value in others),
            y=_values(name for name, _ in others),
            orientation="h",
            marker={"color": PEER_COLOUR},
        )
    ]
    own = [(name, value) for name, value in rows if name == highlight]
    if highlight and own:
        data.append(
            _trace(
                "bar",
                name=_text(highlight),
                x=_values(value for _, value in own),
                y=_values(name for name, _ in own),
                orientation="h",
                marker={"color": OWN_COLOUR, "line": {"color": BLACK, "width": 2}},
            )
        )
    if names:
        row = present.iloc[0]
        for key, dash in (("median", "solid"), ("q1", "dash"), ("q3", "dash")):
            level = row.get(key)
            if level is None or pd.isna(level):
                continue
            data.append(
                _trace(
                    "scatter",
                    name=_text(labels[key]),
                    x=[_plain(level), _plain(level)],
                    y=[names[0], names[-1]],
                    mode="lines",
                    line={"color": BLACK, "dash": dash, "width": 2 if key == "median" else 1},
                )
            )
    figure = _figure(
        *data,
        barmode="overlay",
        bargap=0.25,
        yaxis={"categoryorder": "array", "categoryarray": names, "autorange": "reversed"},
    )
    return _layout(figure, title=title, separators=separators, height=max(300, 60 + 22 * len(names)))


def distribution(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> Figure:
    """A box with every value as a point (strip), and the highlighted municipality marked.

    ``frame``: columns ``name``, ``value``. ``labels``: ``peers`` and ``own``.
    The box's quartiles are Plotly's ``linear`` method, the same as DESIGN.md §3.
    """
    present = _present(frame)
    names, values = present["name"].tolist(), present["value"].tolist()
    data = [
        _trace(
            "box",
            name=_text(labels["peers"]),
            x=_values(values),
            text=_texts(names),
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            quartilemethod="linear",
            marker={"color": PEER_COLOUR},
            line={"color": BLUE},
            hovertemplate="%{text}: %{x}<extra></extra>",
        )
    ]
    own = [value for name, value in zip(names, values, strict=True) if name == highlight]
    if highlight and own:
        data.append(
            _trace(
                "scatter",
                name=_text(highlight),
                x=_values(own),
                y=[labels["peers"]] * len(own),
                mode="markers",
                marker={"color": OWN_COLOUR, "size": 16, "symbol": "diamond", "line": {"color": BLACK, "width": 2}},
            )
        )
    return _layout(_figure(*data), title=title, separators=separators, height=260)


def time_series(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> Figure:
    """The municipality's value over the periods against the peer median and quartile band.

    ``frame``: one row per period in order: ``period``, ``value`` (the municipality's; may be
    missing), ``median``, ``q1``, ``q3``. ``labels``: ``median``, ``band`` (the quartile band).
    """
    periods = frame["period"].astype(str).tolist()
    data = [
        _trace(
            "scatter",
            name=_text(labels["q3"]),
            x=periods,
            y=_values(frame["q3"].tolist()),
            mode="lines",
            line={"width": 0, "color": SKY_BLUE},
            showlegend=False,
            hoverinfo="skip",
        ),
        _trace(
            "scatter",
            name=_text(labels["band"]),
            x=periods,
            y=_values(frame["q1"].tolist()),
            mode="lines",
            fill="tonexty",
            fillcolor="rgba(86, 180, 233, 0.3)",
            line={"width": 0, "color": SKY_BLUE},
        ),
        _trace(
            "scatter",
            name=_text(labels["median"]),
            x=periods,
            y=_values(frame["median"].tolist()),
            mode="lines",
            line={"color": BLUE, "dash": "dash"},
        ),
    ]
    if highlight and frame["value"].notna().any():
        data.append(
            _trace(
                "scatter",
                name=_text(highlight),
                x=periods,
                y=_values(frame["value"].tolist()),
                mode="lines+markers",
                line={"color": OWN_COLOUR, "width": 3},
                marker={"size": 9, "symbol": "diamond"},
            )
        )
    figure = _figure(*data, xaxis={"type": "category"})
    return _layout(figure, title=title, separators=separators, height=320)


def score_bars(frame: pd.DataFrame, *, title: str, separators: str = ".,") -> Figure:
    """Scores (0 worst - 100 best in the peer group) of one municipality, one bar per indicator.

    ``frame``: ``indicator`` (label), ``score``, ``band``. Indicators without a score (neutral
    or missing) are left out. Bars are coloured by band and labelled with its icon.
    """
    present = frame[frame["score"].notna()]
    bands = present["band"].fillna("grey").tolist()
    bar = _trace(
        "bar",
        x=_values(present["score"].tolist()),
        y=_values(present["indicator"].tolist()),
        orientation="h",
        marker={"color": [BAND_COLOURS.get(b, GREY) for b in bands], "line": {"color": BLACK, "width": 1}},
        text=[band_icon(b) for b in bands],
        textposition="outside",
        showlegend=False,
    )
    figure = _figure(bar, xaxis={"range": [0, 110]}, yaxis={"autorange": "reversed"})
    return _layout(figure, title=title, separators=separators, height=max(260, 60 + 28 * len(present)))


def heatmap(
    frame: pd.DataFrame,
    *,
    title: str,
    municipality_order: Sequence[str],
    indicator_order: Sequence[str],
    separators: str = ".,",
) -> Figure:
    """Municipalities x indicators coloured by band, each cell labelled with the band's icon.

    ``frame``: long, ``municipality``, ``indicator``, ``band``, ``text`` (the shown value).
    Neutral indicators (no band) and missing values stay blank.
    """
    n = len(frame)
    cells = zip(
        frame["municipality"].tolist(),
        frame["indicator"].tolist(),
        frame["band"].tolist() if "band" in frame else [None] * n,
        frame["text"].tolist() if "text" in frame else [""] * n,
        strict=True,
    )
    lookup = {(municipality, indicator): (band, shown) for municipality, indicator, band, shown in cells}
    z, text = [], []
    for municipality in municipality_order:
        z_row, text_row = [], []
        for indicator in indicator_order:
            band, shown = lookup.get((municipality, indicator), (None, ""))
            z_row.append(BAND_CODES.get(band) if band else None)
            text_row.append(f"{band_icon(band)} {shown}".strip())
        z.append(z_row)
        text.append(text_row)
    scale = [
        [0.0, VERMILLION],
        [1 / 3, VERMILLION],
        [1 / 3, YELLOW],
        [2 / 3, YELLOW],
        [2 / 3, BLUISH_GREEN],
        [1.0, BLUISH_GREEN],
    ]
    cells = _trace(
        "heatmap",
        z=z,
        x=_values(indicator_order),
        y=_values(municipality_order),
        text=text,
        texttemplate="%{text}",
        zmin=0.5,
        zmax=3.5,
        colorscale=scale,
        showscale=False,
        xgap=2,
        ygap=2,
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
    )
    figure = _figure(cells, yaxis={"autorange": "reversed"}, xaxis={"side": "top", "tickangle": -45})
    figure = _layout(figure, title=title, separators=separators, height=max(300, 120 + 26 * len(municipality_order)))
    return _title_above_top_labels(figure, indicator_order)


def _title_above_top_labels(figure: Figure, labels: Sequence) -> Figure:
    """Room for the title above the column labels at the top: automargin pushes the plot below
    the labels but puts the title where they are. The labels' height at 45° is estimated from the
    longest (13 px font: ~7.5 px a character) and the title pinned to the figure's top."""
    longest = max((len(str(label)) for label in labels), default=0)
    figure["layout"]["margin"]["t"] = 60 + math.ceil(longest * 7.5 * 0.71)
    figure["layout"]["title"].update({"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 12}})
    return figure


def grid_map(
    frame: pd.DataFrame,
    *,
    title: str,
    highlight: str | None = None,
    separators: str = ".,",
    band_labels: Mapping[str, str] | None = None,
) -> Figure:
    """The network's municipalities at their centroids, one square each, coloured by band.

    No tiles, no base map from elsewhere: x is longitude, y latitude, and the axes keep the
    local aspect (1° of longitude is cos(latitude) as long as 1° of latitude).
    ``frame``: ``name``, ``lat``, ``lon``, ``band``, ``text`` (the shown value). Rows without a
    centroid are left out (the table beside the map lists everyone).
    """
    placed = frame[frame["lat"].notna() & frame["lon"].notna()]
    # One series per band, in the frame's order; a missing band (None, NaN) is the last, "—".
    parts: dict[str | None, list[tuple]] = {band: [] for band in ("green", "yellow", "red", "grey", None)}
    columns = (placed[key].tolist() for key in ("band", "name", "lon", "lat", "text"))
    for band, *row in zip(*columns, strict=True):
        part = parts[None] if pd.isna(band) else parts.get(band)
        if part is not None:
            part.append(row)
    data = []
    for band, part in parts.items():
        if not part:
            continue
        names, lons, lats, texts = zip(*part, strict=True)
        data.append(
            _trace(
                "scatter",
                name=_text(f"{band_icon(band)} {(band_labels or {}).get(band, band)}" if band else "—"),
                x=_values(lons),
                y=_values(lats),
                mode="markers+text",
                text=[f"{band_icon(band)} {name}".strip() for name in names],
                textposition="top center",
                customdata=_values(texts),
                hovertemplate="%{text}: %{customdata}<extra></extra>",
                marker={
                    "symbol": "square",
                    "size": 22,
                    "color": BAND_COLOURS.get(band or "", "#FFFFFF"),
                    "line": {"color": BLACK, "width": [3 if n == highlight else 1 for n in names]},
                },
            )
        )
    mean_lat = float(placed["lat"].mean()) if not placed.empty else 0.0
    figure = _figure(
        *data,
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1 / max(math.cos(math.radians(mean_lat)), 0.1)},
    )
    return _layout(figure, title=title, separators=separators, height=560)


def _rings(geometry: Mapping) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def choropleth(
    frame: pd.DataFrame,
    *,
    geojson: Mapping,
    code_property: str,
    title: str,
    highlight: str | None = None,
    separators: str = ".,",
    band_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Municipal boundaries from a local GeoJSON, filled by band (drawn as plain polygons, so
    plotly.js fetches no base map). ``frame``: ``code``, ``name``, ``band``, ``text``.
    Features whose code is not in the frame are drawn empty."""
    rows = {row.code: row for row in frame.itertuples(index=False)}
    data = []
    shown_bands: set[str] = set()
    mean_lat: list[float] = []
    for feature in geojson.get("features", []):
        code = str((feature.get("properties") or {}).get(code_property, ""))
        row = rows.get(code)
        band = getattr(row, "band", None) if row is not None else None
        name = getattr(row, "name", code) if row is not None else code
        for ring in _rings(feature.get("geometry") or {}):
            lons = [point[0] for point in ring]
            lats = [point[1] for point in ring]
            mean_lat.extend(lats)
            legend = bool(band) and band not in shown_bands
            if band:
                shown_bands.add(band)
            data.append(
                _trace(
                    "scatter",
                    x=_values(lons),
                    y=_values(lats),
                    mode="lines",
                    fill="toself",
                    fillcolor=BAND_COLOURS.get(band or "", "#FFFFFF"),
                    line={"color": BLACK, "width": 3 if name == highlight else 0.5},
                    name=_text(f"{band_icon(band)} {(band_labels or {}).get(band, band)}" if band else name),
                    legendgroup=_text(band or "none"),
                    showlegend=legend,
                    text=f"{band_icon(band)} {name}: {getattr(row, 'text', '') if row is not None else ''}",
                    hoverinfo="text",
                )
            )
    centre = sum(mean_lat) / len(mean_lat) if mean_lat else 0.0
    figure = _figure(
        *data,
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1 / max(math.cos(math.radians(centre)), 0.1)},
    )
    return _layout(figure, title=title, separators=separators, height=560)


def sparkline_points(values: Sequence[float | None], *, width: int = 100, height: int = 24) -> str:
    """SVG polyline points for a small trend line (drawn by the page as SVG, no script).

    Missing values are skipped; one value or none gives no line.
    """
    present = [(i, v) for i, v in enumerate(values) if v is not None and not math.isnan(v)]
    if len(present) < 2:
        return ""
    low = min(v for _, v in present)
    high = max(v for _, v in present)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in present)


def figure_data(figure: Figure) -> Figure:
    """The figure as plain JSON data for `json_script`: the builders give it so already."""
    return figure
