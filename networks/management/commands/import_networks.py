from __future__ import annotations

from networks.imports import networks_import
from networks.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import networks from CSV/XLSX: code,name,name_en,public,members (municipality codes separated "
        "by spaces, or * for every current municipality). Upserts by code; all or nothing."
    )
    required_columns = ("code", "name")

    def run_service(self, table, **options):
        return networks_import(table=table)
