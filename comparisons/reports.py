"""CSV and XLSX files of the dashboards' tables.

Every cell that a spreadsheet would read as a formula (text starting with ``=``, ``+``, ``-``
or ``@``, or a tab/carriage return) is neutralised with a leading apostrophe, so a
municipality's name or a note can never run as a formula in the reader's Excel.
Numbers stay numbers (full precision; the display rounding is the pages' business).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from networks.tabular import neutralise


def table_csv(*, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with BOM (Excel opens it with the right letters), comma-separated, point decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if value is None else neutralise(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(
    *,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    title: str,
    decimals: Sequence[Sequence[int | None]] | None = None,
) -> bytes:
    """One sheet; a numeric cell gets a number format with its indicator's decimals
    (``decimals``: one entry per cell of each row, ``None`` for text)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(title)
    sheet.append([neutralise(h) for h in header])
    places_rows = list(decimals or [])
    for index, row in enumerate(rows):
        sheet.append([neutralise(value) for value in row])
        places_row = places_rows[index] if index < len(places_rows) else ()
        for column, places in enumerate(places_row, start=1):
            cell = sheet.cell(row=index + 2, column=column)
            if places is not None and isinstance(cell.value, int | float):
                cell.number_format = "#,##0" if places == 0 else "#,##0." + "0" * places
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in (title or "table") if ch not in "[]:*?/\\")
    return cleaned[:31] or "table"
