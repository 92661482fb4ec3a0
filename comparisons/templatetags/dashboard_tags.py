"""Template tags of the dashboards."""

from __future__ import annotations

from django import template

from ..dashboard_views.tables import Table, table_html

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_table(context, table: Table, sortable: bool = False):
    """A dashboard table (`tables.table_html`): sortable headings link to `?…&sort=KEY`."""
    return table_html(
        table,
        sortable=bool(sortable),
        sort=context.get("sort", "") or "",
        query_without_sort=context.get("query_without_sort", "") or "",
    )
