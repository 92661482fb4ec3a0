from __future__ import annotations

from networks.management.base import ImportCommand
from networks.services import municipalities_import


class Command(ImportCommand):
    help = (
        "Import municipalities from CSV/XLSX: code,name and optional name_en,kind,region,valid_from,"
        "valid_to,successor_code; other columns become attributes. Upserts by code; all or nothing."
    )
    required_columns = ("code", "name")

    def run_service(self, table, **options):
        return municipalities_import(table=table)
