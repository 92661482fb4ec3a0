"""The comparison engine's benchmark on PostgreSQL, with its targets at 1,000,000 approved values.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchlearning_bench \
        .venv/bin/python bench/run.py [--municipalities 500 --indicators 200 --periods 10]

The database named in DATABASE_URL is dropped and created anew. Steps, each timed:

1. COPY of values.csv into a bare table — the floor for the import;
2. `import_values values.csv --network BENCH` (all or nothing, with history rows);
3. a single SQL statement computing the same ranks, counts and quartiles (peer groups `network`
   and `all`) with window functions into a table — the floor for the engine;
4. the full recompute of peer groups `network` and `all` for every period (in a child process,
   so its peak memory is its own), scopes computed as `recompute --sync` does: one per core at
   once (RECOMPUTE_WORKERS=1 measures them one after another);
5. the incremental recompute after one approved value changes, until the stored result shows it
   (five times, after a first change that loads the engine as a worker does when it starts).

It prints each time and the ratios; README's Performance section quotes its output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/benchlearning_bench"


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "1"
    os.environ["CELERY_BROKER_URL"] = ""  # recomputes run in this process, eagerly
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")
    import django

    django.setup()


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(label: str, results: dict, func, *args, **kwargs):
    started = time.perf_counter()
    value = func(*args, **kwargs)
    results[label] = time.perf_counter() - started
    print(f"  {label:<44} {results[label]:9.2f} s", flush=True)
    return value


def copy_floor(values_csv: Path) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TABLE bench_copy (municipality_code text, item_code text, period text, value numeric, note text)"
        )
        with (
            values_csv.open("rb") as fh,
            cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)


SQL_FLOOR = """
CREATE TABLE bench_floor AS
WITH v AS (
    SELECT r.network_id, r.period_id, ii.indicator_id, s.municipality_id, ind.polarity,
           val.number::float8 AS value
    FROM indicators_value val
    JOIN indicators_submission s ON s.id = val.submission_id AND s.status = 'approved'
    JOIN indicators_round r ON r.id = s.round_id
    JOIN indicators_indicator_items ii ON ii.dataitem_id = val.item_id
    JOIN indicators_indicator ind ON ind.id = ii.indicator_id
    WHERE NOT val.is_missing
), g AS (
    SELECT 'network'::text AS peer_group, network_id::text AS group_key, * FROM v
    UNION ALL
    SELECT 'all', 'all', * FROM v
), q AS (
    SELECT peer_group, group_key, period_id, indicator_id, count(*) AS n, avg(value) AS mean,
           stddev_samp(value) AS std, min(value) AS min, max(value) AS max,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS q1,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS q3
    FROM g GROUP BY peer_group, group_key, period_id, indicator_id
)
SELECT g.peer_group, g.group_key, g.period_id, g.indicator_id, g.municipality_id, g.value,
       rank() OVER (PARTITION BY g.peer_group, g.group_key, g.period_id, g.indicator_id
                    ORDER BY CASE WHEN g.polarity = 'lower' THEN g.value ELSE -g.value END) AS rank,
       q.n, q.mean, q.std, q.min, q.max, q.q1, q.median, q.q3
