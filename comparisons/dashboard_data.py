"""The one read of each dashboard page: everything a page shows, gathered from the stored results.

Each function takes a `DashboardScope` (the rounds the person may see, from the access check)
and the page's choices (theme, highlighted municipality, sort, page of the heatmap) and returns a
plain record; the page builders (`dashboard_views/pages/`) turn it into tables, sentences and
figures without touching the database. Every read goes through `dashboard_selectors`, whose
functions are each a fixed small number of queries, so a page stays within its query budget
whatever the network's size. A page whose round has no completed recompute (`scope.ready`
false) reads nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from indicators.models import DataItem, Indicator, Polarity
from networks.attributes import attribute_label
from networks.models import Municipality

from . import dashboard_selectors as selectors
from .dashboard_selectors import CompositeRow, DashboardScope, PastValue, RankedRow
from .funnel import FunnelForm, funnel_form
from .models import Neighbour, Result


def themes_of(indicators) -> list[str]:
    return sorted({i.display_theme for i in indicators if i.display_theme})


def highlighted(scope: DashboardScope, code: str) -> Municipality | None:
    """The municipality to highlight: the member with ``code``, else the viewer's own (or none)."""
    if code:
        for membership in scope.members:
            if membership.municipality.code == code:
                return membership.municipality
    own = [m.municipality for m in scope.members if m.municipality_id in scope.own_ids]
    return own[0] if own else None


