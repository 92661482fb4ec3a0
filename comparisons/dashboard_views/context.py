"""What every dashboard view adds around its page: the controls, the export links, the response.

The views' side of the pages (the request's query string and htmx headers); the page itself is
built by the pure builders in `pages/`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from ..dashboard_selectors import DashboardScope
from ..finders import maplibre_style_id
from .exports import export_response
from .pages.shared import page_state, peer_group_label

TABLE_FORMATS = ("csv", "xlsx")


def page_context(request: HttpRequest, scope: DashboardScope, page: str, built: dict, **extra: str) -> dict:
    """The shared context (scope, controls, export links) around a builder's page ``built``;
    ``extra`` overrides the query string's choices the page normalised (sort, indicator)."""
    state = page_state(scope, request.GET, **extra)
    tables = built["tables"]
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
        "query": urlencode(state),
        "query_without_sort": urlencode({k: v for k, v in state.items() if k != "sort"}),
        "exports": exports,
        "overview_url": reverse("comparisons:overview", kwargs={"network": scope.network.code}),
        "map_url": reverse("comparisons:map", kwargs={"network": scope.network.code}),
        "own_municipalities": [m.municipality for m in scope.members if m.municipality_id in scope.own_ids],
        **built,
    }


def render_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """The whole page, or only its partial for an htmx request; a table file for `?export=`."""
    wanted = request.GET.get("export")
    if wanted:
        fmt = request.GET.get("format", "csv")
        for table in context["tables"]:
            if table.slug == wanted and fmt in TABLE_FORMATS:
                return export_response(table=table, fmt=fmt, scope=context["scope"])
        return HttpResponse(status=404)
    partial = request.htmx and not request.htmx.boosted
    name = f"comparisons/_{template}.html" if partial else f"comparisons/{template}.html"
    return render(request, name, context)
