"""The nightly recompute on two Celery worker processes, as on two machines, against one worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/workers_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/workers.py [--municipalities 200 --indicators 50 --periods 8 --networks 3]

Builds the database named in DATABASE_URL anew (dropped and created; `--reuse` keeps one that
already has rounds): generated values (bench/generate.py) imported into each of `--networks`
networks, every submission approved, so that the scopes (network/period) number networks x
periods. Then three nights, each a `recompute_all_task` sent to the default queue as the beat
sends it, the recompute runs routed to the queue `recompute` (RECOMPUTE_QUEUE), with fresh
`celery -A benchlearning worker --concurrency 1` processes of distinct names consuming
`recompute,celery`:

1. two workers, and a second nightly request while the first night computes (the same function
   the beat runs, from this process), plus a second delivery of every run then computing (what
   a broker does when a worker's connection drops): the waiting runs absorb the second request,
   scopes already taken get one more run, the second deliveries wait on the scope lock;
2. one worker: the reference wall time;
3. two workers: the wall time to compare.

It prints per night the runs per worker (from each worker's log lines), the wall time (from
sending the nightly task to the last run's end), and checks that every scope was computed once
(nights 2 and 3), that no run of a scope started before the previous one of that scope finished,
and that no run was computed twice. Exits 1 when a check fails. The workers are stopped in all
cases. docs/architecture.md, "Workers on more than one machine", quotes its output.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUEUE = "recompute"
TIMEOUT = 1200  # seconds a night may take before the bench gives up

SUCCEEDED = re.compile(
    r"recompute_run_task\[[^\]]+\] succeeded in [0-9.e-]+s: (?:\{'run': (\d+), 'status': '(\w+)'|None)"
)
RETRIED = re.compile(r"recompute_run_task\[[^\]]+\] retry: .*ScopeBusy")


def django_setup(url: str, broker: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "1"
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["RECOMPUTE_QUEUE"] = QUEUE
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")
    import django

    django.setup()


def build(args: argparse.Namespace) -> None:
    """Generated values in `args.networks` networks, every submission approved, no run yet."""
    from bench.generate import generate

    files = generate(
        municipalities=args.municipalities, indicators=args.indicators, periods=args.periods, out=args.out / "data"
    )
    codes = [f"W{n + 1}" for n in range(args.networks)]
    with files["networks"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "name_en", "public", "members"])
        for code in codes:
            writer.writerow([code, f"Tīkls {code}", f"Network {code}", "yes", "*"])
    with files["catalogue"].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with files["catalogue"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "networks": " ".join(codes)})

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    quiet = open(os.devnull, "w")  # noqa: SIM115
    for command, name in (
        ("import_municipalities", "municipalities"),
        ("import_networks", "networks"),
        ("import_catalogue", "catalogue"),
    ):
        call_command(command, str(files[name]), stdout=quiet)
    for code in codes:
        # Submitted, then approved in SQL: no recompute before the nights (as bench/run.py).
        call_command("import_values", str(files["values"]), "--network", code, stdout=quiet)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE indicators_submission SET status = 'approved'")
        cursor.execute("ANALYZE")


def queues_clear(redis_client) -> None:
    """Nothing left on this bench's broker database from an earlier, interrupted bench."""
    redis_client.delete("celery", QUEUE, "unacked", "unacked_index")


def queues_empty(redis_client) -> bool:
    return not any(redis_client.llen(queue) for queue in ("celery", QUEUE)) and not redis_client.hlen("unacked")


