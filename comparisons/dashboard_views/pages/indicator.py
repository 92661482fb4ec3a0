"""The indicator comparison: one indicator across the peer group and over time.

Pure (see the package): the ranking table, the series table, the sentence on the highlighted
municipality's rank (or how many are compared), the ranked bars, the distribution and the time
series, the funnel plot of a count (its limits computed here from the counts read, by the pure
`comparisons.funnel`), the definitions shown next to the figures and the links to good practice.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import charts, funnel
from ...dashboard_data import IndicatorData
from ...dashboard_selectors import DashboardScope
from ...words import result_words
from ..tables import Cell, Table, band_text, band_words, change_text, number, url_maker
from .shared import BREAK_MARK, chart_entry, is_reconstructed, marked, period_label, separators


def how_computed() -> list[tuple[str, str]]:
    """The definitions of docs/statistics.md, shown next to the figures."""
    return [
        (_("population"), _("the peer group's municipalities with an approved submission and a value; n is its size")),
        (_("median, quartiles"), _("linear interpolation between order statistics (Excel QUARTILE.INC)")),
        (_("rank"), _("1 = best by the indicator's polarity; equal values share the best rank of their tie")),
        (_("band"), _("▲ top quarter if rank ≤ n/4, ▼ bottom quarter if rank > 3n/4, otherwise ● middle half")),
        (_("score"), _("100 × (value − worst) / (best − worst) within the peer group; 50 when all are equal")),  # noqa: RUF001 - typographic signs for readers
        (_("change"), _("against the same municipality's previous period; improving or worsening by polarity")),
        (
            _("missing values"),
            _(
                "a figure declared missing is left out of the population, with its reason; the statistics offices' "
                "markers: … not available, - nil (none exists), . not applicable, .. confidential"
            ),
        ),
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
        name = row.municipality.display_name
        ranking.add(
            [
                Cell(
                    raw=name,
                    display=marked(name, is_reconstructed(row.municipality, scope.period)),
                    link=profile_link(row.municipality.code),
                ),
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
                Cell(
                    raw=row.period.label,
                    display=marked(
                        row.period.label, is_reconstructed(highlight, row.period), row.period.label in data.breaks
                    ),
                ),
                Cell(raw=row.value if highlight else None, decimals=item.decimals),
                Cell(raw=row.q1, decimals=item.decimals),
                Cell(raw=row.median, decimals=item.decimals),
                Cell(raw=row.q3, decimals=item.decimals),
            ]
        )
    return trend


def summary_sentence(data: IndicatorData, scope: DashboardScope | None = None) -> str:
    """The highlighted municipality's rank and the median, or how many are compared."""
    item, own_row, first = data.indicator, data.own_row, data.rows[0]
    unit = f" {item.display_unit}" if item.display_unit else ""
    if own_row is not None and own_row.rank is not None:
        ranked = _("%(municipality)s is ranked %(rank)s of %(n)s; the median is %(median)s%(unit)s.") % {
            "municipality": data.highlight.display_name if data.highlight else None,
            "rank": own_row.rank,
            "n": own_row.n,
            "median": number(first.median, item.decimals),
            "unit": unit,
        }
        said = result_words(
            own_row, item, reconstructed=scope is not None and is_reconstructed(data.highlight, scope.period)
        )
        return f"{ranked} {said.text}" if said else ranked
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
                "period": [
                    marked(r.period.label, is_reconstructed(data.highlight, r.period), r.period.label in data.breaks)
                    for r in series
                ],
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


def _level_text(level: float) -> str:
    return f"{number(level * 100, 1 if level * 100 % 1 else 0)} %"


def _with_unit(text: str, unit: str) -> str:
    return f"{text}, {unit}" if unit else text


def funnel_sentence(data: IndicatorData, row: dict, peer_value: float) -> str:
    """The highlighted municipality against the funnel's limits, in words (docs/statistics.md):
    inside the 95 % limits "not distinguishable from the peer average", otherwise higher or lower
    than expected beyond the 95 % or the 99.8 % limits, and by polarity better or worse."""
    item = data.indicator
    position = row["position"]
    unit = f" {item.display_unit}" if item.display_unit else ""
    values = {
        "municipality": row["name"],
        "value": number(row["value"], item.decimals),
        "average": number(peer_value, item.decimals),
        "unit": unit,
        "level": _level_text(funnel.LEVELS[1 if position in (funnel.ABOVE_998, funnel.BELOW_998) else 0]),
    }
    if position == funnel.INSIDE:
        return (
            _(
                "%(municipality)s: %(value)s%(unit)s is not distinguishable from the peer average of "
                "%(average)s%(unit)s — the difference lies within the %(level)s limits of chance variation "
                "for its size."
            )
            % values
        )
    above = position in (funnel.ABOVE_95, funnel.ABOVE_998)
    if above:
        sentence = _(
            "%(municipality)s: %(value)s%(unit)s is higher than expected from the peer average of "
            "%(average)s%(unit)s — beyond the %(level)s limits of chance variation for its size."
        )
    else:
        sentence = _(
            "%(municipality)s: %(value)s%(unit)s is lower than expected from the peer average of "
            "%(average)s%(unit)s — beyond the %(level)s limits of chance variation for its size."
        )
    sentence %= values
    if item.polarity == "neutral":
        return sentence
    better = above == (item.polarity == "higher")
    judgement = (
        _("For this indicator that is a better result than the peer average.")
        if better
        else _("For this indicator that is a worse result than the peer average.")
    )
    return f"{sentence} {judgement}"


