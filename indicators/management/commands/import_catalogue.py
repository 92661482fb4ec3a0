from __future__ import annotations

from indicators.services.catalogue import catalogue_import
from networks.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import data items and indicators from CSV/XLSX: code,kind(item/indicator),name,name_en,unit,decimals,"
        "polarity,formula,min,max,influence,in_index,weight,networks,definition and optionally "
        "short_name,short_name_en,unit_en,additive,uncertainty. Upserts by code; all or nothing."
    )
    required_columns = ("code", "kind", "name")

    def run_service(self, table, **options):
        return catalogue_import(table=table)