class Workers:
    """`count` worker processes, each as a host of its own would run it: a name, one process."""

    def __init__(self, count: int, env: dict[str, str], logs: Path, night: int) -> None:
        self.names = [f"w{n + 1}" for n in range(count)]
        self.logs = {name: logs / f"night{night}-{name}.log" for name in self.names}
        self.env = env
        self.processes: list[subprocess.Popen] = []
        self.cpu = 0.0

    def start(self) -> None:
        for name in self.names:
            log = self.logs[name].open("w")
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - this interpreter's celery, fixed arguments
                    [
                        *(sys.executable, "-m", "celery", "-A", "benchlearning", "worker", "--concurrency", "1"),
                        *("-n", f"{name}@%h", "-Q", f"{QUEUE},celery", "--loglevel", "INFO"),
                        *("--without-gossip", "--without-mingle"),
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped with its pool child
                )
            )
        deadline = time.monotonic() + 60
        while not all(" ready." in path.read_text() for path in self.logs.values()):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"workers did not start: see {', '.join(map(str, self.logs.values()))}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop every worker (warm, then killed after 20 s) and add up their CPU time."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # warm shutdown
        for process in self.processes:
            if process.returncode is not None:
                continue
            deadline = time.monotonic() + 20
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            while pid == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == 0:
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            # The worker's own and its pool process's (reaped by it) CPU seconds.
            self.cpu += usage.ru_utime + usage.ru_stime

    def executed(self) -> tuple[dict[int, list[str]], Counter, Counter]:
        """Per run the workers whose task computed it; ScopeBusy retries and no-op deliveries per worker."""
        by_run: dict[int, list[str]] = defaultdict(list)
        busy: Counter = Counter()
        nothing: Counter = Counter()
        for name, path in self.logs.items():
            for line in path.read_text().splitlines():
                if match := SUCCEEDED.search(line):
                    if match.group(1) is None:
                        nothing[name] += 1
                    else:
                        by_run[int(match.group(1))].append(name)
                elif RETRIED.search(line):
                    busy[name] += 1
        return by_run, busy, nothing


def night_wait(since, redis_client, scopes: int) -> list:
    from comparisons.models import RecomputeRun

    deadline = time.monotonic() + TIMEOUT
    finished = (RecomputeRun.Status.DONE, RecomputeRun.Status.FAILED)
    while time.monotonic() < deadline:
        runs = list(RecomputeRun.objects.filter(requested_at__gte=since).order_by("started_at", "pk"))
        if len(runs) >= scopes and all(run.status in finished for run in runs) and queues_empty(redis_client):
            return runs
        time.sleep(0.5)
    raise RuntimeError(f"the night did not finish in {TIMEOUT} s")


def overlaps(runs: list) -> list[str]:
    """Runs of one scope whose computing times overlap (the lock failed)."""
    by_scope = defaultdict(list)
    for run in runs:
        by_scope[(run.network_id, run.period_id)].append(run)
    found = []
    for scope_runs in by_scope.values():
        timed = sorted((r for r in scope_runs if r.started_at), key=lambda r: r.started_at)
        for before, after in itertools.pairwise(timed):
            if after.started_at < before.finished_at:
                found.append(f"runs {before.pk} and {after.pk} of scope {before.network_id}/{before.period_id}")
    return found


