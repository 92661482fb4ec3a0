"""The tables the dashboards show: one object serves the HTML table and the CSV/XLSX export.

A cell keeps its raw value (exports write full precision) and the decimals to show it with;
the page shows it localised (`1 234,5` in the Latvian UI).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from html import escape as html_escape
from urllib.parse import quote

from django.urls import reverse
from django.utils import formats
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

from networks.models import page_gettext as _
from networks.models import ui_language

from ..charts import band_icon

NumberStyle = tuple[str, str, int]  # decimal separator, thousand separator, grouping


def number_style() -> NumberStyle:
    """The current language's separators: read once for a table of thousands of numbers."""
    return _separators(ui_language())


def number(value: float | None, decimals: int | None, style: NumberStyle | None = None) -> str:
    """A number in the current language's format with the item's decimals; "—" when missing.

    A dashboard shows thousands of numbers: with fixed decimals Python's own formatting does the
    grouping and the separators are swapped for the language's (as `number_format` would give,
    at a tenth of its cost — checked against it in the tests).
    """
    if value is None:
        return "—"
    if decimals is None or not math.isfinite(value) or abs(value) >= 1e15:
        if decimals is None:
            return formats.number_format(value, use_l10n=True, force_grouping=True)
        return formats.number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)
    decimal_separator, thousand_separator, grouping = style or _separators(ui_language())
    if grouping != 3:
        return formats.number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)
    # Through the shortest repr, as `number_format` does (70368744177664.62 is 664,620, not the
    # binary fraction's 664,625).
    rounded = round(value, decimals)
    # The float's own formatting gives the same digits while a unit in its last place is below
    # the decimals shown (its shortest repr then has no more decimals than that); a tenth the cost.
    if decimals < len(_SCALE) and math.ulp(rounded) * _SCALE[decimals] < 0.5:
        text = f"{rounded:,.{decimals}f}"
    else:
        text = f"{Decimal(repr(rounded)):,.{decimals}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.004 is shown as 0.00 (number_format would say -0.00)
    return text.replace(",", "\x00").replace(".", decimal_separator).replace("\x00", thousand_separator)


_SCALE = [10.0**decimals for decimals in range(16)]


@lru_cache(maxsize=16)
def _separators(language: str | None) -> tuple[str, str, int]:
    return (
        formats.get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
        formats.get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
        formats.get_format("NUMBER_GROUPING", language, use_l10n=True),
    )


def url_maker(viewname: str, key: str, **kwargs: str) -> Callable[[str], str]:
    """`reverse(viewname, kwargs={**kwargs, key: value})` for many values: resolved once.

    A page links each of its hundreds of rows; `reverse` costs ~50 µs a call.
    """
    marker = "url0maker0value"
    head, tail = reverse(viewname, kwargs={**kwargs, key: marker}).split(marker)

    def make(value: str) -> str:
        return head + quote(str(value), safe=RFC3986_SUBDELIMS + "/~:@") + tail

    return make


def band_words() -> dict[str, str]:
    return {
        "green": _("top quarter"),
        "yellow": _("middle half"),
        "red": _("bottom quarter"),
        "grey": _("no value"),
    }


def band_text(band: str | None, words: dict[str, str] | None = None) -> str:
    """Icon and word of a band; ``words`` (`band_words()`) when called for every row of a table."""
    if not band:
        return "—"
    return f"{band_icon(band)} {(words or band_words()).get(band, band)}"


def change_text(change_abs: float | None, improved: bool | None) -> str:
    """An arrow for the direction of the change and a word for what it means by polarity."""
    if change_abs is None:
        return "—"
    arrow = "↑" if change_abs > 0 else "↓" if change_abs < 0 else "→"
    # Not inside the f-string: xgettext does not see gettext calls there.
    if improved is True:
        word = _("improving")
    elif improved is False:
        word = _("worsening")
    elif change_abs == 0:
        word = _("unchanged")
    else:
        word = _("changed")
    return f"{arrow} {word}"


