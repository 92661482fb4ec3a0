from __future__ import annotations

from networks.imports import successor_shares_import
from networks.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import the shares of units divided at a reform from CSV/XLSX: predecessor_code,successor_code,share"
        "[,note,source]; share 0 < share <= 1, or empty when not known. Each predecessor named gets exactly "
        "the file's rows; all or nothing."
    )
    required_columns = ("predecessor_code", "successor_code", "share")

    def run_service(self, table, **options):
        return successor_shares_import(table=table)