def night(
    number: int, count: int, *, second_request: bool, env: dict, logs: Path, redis_client, scopes: list
) -> tuple[float, list[str]]:
    """One night on `count` workers; returns its wall time and the failed checks."""
    from django.utils import timezone

    from comparisons.models import RecomputeRun
    from comparisons.tasks import recompute_all_task, recompute_run_task

    queues_clear(redis_client)
    workers = Workers(count, env, logs, number)
    failures: list[str] = []
    second = ", a second nightly request while it computes" if second_request else ""
    print(f"Night {number}: {count} worker(s){second}", flush=True)
    try:
        workers.start()
        since = timezone.now()
        recompute_all_task.delay()  # as the beat sends it: to the default queue, a worker runs it
        duplicates: list[int] = []
        if second_request:
            deadline = time.monotonic() + TIMEOUT
            while not RecomputeRun.objects.filter(requested_at__gte=since, status=RecomputeRun.Status.DONE).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("no run finished")
                time.sleep(0.05)
            recompute_all_task()  # the nightly request again, while the first night computes
            # A second delivery of the runs computing now, as a broker makes after a lost connection.
            duplicates = list(
                RecomputeRun.objects.filter(requested_at__gte=since, status=RecomputeRun.Status.RUNNING).values_list(
                    "pk", flat=True
                )
            )
            for run_id in duplicates:
                recompute_run_task.apply_async((run_id,), queue="celery")
        runs = night_wait(since, redis_client, len(scopes))
    finally:
        workers.stop()

    by_run, busy, nothing = workers.executed()
    wall = (max(run.finished_at for run in runs) - since).total_seconds()
    per_scope = Counter((run.network_id, run.period_id) for run in runs if run.status == RecomputeRun.Status.DONE)
    per_worker = Counter(names[0] for names in by_run.values() if len(names) == 1)
    print(f"  scopes                     {len(scopes):>6}")
    print(f"  runs                       {len(runs):>6}")
    for name in workers.names:
        print(
            f"  runs computed by {name:<9} {per_worker[name]:>6}"
            f"   (ScopeBusy retries {busy[name]}, deliveries that found their run done {nothing[name]})"
        )
    print(f"  wall time                  {wall:>9.2f} s (nightly task sent -> last run finished)")
    print(f"  computing time, summed     {sum(run.duration or 0 for run in runs):>9.2f} s")
    print(f"  CPU time of the workers    {workers.cpu:>9.2f} s (the rest is PostgreSQL's and waiting)")

    if failed := [run.pk for run in runs if run.status != RecomputeRun.Status.DONE]:
        failures.append(f"night {number}: runs not done: {failed}")
    if missing := [scope for scope in scopes if scope not in per_scope]:
        failures.append(f"night {number}: scopes never computed: {missing}")
    if twice := [run_id for run_id, names in by_run.items() if len(names) > 1]:
        failures.append(f"night {number}: runs computed by more than one task: {twice}")
    if unseen := [run.pk for run in runs if run.pk not in by_run]:
        failures.append(f"night {number}: runs no worker's log reports: {unseen}")
    failures += [f"night {number}: overlap: {text}" for text in overlaps(runs)]
    if not second_request:
        again = sorted(scope for scope, done in per_scope.items() if done != 1)
        print(f"  scopes computed once       {sum(1 for done in per_scope.values() if done == 1):>6}")
        if again:
            failures.append(f"night {number}: scopes computed more than once: {again}")
    else:
        first = {}
        late = []
        for run in sorted(runs, key=lambda r: r.requested_at):
            scope = (run.network_id, run.period_id)
            if scope in first:
                # A new run only for a scope its first run had already taken when the request came
                # (both stamped under the scope's lock row, so in the order they took it).
                if not (first[scope].started_at and first[scope].started_at <= run.requested_at):
                    late.append(run.pk)
            else:
                first[scope] = run
        merged = sum(1 for done in per_scope.values() if done == 1)
        print(f"  second request merged into the waiting run   {merged:>4} scope(s)")
        print(f"  second request made a new run (scope taken)   {len(runs) - len(first):>4} scope(s)")
        print(f"  runs delivered twice while computing          {len(duplicates):>4}")
        if late or any(done > 2 for done in per_scope.values()):
            failures.append(f"night {number}: a request did not merge into the waiting run: {late}")
    print(f"  overlapping runs of a scope {len(overlaps(runs)):>5}", flush=True)
    return wall, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=200)
    parser.add_argument("--indicators", type=int, default=50)
    parser.add_argument("--periods", type=int, default=8)
    parser.add_argument("--networks", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/7")
    parser.add_argument("--reuse", action="store_true", help="keep the database when it already has rounds")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "workers")
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("The bench runs on PostgreSQL: set DATABASE_URL=postgres://… or --database-url")
    import redis

    redis_client = redis.Redis.from_url(args.broker)
    redis_client.ping()
    args.out.mkdir(parents=True, exist_ok=True)

    if not args.reuse:
        from bench.run import recreate_database

        recreate_database(url)
    django_setup(url, args.broker)
    from django.db import connection

    from comparisons.models import RecomputeRun
    from indicators.models import Round

    if not (args.reuse and Round.objects.exists()):
        started = time.perf_counter()
        build(args)
        print(f"Database built in {time.perf_counter() - started:.1f} s", flush=True)
    # Runs another process left unfinished would take the nights' requests: not this bench's.
    RecomputeRun.objects.filter(status__in=[RecomputeRun.Status.PENDING, RecomputeRun.Status.RUNNING]).delete()
    scopes = sorted(set(Round.objects.values_list("network_id", "period_id")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM indicators_value")
        values = cursor.fetchone()[0]
    print(f"{len(scopes)} scopes (network/period), {values:,} values, {os.cpu_count()} cores (shared)")
    connection.close()

    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": args.broker, "RECOMPUTE_QUEUE": QUEUE}
    env.update(DEBUG="1", DB_CONN_MAX_AGE="60", DJANGO_SETTINGS_MODULE="benchlearning.settings")
    failures: list[str] = []
    walls = {}
    for number, count, second in ((1, 2, True), (2, 1, False), (3, 2, False)):
        walls[number], failed = night(
            number, count, second_request=second, env=env, logs=args.out, redis_client=redis_client, scopes=scopes
        )
        failures += failed
    print(f"Two workers / one worker, wall time: {walls[3] / walls[2]:.2f} (nights 3 / 2); logs in {args.out}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("OK: every scope computed once a night, never two runs of a scope at once")


if __name__ == "__main__":
    main()
