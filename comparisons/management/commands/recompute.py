from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from comparisons.models import RecomputeRun
from comparisons.runs import recompute_request, recompute_run_execute, recompute_scopes, scopes_in_parallel
from indicators.models import Period
from networks.models import Network


class Command(BaseCommand):
    help = (
        "Recompute stored results of every network/period (or one network, one period). Through Celery "
        "unless --sync, which computes here and reports each run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", help="network code")
        parser.add_argument("--period", help="period label, e.g. 2024 or 2024-25")
        parser.add_argument("--sync", action="store_true", help="compute in this process, not in a Celery worker")

    @no_translations
    def handle(self, *args, network: str | None = None, period: str | None = None, sync: bool = False, **options):
        network_obj = period_obj = None
        if network:
            network_obj = Network.objects.filter(code=network).first()
            if network_obj is None:
                raise CommandError(f"unknown network {network}")
        if period:
            period_obj = Period.objects.filter(label=period).first()
            if period_obj is None:
                raise CommandError(f"unknown period {period}")
        scopes = recompute_scopes(network=network_obj, period=period_obj)
        if not scopes:
            self.stdout.write("nothing to recompute: no reporting round matches")
            return
        runs = []
        for scope_network, scope_period in scopes:
            run = recompute_request(
                network=scope_network, period=scope_period, reason="recompute command", enqueue=not sync
            )
            runs.append((f"{scope_network.code} {scope_period.label}", run))
            if not sync:
                self.stdout.write(f"{runs[-1][0]}: run {run.pk} queued")
        if not sync:
            return

        def execute(labelled: tuple[str, RecomputeRun]) -> tuple[RecomputeRun | None, Exception | None]:
            try:
                return recompute_run_execute(run_id=labelled[1].pk), None
            except Exception as exc:  # reported per scope; the other scopes still run
                return None, exc

        # Several scopes at once on PostgreSQL (RECOMPUTE_WORKERS); reported in the scopes' order.
        failed = 0
        for (label, run), (done, error) in zip(runs, scopes_in_parallel(execute, runs), strict=True):
            if error is not None:
                failed += 1
                self.stderr.write(f"{label}: run {run.pk} failed: {error}")
            elif done is not None:
                self.stdout.write(
                    f"{label}: run {done.pk} {done.status}, {done.rows_written} rows in {done.duration:.2f} s"
                )
        if failed:
            raise CommandError(f"{failed} of {len(scopes)} recompute(s) failed")