@dataclass
class Cell:
    raw: object = None
    decimals: int | None = None  # set: a number shown with this many decimals
    display: str | None = None  # set: shown instead of the formatted raw value
    link: str = ""

    def text(self, style: NumberStyle | None = None) -> tuple[str, bool]:
        """What the cell shows and whether it is a number (right-aligned): one pass for both,
        as `table_html` needs them for thousands of cells."""
        if self.display is not None:
            return self.display, False
        raw = self.raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return number(raw, self.decimals, style), True
        return ("—" if raw in (None, "") else str(raw)), False

    def shown(self, style: NumberStyle | None = None) -> str:
        return self.text(style)[0]

    @property
    def is_number(self) -> bool:
        return isinstance(self.raw, int | float) and not isinstance(self.raw, bool) and self.display is None


@dataclass
class Row:
    cells: list[Cell]
    highlight: bool = False


@dataclass
class Table:
    slug: str
    caption: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)
    # Column keys a page can sort by (the overview's heatmap): header index -> sort key.
    sort_keys: dict[int, str] = field(default_factory=dict)
    # On a phone the table becomes one card per row, each value labelled with its column.
    cards: bool = False
    # The downloads' header when it differs from the page's: indicators by code, not by name.
    export_header: list[str] | None = None

    def add(self, cells: list[Cell], *, highlight: bool = False) -> None:
        self.rows.append(Row(cells=cells, highlight=highlight))

    @property
    def header_cells(self) -> list[tuple[str, str]]:
        return [(label, self.sort_keys.get(index, "")) for index, label in enumerate(self.header)]

    @property
    def display_rows(self) -> list[tuple[bool, list[tuple[str, str, bool]]]]:
        return [(row.highlight, [(cell.shown(), cell.link, cell.is_number) for cell in row.cells]) for row in self.rows]

    @property
    def download_header(self) -> list[str]:
        return self.export_header if self.export_header is not None else self.header

    def export_rows(self) -> list[list[object]]:
        return [[cell.raw for cell in row.cells] for row in self.rows]

    def export_decimals(self) -> list[list[int | None]]:
        return [[cell.decimals if cell.is_number else None for cell in row.cells] for row in self.rows]


def _escape_text(text: object) -> str:
    """Django's `escape` without its lazy-text wrapper and SafeString (the same characters)."""
    return html_escape(str(text))


def table_html(table: Table, *, sortable: bool = False, sort: str = "", query_without_sort: str = "") -> SafeString:
    """The table's markup (what `comparisons/_table.html` shows), built in Python.

    A network overview has thousands of cells; the template language needs ~0.1 ms a cell, this
    a tenth of it. Every text is escaped here.
    """
    yours = escape(_("yours"))
    style = number_style()
    prefix = f"?{query_without_sort}&" if query_without_sort else "?"
    # The box scrolls a wide table sideways on a narrow screen: focusable, so a keyboard scrolls it too.
    out = [
        f'<div class="table-responsive" tabindex="0" role="region" aria-label="{escape(table.caption)}">\n',
        f'<table class="table table-sm table-hover dashboard-table{" table-cards" if table.cards else ""}"'
        f' id="table-{escape(table.slug)}">\n',
        f"  <caption>{escape(table.caption)}</caption>\n  <thead><tr>\n",
    ]
    for label, sort_key in table.header_cells:
        if sort_key and sortable:
            current = ' aria-sort="ascending"' if sort_key == sort else ""
            href = escape(prefix + "sort=" + quote(sort_key, safe="/"))
            out.append(
                f'    <th scope="col"{current}><a href="{href}" hx-get="{href}" hx-target="#dashboard"'
                f' hx-push-url="true">{escape(label)}</a></th>\n'
            )
        else:
            out.append(f'    <th scope="col">{escape(label)}</th>\n')
    out.append("  </tr></thead>\n  <tbody>\n")
    labels = [f' data-label="{escape(label)}"' if table.cards else "" for label in table.header]
    for row in table.rows:
        out.append('    <tr class="own-row">' if row.highlight else "    <tr>")
        for index, cell in enumerate(row.cells):
            # The standard library's escape, which Django's `escape` wraps (the same characters,
            # without its lazy-text check and SafeString): a table of thousands of cells spends
            # most of its time here.
            text, is_number = cell.text(style)
            shown = _escape_text(text)
            content = f'<a href="{_escape_text(cell.link)}">{shown}</a>' if cell.link else shown
            if index == 0:
                badge = f' <span class="badge text-bg-warning">{yours}</span>' if row.highlight else ""
                out.append(f'<th scope="row">{content}{badge}</th>')
            else:
                label = labels[index] if index < len(labels) else ""
                out.append(f'<td class="num"{label}>{content}</td>' if is_number else f"<td{label}>{content}</td>")
        out.append("</tr>\n")
    out.append("  </tbody>\n</table>\n</div>\n")
    # Safe: every caption, label and sort key above went through escape(), every cell text and
    # link through _escape_text() (the same escaping);
    # the rest is fixed markup (checked against the template it replaced, with <, & and ").
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703


