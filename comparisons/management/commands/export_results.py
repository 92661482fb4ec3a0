from __future__ import annotations

import csv
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from comparisons.peer_groups import PeerGroupError, check_peer_group
from comparisons.selectors import EXPORT_FIGURES, results_for_export
from indicators.models import Period
from networks.models import Network

# The export's published column order (README, "Command line"): files made by scripts rely on it.
COLUMNS = ["network", "period", "indicator", "peer_group", "municipality_code", *EXPORT_FIGURES]


def cell(value: object) -> str:
    """Empty for an undefined figure; floats with full precision (repr round-trips exactly)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Command(BaseCommand):
    help = (
        "Export stored results as CSV: one row per municipality, indicator, period and peer group, with "
        "the columns " + ",".join(COLUMNS) + "."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", required=True, help="network code")
        parser.add_argument("--period", help="period label (default: every period)")
        parser.add_argument("--peer-group", dest="peer_group", help="e.g. network, all, region, attr:NAME, nearest:5")
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    @no_translations
    def handle(self, *args, network: str, period: str | None = None, peer_group: str | None = None, **options):
        network_obj = Network.objects.filter(code=network).first()
        if network_obj is None:
            raise CommandError(f"unknown network {network}")
        period_obj = None
        if period:
            period_obj = Period.objects.filter(label=period).first()
            if period_obj is None:
                raise CommandError(f"unknown period {period}")
        if peer_group:
            try:
                check_peer_group(peer_group)
            except PeerGroupError as exc:
                raise CommandError(str(exc)) from None
        rows = results_for_export(network=network_obj, period=period_obj, peer_group=peer_group)
        output = options.get("output")
        handle = output.open("w", newline="", encoding="utf-8") if output else self.stdout
        try:
            count = self._write(handle, rows)
        finally:
            if output:
                handle.close()
        if output:
            self.stdout.write(f"{output}: {count} row(s)")

    def _write(self, handle, rows) -> int:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        count = 0
        for row in rows.iterator(chunk_size=5000):
            writer.writerow(
                [
                    row["network_code"],
                    row["period_label"],
                    row["indicator_code"],
                    row["peer_group_name"],
                    row["municipality_code"],
                    *(cell(row[name]) for name in COLUMNS[5:]),
                ]
            )
            count += 1
        return count
