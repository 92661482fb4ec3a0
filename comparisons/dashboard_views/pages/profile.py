"""The municipality profile and its printable report: every indicator of one member.

Pure (see the package): the table of every indicator with its trend, the sentence on how many
indicators are in the top and bottom quarter, the score bars, the composite position and the
nearest neighbours' contributions. The report adds the composite index of every member.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape as html_escape
from urllib.parse import urlencode

import pandas as pd
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from networks.collation import sorted_latvian

from ... import charts
from ...dashboard_data import ProfileData
from ...dashboard_selectors import DashboardScope
from ...words import result_words, trend_words
from ..tables import Cell, Table, band_text, band_words, change_text, number, number_style, url_maker
from .shared import (
    BREAK_MARK,
    RECONSTRUCTED_MARK,
    chart_entry,
    is_reconstructed,
    marked,
    page_state,
    peer_group_label,
    period_label,
    separators,
)


def _indicator_table(
    scope: DashboardScope, data: ProfileData, query: Mapping[str, str], *, sparklines: bool = True
) -> tuple[Table, list[dict]]:
    """The table of every indicator and (``sparklines``) the small trend lines of their last periods."""
    municipality = data.municipality
    table = Table(
        slug="indicators",
        caption=_("%(municipality)s: every indicator, %(period)s, compared with %(peers)s")
        % {
            "municipality": municipality.display_name,
            "period": period_label(scope),
            "peers": peer_group_label(scope.peer_group),
        },
        header=[
            _("Indicator"),
            _("Value"),
            _("Unit"),
            _("Rank"),
            _("of n"),
            _("Band"),
            _("Change"),
            _("Median"),
            _("Score"),
            _("Compared with peers"),
            _("Trend"),
        ],
        sort_keys={0: "name", 6: "change", 8: "score"},
        cards=True,
    )
    lines = []
    indicator_link = url_maker("comparisons:indicator", "indicator", network=scope.network.code)
    style, words = number_style(), band_words()
    link_query = "?" + urlencode(page_state(scope, query, m=municipality.code))
    now = is_reconstructed(municipality, scope.period)
    for row in sorted_rows(data.rows, query.get("sort", "")):
        indicator = row.indicator
        past = data.history.get(indicator.pk, [])
        breaks = data.breaks.get(indicator.pk, {})
        # In words, the series starts at its first figure: years before the indicator was asked
        # say nothing (the sparkline keeps one position per period, so the lines still align).
        first = next((i for i, r in enumerate(past) if r.value is not None), len(past))
        trend = "; ".join(
            f"{marked(r.label, r.reconstructed, r.label in breaks)}: {number(r.value, indicator.decimals, style)}"
            for r in past[first:]
        )
        said = result_words(row, indicator, reconstructed=now)
        direction = trend_words(values=[r.value for r in past], polarity=indicator.polarity)
        in_words = " ".join(text for text in (said.text if said else "", direction) if text)
        table.add(
            [
                Cell(raw=indicator.display_name, link=indicator_link(indicator.code) + link_query),
                Cell(raw=row.value, decimals=indicator.decimals),
                Cell(raw=indicator.display_unit),
                Cell(raw=row.rank, decimals=0),
                Cell(raw=row.n, decimals=0),
                Cell(raw=row.band or "", display=band_text(row.band, words)),
                Cell(raw=row.change_abs, display=change_text(row.change_abs, row.improved)),
                Cell(raw=row.median, decimals=indicator.decimals),
                Cell(raw=row.score, decimals=0),
                Cell(raw=in_words),
                Cell(raw=trend),
            ]
        )
        if sparklines:
            lines.append(
                {
                    "indicator": indicator.display_name,
                    "points": charts.sparkline_points([r.value for r in past]),
                    "label": trend,
                }
            )
    return table, lines


def sparklines_html(sparklines: list[dict]) -> SafeString:
    """The trend list's items (what `comparisons/_profile.html` shows under the table), built in
    Python as `table_html` is: 500 indicators are 2,000 template variables. Every text is escaped
    here; the path data are numbers and letters from `charts.sparkline_points`, escaped too."""
    out = []
    for line in sparklines:
        label = html_escape(line["label"])
        svg = (
            f'<svg class="sparkline" viewBox="0 0 100 24" width="100" height="24" role="img"'
            f' aria-label="{label}"><path d="{html_escape(line["points"])}"/></svg>'
            if line["points"]
            else ""
        )
        out.append(
            f'<li><span class="sparkline-label">{html_escape(line["indicator"])}</span>\n'
            f'        {svg}\n        <span class="small text-muted">{label}</span></li>'
        )
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703 - every text escaped above


PROFILE_SORTS = ("score", "change", "name")


def sorted_rows(rows: list, sort: str) -> list:
    """The profile's rows in the order asked for: ``score`` (best first), ``change`` (the most
    improved first, by polarity), ``name``; otherwise the catalogue's order. Rows without the
    figure sorted by come last."""
    if sort == "score":
        return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0)))
    if sort == "change":

        def gain(row) -> tuple[bool, float]:
            polarity = row.indicator.polarity
            # Relative: the indicators' units differ; a change from 0 has none (then absolute).
            change = row.change_rel if row.change_rel is not None else row.change_abs
            if change is None or polarity == "neutral":
                return True, 0.0
            return False, -(change if polarity == "higher" else -change)

        return sorted(rows, key=gain)
    if sort == "name":
        return sorted_latvian(rows, key=lambda r: r.indicator.display_name)
    return list(rows)


def composite_position(data: ProfileData) -> dict | None:
    """The member's composite index and its position within its own group (ties: the best)."""
    own = next((c for c in data.composite if c.municipality_id == data.municipality.pk), None)
    if own is None or own.index_value is None:
        return None
    ranked = [c for c in data.composite if c.group_key == own.group_key and c.index_value is not None]
    if len(ranked) < 2:
        # Every municipality in a group of its own (nearest neighbours): a position says nothing.
        return None
    better = sum(1 for c in ranked if c.index_value > own.index_value)
    return {"position": better + 1, "n": len(ranked), "value": own.index_value}


