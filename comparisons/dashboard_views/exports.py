"""Downloads of the tables a dashboard shows (CSV and XLSX), cells neutralised (`reports`)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.text import slugify

from ..reports import table_csv, table_xlsx
from .tables import Table

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(*, table: Table, fmt: str, scope) -> HttpResponse:
    parts = [scope.network.code, scope.period.label if scope.period else "", table.slug]
    filename = slugify("-".join(p for p in parts if p)) + f".{fmt}"
    if fmt == "xlsx":
        body = table_xlsx(
            header=table.download_header, rows=table.export_rows(), title=table.slug, decimals=table.export_decimals()
        )
    else:
        body = table_csv(header=table.download_header, rows=table.export_rows())
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
