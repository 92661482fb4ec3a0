"""Exports of a round's values to CSV and XLSX.

One row per value: municipality, data item, period, submission status, the number exactly as
stored (decimal point, no thousands separator: for machines), or the declared reason it is
missing, the explanation, and last the status marker of a missing value as the statistics
offices write it (`…` not available, `-` nil, `.` not applicable, `..` confidential; empty
otherwise: docs/official.md). Text cells that begin with = + - @ (or a tab or carriage return)
are prefixed with `'`, so a spreadsheet never runs a figure's note as a formula (CSV injection);
the status marker is one of the four fixed markers and is written as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from openpyxl import Workbook

from networks.tabular import neutralise

from ..models import MissingStatus, Round, Value

MARKERS = frozenset(MissingStatus.values)

COLUMNS = (
    "network",
    "period",
    "municipality_code",
    "municipality",
    "item_code",
    "item",
    "unit",
    "status",
    "value",
    "missing_reason",
    "explanation",
    "missing_status",
)


def round_values(*, round: Round, statuses: Iterable[str] | None = None) -> QuerySet[Value]:
    """The values of a round (of submissions in `statuses`, or all), in a stable order; one query."""
    values = Value.objects.filter(submission__round=round).select_related("submission__municipality", "item")
    if statuses is not None:
        values = values.filter(submission__status__in=list(statuses))
    return values.order_by("submission__municipality__code", "item__code")


def _rows(round: Round, values: Iterable[Value]) -> Iterator[list]:
    for value in values:
        municipality = value.submission.municipality
        number = "" if value.number is None else format(value.number.normalize(), "f")
        yield [
            round.network.code,
            round.period.label,
            municipality.code,
            neutralise(municipality.name),
            value.item.code,
            neutralise(value.item.name),
            neutralise(value.item.unit),
            value.submission.status,
            number,
            neutralise(value.missing_reason),
            neutralise(value.explanation),
            value.missing_status if value.missing_status in MARKERS else "",
        ]


def export_filename(*, round: Round, extension: str) -> str:
    return f"{round.network.code}_{round.period.label}_values.{extension}"


def values_csv(*, round: Round, values: Iterable[Value]) -> bytes:
    """UTF-8 with BOM (Excel opens it with the right letters), comma separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(round, values))
    return buffer.getvalue().encode("utf-8-sig")


def values_xlsx(*, round: Round, values: Iterable[Value]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{round.network.code} {round.period.label}"[:31])
    sheet.append(list(COLUMNS))
    number_column = COLUMNS.index("value")
    for row in _rows(round, values):
        # Numbers as numbers where Excel holds them exactly (15 significant digits).
        text = row[number_column]
        if text and len(text.replace("-", "").replace(".", "").lstrip("0")) <= 15:
            row[number_column] = float(text)
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
