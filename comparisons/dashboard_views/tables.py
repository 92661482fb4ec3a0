"""The tables the dashboards show: one object serves the HTML table and the CSV/XLSX export.

A cell keeps its raw value (exports write full precision) and the decimals to show it with;
the page shows it localised (`1 234,5` in the Latvian UI).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

from ..charts import band_icon


def number(value: float | None, decimals: int | None) -> str:
    """A number in the current language's format with the item's decimals; "—" when missing."""
    if value is None:
        return "—"
    if decimals is None:
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return formats.number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def band_words() -> dict[str, str]:
    return {
        "green": _("top quarter"),
        "yellow": _("middle half"),
        "red": _("bottom quarter"),
        "grey": _("no value"),
    }


def band_text(band: str | None) -> str:
    if not band:
        return "—"
    return f"{band_icon(band)} {band_words().get(band, band)}"


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

    def shown(self) -> str:
        if self.display is not None:
            return self.display
        if isinstance(self.raw, int | float) and not isinstance(self.raw, bool):
            return number(self.raw, self.decimals)
        return "—" if self.raw in (None, "") else str(self.raw)

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

    def add(self, cells: list[Cell], *, highlight: bool = False) -> None:
        self.rows.append(Row(cells=cells, highlight=highlight))

    @property
    def header_cells(self) -> list[tuple[str, str]]:
        return [(label, self.sort_keys.get(index, "")) for index, label in enumerate(self.header)]

    @property
    def display_rows(self) -> list[tuple[bool, list[tuple[str, str, bool]]]]:
        return [(row.highlight, [(cell.shown(), cell.link, cell.is_number) for cell in row.cells]) for row in self.rows]

    def export_rows(self) -> list[list[object]]:
        return [[cell.raw for cell in row.cells] for row in self.rows]

    def export_decimals(self) -> list[list[int | None]]:
        return [[cell.decimals if cell.is_number else None for cell in row.cells] for row in self.rows]
