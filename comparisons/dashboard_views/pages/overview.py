"""The network overview: every reporting member x indicator, coloured by band, and the composite.

Pure (see the package). A large network (500 members x 200 indicators) is shown a page at a
time: `dashboard_data.overview_data` sorts every member and reads only the page's cells; this
builds the heatmap table and figure of that page, the composite ranking, the pagers and the
sentence. The export has the whole table (the record then holds every row and column).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import pandas as pd
from django.utils.translation import gettext as _

from ... import charts
from ...dashboard_data import OverviewData, page_bounds
from ...dashboard_selectors import DashboardScope
from ...words import indicator_words
from ..tables import BandChip, BandListEntry, Cell, Table, number, number_style, url_maker
from .shared import chart_entry, indicator_labels, page_state, peer_group_label, period_label, separators


def wanted_page(query: Mapping[str, str], key: str) -> int:
    """The page asked for in the query string (1 when absent or not a number)."""
    try:
        return int(query.get(key, "1"))
    except ValueError:
        return 1


def pager(query: Mapping[str, str], state: dict[str, str], key: str, size: int, total: int) -> dict:
    """One dimension of the heatmap's paging: which slice is shown and the links to the others."""
    current, pages, first, stop = page_bounds(wanted_page(query, key), size, total)
    base = {name: value for name, value in state.items() if name != key}

    def link(page: int) -> str:
        return "?" + urlencode({**base, key: page} if page > 1 else base)

    return {
        "start": first,
        "stop": stop,
        "page": current,
        "pages": pages,
        "total": total,
        "previous": link(current - 1) if current > 1 else "",
        "next": link(current + 1) if current < pages else "",
        "links": [(page, link(page)) for page in range(1, pages + 1)] if pages > 1 else [],
    }


def _rows_state(query: Mapping[str, str]) -> dict[str, str]:
    page = query.get("page", "")
    return {"page": page} if page.isdigit() and page != "1" else {}


def _cell_words(indicator, unit: str, value, median, mad, n) -> str:
    """A heatmap cell's sentence for its tooltip ("" where the figures must stand alone);
    ``unit``: the indicator's unit in the UI's language, looked up once per column."""
    said = indicator_words(indicator, value=value, median=median, mad=mad, n=n, unit=unit)
    return said.text if said else ""


def _heat(
    scope: DashboardScope, data: OverviewData, labels: dict[int, str], *, exporting: bool
) -> tuple[Table, list[dict], list[BandListEntry]]:
    """The page's heatmap as a table, as the figure's frame and as the narrow screen's list of
    band chips, own municipality first (the frame and list are not built for an export).

    The page names indicators by their short names; the download's header keeps the codes."""
    composite_value = {c.municipality_id: c.index_value for c in data.composite}
    fixed = [_("Municipality"), _("Composite index")]
    heat = Table(
        slug="heatmap",
        caption=_("Every member and indicator, %(period)s, compared with %(peers)s")
        % {"period": period_label(scope), "peers": peer_group_label(scope.peer_group)},
        header=[*fixed, *[labels[i.pk] for i in data.columns]],
        sort_keys={0: "name", 1: "composite", **{index + 2: i.code for index, i in enumerate(data.columns)}},
        export_header=[*fixed, *[i.code for i in data.columns]],
    )
    frame, entries = [], []
    profile_link = url_maker("comparisons:profile", "code", network=scope.network.code)
    style = number_style()
    # The columns' names and units in the UI's language, once per column, not once per cell.
    names = {indicator.pk: indicator.display_name for indicator in data.columns}
    units = {indicator.pk: indicator.display_unit for indicator in data.columns}
    for municipality in data.rows:
        composite = composite_value.get(municipality.pk)
        municipality_name = municipality.display_name
        row_cells = [
            Cell(raw=municipality_name, link=profile_link(municipality.code)),
            Cell(raw=composite, decimals=1),
        ]
        chips = []
        for indicator in data.columns:
            found = data.cells.get((municipality.pk, indicator.pk))
            if found is None:
                row_cells.append(Cell())
                chips.append(BandChip(label=labels[indicator.pk], title=names[indicator.pk], band="grey", shown="—"))
                continue
            value, band, _rank, median, mad, n = found
            shown = number(value, indicator.decimals, style)
            row_cells.append(
                Cell(raw=value, decimals=indicator.decimals, display=f"{charts.band_icon(band)} {shown}".strip())
            )
            if not exporting:
                chips.append(
                    BandChip(label=labels[indicator.pk], title=names[indicator.pk], band=band or "", shown=shown)
                )
                frame.append(
                    {
                        "municipality": municipality_name,
                        "indicator": labels[indicator.pk],
                        "code": indicator.code,
                        "band": band,
                        "text": shown,
                        "words": _cell_words(indicator, units[indicator.pk], value, median, mad, n),
                    }
                )
        own = municipality.pk in scope.own_ids
        heat.add(row_cells, highlight=own)
        if not exporting:
            entries.append(
                BandListEntry(
                    name=municipality_name,
                    link=profile_link(municipality.code),
                    own=own,
                    composite=number(composite, 1, style) if composite is not None else "",
                    chips=chips,
                )
            )
    # The viewer's own municipality first; the others keep the sort's order.
    entries.sort(key=lambda entry: not entry.own)
    return heat, frame, entries


