"""Template tags of the dashboards."""

from __future__ import annotations

from html import escape as html_escape

from django import template
from django.utils.safestring import mark_safe

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


def _escaped(text) -> str:
    """`conditional_escape` without its lazy-text wrapper: safe text as it is, the rest escaped."""
    return text.__html__() if hasattr(text, "__html__") else html_escape(str(text))


def _options(choices):
    # Every value and label escaped as `format_html_join` would; a select of 1000 municipalities
    # costs ~15 ms that way (three escapes and a SafeString per option), a fraction of it this way.
    # Safe: every value and label goes through `_escaped`; the rest is fixed markup.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        "".join(
            f'<option value="{_escaped(value)}"{" selected" if selected else ""}>{_escaped(label)}</option>'
            for value, label, selected in choices
        )
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
