"""The funnel plot of an indicator whose numerator is a count: each value against its denominator.

A pure function from two frames to a figure (`base`): no ORM, no request, no statistics — the
limits come computed (`comparisons.funnel`). The limits are lines (95 % dashed, 99.8 % dotted,
the peer value solid), the municipalities points, the highlighted one drawn apart in its own
colour and named in the legend. A wide range of denominators (the largest over 20 times the
smallest) is drawn on a logarithmic axis, so the small municipalities are not crowded together.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .base import (
    BLACK,
    BLUE,
    GREY,
    OWN_COLOUR,
    PEER_COLOUR,
    Figure,
    _escaped,
    _figure,
    _layout,
    _plain,
    _text,
    _trace,
    _values,
)

LOG_RANGE = 20  # the largest denominator over the smallest beyond which the axis is logarithmic
LEVEL_LINES = (("998", "dot", GREY), ("95", "dash", BLACK))


def funnel_plot(
    points: pd.DataFrame,
    curves: pd.DataFrame,
    *,
    peer_value: float | None,
    highlight: str | None,
    title: str,
    labels: Mapping[str, str],
    separators: str = ".,",
) -> Figure:
    """Every municipality's value against its denominator, within the funnel's limits.

    ``points``: ``name``, ``denominator``, ``value`` (rows without both are left out).
    ``curves``: ``denominator`` and the limits ``lower_95``, ``upper_95``, ``lower_998``,
    ``upper_998`` (`comparisons.funnel.funnel_curves`). ``labels``: ``x`` and ``y`` (the axis
    titles: names and units, never codes), ``peers``, ``peer_value``, ``limits_95``,
    ``limits_998`` (translated).
    """
    present = points[points["value"].notna() & points["denominator"].notna()]
    data = []
    for key, dash, colour in LEVEL_LINES:
        x = _values(curves["denominator"].tolist())
        for side in ("upper", "lower"):
            data.append(
                _trace(
                    "scatter",
                    name=_text(labels[f"limits_{key}"]),
                    legendgroup=f"limits_{key}",
                    showlegend=side == "upper",
                    x=x,
                    y=_values(curves[f"{side}_{key}"].tolist()),
                    mode="lines",
                    line={"color": colour, "dash": dash, "width": 1.5},
                    hoverinfo="skip",
                )
            )
    if peer_value is not None and len(curves):
        data.append(
            _trace(
                "scatter",
                name=_text(labels["peer_value"]),
                x=[_plain(curves["denominator"].iloc[0]), _plain(curves["denominator"].iloc[-1])],
                y=[_plain(peer_value), _plain(peer_value)],
                mode="lines",
                line={"color": BLUE, "width": 2},
                hoverinfo="skip",
            )
        )
    rows = list(zip(present["name"].tolist(), present["denominator"].tolist(), present["value"].tolist(), strict=True))
    others = [row for row in rows if highlight is None or row[0] != highlight]
    hover = "%{text}: %{y} (%{x})<extra></extra>"
    data.append(
        _trace(
            "scatter",
            name=_text(labels["peers"]),
            x=_values(row[1] for row in others),
            y=_values(row[2] for row in others),
            text=[_text(row[0]) for row in others],
            mode="markers",
            marker={"color": PEER_COLOUR, "size": 9, "line": {"color": BLUE, "width": 1}},
            hovertemplate=hover,
        )
    )
    own = [row for row in rows if highlight is not None and row[0] == highlight]
    if own:
        data.append(
            _trace(
                "scatter",
                name=_text(highlight),
                x=_values(row[1] for row in own),
                y=_values(row[2] for row in own),
                text=[_text(row[0]) for row in own],
                mode="markers",
                marker={"color": OWN_COLOUR, "size": 15, "symbol": "diamond", "line": {"color": BLACK, "width": 2}},
                hovertemplate=hover,
            )
        )
    denominators = [row[1] for row in rows if row[1] and row[1] > 0]
    logarithmic = bool(denominators) and max(denominators) > LOG_RANGE * min(denominators)
    xaxis = {"title": {"text": labels["x"]}, "type": "log" if logarithmic else "linear"}
    figure = _figure(*data, xaxis=xaxis, yaxis={"title": {"text": labels["y"]}, "rangemode": "tozero"})
    figure = _layout(figure, title=title, separators=separators, height=480)
    # Below the x axis's title, not over it (the shared layout's legend sits where a title goes).
    figure["layout"]["legend"]["y"] = -0.25
    figure["layout"]["margin"]["b"] = 90
    for axis in ("xaxis", "yaxis"):  # axis titles are names from the catalogue: shown, not read as markup
        figure["layout"][axis]["title"]["text"] = _escaped(figure["layout"][axis]["title"]["text"])
    return figure
