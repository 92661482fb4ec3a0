from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from networks.backup import network_export_json
from networks.models import Network


class Command(BaseCommand):
    help = (
        "Export everything one network owns (members, catalogue, rounds, values with their history, "
        "practices, plans, meetings, roles; no passwords) to one JSON file that import_network reads."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="the network's code")
        parser.add_argument("--output", help="the file to write (default: standard output)")

    def handle(self, *args, code: str, output: str | None, **options) -> None:
        network = Network.objects.filter(code=code).first()
        if network is None:
            raise CommandError(f"No network with the code {code}.")
        text = network_export_json(network=network)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Network {code} exported to {output}.")
        else:
            self.stdout.write(text, ending="")
