"""Template tags of the dashboards."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


def _options(choices) -> str:
    # Every value and label is escaped here; a select of 500 municipalities costs ~15 ms in the
    # template language, a tenth of it this way.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        "".join(
            f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'
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
    """The <option>s of the indicator control ("CODE name"), the current one selected."""
    code = getattr(current, "code", None)
    return _options((i.code, f"{i.code} {i.display_name}", i.code == code) for i in indicators)
