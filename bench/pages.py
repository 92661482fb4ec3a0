"""Server time of the dashboard pages on the 1,000,000-value bench database (README, Performance).

    .venv/bin/python bench/pages.py [--database-url postgres://postgres@127.0.0.1:5432/benchlearning_bench]
        [--requests 30] [--port 8765] [--workers 2]

Needs the database `bench/run.py` builds (network BENCH, 500 municipalities, 200 indicators,
10 periods, stored results). It publishes BENCH's rounds (so an anonymous visitor sees them),
gives a `bench-viewer` account the viewer role of the first member and opens a session for it,
serves the portal with gunicorn on the loopback interface (DEBUG off, database connections kept
60 s as `make serve` keeps them; DB_CONN_MAX_AGE overrides), requests every dashboard
page N times as the anonymous visitor and as the member, and `/healthz/` as the trivial
reference, and prints the median and 95th percentile per page and the ratio to the reference.
Target: median under 150 ms.

Before the server starts it renders every page in this process with `django.test.Client` under
`CaptureQueriesContext`, as the anonymous visitor and as the member, and prints the number of
SQL queries next to the median. Target: at most 12. Each page is rendered twice and the second
count is printed (what a request costs once the caches are warm — the cache is the database
cache, so its reads count too); the first, when it differs, in parentheses. In this process
DEBUG is on; the count is the same with it off (no debug-only middleware touches the database).
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import host  # noqa: E402 - needs the project root on sys.path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/benchlearning_bench"
TARGET_MS = 150.0
TARGET_QUERIES = 12


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "1"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")
    import django

    django.setup()


def prepare(network_code: str) -> dict:
    """Publish the network's rounds, ensure a member account with a session; return what to request."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from indicators.models import NetworkIndicator, Round
    from networks.models import Network, Role

    network = Network.objects.get(code=network_code)
    # bench/run.py bulk-loads and rewrites the stored results; autovacuum would catch up within minutes
    # on a live server. Without it the planner's row estimates are stale and index-only scans visit
    # the heap (measured: the dashboards' peer-group query 500 ms before, 60 ms after).
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("comparisons_result", "comparisons_compositeresult", "indicators_value"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("ANALYZE")  # the small tables too: the planner's join order depends on them
    Round.objects.filter(network=network).exclude(status=Round.Status.PUBLISHED).update(
        status=Round.Status.PUBLISHED, published_at=timezone.now()
    )
    member = network.memberships.select_related("municipality").order_by("municipality__code").first().municipality
    user, _ = get_user_model().objects.get_or_create(
        username="bench-viewer", defaults={"email": "viewer@bench.invalid"}
    )
    Role.objects.get_or_create(user=user, kind=Role.Kind.VIEWER, municipality=member)
    indicator = NetworkIndicator.objects.filter(network=network).order_by("position", "indicator__code").first()
    latest = Round.objects.filter(network=network).select_related("period").order_by("-period__start").first()
    return {
        "user": user,
        "network": network.code,
        "municipality": member.code,
        "indicator": indicator.indicator.code,
        "period": latest.period.label,
        "session": session_for(user),
    }


def session_for(user) -> str:
    """A logged-in session of `user` (as the login page would open it); its key for the cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def pages(ctx: dict) -> list[tuple[str, str]]:
    net, code = ctx["network"], ctx["municipality"]
    return [
        ("reference /healthz/", "/healthz/"),
        ("overview", f"/comparisons/dashboards/{net}/"),
        ("map", f"/comparisons/dashboards/{net}/map/"),
        ("indicator", f"/comparisons/dashboards/{net}/indicators/{ctx['indicator']}/"),
        ("profile", f"/comparisons/dashboards/{net}/municipalities/{code}/"),
        ("report", f"/comparisons/dashboards/{net}/municipalities/{code}/report/"),
        ("API results list", "/api/results/?" + urlencode({"network": net, "period": ctx["period"]})),
    ]


def query_counts(targets: list[tuple[str, str]], user=None) -> dict[str, tuple[int, int, int]]:
    """Per page: (status, queries of a first render, queries of a second), in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        logging.getLogger("axes").setLevel(logging.WARNING)  # not its lines about the login
        client.force_login(user)
    counts = {}
    for label, path in targets:
        renders = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                status = client.get(path).status_code
            renders.append(len(captured.captured_queries))
        counts[label] = (status, *renders)
    return counts


def get(conn: http.client.HTTPConnection, path: str, cookie: str | None) -> tuple[int, int, float]:
    headers = {"Host": "127.0.0.1", "Accept-Language": "en"}
    if cookie:
        headers["Cookie"] = cookie
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return response.status, len(body), (time.perf_counter() - started) * 1000


def wait_until_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status, _, _ = get(conn, "/healthz/", None)
            conn.close()
            if status in (200, 503):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def serve(url: str, port: int, workers: int, log: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """gunicorn with `workers` sync workers (`extra`: more of its options, e.g. `--threads 4`)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY=os.environ["SECRET_KEY"],  # the one the member's session was signed with
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        CELERY_BROKER_URL="",
    )
    env.setdefault("DB_CONN_MAX_AGE", "60")  # as `make serve` runs the portal
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # DEBUG off serves static files through the hashed manifest: it must exist (staticfiles/ is ignored by git).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "benchlearning.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--timeout",
        "300",
        *extra,
    ]
    with log.open("w") as errors:  # the server's own error log: tracebacks of any page that fails
        return subprocess.Popen(command, cwd=ROOT, env=env, stderr=errors)  # noqa: S603 - our gunicorn


def measure(port: int, targets: list[tuple[str, str]], cookie: str | None, repeat: int) -> list[dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    rows = []
    for label, path in targets:
        for _ in range(2):  # warm-up: worker imports, caches, the database's buffers
            _, _, warm_ms = get(conn, path, cookie)
        # A page far off the target (seconds) is measured fewer times: the figure is clear enough.
        times, statuses, size = [], set(), 0
        for _ in range(repeat if warm_ms < 2000 else min(repeat, 5)):
            status, size, ms = get(conn, path, cookie)
            statuses.add(status)
            times.append(ms)
        times.sort()
        rows.append(
            {
                "page": label,
                "status": ",".join(str(s) for s in sorted(statuses)),
                "bytes": size,
                "n": len(times),
                "median": statistics.median(times),
                "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            }
        )
    conn.close()
    return rows


def report(title: str, rows: list[dict], queries: dict[str, tuple[int, int, int]]) -> None:
    reference = rows[0]["median"] or 1e-9
    print(f"\n{title}")
    print(
        f"  {'page':<22} {'n':>3} {'status':>6} {'bytes':>9} {'median ms':>10} {'p95 ms':>9} {'x ref':>7}"
        f" {'queries':>9}  target"
    )
    for row in rows:
        status, first, count = queries[row["page"]]
        shown = f"{count}" if first == count else f"{count} ({first})"
        if row is rows[0]:
            verdict = ""
        else:
            slow = "ok" if row["median"] < TARGET_MS else "SLOW"
            many = "ok" if count <= TARGET_QUERIES else "TOO MANY QUERIES"
            verdict = f"{slow}, {many}" if status == 200 else f"{slow}, {many}, in-process status {status}"
        print(
            f"  {row['page']:<22} {row['n']:>3} {row['status']:>6} {row['bytes']:>9}"
            f" {row['median']:>10.1f} {row['p95']:>9.1f} {row['median'] / reference:>7.1f} {shown:>9}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--network", default="BENCH")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)  # shared by this process and the server
    django_setup(args.database_url)
    ctx = prepare(args.network)
    print(
        f"network {ctx['network']}, period {ctx['period']}, indicator {ctx['indicator']}, "
        f"member {ctx['municipality']}; {args.requests} requests per page, gunicorn with {args.workers} workers; "
        f"targets: median < {TARGET_MS:.0f} ms, at most {TARGET_QUERIES} SQL queries"
    )
    print(host.describe())
    targets = pages(ctx)
    anonymous_queries = query_counts(targets)
    member_queries = query_counts(targets, ctx["user"])
    log = Path(tempfile.gettempdir()) / f"bench-pages-{args.port}.log"
    server = serve(args.database_url, args.port, args.workers, log)
    try:
        wait_until_up(args.port)
        report("anonymous visitor", measure(args.port, targets, None, args.requests), anonymous_queries)
        cookie = f"sessionid={ctx['session']}"
        report("member (viewer)", measure(args.port, targets, cookie, args.requests), member_queries)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nserver log (errors only): {log}")


if __name__ == "__main__":
    main()
