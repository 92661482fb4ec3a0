"""The figures of a whole network: the band heatmap, the grid map and the choropleth.

Pure functions from a DataFrame of stored results to a figure (`base`): no ORM, no request.
A band is drawn by colour and icon; a municipality without coordinates or boundary is left off
the map (it stays in the page's table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from .base import (
    BAND_CODES,
    BAND_COLOURS,
    BLACK,
    BLUISH_GREEN,
    VERMILLION,
    YELLOW,
    Figure,
    _figure,
    _layout,
    _text,
    _trace,
    _values,
    band_icon,
)


def heatmap(
    frame: pd.DataFrame,
    *,
    title: str,
    municipality_order: Sequence[str],
    indicator_order: Sequence[str],
    separators: str = ".,",
    highlight: str | None = None,
    code_label: str = "code",
) -> Figure:
    """Municipalities x indicators coloured by band, each cell labelled with the band's icon.

    ``frame``: long, ``municipality``, ``indicator`` (the name shown on the axis), ``band``,
    ``text`` (the shown value) and optionally ``code`` (the indicator's catalogue code, given
    in the hover text after ``code_label``) and ``words`` (the cell's sentence, `comparisons.words`,
    given in the hover text). Neutral indicators (no band) and missing values
    stay blank. ``highlight``: the viewer's municipality, whose row is outlined and marked ▶.
    Every row label is drawn: the figure grows by a fixed height a row.
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
    codes = dict(zip(frame["indicator"].tolist(), frame["code"].tolist(), strict=True)) if "code" in frame else {}
    words = {}
    if "words" in frame:
        keys = zip(frame["municipality"].tolist(), frame["indicator"].tolist(), strict=True)
        words = dict(zip(keys, frame["words"].tolist(), strict=True))
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
    hover = "%{y} · %{x}: %{text}"
    customdata = None
    if words:
        # The cell's sentence, then the code line for those who look an indicator up.
        customdata = [
            [
                [_text(words.get((municipality, indicator)) or ""), _text(codes.get(indicator, ""))]
                for indicator in indicator_order
            ]
            for municipality in municipality_order
        ]
        hover += "<br>%{customdata[0]}"
        if codes:
            hover += "<br>" + code_label + ": %{customdata[1]}"
    elif codes:
        # The code line for those who look an indicator up in the catalogue or the API.
        row = [_text(codes.get(indicator, "")) for indicator in indicator_order]
        customdata = [list(row) for _ in municipality_order]
        hover += "<br>" + code_label + ": %{customdata}"
    cells = _trace(
        "heatmap",
        z=z,
        x=_values(indicator_order),
        y=_values(municipality_order),
        text=text,
        customdata=customdata,
        texttemplate="%{text}",
        zmin=0.5,
        zmax=3.5,
        colorscale=scale,
        showscale=False,
        xgap=2,
        ygap=2,
        hovertemplate=hover + "<extra></extra>",
    )
    names = _values(municipality_order)
    yaxis = {
        "autorange": "reversed",
        # Every municipality labelled (Plotly skips category labels it thinks crowded).
        "tickmode": "array",
        "tickvals": names,
        "ticktext": [f"▶ {name}" if highlight is not None and name == highlight else name for name in names],
    }
    layout: dict = {"yaxis": yaxis, "xaxis": {"side": "top", "tickangle": -45}}
    if highlight is not None and highlight in municipality_order:
        index = list(municipality_order).index(highlight)
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": -0.5,
                "x1": len(indicator_order) - 0.5,
                "y0": index - 0.5,
                "y1": index + 0.5,
                "line": {"color": BLACK, "width": 3},
                "fillcolor": "rgba(0, 0, 0, 0)",
            }
        ]
    figure = _figure(cells, **layout)
    figure = _layout(figure, title=title, separators=separators)
    return _title_above_top_labels(figure, indicator_order, rows=len(municipality_order))


ROW_HEIGHT = 26  # px a heatmap row: room for its 13 px label, so none is skipped


def _title_above_top_labels(figure: Figure, labels: Sequence, *, rows: int) -> Figure:
    """Room for the title above the column labels at the top: automargin pushes the plot below
    the labels but puts the title where they are. The labels' height at 45° is estimated from the
    longest (13 px font: ~7.5 px a character) and the title pinned to the figure's top. The
    figure's height is that margin, the bottom one and ``rows`` rows of `ROW_HEIGHT`."""
    longest = max((len(str(label)) for label in labels), default=0)
    margin = figure["layout"]["margin"]
    margin["t"] = 60 + math.ceil(longest * 7.5 * 0.71)
    figure["layout"]["height"] = max(300, margin["t"] + margin["b"] + ROW_HEIGHT * max(rows, 1))
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


LEGEND_RANK = {"green": 1, "yellow": 2, "red": 3, "grey": 4}


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
        properties = feature.get("properties") or {}
        code = str(properties.get(code_property, ""))
        row = rows.get(code)
        band = getattr(row, "band", None) if row is not None else None
        # Not in the frame (not a member): the feature's own name, no value.
        name = getattr(row, "name", code) if row is not None else properties.get("name_lv") or code
        hover = f"{band_icon(band)} {name}: {row.text}" if row is not None else name
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
                    legendrank=LEGEND_RANK.get(band) if legend else None,  # best first, as on the grid map
                    text=hover,
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
