from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from networks.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Load the demo installation: real Latvian municipalities, the networks, one account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (creates accounts with a known password)"
        )

    @no_translations  # operators read the log: the command line speaks English
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run with DEBUG off. "
                "Use --force if this really is a demo installation."
            )
        accounts = demo_seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Demo installation ready. Accounts (password: {DEMO_PASSWORD}):"))
        for username, description in accounts:
            self.stdout.write(f"  {username:<18} {description}")