@dataclass
class BandChip:
    """One indicator of a municipality on a narrow screen: its short name, band and value."""

    label: str
    title: str  # the indicator's full name
    band: str  # green, yellow, red, grey, or "" for a neutral indicator
    shown: str


@dataclass
class BandListEntry:
    name: str
    link: str
    own: bool
    composite: str  # shown, or "" without an index
    chips: list[BandChip]


def band_list_html(entries: list[BandListEntry], *, caption: str) -> SafeString:
    """The heatmap as a list for a narrow screen: each municipality with how many of its indicators
    are in each band, opened (a `<details>`, no script) to its indicators as chips coloured by band,
    with the band's icon (never colour alone), short name and value. The viewer's own are open.

    Built in Python like `table_html` (a page holds up to thousands of chips); every text escaped.
    """
    yours = _escape_text(_("yours"))
    index_word = _escape_text(_("Composite index"))
    profile_word = _escape_text(_("Municipality profile"))
    words = {band: _escape_text(word) for band, word in band_words().items()}
    out = [f'<ul class="band-list list-unstyled" aria-label="{_escape_text(caption)}">\n']
    for entry in entries:
        out.append(
            '  <li class="band-list-entry own-entry"><details open>'
            if entry.own
            else '  <li class="band-list-entry"><details>'
        )
        badge = f' <span class="badge text-bg-warning">{yours}</span>' if entry.own else ""
        out.append(f'<summary><span class="band-list-name">{_escape_text(entry.name)}</span>{badge}')
        counts = [(band, sum(1 for chip in entry.chips if chip.band == band)) for band in ("green", "yellow", "red")]
        out.append(' <span class="band-list-counts">')
        for band, count in counts:
            out.append(
                f'<span class="band-count band-{band}"><span aria-hidden="true">{band_icon(band)}</span>'
                f'<span class="visually-hidden">{words[band]}:</span> {count}</span>'
            )
        out.append("</span>")
        if entry.composite:
            out.append(f' <span class="band-list-index">{index_word}: {_escape_text(entry.composite)}</span>')
        out.append(
            f'</summary>\n    <p class="band-list-link"><a href="{_escape_text(entry.link)}">{profile_word}</a></p>'
            '\n    <ul class="band-chips list-unstyled">'
        )
        for chip in entry.chips:
            # The class and icon come from the fixed bands only: a stored value is never markup.
            band = chip.band if chip.band in words else "neutral"
            icon = band_icon(band) if band in words else ""
            icon_html = (
                f'<span class="band-chip-icon" aria-hidden="true">{icon}</span>'
                f'<span class="visually-hidden">{words.get(band, "")}:</span> '
                if icon
                else ""
            )
            out.append(
                f'<li class="band-chip band-{band}" title="{_escape_text(chip.title)}">{icon_html}'
                f'<span class="band-chip-label">{_escape_text(chip.label)}</span> '
                f'<span class="band-chip-value">{_escape_text(chip.shown)}</span></li>'
            )
        out.append("</ul></details></li>\n")
    out.append("</ul>\n")
    # Safe: every name, label, title, value, caption and link above went through _escape_text(); the
    # bands are one of the fixed words of `band_words()` (anything else is "neutral"), the icons
    # and the counts are ours; the rest is fixed markup. Tested with hostile texts in
    # comparisons/tests/test_overview_glance.py.
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703
