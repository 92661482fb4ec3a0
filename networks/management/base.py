"""The shared shape of the import commands: read, call a service, report, exit non-zero on errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from networks.errors import PortalError
from networks.tabular import ImportFailed, Table, read_table


class ImportCommand(BaseCommand):
    required_columns: tuple[str, ...] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV (UTF-8, ',' or ';') or XLSX file")

    def run_service(self, table: Table, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    @no_translations  # scripts read the messages: the command line speaks English
    def handle(self, *args, **options) -> None:
        self.import_file(options["file"], lambda table: self.run_service(table, **options))

    def import_file(self, path: Path, service: Callable[[Table], object]) -> None:
        self.report_import(path, lambda: service(read_table(path, required=self.required_columns)))

    def report_import(self, path: Path, run: Callable[[], object]) -> None:
        """Run an import of `path`; print its report and warnings, or its errors and fail."""
        try:
            report = run()
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{path}: {len(failure.errors)} problem(s); nothing was imported") from None
        except PortalError as refusal:
            # Any other refusal (e.g. a submission's status changed while the file was imported).
            raise CommandError(f"{path}: {refusal}; nothing was imported") from None
        for warning in getattr(report, "warnings", []):
            self.stderr.write(f"{path}: {warning}")
        self.stdout.write(self.style.SUCCESS(f"{path}: {report}"))