def page_bounds(wanted: int, size: int, total: int) -> tuple[int, int, int, int]:
    """One dimension of the heatmap's paging: (page, pages, first, stop), the page clamped to those
    that exist (a bookmarked page past the end shows the last)."""
    pages = max(1, -(-total // size))
    page = min(max(wanted, 1), pages)
    first = (page - 1) * size
    return page, pages, first, min(first + size, total)


# --- municipality profile and report -----------------------------------------------------------------


@dataclass
class ProfileData:
    municipality: Municipality
    rows: list[selectors.ProfileRow]  # of the chosen theme
    themes: list[str]
    history: dict[int, list[PastValue]]
    composite: list[CompositeRow]  # every member's, best first
    neighbours: list[Neighbour]
    # The neighbours' context variables by name as people read them (item short names).
    variable_names: dict[str, str] = field(default_factory=dict)
    # Indicator -> period label -> why the series breaks there (`selectors.break_note`).
    breaks: dict[int, dict[str, str]] = field(default_factory=dict)


def profile_data(*, scope: DashboardScope, code: str, theme: str, every_composite: bool = False) -> ProfileData:
    """A member's stored results of the chosen period (404 for a municipality not a member).

    The composite index of the members is read for a position (not where every municipality is
    a group of its own nearest neighbours) or when ``every_composite`` is asked for (the report).
    """
    municipality = selectors.scope_municipality(scope, code)
    rows = selectors.profile_rows(scope=scope, municipality=municipality) if scope.ready else []
    themes = themes_of([r.indicator for r in rows])
    if theme:
        rows = [r for r in rows if r.indicator.display_theme == theme]
    neighbours = selectors.neighbours_of(scope=scope, municipality=municipality) if scope.ready else []
    history = selectors.profile_history(scope=scope, municipality=municipality) if rows else {}
    return ProfileData(
        municipality=municipality,
        rows=rows,
        themes=themes,
        history=history,
        breaks={
            indicator_id: {p.label: p.break_note for p in past if p.break_note}
            for indicator_id, past in history.items()
        },
        composite=selectors.composite_rows(scope=scope)
        if scope.ready and (every_composite or not scope.peer_group.startswith("nearest:"))
        else [],
        neighbours=neighbours,
        variable_names=context_variable_names({name for n in neighbours for name in (n.contributions or {})}),
    )


def context_variable_names(variables: set[str]) -> dict[str, str]:
    """Names people read for the nearest-neighbour context variables: a data item's short name,
    else a known municipality attribute's label, else the variable as it is (one query at most)."""
    if not variables:
        return {}
    names = {name: attribute_label(name) for name in variables}
    for item in DataItem.objects.filter(code__in=variables):
        names[item.code] = item.display_short_name
    return names


# --- indicator comparison ----------------------------------------------------------------------------


FUNNEL_PEER_GROUP = "network"


@dataclass
class FunnelData:
    """What the indicator page needs for a funnel plot of an indicator whose numerator is a count.

    ``form`` None: the formula is not ``[k *] COUNT / DENOMINATOR`` (no funnel; the page says
    so). ``network_group``: the plot is drawn for the network peer group only, as a wider group's
    pooled value would need other networks' counts. ``read``: counts and denominators are on the
    rows (the person may see the round's approved values, and there are some).
    """

    kind: str
    form: FunnelForm | None
    network_group: bool
    read: bool = False
    numerator: DataItem | None = None
    denominator: DataItem | None = None


@dataclass
class IndicatorData:
    indicator: Indicator
    highlight: Municipality | None
    rows: list[RankedRow]  # one partition of the peer group: the highlighted municipality's
    own_row: RankedRow | None
    series: list[Result]
    funnel: FunnelData | None = None  # None: the indicator's numerator is not flagged as a count
    # Period label -> why the highlighted municipality's series breaks there (`selectors.break_note`).
    breaks: dict[str, str] = field(default_factory=dict)


def indicator_data(*, scope: DashboardScope, code: str, highlight_code: str, user=None) -> IndicatorData:
    """One indicator of the network's set (404 otherwise) across the peer group and over time;
    for an indicator whose numerator is a count, also each member's count and denominator
    (for ``user``, under the rule of the round's results)."""
    indicator, items = selectors.scope_indicator_with_items(scope, code)
    highlight = highlighted(scope, highlight_code)
    funnel = None
    if indicator.uncertainty:
        form = funnel_form(indicator.formula)
        funnel = FunnelData(
            kind=indicator.uncertainty,
            form=form,
            network_group=scope.peer_group == FUNNEL_PEER_GROUP,
            numerator=items.get(form.numerator) if form else None,
            denominator=items.get(form.denominator) if form else None,
        )
    counts = funnel.form if funnel is not None and funnel.network_group else None
    rows = selectors.indicator_rows(scope=scope, indicator=indicator, counts=counts, user=user) if scope.ready else []
    if counts is not None:
        # Nothing read (no approved values, or the person may not see them): nothing to draw.
        funnel.read = any(r.numerator is not None and r.denominator is not None for r in rows)
    own_row = next((r for r in rows if highlight and r.municipality_id == highlight.pk), None)
    if rows:
        # One partition of the peer group: the highlighted municipality's (its region, …).
        key = own_row.group_key if own_row else rows[0].group_key
        rows = [r for r in rows if r.group_key == key]
    series = selectors.indicator_series(scope=scope, indicator=indicator, municipality=highlight) if scope.ready else []
    breaks = {r.period.label: r.break_note for r in series if getattr(r, "break_note", None)}
    return IndicatorData(
        indicator=indicator,
        highlight=highlight,
        rows=rows,
        own_row=own_row,
        series=series,
        funnel=funnel,
        breaks=breaks,
    )


# --- network overview --------------------------------------------------------------------------------


@dataclass
class OverviewData:
    themes: list[str]
    indicators: list[Indicator]  # of the chosen theme, by code
    sort: str  # the sort applied: "composite", "name" or an indicator's code
    reporting: set[int]
    composite: list[CompositeRow]
    municipalities: list[Municipality]  # every reporting member, in the sort's order
    rows: list[Municipality]  # the page's (every one for an export)
    columns: list[Indicator]  # the page's (every one for an export)
    # (value, band, rank, median, mad, n) by (municipality, indicator): `overview_cells`
    cells: dict[tuple[int, int], tuple] = field(default_factory=dict)


def overview_data(
    *,
    scope: DashboardScope,
    theme: str,
    sort: str,
    row_page: int,
    column_page: int,
    rows_per_page: int,
    columns_per_page: int,
    everything: bool,
) -> OverviewData:
    """Every reporting member x indicator of the chosen period, sorted over every member; the
    cells are read for one page of rows and columns only (``everything``: all, for the export)."""
    every_indicator = selectors.network_indicator_list(network=scope.network)
    chosen = sorted((i for i in every_indicator if not theme or i.display_theme == theme), key=lambda i: i.code)
    reporting = selectors.reporting_ids(scope=scope) if scope.ready else set()
    composite = selectors.composite_rows(scope=scope) if scope.ready else []
    composite_value = {c.municipality_id: c.index_value for c in composite}
    municipalities = [m.municipality for m in scope.members if m.municipality_id in reporting]
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
    if everything:
        rows, columns = municipalities, chosen
    else:
        _page, _pages, first, stop = page_bounds(row_page, rows_per_page, len(municipalities))
        rows = municipalities[first:stop]
        _page, _pages, first, stop = page_bounds(column_page, columns_per_page, len(chosen))
        columns = chosen[first:stop]
    cells = selectors.overview_cells(
        scope=scope, municipality_ids=[m.pk for m in rows], indicator_ids=[i.pk for i in columns]
    )
    return OverviewData(
        themes=themes_of(every_indicator),
        indicators=chosen,
        sort=sort,
        reporting=reporting,
        composite=composite,
        municipalities=municipalities,
        rows=rows,
        columns=columns,
        cells=cells,
    )


# --- map ---------------------------------------------------------------------------------------------


#: Boundaries shipped with the portal (data/boundaries/): official VARAM/VZD data, CC0.
SHIPPED_BOUNDARIES = Path(settings.BASE_DIR) / "data" / "boundaries"
SHIPPED_ATTRIBUTION = "Administratīvās teritorijas, VARAM/VZD, data.gov.lv (CC0)"


@dataclass
class MapData:
    indicators: list[Indicator]
    indicator: Indicator | None
    rows: list[RankedRow]
    highlight: Municipality | None
    geojson: dict | None  # the installation's boundaries, or None for the grid map
    code_property: str = ""
    attribution: str = ""  # the shipped boundaries' source; empty for an operator's own file
    # The rows' municipalities' free-form attributes (their centroids place the grid map), by id:
    # the scope reads its members without them (`dashboard_selectors.dashboard_scope`).
    attributes: dict[int, dict] = field(default_factory=dict)


def map_data(*, scope: DashboardScope, code: str, highlight_code: str) -> MapData:
    """One indicator (``code``, else the network's first with bands) for every member, and the boundaries."""
    indicators = selectors.network_indicator_list(network=scope.network) if scope.ready else []
    indicator = next((i for i in indicators if i.code == code), None) or default_map_indicator(indicators)
    geojson = boundaries()
    rows = selectors.indicator_rows(scope=scope, indicator=indicator) if indicator is not None else []
    return MapData(
        indicators=indicators,
        indicator=indicator,
        rows=rows,
        highlight=highlighted(scope, highlight_code),
        geojson=geojson,
        code_property=settings.COMPARISON_BOUNDARIES_CODE_PROPERTY if geojson is not None else "",
        attribution=boundaries_attribution() if geojson is not None else "",
        attributes=selectors.municipality_attributes(ids=[row.municipality_id for row in rows]) if rows else {},
    )


def default_map_indicator(indicators: list[Indicator]) -> Indicator | None:
    """The first indicator with bands (higher or lower is better): a neutral one leaves the map
    uncoloured. The first of all when every one is neutral."""
    banded = (i for i in indicators if i.polarity != Polarity.NEUTRAL)
    return next(banded, indicators[0] if indicators else None)


@lru_cache(maxsize=4)
def _load_geojson(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def boundaries() -> dict | None:
    """The configured GeoJSON of boundaries (a local file), or None for the grid map."""
    path = settings.COMPARISON_BOUNDARIES_GEOJSON
    if not path or not Path(path).is_file():
        return None
    return _load_geojson(path, Path(path).stat().st_mtime)


def boundaries_attribution() -> str:
    """The source to credit under the map when the boundaries are the ones shipped with the portal."""
    path = settings.COMPARISON_BOUNDARIES_GEOJSON
    return SHIPPED_ATTRIBUTION if path and Path(path).resolve().parent == SHIPPED_BOUNDARIES.resolve() else ""
