"""The comparison engine's benchmark on PostgreSQL: 1,000,000 approved values by default, 10,000,000 with
`--municipalities 1000 --indicators 500 --periods 20`; every figure, floor and ratio in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchlearning_bench \
        .venv/bin/python bench/run.py [--municipalities 500 --indicators 200 --periods 10] [--json FILE]

The database named in DATABASE_URL is dropped and created anew; the files come from
`bench/generate.py` (written row by row: no step holds the values in Python, the dumps below go
through files and `COPY` streams). Steps, each timed:

0. (information) `COPY` of values.csv into a bare table without index or constraint;
1. (a) `import_values values.csv --network BENCH --status approved` with no broker (the embedded
   default: `CELERY_TASK_ALWAYS_EAGER`): the values and their history rows in one transaction,
   then, after the commit, one recompute run per scope, scopes in parallel — timed until the
   command returns, when the results are stored (the bench counts them and lists their peer
   groups). Its floor has two parts:
   (A) the same value rows and history rows, dumped after the import with `COPY (SELECT …) TO
       STDOUT` (binary) into files, `COPY`-ed into copies of the two tables
       (`CREATE TABLE … (LIKE … INCLUDING ALL)`: columns, defaults, checks, indexes) with the same
       foreign keys (`pg_get_constraintdef`, deferrable as they are; a reference to one of the two
       tables points to its copy), in one transaction including its commit, as the import does;
   (B) one SQL statement (`floor_sql`) computing ranks, counts, mean, deviation and quartiles
       with window functions into a table, for the peer groups the import stored: `network`,
       `all`, `kind`, `region` and `attr:NAME` as comparisons/peer_groups.py defines them (a
       group per non-empty, trimmed value, drawn from the `all` population). `nearest:K` and
       `custom:NAME` have no SQL floor: the bench says so when the import stored them (the bench
       data has no context variables and no saved groups, so it stores neither).
   The floor computes every group; the engine only those with a focal municipality (the bench
   network has every municipality, so they are the same groups).
2. the SQL floor of the engine runs below: the same statement for `network` and `all`;
3. (b) first write: the full recompute of `network` and `all` for every period (in a child
   process, so its peak memory is its own), scopes as `recompute --sync` computes them, one per
   core at once (RECOMPUTE_WORKERS=1 measures them one after another), into empty result tables
   (`TRUNCATE`, which works for a plain and a partitioned `comparisons_result`);
4. (c) nightly replace: the same recompute again, now replacing the rows (b) stored;
5. (d) the incremental recompute after one approved value changes, until the stored result shows
   it (five times, after a first change that loads the engine as a worker does when it starts);
6. (e) the peak memory of the full recompute (the larger of (b) and (c)).

Fairness: before each floor and before (b) `settle()` runs `VACUUM ANALYZE` and a `CHECKPOINT`,
so none pays for the writes before it (a checkpoint forced mid-run by earlier WAL, plans made on
tables autovacuum has not analysed). Between (b) and (c) there is no `VACUUM`: the nightly run
must cope with the previous run's rows as they are (hint bits not yet set, the index entries of
the rows it deletes staying until vacuum) — that is what (c) measures. There is an `ANALYZE` (a
live server's autovacuum analyses a table within minutes of a bulk write, so the planner knows
the table is full, as it would at night) and a `CHECKPOINT` (so (c) does not pay for flushing
the pages (b) dirtied; the floor gets one too).

It prints each time, the figures, a "Ratios" block with each target (met / NOT met), the wall
time of the whole bench and the database size; `--json FILE` writes all of it as JSON.
README's Performance section quotes its output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess  # nosec B404 - runs this very script
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import host  # noqa: E402 - needs the project root on sys.path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/benchlearning_bench"
VALUE_TABLE = "indicators_value"
HISTORY_TABLE = "indicators_historicalvalue"
RESULT_TABLES = ("comparisons_result", "comparisons_compositeresult", "comparisons_neighbour")
MEMORY_TARGET_MB = 2048
LABEL = 56


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


def show(label: str, seconds: float, digits: int = 2) -> None:
    print(f"  {label:<{LABEL}} {seconds:9.{digits}f} s", flush=True)


def timed(label: str, results: dict, func, *args, **kwargs):
    started = time.perf_counter()
    value = func(*args, **kwargs)
    results[label] = time.perf_counter() - started
    show(label, results[label])
    return value


def execute(sql: str, params: tuple = ()) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


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
        cursor.execute("DROP TABLE bench_copy")


# --- (a) the import's floor, part A: the same rows into copies of the same tables ---------------


def table_dump(table: str, path: Path) -> None:
    """The table's rows, as binary `COPY` data, into ``path`` (streamed: never Python rows)."""
    from django.db import connection

    sql = f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)"  # nosec B608 - our table
    with connection.cursor() as cursor, path.open("wb") as fh, cursor.copy(sql) as copy:
        for chunk in copy:
            fh.write(chunk)