def funnel_section(data: IndicatorData) -> tuple[dict | None, str]:
    """The funnel plot's chart entry (or None) and the note said instead of it (or "")."""
    found = data.funnel
    if found is None:
        return None, ""
    if found.form is None:
        return None, _("No funnel plot: the formula is not a count divided by a denominator (times a number or not).")
    if not found.network_group:
        return None, _("The funnel plot is drawn for the network peer group only.")
    if not found.read:
        return None, _("No funnel plot: there are no approved counts and denominators in this period.")
    item, form = data.indicator, found.form
    frame = pd.DataFrame(
        {
            "municipality_id": [r.municipality_id for r in data.rows],
            "name": [r.municipality.display_name for r in data.rows],
            "numerator": [r.numerator for r in data.rows],
            "denominator": [r.denominator for r in data.rows],
        }
    )
    peer_value, points = funnel.funnel_points(frame, kind=found.kind, multiplier=form.multiplier)
    usable = points[points["position"].notna()]
    if peer_value is None or usable.empty:
        return None, _("No funnel plot: there are no approved counts and denominators in this period.")
    curves = funnel.funnel_curves(
        found.kind,
        peer_value / form.multiplier,
        multiplier=form.multiplier,
        low=float(usable["denominator"].min()) / 1.5,
        high=float(usable["denominator"].max()) * 1.2,
    )
    # Drawn, not read: one digit beyond the indicator's is more than a screen can show.
    curves = curves.round({c: item.decimals + 1 for c in curves.columns if c != "denominator"})
    denominator = found.denominator
    x_title = _with_unit(denominator.display_short_name, denominator.display_unit) if denominator else _("Denominator")
    name = data.highlight.display_name if data.highlight else None
    labels = {
        "x": x_title,
        "y": _with_unit(item.display_short_name, item.display_unit),
        "peers": _("Peers"),
        "peer_value": _("Peer average"),
        "limits_95": _("%(level)s limits") % {"level": _level_text(funnel.LEVELS[0])},
        "limits_998": _("%(level)s limits") % {"level": _level_text(funnel.LEVELS[1])},
    }
    figure = charts.funnel_plot(
        points,
        curves,
        peer_value=peer_value,
        highlight=name,
        title=_("Funnel plot"),
        labels=labels,
        separators=separators(),
    )
    own = usable[usable["municipality_id"] == data.highlight.pk] if data.highlight else usable.iloc[0:0]
    if not own.empty:
        summary = funnel_sentence(data, own.iloc[0].to_dict(), peer_value)
    else:
        outside = int((usable["position"] != funnel.INSIDE).sum())
        summary = ngettext(
            "The peer average is %(average)s%(unit)s; %(outside)s of %(n)s municipality lies outside the %(level)s "
            "limits.",
            "The peer average is %(average)s%(unit)s; %(outside)s of %(n)s municipalities lie outside the %(level)s "
            "limits.",
            len(usable),
        ) % {
            "level": _level_text(funnel.LEVELS[0]),
            "average": number(peer_value, item.decimals),
            "unit": f" {item.display_unit}" if item.display_unit else "",
            "outside": outside,
            "n": len(usable),
        }
    return chart_entry("chart-funnel", figure, summary), ""


def indicator_page(scope: DashboardScope, data: IndicatorData) -> dict:
    ranking, trend = _ranking_table(scope, data), _trend_table(data)
    summary = summary_sentence(data, scope) if data.rows else ""
    funnel_chart, funnel_note = funnel_section(data) if data.rows else (None, "")
    how = how_computed()
    if data.funnel is not None:
        how.append(
            (
                _("funnel plot"),
                _(
                    "limits around the peer average (the sum of the counts over the sum of the denominators) "
                    "within which a value lies by chance alone, given its denominator: exact Poisson or binomial "
                    "quantiles with interpolation (Spiegelhalter 2005)"
                ),
            )
        )
    return {
        "funnel_chart": funnel_chart,
        "funnel_note": funnel_note,
        "tables": [t for t in (ranking, trend) if t.rows],
        "indicator": data.indicator,
        "highlight": data.highlight,
        "highlight_choices": [m.municipality for m in scope.members],
        "ranking": ranking if ranking.rows else None,
        "trend": trend if trend.rows else None,
        "charts": _charts(data, summary) if data.rows else [],
        "summary": summary,
        "how_computed": how,
        "break_mark": BREAK_MARK,
        "break_notes": [(label, note) for label, note in data.breaks.items()],
        "reconstructed_legend": any(is_reconstructed(row.municipality, scope.period) for row in data.rows)
        or any(is_reconstructed(data.highlight, row.period) for row in data.series),
        "practices_url": practices_url(scope, data.indicator),
        "best_practices": [
            (row.municipality, practices_url(scope, data.indicator, row.municipality))
            for row in data.rows
            if row.rank is not None and row.rank <= 3
        ],
    }
