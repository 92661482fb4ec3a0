from __future__ import annotations

from networks.imports import municipalities_import
from networks.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import municipalities from CSV/XLSX: code,name and optional name_en,kind,region,valid_from,"
        "valid_to,successor_code; other columns become attributes. Upserts by code; all or nothing."
    )
    required_columns = ("code", "name")

    def run_service(self, table, **options):
        return municipalities_import(table=table)
