from __future__ import annotations

from comparisons.peer_groups import peer_groups_import
from networks.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import saved custom peer groups from CSV/XLSX: group,municipality_code. Each group in the file gets "
        "exactly the listed members (peer group custom:NAME); all or nothing."
    )
    required_columns = ("group", "municipality_code")

    def run_service(self, table, **options):
        return peer_groups_import(table=table)