def summary_sentence(scope: DashboardScope, data: ProfileData, position: dict | None) -> str:
    rows = data.rows
    summary = _(
        "In %(period)s %(municipality)s is in the top quarter on %(green)s and in the bottom quarter on "
        "%(red)s of %(n)s compared indicators."
    ) % {
        "period": scope.period.label,
        "municipality": data.municipality.display_name,
        "green": sum(1 for r in rows if r.band == "green"),
        "red": sum(1 for r in rows if r.band == "red"),
        "n": sum(1 for r in rows if r.band in ("green", "yellow", "red")),
    }
    if position:
        summary += " " + _("Its composite index is %(value)s, position %(position)s of %(n)s.") % {
            "value": number(position["value"], 1),
            "position": position["position"],
            "n": position["n"],
        }
    return summary


def _score_chart(data: ProfileData, summary: str) -> dict | None:
    frame = pd.DataFrame(
        {
            "indicator": [r.indicator.display_name for r in data.rows],
            "score": [r.score for r in data.rows],
            "band": [r.band for r in data.rows],
        }
    )
    if not frame["score"].notna().any():
        return None
    figure = charts.score_bars(
        frame, title=_("Scores (0 = worst, 100 = best in the peer group)"), separators=separators()
    )
    return chart_entry("chart-scores", figure, summary)


def _neighbours(data: ProfileData) -> list[dict]:
    """Each neighbour with what makes it near: the context variables by name, largest share of
    the distance first (a small share: similar on that variable)."""
    names = data.variable_names
    return [
        {
            "municipality": n.neighbour,
            "position": n.position,
            "contributions": sorted(
                ((names.get(name, name), share * 100) for name, share in (n.contributions or {}).items()),
                key=lambda item: -item[1],
            ),
        }
        for n in data.neighbours
    ]


def reconstructed_note(scope: DashboardScope, data: ProfileData) -> str:
    """What the page says when the municipality did not exist yet in the chosen period."""
    if not is_reconstructed(data.municipality, scope.period):
        return ""
    return _(
        "%(municipality)s came into being on %(date)s: its figures of %(period)s are reconstructed from the "
        "predecessors' figures %(mark)s."
    ) % {
        "municipality": data.municipality.display_name,
        # 1.07.2021 in Latvian; "July 1, 2021" in English (its short form, 07/01/2021, misleads Europeans).
        "date": date_format(
            data.municipality.valid_from,
            "DATE_FORMAT" if (get_language() or "").startswith("en") else "SHORT_DATE_FORMAT",
        ),
        "period": scope.period.label,
        "mark": RECONSTRUCTED_MARK,
    }


def profile_page(
    scope: DashboardScope, data: ProfileData, *, query: Mapping[str, str], theme: str, trends: bool = True
) -> dict:
    """The profile's context; ``trends``: with the list of small trend lines under the table."""
    table, sparklines = _indicator_table(scope, data, query, sparklines=trends)
    position = composite_position(data)
    summary = summary_sentence(scope, data, position) if data.rows else ""
    note = reconstructed_note(scope, data)
    return {
        "tables": [table] if data.rows else [],
        "municipality": data.municipality,
        "table": table if data.rows else None,
        "sparklines": sparklines,
        "sparklines_html": sparklines_html(sparklines),
        "chart": _score_chart(data, summary) if data.rows else None,
        "summary": summary,
        "reconstructed_note": note,
        "break_mark": BREAK_MARK,
        "break_notes": _break_notes(data),
        "reconstructed_legend": bool(note) or any(p.reconstructed for past in data.history.values() for p in past),
        "themes": data.themes,
        "theme": theme,
        "composite_position": position,
        "own_groups": scope.peer_group.startswith("nearest:"),
        "sort": query.get("sort", ""),
        "neighbours": _neighbours(data),
        "report_url": reverse(
            "comparisons:report", kwargs={"network": scope.network.code, "code": data.municipality.code}
        ),
    }


def _break_notes(data: ProfileData) -> list[tuple[str, str]]:
    """(indicator and period, note) of every series break the table's trends mark."""
    shown = {r.label for past in data.history.values() for r in past}
    return [
        (f"{row.indicator.display_name}, {label}", note)
        for row in data.rows
        for label, note in data.breaks.get(row.indicator.pk, {}).items()
        if label in shown
    ]


def report_page(scope: DashboardScope, data: ProfileData, *, query: Mapping[str, str], theme: str) -> dict:
    """The profile without controls, with the composite index of every member."""
    # The printed report has the trend of each indicator in its table, not the lines under it.
    page = profile_page(scope, data, query=query, theme=theme, trends=False)
    table = Table(
        slug="report-composite",
        caption=_("Composite index of the network's members"),
        header=[_("Municipality"), _("Composite index")],
    )
    for entry in data.composite:
        table.add(
            [Cell(raw=entry.municipality.display_name), Cell(raw=entry.index_value, decimals=1)],
            highlight=entry.municipality_id == data.municipality.pk,
        )
    page["composite"] = table if table.rows else None
    return page