def _composite_table(scope: DashboardScope, data: OverviewData) -> Table:
    ranking = Table(
        slug="composite",
        caption=_("Composite index, %(period)s") % {"period": period_label(scope)},
        header=[_("Position"), _("Municipality"), _("Composite index"), _("Coverage of the index weight (%)")],
    )
    position = 0
    for entry in data.composite:
        if entry.index_value is not None:
            position += 1
        ranking.add(
            [
                Cell(raw=position if entry.index_value is not None else None, decimals=0),
                Cell(raw=entry.municipality.display_name),
                Cell(raw=entry.index_value, decimals=1),
                Cell(raw=entry.coverage * 100 if entry.coverage is not None else None, decimals=0),
            ],
            highlight=entry.municipality_id in scope.own_ids,
        )
    return ranking


def summary_sentence(scope: DashboardScope, data: OverviewData) -> str:
    summary = _("%(m)s municipalities and %(i)s indicators are compared in %(period)s.") % {
        "m": len(data.municipalities),
        "i": len(data.indicators),
        "period": scope.period.label,
    }
    leader = next((c for c in data.composite if c.index_value is not None), None)
    if leader is not None:
        summary += " " + _("The highest composite index is %(name)s's (%(value)s).") % {
            "name": leader.municipality.display_name,
            "value": number(leader.index_value, 1),
        }
    return summary


def overview_page(
    scope: DashboardScope,
    data: OverviewData,
    *,
    query: Mapping[str, str],
    theme: str,
    rows_per_page: int,
    columns_per_page: int,
    exporting: bool,
) -> dict:
    state = page_state(scope, query, theme=theme, sort=data.sort)
    row_pager = pager(query, state, "page", rows_per_page, len(data.municipalities))
    column_pager = pager(query, {**state, **_rows_state(query)}, "cols", columns_per_page, len(data.indicators))
    labels = indicator_labels(data.columns)
    heat, frame, band_list = _heat(scope, data, labels, exporting=exporting)
    ranking = _composite_table(scope, data)
    summary = summary_sentence(scope, data) if frame else ""
    chart = None
    if frame:
        own = next((m.display_name for m in data.rows if m.pk in scope.own_ids), None)
        figure = charts.heatmap(
            pd.DataFrame(frame),
            title=_("Bands by municipality and indicator"),
            municipality_order=[m.display_name for m in data.rows],
            indicator_order=[labels[i.pk] for i in data.columns],
            separators=separators(),
            highlight=own,
            code_label=_("code"),
        )
        chart = chart_entry("chart-heatmap", figure, summary)
    own_pages = [
        (m.display_name, "?" + urlencode({**state, "page": index // rows_per_page + 1}))
        for index, m in enumerate(data.municipalities)
        if m.pk in scope.own_ids and row_pager["pages"] > 1
    ]
    return {
        "tables": [t for t in (heat, ranking) if t.rows],
        "heat": heat if heat.rows else None,
        "ranking": ranking if ranking.rows else None,
        "chart": chart,
        "summary": summary,
        "themes": data.themes,
        "theme": theme,
        "sort": data.sort,
        "completion": {"approved": len(data.reporting), "members": len(scope.members)},
        "indicator_names": [(i.code, labels[i.pk], i.display_name) for i in data.columns],
        "band_list": band_list,
        "own_not_compared": [
            m.municipality.display_name
            for m in scope.members
            if m.municipality_id in scope.own_ids and m.municipality_id not in data.reporting
        ],
        "row_pager": row_pager,
        "column_pager": column_pager,
        "own_pages": own_pages,
    }