FROM g JOIN q USING (peer_group, group_key, period_id, indicator_id)
"""


def sql_floor() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        # The floor at its best: the server's JIT, which the portal's connections switch off
        # (settings: DB_JIT), speeds up one large analytical statement.
        cursor.execute("SET jit = on")  # PostgreSQL's own default
        cursor.execute(SQL_FLOOR)
        cursor.execute("SET jit = off")
        cursor.execute("SELECT count(*) FROM bench_floor")
        return cursor.fetchone()[0]


def settle() -> None:
    """Before the floor and the recompute: fresh planner statistics and a checkpoint, so neither
    pays for the writes before it (a checkpoint forced mid-run by the import's WAL, or plans
    made on a table autovacuum has not analysed yet)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def full_recompute_child(url: str) -> None:
    """Run in a child process: recompute `network` and `all` for every period; print JSON.

    Scopes run as `recompute --sync` runs them: `scopes_in_parallel`, one per core
    (RECOMPUTE_WORKERS), each in its own transaction — as Celery's worker processes do at night.
    """
    django_setup(url)
    from comparisons.runs import recompute_workers, scopes_in_parallel
    from comparisons.services import results_recompute
    from indicators.models import Round

    rounds = list(Round.objects.select_related("network", "period").order_by("period__start"))
    started = time.perf_counter()
    rows = scopes_in_parallel(
        lambda round_: results_recompute(
            network=round_.network, period=round_.period, peer_group_names=["network", "all"]
        ),
        rounds,
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rows": sum(rows), "peak_mb": peak_mb, "workers": recompute_workers()}))


def incremental(repeat: int = 5) -> list[float]:
    """Change one approved value; time until its stored result shows the new value.

    Returns ``repeat`` times after one more change (its time first in the list): the first
    change in a fresh process also imports the engine's modules (pandas, numpy) and fills a
    new database session's caches, which a running Celery worker did when it started.
    """
    from django.contrib.auth import get_user_model

    from comparisons.models import Result
    from indicators.models import Submission, Value
    from indicators.services.values import ValueInput, submission_values_save

    user, _ = get_user_model().objects.get_or_create(username="bench-coordinator")
    latest = Submission.objects.filter(status="approved").order_by("-round__period__start", "municipality_id").first()
    value = Value.objects.filter(submission=latest, is_missing=False).select_related("item").first()
    indicator_id = value.item.indicators.values_list("pk", flat=True).first()
    times = []
    for i in range(repeat + 1):
        new = Decimal(value.number) + Decimal(i + 1)
        submission = Submission.objects.get(pk=latest.pk)
        started = time.perf_counter()
        submission_values_save(
            submission=submission,
            user=user,
            values={value.item_id: ValueInput(new)},
            expected_version=submission.version,
        )
        stored = Result.objects.get(
            network_id=latest.round.network_id,
            period_id=latest.round.period_id,
            indicator_id=indicator_id,
            municipality_id=latest.municipality_id,
            peer_group="network",
        ).value
        times.append(time.perf_counter() - started)
        if abs(stored - float(new)) > 1e-6:
            raise RuntimeError(f"stored result {stored} does not show the new value {new}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child-full-recompute", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if args.child_full_recompute:
        full_recompute_child(url)
        return

    from bench.generate import generate

    total = args.municipalities * args.indicators * args.periods
    print(f"Benchmark: {args.municipalities} municipalities x {args.indicators} indicators x {args.periods} periods")
    print(f"= {total:,} values on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    files = generate(municipalities=args.municipalities, indicators=args.indicators, periods=args.periods, out=args.out)
    recreate_database(url)
    django_setup(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        print(f"PostgreSQL {cursor.fetchone()[0]}")
    for command, name in (
        ("import_municipalities", "municipalities"),
        ("import_networks", "networks"),
        ("import_catalogue", "catalogue"),
    ):
        call_command(command, str(files[name]), stdout=open(os.devnull, "w"))  # noqa: SIM115

    results: dict[str, float] = {}
    print("Times:")
    timed("COPY into a bare table (import floor)", results, copy_floor, files["values"])
    timed(
        "import_values (1 file, all or nothing)",
        results,
        call_command,
        "import_values",
        str(files["values"]),
        "--network",
        "BENCH",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE indicators_submission SET status = 'approved'")
        cursor.execute("SELECT count(*) FROM indicators_value")
        imported = cursor.fetchone()[0]
    settle()
    floor_rows = timed("SQL floor: window functions into a table", results, sql_floor)
    settle()
    child = subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--child-full-recompute"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    full = json.loads(child.stdout.strip().splitlines()[-1])
    results["full recompute (network + all)"] = full["seconds"]
    label = f"full recompute (network + all), {full['workers']} at once"
    print(f"  {label:<44} {full['seconds']:9.2f} s")
    first, *times = incremental()
    results["incremental recompute (median of 5)"] = statistics.median(times)
    print(f"  {'incremental recompute (median of 5)':<44} {results['incremental recompute (median of 5)']:9.3f} s")
    print(f"  {'  the first change in a fresh process':<44} {first:9.3f} s")

    print("Figures:")
    print(f"  values imported                          {imported:>12,}")
    print(f"  rows written by the SQL floor            {floor_rows:>12,}")
    print(f"  result rows written by the engine        {full['rows']:>12,}")
    print(f"  peak memory of the full recompute        {full['peak_mb']:>9.0f} MB   (target < 1,536 MB)")
    import_ratio = results["import_values (1 file, all or nothing)"] / results["COPY into a bare table (import floor)"]
    engine_ratio = results["full recompute (network + all)"] / results["SQL floor: window functions into a table"]
    print("Ratios:")
    print(f"  import / COPY                            {import_ratio:9.2f}   (target <= 3.0)")
    print(f"  full recompute / SQL floor               {engine_ratio:9.2f}   (target <= 1.0)")
    print(f"  incremental (max of 5)                   {max(times):9.3f} s (target < 0.2 s)")


if __name__ == "__main__":
    main()
