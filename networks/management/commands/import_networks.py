from __future__ import annotations

from networks import events
from networks.management.base import ImportCommand
from networks.models import Network
from networks.services import networks_import


class Command(ImportCommand):
    help = (
        "Import networks from CSV/XLSX: code,name,name_en,public,members (municipality codes separated "
        "by spaces, or * for every current municipality). Upserts by code; all or nothing."
    )
    required_columns = ("code", "name")

    def run_service(self, table, **options):
        before = dict(Network.objects.values_list("pk", "policy"))
        report = networks_import(table=table)
        # A changed publication policy changes whose values enter other networks' comparisons.
        for network_id, policy in Network.objects.filter(pk__in=list(before)).values_list("pk", "policy"):
            if policy != before[network_id]:
                events.publish(events.NETWORK_POLICY_CHANGED, network_id=network_id)
        return report