def foreign_keys(table: str, copies: dict[str, str]) -> list[str]:
    """The table's foreign-key definitions as `ALTER TABLE` clauses (deferrable as they are); a
    reference to one of the copied tables points to its copy."""
    definitions = [
        definition
        for (definition,) in execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
            "ORDER BY conname",
            (table,),
        )
    ]
    for original, copy in copies.items():
        definitions = [re.sub(rf"REFERENCES {original}\(", f"REFERENCES {copy}(", d) for d in definitions]
    return definitions


def copy_into_same_tables(dumps: dict[str, Path]) -> dict[str, int]:
    """Part A of the import's floor: create a copy of each table (columns, defaults, checks,
    indexes, foreign keys), `COPY` the dumped rows in, commit — one transaction, as the import.
    Returns the foreign keys created per table."""
    from django.db import connection, transaction

    copies = {table: f"bench_{table}" for table in dumps}
    created = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, copy_table in copies.items():
            cursor.execute(f"CREATE TABLE {copy_table} (LIKE {table} INCLUDING ALL)")
            keys = foreign_keys(table, copies)
            for number, definition in enumerate(keys):
                cursor.execute(f"ALTER TABLE {copy_table} ADD CONSTRAINT {copy_table}_fk{number} {definition}")
            created[table] = len(keys)
            with dumps[table].open("rb") as fh, cursor.copy(f"COPY {copy_table} FROM STDIN (FORMAT binary)") as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
    return created


# --- the SQL floors ---------------------------------------------------------------------------------

VALUES_CTE = """
WITH v AS (
    SELECT r.network_id, r.period_id, ii.indicator_id, s.municipality_id, ind.polarity,
           val.number::float8 AS value{keys}
    FROM indicators_value val
    JOIN indicators_submission s ON s.id = val.submission_id AND s.status = 'approved'
    JOIN indicators_round r ON r.id = s.round_id
    JOIN indicators_indicator_items ii ON ii.dataitem_id = val.item_id
    JOIN indicators_indicator ind ON ind.id = ii.indicator_id{join}
    WHERE NOT val.is_missing
), g AS (
    {groups}
)"""

FIGURES = """, q AS (
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

COLUMNS = "network_id, period_id, indicator_id, municipality_id, polarity, value"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def group_branch(peer_group: str, group_key: str, where: str = "") -> str:
    """One peer group's rows of the values: SQL expressions of our own (names quoted by `literal`)."""
    return f"SELECT {peer_group}::text AS peer_group, {group_key} AS group_key, {COLUMNS} FROM v{where}"  # nosec B608


