"""The map: one indicator for every member, by band, on the boundaries or on a grid of centroids.

Pure (see the package): the table by municipality, the sentence counting the bands, and the
choropleth when the installation has a boundaries file (else the grid map, no tiles).
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext as _

from networks.collation import sorted_latvian

from ... import charts
from ...dashboard_data import MapData
from ...dashboard_selectors import DashboardScope
from ..tables import Cell, Table, band_text, band_words, number, number_style
from .shared import chart_entry, period_label, separators


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _table_and_frame(scope: DashboardScope, data: MapData) -> tuple[Table, list[dict]]:
    item, highlight = data.indicator, data.highlight
    table = Table(
        slug="map",
        caption=_("%(indicator)s, %(period)s, by municipality")
        % {"indicator": item.display_name if item else "", "period": period_label(scope)},
        header=[_("Municipality"), _("Code"), _("Value"), _("Rank"), _("Band")],
    )
    frame = []
    style, words = number_style(), band_words()
    for row in sorted_latvian(data.rows, key=lambda r: r.municipality.display_name):
        attributes = data.attributes.get(row.municipality_id) or {}
        frame.append(
            {
                "code": row.municipality.code,
                "name": row.municipality.display_name,
                "lat": _float(attributes.get("centroid_lat")),
                "lon": _float(attributes.get("centroid_lon")),
                "band": row.band,
                "text": number(row.value, item.decimals, style),
            }
        )
        table.add(
            [
                Cell(raw=row.municipality.display_name),
                Cell(raw=row.municipality.code),
                Cell(raw=row.value, decimals=item.decimals),
                Cell(raw=row.rank, decimals=0),
                Cell(raw=row.band or "", display=band_text(row.band, words)),
            ],
            highlight=bool(highlight and highlight.pk == row.municipality_id),
        )
    return table, frame


def summary_sentence(scope: DashboardScope, item, frame: pd.DataFrame) -> str:
    counts = frame["band"].value_counts()
    return _(
        "%(indicator)s in %(period)s: %(green)s municipalities in the top quarter, %(yellow)s in the middle "
        "half, %(red)s in the bottom quarter."
    ) % {
        "indicator": item.display_name,
        "period": scope.period.label,
        "green": int(counts.get("green", 0)),
        "yellow": int(counts.get("yellow", 0)),
        "red": int(counts.get("red", 0)),
    }


def _chart(scope: DashboardScope, data: MapData, rows: list[dict]) -> tuple[dict, str]:
    frame = pd.DataFrame(rows)
    summary = summary_sentence(scope, data.indicator, frame)
    name = data.highlight.display_name if data.highlight else None
    title = data.indicator.display_name
    if data.geojson is not None:
        figure = charts.choropleth(
            frame,
            geojson=data.geojson,
            code_property=data.code_property,
            title=title,
            highlight=name,
            separators=separators(),
            band_labels=band_words(),
        )
    else:
        figure = charts.grid_map(frame, title=title, highlight=name, separators=separators(), band_labels=band_words())
    return chart_entry("chart-map", figure, summary), summary


def map_page(scope: DashboardScope, data: MapData) -> dict:
    table, rows = _table_and_frame(scope, data)
    chart, summary = _chart(scope, data, rows) if rows else (None, "")
    return {
        "tables": [table] if table.rows else [],
        "indicator": data.indicator,
        "indicators": data.indicators,
        "table": table if table.rows else None,
        "chart": chart,
        "summary": summary,
        "choropleth": data.geojson is not None,
        "attribution": data.attribution,
    }
