from __future__ import annotations

from indicators.services.series_breaks import REQUIRED_COLUMNS, series_breaks_import
from networks.management.base import ImportCommand
from networks.tabular import Table


class Command(ImportCommand):
    help = (
        "Import break notes of series from CSV/XLSX: municipality_code,item_code,period,note. From the period "
        "on the figures are not comparable with the earlier ones; the note says why. All or nothing."
    )
    required_columns = REQUIRED_COLUMNS

    def run_service(self, table: Table, **options):
        return series_breaks_import(table=table)
