"""The figures of one indicator and one municipality: ranked bars, distribution, time series, scores.

Pure functions from a DataFrame of stored results to a figure (`base`): no ORM, no request.
A missing value is left out of the bars and points; the highlighted municipality is drawn apart
in its own colour and named in the legend.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping

import pandas as pd

from .base import (
    BAND_COLOURS,
    BLACK,
    BLUE,
    GREY,
    OWN_COLOUR,
    PEER_COLOUR,
    SKY_BLUE,
    Figure,
    Markup,
    _figure,
    _layout,
    _plain,
    _present,
    _text,
    _texts,
    _trace,
    _values,
    band_icon,
)


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
    The box's quartiles are Plotly's ``linear`` method, the same as docs/statistics.md.
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
    # Long names are wrapped (the hover has the whole name): on a phone the axis would
    # otherwise cut them at the screen's left edge. Each bar is as tall as its longest label.
    names = present["indicator"].tolist()
    ticks = [tick_label(name) for name in names]
    row = max(28, 8 + 15 * max((tick.count("<br>") + 1 for tick in ticks), default=1))
    yaxis = {
        "autorange": "reversed",
        "tickmode": "array",
        "tickvals": _values(names),
        "ticktext": ticks,
    }
    figure = _figure(bar, xaxis={"range": [0, 110]}, yaxis=yaxis)
    heading = wrapped(title, TITLE_WIDTH)
    lines = heading.count("<br>") + 1
    height = max(260, 40 + 20 * lines + row * len(present))
    figure = _layout(figure, title=heading, separators=separators, height=height)
    figure["layout"]["margin"]["t"] = 30 + 20 * lines
    return figure


TICK_WIDTH = 24  # characters of a tick label's line: the label and the bars fit 375 px
TITLE_WIDTH = 34  # characters of a title's line: Plotly does not wrap a title to the screen


def tick_label(name: str) -> Markup:
    """An axis label of at most three lines of `TICK_WIDTH` characters, "…" where it is cut."""
    return wrapped(name, TICK_WIDTH, most=3)


def wrapped(text: str, width: int, most: int | None = None) -> Markup:
    """``text`` in lines of at most ``width`` characters (``most`` lines, "…" where it is cut),
    each line escaped (as `base._escaped` would), joined by Plotly's line break."""
    lines = textwrap.wrap(str(text), width, break_long_words=True) or [""]
    if most is not None and len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1][: width - 1].rstrip() + "…"]
    return Markup("<br>".join(html.escape(line, quote=False) for line in lines))
