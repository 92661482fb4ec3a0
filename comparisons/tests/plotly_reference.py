"""Test-only reference: the chart builders as they were with `plotly.graph_objects` (issue #5).

A verbatim copy of comparisons/charts.py before the builders produced plain dicts. The tests in
test_charts_reference.py check that the dict builders give exactly the JSON that these gave
through `pio.to_json(figure, validate=False)` (`figure_data` below). Do not "fix" this file: it is
the record of what the pages used to receive.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

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


def _layout(fig: go.Figure, *, title: str, separators: str, height: int | None = None) -> go.Figure:
    fig.update_layout(
        title={"text": title},
        separators=separators,
        # No template: Plotly's would add ~10 kB of unused styling to every figure's JSON.
        template="none",
        paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF",
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        font={"family": "system-ui, sans-serif", "size": 13},
        legend={"orientation": "h", "y": -0.15},
    )
    # Without a template nothing makes room for long municipality names; automargin does.
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if height:
        fig.update_layout(height=height)
    return fig


def _present(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["value"].notna()]


def ranked_bar(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> go.Figure:
    """All peers' values as horizontal bars, best first, the highlighted municipality apart.

    ``frame``: columns ``name``, ``value``, ``rank`` (missing values are left out), and the
    group's ``median``, ``q1``, ``q3`` (equal on every row). ``highlight``: the name of the
    viewer's municipality. ``labels``: ``peers``, ``median``, ``q1``, ``q3`` (translated).
    The median and quartiles are line traces, so they have legend entries.
    """
    present = _present(frame).sort_values(["rank", "name"], na_position="last")
    names = present["name"].tolist()
    fig = go.Figure()
    others = present[present["name"] != highlight]
    fig.add_trace(
        go.Bar(
            name=labels["peers"],
            x=others["value"].tolist(),
            y=others["name"].tolist(),
            orientation="h",
            marker={"color": PEER_COLOUR},
        )
    )
    own = present[present["name"] == highlight]
    if highlight and not own.empty:
        fig.add_trace(
            go.Bar(
                name=highlight,
                x=own["value"].tolist(),
                y=own["name"].tolist(),
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
            fig.add_trace(
                go.Scatter(
                    name=labels[key],
                    x=[level, level],
                    y=[names[0], names[-1]],
                    mode="lines",
                    line={"color": BLACK, "dash": dash, "width": 2 if key == "median" else 1},
                )
            )
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed")
    return _layout(fig, title=title, separators=separators, height=max(300, 60 + 22 * len(names)))


def distribution(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> go.Figure:
    """A box with every value as a point (strip), and the highlighted municipality marked.

    ``frame``: columns ``name``, ``value``. ``labels``: ``peers`` and ``own``.
    The box's quartiles are Plotly's ``linear`` method, the same as DESIGN.md §3.
    """
    present = _present(frame)
    fig = go.Figure()
    fig.add_trace(
        go.Box(
            name=labels["peers"],
            x=present["value"].tolist(),
            text=present["name"].tolist(),
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            quartilemethod="linear",
            marker={"color": PEER_COLOUR},
            line={"color": BLUE},
            hovertemplate="%{text}: %{x}<extra></extra>",
        )
    )
    own = present[present["name"] == highlight]
    if highlight and not own.empty:
        fig.add_trace(
            go.Scatter(
                name=highlight,
                x=own["value"].tolist(),
                y=[labels["peers"]] * len(own),
                mode="markers",
                marker={"color": OWN_COLOUR, "size": 16, "symbol": "diamond", "line": {"color": BLACK, "width": 2}},
            )
        )
    return _layout(fig, title=title, separators=separators, height=260)


def time_series(
    frame: pd.DataFrame,
    *,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> go.Figure:
    """The municipality's value over the periods against the peer median and quartile band.

    ``frame``: one row per period in order: ``period``, ``value`` (the municipality's; may be
    missing), ``median``, ``q1``, ``q3``. ``labels``: ``median``, ``band`` (the quartile band).
    """
    periods = frame["period"].astype(str).tolist()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name=labels["q3"],
            x=periods,
            y=frame["q3"].tolist(),
            mode="lines",
            line={"width": 0, "color": SKY_BLUE},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            name=labels["band"],
            x=periods,
            y=frame["q1"].tolist(),
            mode="lines",
            fill="tonexty",
            fillcolor="rgba(86, 180, 233, 0.3)",
            line={"width": 0, "color": SKY_BLUE},
        )
    )
    fig.add_trace(
        go.Scatter(
            name=labels["median"],
            x=periods,
            y=frame["median"].tolist(),
            mode="lines",
            line={"color": BLUE, "dash": "dash"},
        )
    )
    if highlight and frame["value"].notna().any():
        fig.add_trace(
            go.Scatter(
                name=highlight,
                x=periods,
                y=frame["value"].tolist(),
                mode="lines+markers",
                line={"color": OWN_COLOUR, "width": 3},
                marker={"size": 9, "symbol": "diamond"},
            )
        )
    fig.update_xaxes(type="category")
    return _layout(fig, title=title, separators=separators, height=320)


def score_bars(frame: pd.DataFrame, *, title: str, separators: str = ".,") -> go.Figure:
    """Scores (0 worst - 100 best in the peer group) of one municipality, one bar per indicator.

    ``frame``: ``indicator`` (label), ``score``, ``band``. Indicators without a score (neutral
    or missing) are left out. Bars are coloured by band and labelled with its icon.
    """
    present = frame[frame["score"].notna()]
    bands = present["band"].fillna("grey").tolist()
    fig = go.Figure(
        go.Bar(
            x=present["score"].tolist(),
            y=present["indicator"].tolist(),
            orientation="h",
            marker={"color": [BAND_COLOURS.get(b, GREY) for b in bands], "line": {"color": BLACK, "width": 1}},
            text=[band_icon(b) for b in bands],
            textposition="outside",
            showlegend=False,
        )
    )
    fig.update_xaxes(range=[0, 110])
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title=title, separators=separators, height=max(260, 60 + 28 * len(present)))


def heatmap(
    frame: pd.DataFrame,
    *,
    title: str,
    municipality_order: Sequence[str],
    indicator_order: Sequence[str],
    separators: str = ".,",
) -> go.Figure:
    """Municipalities x indicators coloured by band, each cell labelled with the band's icon.

    ``frame``: long, ``municipality``, ``indicator``, ``band``, ``text`` (the shown value).
    Neutral indicators (no band) and missing values stay blank.
    """
    lookup = {(row.municipality, row.indicator): row for row in frame.itertuples(index=False)}
    z, text = [], []
    for municipality in municipality_order:
        z_row, text_row = [], []
        for indicator in indicator_order:
            row = lookup.get((municipality, indicator))
            band = getattr(row, "band", None) if row is not None else None
            z_row.append(BAND_CODES.get(band) if band else None)
            shown = getattr(row, "text", "") if row is not None else ""
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
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(indicator_order),
            y=list(municipality_order),
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
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top", tickangle=-45)
    fig = _layout(fig, title=title, separators=separators, height=max(300, 120 + 26 * len(municipality_order)))
    longest = max((len(str(label)) for label in indicator_order), default=0)
    fig.update_layout(
        margin_t=60 + math.ceil(longest * 7.5 * 0.71), title_yref="container", title_y=1, title_yanchor="top"
    )
    fig.update_layout(title_pad_t=12)
    return fig


def grid_map(
    frame: pd.DataFrame,
    *,
    title: str,
    highlight: str | None = None,
    separators: str = ".,",
    band_labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """The network's municipalities at their centroids, one square each, coloured by band.

    No tiles, no base map from elsewhere: x is longitude, y latitude, and the axes keep the
    local aspect (1° of longitude is cos(latitude) as long as 1° of latitude).
    ``frame``: ``name``, ``lat``, ``lon``, ``band``, ``text`` (the shown value). Rows without a
    centroid are left out (the table beside the map lists everyone).
    """
    placed = frame[frame["lat"].notna() & frame["lon"].notna()]
    fig = go.Figure()
    for band in ("green", "yellow", "red", "grey", None):
        part = placed[placed["band"].isna()] if band is None else placed[placed["band"] == band]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name=f"{band_icon(band)} {(band_labels or {}).get(band, band)}" if band else "—",
                x=part["lon"].tolist(),
                y=part["lat"].tolist(),
                mode="markers+text",
                text=[f"{band_icon(band)} {name}".strip() for name in part["name"]],
                textposition="top center",
                customdata=part["text"].tolist(),
                hovertemplate="%{text}: %{customdata}<extra></extra>",
                marker={
                    "symbol": "square",
                    "size": 22,
                    "color": BAND_COLOURS.get(band or "", "#FFFFFF"),
                    "line": {"color": BLACK, "width": [3 if n == highlight else 1 for n in part["name"]]},
                },
            )
        )
    mean_lat = float(placed["lat"].mean()) if not placed.empty else 0.0
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(mean_lat)), 0.1))
    return _layout(fig, title=title, separators=separators, height=560)


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
) -> go.Figure:
    """Municipal boundaries from a local GeoJSON, filled by band (drawn as plain polygons, so
    plotly.js fetches no base map). ``frame``: ``code``, ``name``, ``band``, ``text``.
    Features whose code is not in the frame are drawn empty."""
    rows = {row.code: row for row in frame.itertuples(index=False)}
    fig = go.Figure()
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
            fig.add_trace(
                go.Scatter(
                    x=lons,
                    y=lats,
                    mode="lines",
                    fill="toself",
                    fillcolor=BAND_COLOURS.get(band or "", "#FFFFFF"),
                    line={"color": BLACK, "width": 3 if name == highlight else 0.5},
                    name=f"{band_icon(band)} {(band_labels or {}).get(band, band)}" if band else name,
                    legendgroup=band or "none",
                    showlegend=legend,
                    text=f"{band_icon(band)} {name}: {getattr(row, 'text', '') if row is not None else ''}",
                    hoverinfo="text",
                )
            )
    centre = sum(mean_lat) / len(mean_lat) if mean_lat else 0.0
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(centre)), 0.1))
    return _layout(fig, title=title, separators=separators, height=560)


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


def figure_data(fig: go.Figure) -> dict:
    """The figure as plain JSON data for `json_script` (numpy arrays encoded by Plotly)."""
    return json.loads(pio.to_json(fig, validate=False))