def floor_sql(table: str, peer_groups: list[str]) -> tuple[str, list[str]]:
    """One statement computing the figures of ``peer_groups`` into ``table``, and the groups it
    cannot compute (`nearest:K`, `custom:NAME`). The groups as comparisons/peer_groups.py
    `membership` defines them: `network` the network's reporting municipalities; `all` every
    approved submission of the period (the bench has one network); `kind`, `region`, `attr:NAME`
    the `all` population by the trimmed value, empty values forming no group (an attribute that
    is an object or a list neither, as `_attribute_text`)."""
    keys, branches, skipped = [], [], []
    for name in peer_groups:
        if name == "network":
            branches.append(group_branch("'network'", "network_id::text"))
        elif name == "all":
            branches.append(group_branch("'all'", "'all'::text"))
        elif name in ("kind", "region") or name.startswith("attr:"):
            key = f"k{len(keys)}"
            if name in ("kind", "region"):
                keys.append(f"NULLIF(btrim(m.{name}), '') AS {key}")
            else:
                attribute = literal(name[len("attr:") :])
                keys.append(
                    f"CASE WHEN jsonb_typeof(m.attributes -> {attribute}) IN ('object', 'array', 'null') THEN NULL "
                    f"ELSE NULLIF(btrim(m.attributes ->> {attribute}), '') END AS {key}"
                )
            branches.append(group_branch(literal(name), key, where=f" WHERE {key} IS NOT NULL"))
        else:
            skipped.append(name)
    sql = VALUES_CTE.format(
        keys="".join(f",\n           {k}" for k in keys),
        join="\n    JOIN networks_municipality m ON m.id = s.municipality_id" if keys else "",
        groups="\n    UNION ALL\n    ".join(branches),
    )
    return f"CREATE TABLE {table} AS{sql}{FIGURES}", skipped


def sql_floor(table: str, peer_groups: list[str]) -> int:
    from django.db import connection

    sql, _ = floor_sql(table, peer_groups)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        # The floor at its best: the server's JIT, which the portal's connections switch off
        # (settings: DB_JIT), speeds up one large analytical statement.
        cursor.execute("SET jit = on")  # PostgreSQL's own default
        cursor.execute(sql)
        cursor.execute("SET jit = off")
        cursor.execute(f"SELECT count(*) FROM {table}")  # nosec B608 - our table
        return cursor.fetchone()[0]


