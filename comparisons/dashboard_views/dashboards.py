"""Dashboards for decision makers: municipality profile, indicator comparison, network overview,
map, and the printable municipality report.

Every view is the same few steps: the access check (`access.scope_for`: the rounds the person
may see, docs/security.md), the page's one read (`dashboard_data`), the pure page builder
(`pages/`), the shared context and the response (`context`). An htmx request (a control changed)
gets the page's partial only; the state stays in the query string, so every view can be
bookmarked. `?export=<table>&format=csv|xlsx` on any page downloads one of its tables.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from networks.models import language_pinned
from networks.selectors import network_list

from .. import dashboard_data
from .access import scope_for
from .context import page_context, render_page
from .pages.indicator import indicator_page
from .pages.map import map_page
from .pages.overview import overview_page, wanted_page
from .pages.profile import PROFILE_SORTS, profile_page, report_page

OVERVIEW_ROWS = 50  # municipalities on one page of the heatmap
OVERVIEW_COLUMNS = 25  # indicators on one page of the heatmap


def dashboard_index(request: HttpRequest) -> HttpResponse:
    """Every network with a link to its dashboard (which says what this person may see)."""
    return render(request, "comparisons/index.html", {"networks": network_list()})


@language_pinned()
def municipality_profile(request: HttpRequest, network: str, code: str) -> HttpResponse:
    """Every indicator of one member, its trend, scores, composite position and neighbours."""
    scope = scope_for(request, network, municipality_code=code)
    theme = request.GET.get("theme", "")
    data = dashboard_data.profile_data(scope=scope, code=code, theme=theme)
    sort = request.GET.get("sort", "")
    sort = sort if sort in PROFILE_SORTS else ""
    built = profile_page(scope, data, query={**request.GET.dict(), "sort": sort}, theme=theme)
    return render_page(request, "profile", page_context(request, scope, "profile", built, sort=sort))


@language_pinned()
def municipality_report(request: HttpRequest, network: str, code: str) -> HttpResponse:
    """The printable report for a council meeting: the profile without controls, print-styled."""
    scope = scope_for(request, network, municipality_code=code)
    theme = request.GET.get("theme", "")
    data = dashboard_data.profile_data(scope=scope, code=code, theme=theme, every_composite=True)
    built = report_page(scope, data, query=request.GET, theme=theme)
    return render_page(request, "report", page_context(request, scope, "report", built))


@language_pinned()
def indicator_comparison(request: HttpRequest, network: str, indicator: str) -> HttpResponse:
    """One indicator across the peer group (`?m=` highlights a member) and over time."""
    scope = scope_for(request, network)
    data = dashboard_data.indicator_data(
        scope=scope, code=indicator, highlight_code=request.GET.get("m", ""), user=request.user
    )
    return render_page(request, "indicator", page_context(request, scope, "indicator", indicator_page(scope, data)))


@language_pinned()
def network_overview(request: HttpRequest, network: str) -> HttpResponse:
    """Every member x indicator of a period, coloured by band, and the composite ranking.

    A large network (500 members x 200 indicators) is shown a page at a time: the sort runs over
    every member, then only the page's cells are read. The export has the whole table.
    """
    scope = scope_for(request, network)
    theme, exporting = request.GET.get("theme", ""), request.GET.get("export") == "heatmap"
    data = dashboard_data.overview_data(
        scope=scope,
        theme=theme,
        sort=request.GET.get("sort", "composite"),
        row_page=wanted_page(request.GET, "page"),
        column_page=wanted_page(request.GET, "cols"),
        rows_per_page=OVERVIEW_ROWS,
        columns_per_page=OVERVIEW_COLUMNS,
        everything=exporting,
    )
    built = overview_page(
        scope,
        data,
        query=request.GET,
        theme=theme,
        rows_per_page=OVERVIEW_ROWS,
        columns_per_page=OVERVIEW_COLUMNS,
        exporting=exporting,
    )
    return render_page(request, "overview", page_context(request, scope, "overview", built, sort=data.sort))


@language_pinned()
def network_map(request: HttpRequest, network: str) -> HttpResponse:
    """One indicator (`?indicator=`, else the network's first) for every member, by band."""
    scope = scope_for(request, network)
    highlight = request.GET.get("m", "")
    data = dashboard_data.map_data(scope=scope, code=request.GET.get("indicator", ""), highlight_code=highlight)
    chosen = data.indicator.code if data.indicator else ""
    return render_page(request, "map", page_context(request, scope, "map", map_page(scope, data), indicator=chosen))
