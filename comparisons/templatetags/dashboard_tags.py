"""Template tags of the dashboards."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join

from ..dashboard_views.tables import Table, band_list_html, table_html

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


def _options(choices):
    # format_html_join escapes every value and label; a select of 500 municipalities costs
    # ~15 ms as a template loop, a fraction of it this way.
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if selected else "", label) for value, label, selected in choices),
    )


@register.simple_tag
def municipality_options(municipalities, highlight):
    """The <option>s of the highlight control, the highlighted municipality selected."""
    chosen = getattr(highlight, "pk", None)
    return _options((m.code, m.display_name, m.pk == chosen) for m in municipalities)


@register.simple_tag
def indicator_options(indicators, current):
    """The <option>s of the indicator control (by name; the code is the value), the current one selected."""
    code = getattr(current, "code", None)
    return _options((i.code, i.display_name, i.code == code) for i in indicators)


@register.simple_tag
def band_list(entries, caption: str = ""):
    """The heatmap as a list of band chips for a narrow screen (`tables.band_list_html`)."""
    return band_list_html(entries, caption=caption)
