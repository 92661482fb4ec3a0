"""Plotly figures for the dashboards: pure functions from a DataFrame to a figure.

No ORM, no request: the page builders hand in frames built from stored results and get a figure
back, which reaches the page as JSON (`json_script`) and is drawn by `static/js/charts.js`.
`base` holds the palette, the JSON-safe values and the layout every figure shares; `ranking` the
figures of one indicator or municipality; `funnels` the funnel plot of a count; `maps` those of
a whole network. Each figure's JSON is kept as a reviewed snapshot
(comparisons/tests/test_chart_snapshots.py).
"""

from __future__ import annotations

from .base import (
    BAND_CODES,
    BAND_COLOURS,
    BAND_ICONS,
    BAND_SYMBOLS,
    BLACK,
    BLUE,
    BLUISH_GREEN,
    GREY,
    ORANGE,
    OWN_COLOUR,
    PEER_COLOUR,
    SKY_BLUE,
    VERMILLION,
    YELLOW,
    Figure,
    band_icon,
    figure_data,
    sparkline_points,
)
from .funnels import funnel_plot
from .maps import choropleth, grid_map, heatmap
from .ranking import distribution, ranked_bar, score_bars, time_series

__all__ = [
    "BAND_CODES",
    "BAND_COLOURS",
    "BAND_ICONS",
    "BAND_SYMBOLS",
    "BLACK",
    "BLUE",
    "BLUISH_GREEN",
    "GREY",
    "ORANGE",
    "OWN_COLOUR",
    "PEER_COLOUR",
    "SKY_BLUE",
    "VERMILLION",
    "YELLOW",
    "Figure",
    "band_icon",
    "choropleth",
    "distribution",
    "figure_data",
    "funnel_plot",
    "grid_map",
    "heatmap",
    "ranked_bar",
    "score_bars",
    "sparkline_points",
    "time_series",
]