def settle(vacuum: bool = True) -> None:
    """Fresh planner statistics and a checkpoint, so the next step does not pay for the writes
    before it (a checkpoint forced mid-run by earlier WAL, or plans made on a table autovacuum
    has not analysed yet). ``vacuum=False``: `ANALYZE` only (before the nightly replace)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        cursor.execute("CHECKPOINT")


def stored_peer_groups() -> dict[str, int]:
    """The stored result rows per peer group."""
    return dict(execute("SELECT peer_group, count(*) FROM comparisons_result GROUP BY peer_group ORDER BY peer_group"))


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


def full_recompute(url: str) -> dict:
    child = subprocess.run(  # noqa: S603  # nosec B603 - this very script
        [sys.executable, __file__, "--child-full-recompute"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DATABASE_URL": url},
    )
    if child.returncode:
        sys.exit(f"the full recompute failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


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


def verdict(ratio: float, target: float, strict: bool = False) -> str:
    met = ratio < target if strict else ratio <= target
    return "met" if met else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--json", type=Path, help="write every figure to this file as JSON")
    parser.add_argument("--child-full-recompute", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if args.child_full_recompute:
        full_recompute_child(url)
        return

    from bench.generate import generate

    bench_started = time.perf_counter()
    total = args.municipalities * args.indicators * args.periods
    print(f"Benchmark: {args.municipalities} municipalities x {args.indicators} indicators x {args.periods} periods")
    print(f"= {total:,} values on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(host.describe())
    files = generate(municipalities=args.municipalities, indicators=args.indicators, periods=args.periods, out=args.out)
    recreate_database(url)
    django_setup(url)
    import logging

    from django.core.management import call_command

    logging.getLogger("celery").setLevel(logging.WARNING)  # not a line per eager recompute task
    call_command("migrate", verbosity=0)
    server = execute("SHOW server_version")[0][0]
    print(f"PostgreSQL {server}")
    for command, name in (
        ("import_municipalities", "municipalities"),
        ("import_networks", "networks"),
        ("import_catalogue", "catalogue"),
    ):
        call_command(command, str(files[name]), stdout=open(os.devnull, "w"))  # noqa: SIM115

    results: dict[str, float] = {}
    figures: dict[str, object] = {}
    print("Times:")
    timed("(f) COPY into a bare table (information)", results, copy_floor, files["values"])

    # (a) the import of approved values, until its results are stored.
    import_label = "(a) import_values --status approved, until stored"
    timed(
        import_label,
        results,
        call_command,
        "import_values",
        str(files["values"]),
        "--network",
        "BENCH",
        "--status",
        "approved",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    imported = execute(f"SELECT count(*) FROM {VALUE_TABLE}")[0][0]  # nosec B608 - our table
    history = execute(f"SELECT count(*) FROM {HISTORY_TABLE}")[0][0]  # nosec B608 - our table
    import_groups = stored_peer_groups()
    if not import_groups:
        sys.exit("the import stored no results: is a broker configured (CELERY_BROKER_URL)?")
    figures.update(values_imported=imported, history_rows=history, import_result_rows=import_groups)

    # (A) the same rows into copies of the same tables.
    with tempfile.TemporaryDirectory(prefix="bench-dump-", dir=args.out) as temporary:
        dumps = {table: Path(temporary) / f"{table}.copy" for table in (VALUE_TABLE, HISTORY_TABLE)}
        for table, path in dumps.items():
            table_dump(table, path)
        settle()
        keys = timed("(a) floor A: COPY into copies of the same tables", results, copy_into_same_tables, dumps)
    for table in dumps:
        execute(f"DROP TABLE bench_{table}")
    figures["floor_a_foreign_keys"] = keys

    # (B) one SQL statement for the peer groups the import stored.
    _, skipped = floor_sql("bench_floor_import", list(import_groups))
    settle()
    floor_b_rows = timed(
        "(a) floor B: SQL for the import's peer groups", results, sql_floor, "bench_floor_import", list(import_groups)
    )
    floor_b_groups = dict(
        execute("SELECT peer_group, count(*) FROM bench_floor_import GROUP BY peer_group ORDER BY peer_group")
    )
    execute("DROP TABLE bench_floor_import")
    figures.update(floor_b_rows=floor_b_rows, floor_b_result_rows=floor_b_groups, floor_b_not_covered=skipped)

    # The engine's floor: network + all.
    settle()
    floor_rows = timed(
        "SQL floor: window functions (network + all)", results, sql_floor, "bench_floor", ["network", "all"]
    )
    execute("DROP TABLE bench_floor")
    figures["floor_rows"] = floor_rows

    # (b) first write into empty result tables.
    execute(f"TRUNCATE {', '.join(RESULT_TABLES)}")
    settle()
    first = full_recompute(url)
    results["(b) first write: full recompute (network + all)"] = first["seconds"]
    show(f"(b) first write: full recompute, {first['workers']} scopes at once", first["seconds"])

    # (c) nightly replace: no VACUUM (the docstring says why), statistics and a checkpoint.
    settle(vacuum=False)
    replace = full_recompute(url)
    results["(c) nightly replace: full recompute (network + all)"] = replace["seconds"]
    show(f"(c) nightly replace: full recompute, {replace['workers']} at once", replace["seconds"])
    figures.update(first_write=first, replace=replace, replace_result_rows=stored_peer_groups())

    # (d) incremental.
    first_change, *times = incremental()
    results["(d) incremental recompute (median of 5)"] = statistics.median(times)
    results["(d) incremental recompute (max of 5)"] = max(times)
    results["(d) the first change in a fresh process"] = first_change
    show("(d) incremental recompute (median of 5)", statistics.median(times), 3)
    show("(d)   max of 5", max(times), 3)
    show("(d)   the first change in a fresh process", first_change, 3)

    floor_a = results["(a) floor A: COPY into copies of the same tables"]
    floor_b = results["(a) floor B: SQL for the import's peer groups"]
    floor_sql_seconds = results["SQL floor: window functions (network + all)"]
    peak_mb = max(first["peak_mb"], replace["peak_mb"])
    print("Figures:")
    print(f"  {'values imported':<{LABEL}} {imported:>12,}")
    print(f"  {'history rows imported':<{LABEL}} {history:>12,}")
    print("  result rows the import stored, by peer group (the engine stores missing values' rows too)")
    for name, count in import_groups.items():
        floor_count = floor_b_groups.get(name)
        floor_text = "none" if floor_count is None else f"{floor_count:,}"
        print(f"    {name:<{LABEL - 2}} {count:>12,}   floor B {floor_text:>12}")
    if skipped:
        print(f"  peer groups without an SQL floor (not in floor B): {', '.join(skipped)}")
    else:
        print("  floor B covers every peer group the import stored (no nearest:K, no custom:NAME)")
    print(f"  {'foreign keys of the table copies (floor A)':<{LABEL}} {keys}")
    print(f"  {'rows written by the SQL floor (network + all)':<{LABEL}} {floor_rows:>12,}")
    print(f"  {'result rows written by the engine, first write':<{LABEL}} {first['rows']:>12,}")
    print(f"  {'result rows written by the engine, replace':<{LABEL}} {replace['rows']:>12,}")
    print(f"  {'(e) peak memory of the full recompute, first write':<{LABEL}} {first['peak_mb']:>9.0f} MB")
    print(f"  {'(e) peak memory of the full recompute, replace':<{LABEL}} {replace['peak_mb']:>9.0f} MB")

    first_seconds = results["(b) first write: full recompute (network + all)"]
    replace_seconds = results["(c) nightly replace: full recompute (network + all)"]
    copy_seconds = results["(f) COPY into a bare table (information)"]
    ratios = [  # key, label, time, floor, target
        ("a_import", "(a) import until stored / floor A + B", results[import_label], floor_a + floor_b, 1.5),
        ("b_first_write", "(b) first write / SQL floor (network + all)", first_seconds, floor_sql_seconds, 1.0),
        ("c_replace", "(c) nightly replace / SQL floor (network + all)", replace_seconds, floor_sql_seconds, 1.0),
        ("f_bare_copy", "(f) import / COPY into a bare table (information)", results[import_label], copy_seconds, None),
    ]
    print("Ratios:")
    figures["ratios"] = {}
    for key, label, seconds, floor, target in ratios:
        ratio = seconds / floor
        figures["ratios"][key] = {
            "seconds": seconds,
            "floor": floor,
            "ratio": ratio,
            "target": target,
            "met": None if target is None else ratio <= target,
        }
        goal = "" if target is None else f"(target <= {target:.1f})  {verdict(ratio, target)}"
        print(f"  {label:<{LABEL}} {ratio:9.2f}   {seconds:.2f} s / {floor:.2f} s  {goal}")
    slowest = max(times)
    print(f"  {'(d) incremental, max of 5':<{LABEL}} {slowest:9.3f} s (target < 0.2 s)  {verdict(slowest, 0.2, True)}")
    print(
        f"  {'(e) peak memory of the full recompute':<{LABEL}} {peak_mb:9.0f} MB"
        f" (target < {MEMORY_TARGET_MB:,} MB)  {verdict(peak_mb, MEMORY_TARGET_MB, True)}"
    )
    figures["incremental"] = {"first": first_change, "times": times, "target_max": 0.2, "met": max(times) < 0.2}
    figures["peak_mb"] = {"value": peak_mb, "target": MEMORY_TARGET_MB, "met": peak_mb < MEMORY_TARGET_MB}

    database_bytes = execute("SELECT pg_database_size(current_database())")[0][0]
    elapsed = time.perf_counter() - bench_started
    print(f"Database size {database_bytes / 2**30:.2f} GiB; the whole bench took {elapsed / 60:.1f} min")
    if args.json:
        document = {
            "scale": {"municipalities": args.municipalities, "indicators": args.indicators, "periods": args.periods},
            "values": total,
            "machine": {"node": platform.node(), "cores": os.cpu_count(), "python": platform.python_version()},
            "postgresql": server,
            "seconds": results,
            "figures": figures,
            "database_bytes": database_bytes,
            "bench_seconds": elapsed,
        }
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
