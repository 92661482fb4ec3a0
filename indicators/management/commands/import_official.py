from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError, CommandParser, no_translations

from indicators.services.official import official_import
from indicators.services.reform import reform_after_import
from networks.errors import PortalError
from networks.management.base import ImportCommand
from networks.tabular import ImportFailed


class Command(ImportCommand):
    help = (
        "Import a table downloaded from a statistics office's database (PxWeb: CSV, XLSX, JSON-stat, "
        "PxWeb JSON or PC-Axis) as official values of one data item, approved, in every network that uses "
        "it. Areas are matched to municipalities by code or name; other dimensions with more than one "
        "value are fixed with --select. All or nothing; re-importing changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the downloaded table: CSV, XLSX, JSON (PxWeb or JSON-stat) or PX")
        self.add_table_arguments(parser)

    @staticmethod
    def add_table_arguments(parser: CommandParser) -> None:
        """What the table is of and which of its values: shared with fetch_official."""
        parser.add_argument("--item", required=True, metavar="CODE", help="code of the data item the values are of")
        parser.add_argument(
            "--select",
            action="append",
            default=[],
            metavar="DIMENSION=VALUE",
            help='fix a dimension to one value, by code or label (e.g. "Types of surface=Total"); repeatable',
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, but save nothing")

    @no_translations
    def handle(self, *args, **options) -> None:
        path = options["file"]
        self.report_import(
            path,
            lambda: official_import(
                path, item_code=options["item"], selections=options["select"], dry_run=options["dry_run"]
            ),
        )
        if not options["dry_run"]:
            # The predecessors' figures of an additive item: carry them to their successors.
            said = reform_after_import(item_codes=[options["item"].strip()])
            if said:
                self.stdout.write(f"{path}: {said}")

    def report_import(self, path: Path, run: Callable[[], object]) -> None:
        """As the other imports report, but every refusal is said on stderr (the bad cells, one a
        line; a refusal of the table as asked: an item, a dimension to select), and the failure
        itself names the first problem: scripts read either."""
        try:
            report = run()
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(f"{path}: {error}")
            first = failure.errors[0] if failure.errors else ""
            raise CommandError(
                f"{path}: {len(failure.errors)} problem(s), the first: {first}; nothing was imported"
            ) from None
        except PortalError as refusal:
            self.stderr.write(f"{path}: {refusal}")
            raise CommandError(f"{path}: {refusal}; nothing was imported") from None
        for warning in report.warnings:
            self.stderr.write(f"{path}: {warning}")
        self.stdout.write(self.style.SUCCESS(f"{path}: {report}"))
