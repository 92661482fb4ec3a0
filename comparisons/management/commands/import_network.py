from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from comparisons.services import results_recompute
from networks.backup import BackupError, network_import


class Command(BaseCommand):
    help = (
        "Import a network written by export_network. Refuses, writing nothing, when the network's code "
        "exists already. Then recomputes the stored results of its rounds (unless --no-recompute)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the JSON file export_network wrote")
        parser.add_argument("--no-recompute", action="store_true", help="leave the stored results empty")

    def handle(self, *args, file: str, no_recompute: bool, **options) -> None:
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            network = network_import(data=data)
        except BackupError as exc:
            raise CommandError(f"Nothing was imported: {exc}.") from exc
        self.stdout.write(
            f"Network {network.code} imported: {network.memberships.count()} memberships, "
            f"{network.rounds.count()} rounds."
        )
        if no_recompute:
            return
        for round_ in network.rounds.select_related("period").order_by("period__start"):
            rows = results_recompute(network=network, period=round_.period)
            self.stdout.write(f"  {round_.period.label}: {rows} stored results recomputed")
