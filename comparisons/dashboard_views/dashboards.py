"""Dashboards for decision makers: municipality profile, indicator comparison, network overview,
map, and the printable municipality report.

Views are thin: `dashboard_selectors.dashboard_scope` does the access check (DESIGN.md §3
visibility through `networks.permissions`) and picks the round, one selector reads stored
results, pure functions build the charts. An htmx request (a control changed) gets the page's
partial only; the state stays in the query string, so every view can be bookmarked.
`?export=<table>&format=csv|xlsx` on any page downloads one of its tables.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from .. import charts
from .. import dashboard_selectors as selectors
from ..dashboard_selectors import DashboardScope
from ..finders import maplibre_style_id
from .exports import export_response
from .tables import Cell, Table, band_text, band_words, change_text, number, number_style, url_maker

TABLE_FORMATS = ("csv", "xlsx")


# --- shared pieces ---------------------------------------------------------------------------------


def separators() -> str:
    """Plotly's decimal and thousands separators for the current language (lv: `1 234,5`)."""
    return ",\u00a0" if (get_language() or "").startswith("lv") else ".,"


def peer_group_label(name: str) -> str:
    fixed = {
        "network": _("the network"),
        "all": _("all municipalities with data"),
        "kind": _("the same kind"),
        "region": _("the same planning region"),
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("attr:"):
        return _("the same %(attribute)s") % {"attribute": name[len("attr:") :]}
    if name.startswith("custom:"):
        return _("the group %(group)s") % {"group": name[len("custom:") :]}
    if name.startswith("nearest:"):
        return _("the %(k)s nearest neighbours") % {"k": name[len("nearest:") :]}
    return name


def _state(request: HttpRequest, scope: DashboardScope, **extra: str) -> dict[str, str]:
    state = {}
    if scope.round is not None:
        state["period"] = scope.round.period.label
    if scope.peer_group != "network":
        state["peer"] = scope.peer_group
    for key in ("theme", "m", "indicator", "sort", "cols"):
        value = extra.get(key, request.GET.get(key, ""))
        if value:
            state[key] = value
    return state


def _base_context(request: HttpRequest, scope: DashboardScope, *, page: str, tables: list[Table], **extra) -> dict:
    state = _state(request, scope, **{k: v for k, v in extra.items() if isinstance(v, str)})
    query = urlencode(state)
    exports = [
        (table, [(fmt, "?" + urlencode({**state, "export": table.slug, "format": fmt})) for fmt in TABLE_FORMATS])
        for table in tables
    ]
    return {
        "scope": scope,
        "page": page,
        "maplibre_style_id": maplibre_style_id(),
        "periods": [(r.period.label, visibility) for r, visibility in scope.rounds],
        "peer_groups": [(name, peer_group_label(name)) for name in scope.peer_groups],
        "peer_label": peer_group_label(scope.peer_group),
        "query": query,
        "query_without_sort": urlencode({k: v for k, v in state.items() if k != "sort"}),
        "exports": exports,
        "tables": tables,
        "overview_url": reverse("comparisons:overview", kwargs={"network": scope.network.code}),
        "map_url": reverse("comparisons:map", kwargs={"network": scope.network.code}),
        "own_municipalities": [m.municipality for m in scope.members if m.municipality_id in scope.own_ids],
    }


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The whole page, or only its partial for an htmx request; a table file for `?export=`."""
    wanted = request.GET.get("export")
    if wanted:
        fmt = request.GET.get("format", "csv")
        for table in context["tables"]:
            if table.slug == wanted and fmt in TABLE_FORMATS:
                return export_response(table=table, fmt=fmt, scope=context["scope"])
        return HttpResponse(status=404)
    name = (
        f"comparisons/_{template}.html" if request.htmx and not request.htmx.boosted else f"comparisons/{template}.html"
    )
    return render(request, name, context)


def _chart(chart_id: str, figure, summary: str) -> dict:
    return {"id": chart_id, "data": charts.figure_data(figure), "summary": summary}


def _highlight(request: HttpRequest, scope: DashboardScope):
    """The municipality to highlight: `?m=CODE` (a member), else the viewer's own."""
    code = request.GET.get("m", "")
    if code:
        for membership in scope.members:
            if membership.municipality.code == code:
                return membership.municipality
    own = [m.municipality for m in scope.members if m.municipality_id in scope.own_ids]
    return own[0] if own else None


def _scope(request: HttpRequest, network: str) -> DashboardScope:
    return selectors.dashboard_scope(
        user=request.user,
        network_code=network,
        period_label=request.GET.get("period", "")[:16],
        peer_group=request.GET.get("peer", "")[:120],
    )


def _themes(indicators) -> list[str]:
    return sorted({i.display_theme for i in indicators if i.display_theme})


# --- the list of networks' dashboards -----------------------------------------------------------------


def dashboard_index(request: HttpRequest) -> HttpResponse:
    """Every network with a link to its dashboard (which says what this person may see)."""
    from networks.selectors import network_list

    return render(request, "comparisons/index.html", {"networks": network_list()})


# --- municipality profile ---------------------------------------------------------------------------


def _profile_context(request: HttpRequest, network: str, code: str, *, page: str = "profile") -> dict:
    scope = _scope(request, network)
    municipality = selectors.scope_municipality(scope, code)
    current = selectors.profile_rows(scope=scope, municipality=municipality) if scope.ready else []
    themes = _themes([r.indicator for r in current])
    theme = request.GET.get("theme", "")
    if theme:
        current = [r for r in current if r.indicator.display_theme == theme]
    history = selectors.profile_history(scope=scope, municipality=municipality) if current else {}

    table = Table(
        slug="indicators",
        caption=_("%(municipality)s: every indicator, %(period)s, compared with %(peers)s")
        % {
            "municipality": municipality.display_name,
            "period": scope.period.label if scope.period else "",
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
            _("Trend"),
        ],
    )
    sparklines = []
    indicator_url = {}
    indicator_link = url_maker("comparisons:indicator", "indicator", network=scope.network.code)
    style, words = number_style(), band_words()
    link_query = "?" + urlencode(_state(request, scope, m=municipality.code))
    for row in current:
        indicator = row.indicator
        url = indicator_link(indicator.code)
        indicator_url[indicator.pk] = url
        past = history.get(indicator.pk, [])
        trend = "; ".join(f"{r.label}: {number(r.value, indicator.decimals, style)}" for r in past)
        table.add(
            [
                Cell(raw=indicator.display_name, link=url + link_query),
                Cell(raw=row.value, decimals=indicator.decimals),
                Cell(raw=indicator.unit),
                Cell(raw=row.rank, decimals=0),
                Cell(raw=row.n, decimals=0),
                Cell(raw=row.band or "", display=band_text(row.band, words)),
                Cell(raw=row.change_abs, display=change_text(row.change_abs, row.improved)),
                Cell(raw=row.median, decimals=indicator.decimals),
                Cell(raw=row.score, decimals=0),
                Cell(raw=trend),
            ]
        )
        sparklines.append(
            {
                "indicator": indicator.display_name,
                "points": charts.sparkline_points([r.value for r in past]),
                "label": trend,
            }
        )
    composite = every_composite = selectors.composite_rows(scope=scope) if scope.ready else []
    own_composite = next((c for c in composite if c.municipality_id == municipality.pk), None)
    if own_composite is not None:
        composite = [c for c in composite if c.group_key == own_composite.group_key]
    composite_position = None
    if own_composite is not None and own_composite.index_value is not None:
        ranked = [c for c in composite if c.index_value is not None]
        better = sum(1 for c in ranked if c.index_value > own_composite.index_value)
        composite_position = {"position": better + 1, "n": len(ranked), "value": own_composite.index_value}
    neighbours = selectors.neighbours_of(scope=scope, municipality=municipality) if scope.ready else []

    chart = None
    summary = ""
    if current:
        greens = sum(1 for r in current if r.band == "green")
        reds = sum(1 for r in current if r.band == "red")
        banded = sum(1 for r in current if r.band in ("green", "yellow", "red"))
        summary = _(
            "In %(period)s %(municipality)s is in the top quarter on %(green)s and in the bottom quarter on "
            "%(red)s of %(n)s compared indicators."
        ) % {
            "period": scope.period.label,
            "municipality": municipality.display_name,
            "green": greens,
            "red": reds,
            "n": banded,
        }
        if composite_position:
            summary += " " + _("Its composite index is %(value)s, position %(position)s of %(n)s.") % {
                "value": number(composite_position["value"], 1),
                "position": composite_position["position"],
                "n": composite_position["n"],
            }
        frame = pd.DataFrame(
            {
                "indicator": [r.indicator.display_name for r in current],
                "score": [r.score for r in current],
                "band": [r.band for r in current],
            }
        )
        if frame["score"].notna().any():
            chart = _chart(
                "chart-scores",
                charts.score_bars(
                    frame, title=_("Scores (0 = worst, 100 = best in the peer group)"), separators=separators()
                ),
                summary,
            )
    context = _base_context(request, scope, page=page, tables=[table] if current else [])
    context.update(
        {
            "municipality": municipality,
            "table": table if current else None,
            "sparklines": sparklines,
            "chart": chart,
            "summary": summary,
            "themes": themes,
            "theme": theme,
            "composite_position": composite_position,
            "every_composite": every_composite,
            "neighbours": [
                {
                    "municipality": n.neighbour,
                    "position": n.position,
                    "contributions": sorted(
                        ((name, share * 100) for name, share in (n.contributions or {}).items()),
                        key=lambda item: -item[1],
                    ),
                }
                for n in neighbours
            ],
            "report_url": reverse(
                "comparisons:report", kwargs={"network": scope.network.code, "code": municipality.code}
            ),
        }
    )
    return context


def municipality_profile(request: HttpRequest, network: str, code: str) -> HttpResponse:
    return _render(request, "profile", _profile_context(request, network, code))


def municipality_report(request: HttpRequest, network: str, code: str) -> HttpResponse:
    """The printable report for a council meeting: the profile without controls, print-styled."""
    context = _profile_context(request, network, code, page="report")
    own = context["municipality"].pk
    table = Table(
        slug="report-composite",
        caption=_("Composite index of the network's members"),
        header=[_("Municipality"), _("Composite index")],
    )
    for entry in context["every_composite"]:
        table.add(
            [Cell(raw=entry.municipality.display_name), Cell(raw=entry.index_value, decimals=1)],
            highlight=entry.municipality_id == own,
        )
    context["composite"] = table if table.rows else None
    return _render(request, "report", context)


# --- indicator comparison ---------------------------------------------------------------------------


def _how_computed() -> list[tuple[str, str]]:
    """The definitions of DESIGN.md §3, shown next to the figures."""
    return [
        (_("population"), _("the peer group's municipalities with an approved submission and a value; n is its size")),
        (_("median, quartiles"), _("linear interpolation between order statistics (Excel QUARTILE.INC)")),
        (_("rank"), _("1 = best by the indicator's polarity; equal values share the best rank of their tie")),
        (_("band"), _("▲ top quarter if rank ≤ n/4, ▼ bottom quarter if rank > 3n/4, otherwise ● middle half")),
        (_("score"), _("100 × (value − worst) / (best − worst) within the peer group; 50 when all are equal")),  # noqa: RUF001 - typographic signs for readers
        (_("change"), _("against the same municipality's previous period; improving or worsening by polarity")),
    ]


def indicator_comparison(request: HttpRequest, network: str, indicator: str) -> HttpResponse:
    scope = _scope(request, network)
    item = selectors.scope_indicator(scope, indicator)
    highlight = _highlight(request, scope)
    rows = selectors.indicator_rows(scope=scope, indicator=item) if scope.ready else []
    own_row = next((r for r in rows if highlight and r.municipality_id == highlight.pk), None)
    if rows:
        # One partition of the peer group: the highlighted municipality's (its region, …).
        key = own_row.group_key if own_row else rows[0].group_key
        rows = [r for r in rows if r.group_key == key]
    series = selectors.indicator_series(scope=scope, indicator=item, municipality=highlight) if scope.ready else []
    decimals = item.decimals
    name = highlight.display_name if highlight else None

    ranking = Table(
        slug="ranking",
        caption=_("%(indicator)s, %(period)s: the peer group best first")
        % {"indicator": item.display_name, "period": scope.period.label if scope.period else ""},
        header=[_("Municipality"), _("Rank"), _("Value"), _("Band"), _("Percentile"), _("Score"), _("Change")],
    )
    profile_link = url_maker("comparisons:profile", "code", network=scope.network.code)
    words = band_words()
    for row in rows:
        ranking.add(
            [
                Cell(raw=row.municipality.display_name, link=profile_link(row.municipality.code)),
                Cell(raw=row.rank, decimals=0),
                Cell(raw=row.value, decimals=decimals),
                Cell(raw=row.band or "", display=band_text(row.band, words)),
                Cell(raw=row.percentile, decimals=0),
                Cell(raw=row.score, decimals=0),
                Cell(raw=row.change_abs, display=change_text(row.change_abs, row.improved)),
            ],
            highlight=bool(highlight and row.municipality_id == highlight.pk),
        )
    trend = Table(
        slug="series",
        caption=_("%(indicator)s over time: %(municipality)s against the peer median and quartiles")
        % {"indicator": item.display_name, "municipality": name or _("the network")},
        header=[_("Period"), _("Value"), _("Lower quartile"), _("Median"), _("Upper quartile")],
    )
    for row in series:
        trend.add(
            [
                Cell(raw=row.period.label),
                Cell(raw=row.value if highlight else None, decimals=decimals),
                Cell(raw=row.q1, decimals=decimals),
                Cell(raw=row.median, decimals=decimals),
                Cell(raw=row.q3, decimals=decimals),
            ]
        )

    charts_shown = []
    summary = ""
    if rows:
        first = rows[0]
        unit = f" {item.unit}" if item.unit else ""
        if own_row is not None and own_row.rank is not None:
            summary = _("%(municipality)s is ranked %(rank)s of %(n)s; the median is %(median)s%(unit)s.") % {
                "municipality": name,
                "rank": own_row.rank,
                "n": own_row.n,
                "median": number(first.median, decimals),
                "unit": unit,
            }
        else:
            summary = ngettext(
                "%(n)s municipality is compared; the median is %(median)s%(unit)s.",
                "%(n)s municipalities are compared; the median is %(median)s%(unit)s.",
                first.n,
            ) % {
                "n": first.n,
                "median": number(first.median, decimals),
                "unit": unit,
            }
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
        charts_shown.append(
            _chart(
                "chart-ranking",
                charts.ranked_bar(frame, highlight=name, title=_("Ranking"), labels=labels, separators=separators()),
                summary,
            )
        )
        charts_shown.append(
            _chart(
                "chart-distribution",
                charts.distribution(
                    frame, highlight=name, title=_("Distribution"), labels=labels, separators=separators()
                ),
                summary,
            )
        )
        if series:
            series_frame = pd.DataFrame(
                {
                    "period": [r.period.label for r in series],
                    "value": [r.value if highlight else None for r in series],
                    "median": [r.median for r in series],
                    "q1": [r.q1 for r in series],
                    "q3": [r.q3 for r in series],
                }
            )
            series_summary = _("From %(first)s to %(last)s the median went from %(a)s to %(b)s%(unit)s.") % {
                "first": series[0].period.label,
                "last": series[-1].period.label,
                "a": number(series[0].median, decimals),
                "b": number(series[-1].median, decimals),
                "unit": unit,
            }
            charts_shown.append(
                _chart(
                    "chart-series",
                    charts.time_series(
                        series_frame, highlight=name, title=_("Over time"), labels=labels, separators=separators()
                    ),
                    series_summary,
                )
            )
    tables = [t for t in (ranking, trend) if t.rows]
    context = _base_context(request, scope, page="indicator", tables=tables)
    context.update(
        {
            "indicator": item,
            "highlight": highlight,
            "highlight_choices": [m.municipality for m in scope.members],
            "ranking": ranking if ranking.rows else None,
            "trend": trend if trend.rows else None,
            "charts": charts_shown,
            "summary": summary,
            "how_computed": _how_computed(),
            "practices_url": _practices_url(scope, item),
            "best_practices": [
                (row.municipality, _practices_url(scope, item, row.municipality))
                for row in rows
                if row.rank is not None and row.rank <= 3
            ],
        }
    )
    return _render(request, "indicator", context)


def _practices_url(scope: DashboardScope, indicator, municipality=None) -> str:
    """The learning library's list of good practice for the indicator (of one municipality)."""
    from django.urls import NoReverseMatch

    try:
        base = reverse("learning:practice_list")
    except NoReverseMatch:
        return ""
    query = {"network": scope.network.code, "indicator": indicator.code}
    if municipality is not None:
        query["municipality"] = municipality.code
    return base + "?" + urlencode(query)


# --- network overview ---------------------------------------------------------------------------------


OVERVIEW_ROWS = 50  # municipalities on one page of the heatmap
OVERVIEW_COLUMNS = 25  # indicators on one page of the heatmap


def _page_number(request: HttpRequest, key: str, pages: int) -> int:
    try:
        wanted = int(request.GET.get(key, "1"))
    except ValueError:
        wanted = 1
    return min(max(wanted, 1), max(pages, 1))


def _pager(request: HttpRequest, state: dict[str, str], key: str, size: int, total: int) -> dict:
    """One dimension of the heatmap's paging: which slice is shown and the links to the others."""
    pages = max(1, -(-total // size))
    current = _page_number(request, key, pages)
    first = (current - 1) * size

    base = {name: value for name, value in state.items() if name != key}

    def link(page: int) -> str:
        return "?" + urlencode({**base, key: page} if page > 1 else base)

    return {
        "start": first,
        "stop": min(first + size, total),
        "page": current,
        "pages": pages,
        "total": total,
        "previous": link(current - 1) if current > 1 else "",
        "next": link(current + 1) if current < pages else "",
        "links": [(page, link(page)) for page in range(1, pages + 1)] if pages > 1 else [],
    }


def network_overview(request: HttpRequest, network: str) -> HttpResponse:
    """Every member x indicator of a period, coloured by band, and the composite ranking.

    A large network (500 members x 200 indicators) is shown a page at a time: the sort runs over
    every member, then only the page's cells are read. The export has the whole table.
    """
    scope = _scope(request, network)
    all_indicators = selectors.network_indicator_list(network=scope.network)
    themes = _themes(all_indicators)
    theme = request.GET.get("theme", "")
    chosen = sorted(
        (i for i in all_indicators if not theme or i.display_theme == theme),
        key=lambda i: i.code,
    )
    reporting = selectors.reporting_ids(scope=scope) if scope.ready else set()
    composite = selectors.composite_rows(scope=scope) if scope.ready else []
    composite_value = {c.municipality_id: c.index_value for c in composite}
    municipalities = [m.municipality for m in scope.members if m.municipality_id in reporting]

    sort = request.GET.get("sort", "composite")
    by_code = {i.code: i for i in chosen}
    if sort in by_code:
        ranks = selectors.indicator_ranks(scope=scope, indicator=by_code[sort])

        def key(m):
            rank = ranks.get(m.pk)
            return (rank is None, rank or 0, m.display_name)
    elif sort == "name":

        def key(m):
            return (0, m.display_name)
    else:
        sort = "composite"

        def key(m):
            value = composite_value.get(m.pk)
            return (value is None, -(value or 0), m.display_name)

    municipalities.sort(key=key)
    own_ids = scope.own_ids

    exporting = request.GET.get("export") == "heatmap"
    state = _state(request, scope, theme=theme, sort=sort)
    row_pager = _pager(request, state, "page", OVERVIEW_ROWS, len(municipalities))
    column_pager = _pager(request, {**state, **_rows_state(request)}, "cols", OVERVIEW_COLUMNS, len(chosen))
    if exporting:
        page_rows, columns = municipalities, chosen
    else:
        page_rows = municipalities[row_pager["start"] : row_pager["stop"]]
        columns = chosen[column_pager["start"] : column_pager["stop"]]
    cells = selectors.overview_cells(
        scope=scope, municipality_ids=[m.pk for m in page_rows], indicator_ids=[i.pk for i in columns]
    )

    heat = Table(
        slug="heatmap",
        caption=_("Every member and indicator, %(period)s, compared with %(peers)s")
        % {"period": scope.period.label if scope.period else "", "peers": peer_group_label(scope.peer_group)},
        header=[_("Municipality"), _("Composite index"), *[i.code for i in columns]],
        sort_keys={0: "name", 1: "composite", **{index + 2: i.code for index, i in enumerate(columns)}},
    )
    heat_frame = []
    profile_link = url_maker("comparisons:profile", "code", network=scope.network.code)
    style = number_style()
    for municipality in page_rows:
        row_cells = [
            Cell(raw=municipality.display_name, link=profile_link(municipality.code)),
            Cell(raw=composite_value.get(municipality.pk), decimals=1),
        ]
        for indicator in columns:
            found = cells.get((municipality.pk, indicator.pk))
            if found is None:
                row_cells.append(Cell())
                continue
            value, band, _rank = found
            shown = number(value, indicator.decimals, style)
            row_cells.append(
                Cell(raw=value, decimals=indicator.decimals, display=f"{charts.band_icon(band)} {shown}".strip())
            )
            if not exporting:
                heat_frame.append(
                    {
                        "municipality": municipality.display_name,
                        "indicator": indicator.code,
                        "band": band,
                        "text": shown,
                    }
                )
        heat.add(row_cells, highlight=municipality.pk in own_ids)

    ranking = Table(
        slug="composite",
        caption=_("Composite index, %(period)s") % {"period": scope.period.label if scope.period else ""},
        header=[_("Position"), _("Municipality"), _("Composite index"), _("Coverage of the index weight (%)")],
    )
    position = 0
    for entry in composite:
        if entry.index_value is not None:
            position += 1
        ranking.add(
            [
                Cell(raw=position if entry.index_value is not None else None, decimals=0),
                Cell(raw=entry.municipality.display_name),
                Cell(raw=entry.index_value, decimals=1),
                Cell(raw=entry.coverage * 100 if entry.coverage is not None else None, decimals=0),
            ],
            highlight=entry.municipality_id in own_ids,
        )

    chart = None
    summary = ""
    if heat_frame:
        leader = next((c for c in composite if c.index_value is not None), None)
        summary = _("%(m)s municipalities and %(i)s indicators are compared in %(period)s.") % {
            "m": len(municipalities),
            "i": len(chosen),
            "period": scope.period.label,
        }
        if leader is not None:
            summary += " " + _("The highest composite index is %(name)s's (%(value)s).") % {
                "name": leader.municipality.display_name,
                "value": number(leader.index_value, 1),
            }
        chart = _chart(
            "chart-heatmap",
            charts.heatmap(
                pd.DataFrame(heat_frame),
                title=_("Bands by municipality and indicator"),
                municipality_order=[m.display_name for m in page_rows],
                indicator_order=[i.code for i in columns],
                separators=separators(),
            ),
            summary,
        )
    own_pages = [
        (m.display_name, "?" + urlencode({**state, "page": index // OVERVIEW_ROWS + 1}))
        for index, m in enumerate(municipalities)
        if m.pk in own_ids and row_pager["pages"] > 1
    ]
    completion = {"approved": len(reporting), "members": len(scope.members)}
    tables = [t for t in (heat, ranking) if t.rows]
    context = _base_context(request, scope, page="overview", tables=tables, sort=sort)
    context.update(
        {
            "heat": heat if heat.rows else None,
            "ranking": ranking if ranking.rows else None,
            "chart": chart,
            "summary": summary,
            "themes": themes,
            "theme": theme,
            "sort": sort,
            "completion": completion,
            "indicator_names": [(i.code, i.display_name) for i in columns],
            "row_pager": row_pager,
            "column_pager": column_pager,
            "own_pages": own_pages,
        }
    )
    return _render(request, "overview", context)


def _rows_state(request: HttpRequest) -> dict[str, str]:
    page = request.GET.get("page", "")
    return {"page": page} if page.isdigit() and page != "1" else {}


# --- map -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load_geojson(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def boundaries() -> dict | None:
    """The configured GeoJSON of boundaries (a local file), or None for the grid map."""
    path = getattr(settings, "COMPARISON_BOUNDARIES_GEOJSON", "")
    if not path or not Path(path).is_file():
        return None
    return _load_geojson(path, Path(path).stat().st_mtime)


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def network_map(request: HttpRequest, network: str) -> HttpResponse:
    scope = _scope(request, network)
    indicators = selectors.network_indicator_list(network=scope.network) if scope.ready else []
    wanted = request.GET.get("indicator", "")
    item = next((i for i in indicators if i.code == wanted), indicators[0] if indicators else None)
    rows = selectors.indicator_rows(scope=scope, indicator=item) if item is not None else []
    highlight = _highlight(request, scope)
    table = Table(
        slug="map",
        caption=_("%(indicator)s, %(period)s, by municipality")
        % {"indicator": item.display_name if item else "", "period": scope.period.label if scope.period else ""},
        header=[_("Municipality"), _("Code"), _("Value"), _("Rank"), _("Band")],
    )
    frame_rows = []
    style, words = number_style(), band_words()
    for row in sorted(rows, key=lambda r: r.municipality.display_name):
        attributes = row.municipality.attributes or {}
        shown = number(row.value, item.decimals, style)
        frame_rows.append(
            {
                "code": row.municipality.code,
                "name": row.municipality.display_name,
                "lat": _float(attributes.get("centroid_lat")),
                "lon": _float(attributes.get("centroid_lon")),
                "band": row.band,
                "text": shown,
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
    chart = None
    summary = ""
    geojson = boundaries()
    if frame_rows:
        frame = pd.DataFrame(frame_rows)
        counts = frame["band"].value_counts()
        summary = _(
            "%(indicator)s in %(period)s: %(green)s municipalities in the top quarter, %(yellow)s in the middle "
            "half, %(red)s in the bottom quarter."
        ) % {
            "indicator": item.display_name,
            "period": scope.period.label,
            "green": int(counts.get("green", 0)),
            "yellow": int(counts.get("yellow", 0)),
            "red": int(counts.get("red", 0)),
        }
        name = highlight.display_name if highlight else None
        if geojson is not None:
            figure = charts.choropleth(
                frame,
                geojson=geojson,
                code_property=settings.COMPARISON_BOUNDARIES_CODE_PROPERTY,
                title=item.display_name,
                highlight=name,
                separators=separators(),
                band_labels=band_words(),
            )
        else:
            figure = charts.grid_map(
                frame, title=item.display_name, highlight=name, separators=separators(), band_labels=band_words()
            )
        chart = _chart("chart-map", figure, summary)
    context = _base_context(
        request, scope, page="map", tables=[table] if table.rows else [], indicator=item.code if item else ""
    )
    context.update(
        {
            "indicator": item,
            "indicators": indicators,
            "table": table if table.rows else None,
            "chart": chart,
            "summary": summary,
            "choropleth": geojson is not None,
        }
    )
    return _render(request, "map", context)
