from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.management.base import CommandParser, no_translations

from indicators.management.commands.import_official import Command as ImportOfficial
from indicators.services.official import official_import
from indicators.services.official_fetch import DEFAULT_TIMEOUT, fetch, read_query
from indicators.services.reform import reform_after_import


class Command(ImportOfficial):
    help = (
        "Ask a statistics database (PxWeb) for a table and import the answer as import_official does: "
        "POST the PxWeb v1 query in --query FILE.json to URL, or GET a PxWeb v2 URL when no query is given. "
        "The answer may be JSON-stat, PxWeb JSON, CSV, XLSX or PC-Axis. All or nothing; re-fetching changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the table's API address (PxWeb v1 table, or a v2 .../data?... address)")
        parser.add_argument("--query", type=Path, metavar="FILE.json", help="the PxWeb v1 query to POST")
        self.add_table_arguments(parser)
        parser.add_argument(
            "--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS", help="how long to wait for the answer"
        )

    @no_translations
    def handle(self, *args, **options) -> None:
        url = options["url"]

        def run():
            query = read_query(options["query"]) if options["query"] is not None else None
            answer = fetch(url, query=query, timeout=options["timeout"])
            with tempfile.TemporaryDirectory(prefix="fetch_official") as folder:
                path = Path(folder) / answer.name
                path.write_bytes(answer.content)
                return official_import(
                    path,
                    item_code=options["item"],
                    selections=options["select"],
                    dry_run=options["dry_run"],
                    name=answer.name,
                )

        self.report_import(url, run)
        if not options["dry_run"]:
            # As import_official: the predecessors' figures of an additive item reach their successors.
            said = reform_after_import(item_codes=[options["item"].strip()])
            if said:
                self.stdout.write(f"{url}: {said}")
