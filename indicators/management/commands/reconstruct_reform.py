from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from indicators.services.reform import ReformError, reconstruct


class Command(BaseCommand):
    help = (
        "Reconstruct the pre-reform values of additive data items for the networks' municipalities that "
        "came into being at a reform: the sum of their predecessors' approved values, weighted by the "
        "successor shares (docs/official.md). Idempotent; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", metavar="CODE", help="only this network")
        parser.add_argument(
            "--item", action="append", default=[], metavar="CODE", help="only this data item; repeatable"
        )
        parser.add_argument("--dry-run", action="store_true", help="count, but save nothing")

    @no_translations  # scripts read the messages: the command line speaks English
    def handle(self, *args, **options) -> None:
        try:
            report = reconstruct(
                network_code=options["network"], item_codes=options["item"] or None, dry_run=options["dry_run"]
            )
        except ReformError as exc:
            raise CommandError(str(exc)) from None
        for warning in report.warnings:
            self.stderr.write(warning)
        self.stdout.write(self.style.SUCCESS(str(report)))
