"""The indicator comparison: one indicator across the peer group and over time.

Pure (see the package): the ranking table, the series table, the sentence on the highlighted
municipality's rank (or how many are compared), the ranked bars, the distribution and the time
series, the definitions shown next to the figures and the links to good practice.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import charts
from ...dashboard_data import IndicatorData
from ...dashboard_selectors import DashboardScope
from ..tables import Cell, Table, band_text, band_words, change_text, number, url_maker
from .shared import chart_entry, period_label, separators


def how_computed() -> list[tuple[str, str]]:
    """The definitions of docs/statistics.md, shown next to the figures."""
    return [
        (_("population"), _("the peer group's municipalities with an approved submission and a value; n is its size")),
        (_("median, quartiles"), _("linear interpolation between order statistics (Excel QUARTILE.INC)")),
        (_("rank"), _("1 = best by the indicator's polarity; equal values share the best rank of their tie")),
        (_("band"), _("▲ top quarter if rank ≤ n/4, ▼ bottom quarter if rank > 3n/4, otherwise ● middle half")),
        (_("score"), _("100 × (value − worst) / (best − worst) within the peer group; 50 when all are equal")),  # noqa: RUF001 - typographic signs for readers
        (_("change"), _("against the same municipality's previous period; improving or worsening by polarity")),
    ]


def practices_url(scope: DashboardScope, indicator, municipality=None) -> str:
    """The learning library's list of good practice for the indicator (of one municipality);
    empty when the learning app is not installed (its URLs are then unknown)."""
    try:
        base = reverse("learning:practice_list")
    except NoReverseMatch:
        return ""
    query = {"network": scope.network.code, "indicator": indicator.code}
    if municipality is not None:
        query["municipality"] = municipality.code
    return base + "?" + urlencode(query)


def _ranking_table(scope: DashboardScope, data: IndicatorData) -> Table:
    item, highlight = data.indicator, data.highlight
    ranking = Table(
        slug="ranking",
        caption=_("%(indicator)s, %(period)s: the peer group best first")
        % {"indicator": item.display_name, "period": period_label(scope)},
        header=[_("Municipality"), _("Rank"), _("Value"), _("Band"), _("Percentile"), _("Score"), _("Change")],
    )
    profile_link = url_maker("comparisons:profile", "code", network=scope.network.code)
    words = band_words()
    for row in data.rows:
        ranking.add(
            [
                Cell(raw=row.municipality.display_name, link=profile_link(row.municipality.code)),
                Cell(raw=row.rank, decimals=0),
                Cell(raw=row.value, decimals=item.decimals),
                Cell(raw=row.band or "", display=band_text(row.band, words)),
                Cell(raw=row.percentile, decimals=0),
                Cell(raw=row.score, decimals=0),
                Cell(raw=row.change_abs, display=change_text(row.change_abs, row.improved)),
            ],
            highlight=bool(highlight and row.municipality_id == highlight.pk),
        )
    return ranking


def _trend_table(data: IndicatorData) -> Table:
    item, highlight = data.indicator, data.highlight
    trend = Table(
        slug="series",
        caption=_("%(indicator)s over time: %(municipality)s against the peer median and quartiles")
        % {"indicator": item.display_name, "municipality": highlight.display_name if highlight else _("the network")},
        header=[_("Period"), _("Value"), _("Lower quartile"), _("Median"), _("Upper quartile")],
    )
    for row in data.series:
        trend.add(
            [
                Cell(raw=row.period.label),
                Cell(raw=row.value if highlight else None, decimals=item.decimals),
                Cell(raw=row.q1, decimals=item.decimals),
                Cell(raw=row.median, decimals=item.decimals),
                Cell(raw=row.q3, decimals=item.decimals),
            ]
        )
    return trend


def summary_sentence(data: IndicatorData) -> str:
    """The highlighted municipality's rank and the median, or how many are compared."""
    item, own_row, first = data.indicator, data.own_row, data.rows[0]
    unit = f" {item.display_unit}" if item.display_unit else ""
    if own_row is not None and own_row.rank is not None:
        return _("%(municipality)s is ranked %(rank)s of %(n)s; the median is %(median)s%(unit)s.") % {
            "municipality": data.highlight.display_name if data.highlight else None,
            "rank": own_row.rank,
            "n": own_row.n,
            "median": number(first.median, item.decimals),
            "unit": unit,
        }
    return ngettext(
        "%(n)s municipality is compared; the median is %(median)s%(unit)s.",
        "%(n)s municipalities are compared; the median is %(median)s%(unit)s.",
        first.n,
    ) % {"n": first.n, "median": number(first.median, item.decimals), "unit": unit}


def _charts(data: IndicatorData, summary: str) -> list[dict]:
    rows, series, item = data.rows, data.series, data.indicator
    name = data.highlight.display_name if data.highlight else None
    frame = pd.DataFrame(
        {
            "name": [r.municipality.display_name for r in rows],
            "value": [r.value for r in rows],
            "rank": [r.rank for r in rows],
            "median": [r.median for r in rows],
            "q1": [r.q1 for r in rows],
            "q3": [r.q3 for r in rows],
        }
    )
    labels = {
        "peers": _("Peers"),
        "own": name or "",
        "median": _("Median"),
        "q1": _("Lower quartile"),
        "q3": _("Upper quartile"),
        "band": _("Quartile band"),
    }
    shown = [
        chart_entry(
            "chart-ranking",
            charts.ranked_bar(frame, highlight=name, title=_("Ranking"), labels=labels, separators=separators()),
            summary,
        ),
        chart_entry(
            "chart-distribution",
            charts.distribution(frame, highlight=name, title=_("Distribution"), labels=labels, separators=separators()),
            summary,
        ),
    ]
    if series:
        series_frame = pd.DataFrame(
            {
                "period": [r.period.label for r in series],
                "value": [r.value if data.highlight else None for r in series],
                "median": [r.median for r in series],
                "q1": [r.q1 for r in series],
                "q3": [r.q3 for r in series],
            }
        )
        series_summary = _("From %(first)s to %(last)s the median went from %(a)s to %(b)s%(unit)s.") % {
            "first": series[0].period.label,
            "last": series[-1].period.label,
            "a": number(series[0].median, item.decimals),
            "b": number(series[-1].median, item.decimals),
            "unit": f" {item.display_unit}" if item.display_unit else "",
        }
        figure = charts.time_series(
            series_frame, highlight=name, title=_("Over time"), labels=labels, separators=separators()
        )
        shown.append(chart_entry("chart-series", figure, series_summary))
    return shown


def indicator_page(scope: DashboardScope, data: IndicatorData) -> dict:
    ranking, trend = _ranking_table(scope, data), _trend_table(data)
    summary = summary_sentence(data) if data.rows else ""
    return {
        "tables": [t for t in (ranking, trend) if t.rows],
        "indicator": data.indicator,
        "highlight": data.highlight,
        "highlight_choices": [m.municipality for m in scope.members],
        "ranking": ranking if ranking.rows else None,
        "trend": trend if trend.rows else None,
        "charts": _charts(data, summary) if data.rows else [],
        "summary": summary,
        "how_computed": how_computed(),
        "practices_url": practices_url(scope, data.indicator),
        "best_practices": [
            (row.municipality, practices_url(scope, data.indicator, row.municipality))
            for row in data.rows
            if row.rank is not None and row.rank <= 3
        ],
    }
