from __future__ import annotations

from django.core.management.base import CommandError, CommandParser, no_translations

from indicators.models import Submission
from indicators.services.imports import REQUIRED_COLUMNS, values_import_file
from indicators.services.reform import reform_after_import
from networks.management.base import ImportCommand
from networks.models import Network


class Command(ImportCommand):
    help = (
        "Import values from CSV/XLSX in long format: municipality_code,item_code,period,value[,note]. "
        "An empty value declares the figure missing (the note says why); a value that is a statistics "
        "office's mark (… or ..., -, ., ..) declares it missing with that status. Creates periods, rounds and "
        "submissions as needed; all or nothing."
    )
    required_columns = REQUIRED_COLUMNS

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--network", required=True, help="code of the network whose rounds receive the values")
        parser.add_argument(
            "--status",
            default=Submission.Status.SUBMITTED,
            choices=Submission.Status.values,
            help="status of the submissions the file touches (default: submitted)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, but save nothing")

    @no_translations
    def handle(self, *args, **options) -> None:
        try:
            network = Network.objects.get(code=options["network"])
        except Network.DoesNotExist:
            raise CommandError(f"unknown network {options['network']!r}") from None
        path = options["file"]
        # The file goes to the service whole: on PostgreSQL a plain CSV never becomes Python rows.
        self.report_import(
            path,
            lambda: values_import_file(path, network=network, status=options["status"], dry_run=options["dry_run"]),
        )
        if not options["dry_run"]:
            # Pre-reform figures of predecessors may have come in: carry them to their successors.
            said = reform_after_import(network_code=network.code)
            if said:
                self.stdout.write(f"{path}: {said}")
