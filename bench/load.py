"""Load test of the portal under gunicorn on the bench database.

    .venv/bin/python bench/load.py [--database-url postgres://postgres@127.0.0.1:5432/benchlearning_bench]
        [--duration 60] [--browsers 50] [--submitters 10] [--workers 2] [--threads 4] [--think-min 1] [--think 5]
        [--port 8766] [--keep-round]

Needs the database `bench/run.py` builds (network BENCH with stored results). It prepares the
database as `bench/pages.py` does (BENCH's rounds published, a viewer session, VACUUM ANALYZE),
then opens a new round of BENCH for the period after the last one, with the network's whole
indicator set, and gives `--submitters` member municipalities a staff account with a session.
It serves the portal with gunicorn on the loopback interface (DEBUG off) and runs, for
`--duration` seconds, one thread per simulated person (http.client, keep-alive where the
server allows it, cookies kept per person):

* browsing users (half anonymous, half the viewer) request the dashboard pages of bench/pages.py
  in turn — overview, map, indicator, profile, report, API results list — for a period, peer
  group, indicator and municipality chosen at random among those with stored results;
* submitting users (staff of different member municipalities) load their submission form, post a
  draft save with changed numbers (the first save fills every value from last period's figures;
  later saves change a few, and now and then one by 80 % with an explanation), check the
  redirect, and on the next load check the confirmation and that the page shows what they saved.

Each person waits a random think time of `--think-min` to `--think` seconds after every request:
1 to 5 by default, someone clicking briskly through the dashboards (`--think-min 0 --think 1`
is a stress test: the server's capacity, not people's experience). Errors:
any status other than 2xx/3xx, a connection error, a form answer with validation errors, a save
not confirmed or not shown. It prints the requests per second, the latency percentiles overall,
per kind (browse, submit) and per page, the errors with the first samples, and PASS/FAIL against
the target: no errors and p95 under 500 ms. Afterwards the round, its submissions and values
(with their history rows) and the sessions it opened are deleted, unless `--keep-round`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import math
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import pages as bench_pages  # noqa: E402 - needs the project root on sys.path

DEFAULT_URL = bench_pages.DEFAULT_URL
TARGET_P95_MS = 500.0
MARKER = "bench/load.py"  # the change reason of the round it opens: found and removed on the next run
FORM_ID = "values-form"
SAVED = "Saved as a draft."
EXPLANATION = "Checked with the finance department: a one-off change this year."
MISSING_REASON = "not collected this year"
MAX_ERROR_SAMPLES = 5


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank percentile of an ascending list: the smallest value with at least q % at or below it."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- preparing the database ------------------------------------------------------------------------


def next_label(label: str) -> str:
    """The period after `label`: 2025 → 2026, 2024-25 → 2025-26, 2024-Q4 → 2025-Q1."""
    from indicators.models import Period

    kind, start, _end = Period.bounds_from_label(label)
    if kind == Period.Kind.YEAR:
        return str(start.year + 1)
    if kind == Period.Kind.FINANCIAL_YEAR:
        return f"{start.year + 1}-{(start.year + 2) % 100:02d}"
    quarter = (start.month - 1) // 3 + 1
    return f"{start.year + 1}-Q1" if quarter == 4 else f"{start.year}-Q{quarter + 1}"


def remove_load_round(sessions: list[str] = ()) -> int:
    """Delete the rounds this script opened (and their submissions, values, value history)."""
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from indicators.models import Round, Submission, Value

    Session.objects.filter(session_key__in=list(sessions)).delete()
    ids = set(Round.history.filter(history_change_reason=MARKER).values_list("id", flat=True))
    rounds = list(Round.objects.filter(pk__in=ids).select_related("period"))
    with transaction.atomic():
        for round_ in rounds:
            submission_ids = list(Submission.objects.filter(round=round_).values_list("pk", flat=True))
            Value.objects.filter(submission_id__in=submission_ids).delete()
            Value.history.filter(submission_id__in=submission_ids).delete()
            Submission.objects.filter(pk__in=submission_ids).delete()
            period = round_.period
            round_.delete()
            if not Round.objects.filter(period=period).exists():
                period.delete()
    return len(rounds)


def prepare(network_code: str, submitters: int) -> dict:
    """bench/pages.py's preparation, the choices of the browsing users, the open round and its staff."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse
    from django.utils import timezone

    from comparisons.models import Result
    from indicators.models import NetworkIndicator, Round, Submission, Value
    from indicators.services.periods import period_get_or_create
    from networks.models import Network, Role

    removed = remove_load_round()
    if removed:
        print(f"removed {removed} round(s) left by an interrupted run")
    ctx = bench_pages.prepare(network_code)
    network = Network.objects.get(code=network_code)
    computed = set(Result.objects.filter(network=network).values_list("period__label", "peer_group").distinct())
    ctx["periods"] = sorted({label for label, _peer in computed})
    ctx["peer_groups"] = sorted({peer for _label, peer in computed})
    ctx["indicators"] = list(NetworkIndicator.objects.filter(network=network).values_list("indicator__code", flat=True))
    members = [m.municipality for m in network.memberships.active().select_related("municipality")]
    members.sort(key=lambda municipality: municipality.code)
    ctx["municipalities"] = [m.code for m in members]

    last = Round.objects.filter(network=network).select_related("period").order_by("-period__start").first()
    period = period_get_or_create(label=next_label(last.period.label))
    today = timezone.localdate()
    round_ = Round(
        network=network,
        period=period,
        opens=today,
        deadline=today + datetime.timedelta(days=30),
        status=Round.Status.OPEN,
    )
    round_._change_reason = MARKER
    round_.save()
    ctx["round"] = f"{network.code} {period.label}"

    staff = []
    # Not the viewer's municipality (the first): someone else's figures are being entered.
    for municipality in [m for m in members if m.code != ctx["municipality"]][:submitters]:
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-staff-{municipality.code}", defaults={"email": f"{municipality.code}@bench.invalid"}
        )
        Role.objects.get_or_create(user=user, kind=Role.Kind.STAFF, municipality=municipality)
        previous = Submission.objects.filter(round=last, municipality=municipality).first()
        figures = {
            value.item_id: (None if value.is_missing else value.number)
            for value in Value.objects.filter(submission=previous)
        }
        staff.append(
            {
                "municipality": municipality.code,
                "session": bench_pages.session_for(user),
                "path": reverse(
                    "indicators:submission_form", kwargs={"round_pk": round_.pk, "code": municipality.code}
                ),
                "previous": figures,
            }
        )
    ctx["staff"] = staff
    return ctx


# --- the simulated people -----------------------------------------------------------------------------


@dataclass
class Stats:
    started: float = 0.0
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this process (the simulated people) during the run
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average, at start and end
    samples: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, page, ms)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (page, path, what)
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, page: str, ms: float) -> None:
        with self.lock:
            self.samples.append((kind, page, ms))

    def error(self, page: str, path: str, what: str) -> None:
        with self.lock:
            self.errors.append((page, path, what))


class Client:
    """One person's browser: one keep-alive connection, its cookies."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, fields: dict[str, str] | None = None):
        """(status, headers, body text, milliseconds); raises OSError/HTTPException on a broken connection."""
        headers = {"Host": "127.0.0.1", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.conn is not None and self.conn.sock is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                # The server closed an idle keep-alive connection before reading this request: a
                # browser sends it again on a new connection. Anything else is an error.
                if reused and attempt == 1:
                    self.reconnects += 1
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            ms = (time.perf_counter() - started) * 1000
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and str(morsel["max-age"]) != "0":
                        self.cookies[name] = morsel.coded_value
                    else:
                        self.cookies.pop(name, None)
            if response.will_close:
                self.close()
            return response.status, response.msg, content.decode("utf-8", "replace"), ms
        raise AssertionError("unreachable")


def _call(client: Client, stats: Stats, kind: str, page: str, method: str, path: str, fields=None):
    """One request, recorded; None after a connection error (recorded as an error)."""
    started = time.perf_counter()
    try:
        answer = client.request(method, path, fields)
    except (OSError, http.client.HTTPException) as exc:
        stats.add(kind, page, (time.perf_counter() - started) * 1000)
        stats.error(page, path, f"connection error: {exc!r}")
        return None
    stats.add(kind, page, answer[3])
    if not 200 <= answer[0] < 400:
        stats.error(page, path, f"HTTP {answer[0]}")
        return None
    return answer


def browse_targets(ctx: dict, rng: random.Random) -> list[tuple[str, str]]:
    """bench/pages.py's dashboard pages for a random period, peer group, indicator and municipality."""
    period = rng.choice(ctx["periods"])
    peer = rng.choice(ctx["peer_groups"])
    chosen = {
        **ctx,
        "period": period,
        "indicator": rng.choice(ctx["indicators"]),
        "municipality": rng.choice(ctx["municipalities"]),
    }
    targets = []
    for label, path in bench_pages.pages(chosen):
        if path == "/healthz/":
            continue
        if path.startswith("/api/"):
            path += "&" + urlencode({"peer_group": peer})
        else:
            path += "?" + urlencode({"period": period, "peer": peer})
        targets.append((label, path))
    return targets


def browser(
    ctx: dict, cookies: dict, port: int, stats: Stats, stop: threading.Event, seed: int, think: tuple[float, float]
):
    rng = random.Random(seed)
    client = Client(port, cookies)
    # Each person starts at another page of the cycle, a moment apart: not all on the overview at once.
    offset = rng.randrange(6)
    stop.wait(rng.uniform(*think))
    try:
        while not stop.is_set():
            targets = browse_targets(ctx, rng)
            for label, path in targets[offset:] + targets[:offset]:
                if stop.is_set():
                    break
                _call(client, stats, "browse", label, "GET", path)
                stop.wait(rng.uniform(*think))
    finally:
        client.close()
        with stats.lock:
            stats.reconnects += client.reconnects


class FormParser(HTMLParser):
    """The fields of the staff form: inside <form id=values-form> or naming it with form="values-form"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self.checkboxes: dict[str, bool] = {}
        self.decimals: dict[str, int] = {}  # the decimals a value field accepts (its data-decimals)
        self.invalid: list[str] = []
        self.found = False
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form" and attr.get("id") == FORM_ID:
            self.found = self._in_form = True
        ours = self._in_form or attr.get("form") == FORM_ID
        if not ours or tag not in ("input", "textarea") or not attr.get("name"):
            return
        name = attr["name"]
        if "is-invalid" in attr.get("class", "").split():
            self.invalid.append(name)
        if tag == "textarea":
            self.fields[name] = ""
            self._textarea = name
        elif attr.get("type") == "checkbox":
            self.checkboxes[name] = "checked" in attr
        elif attr.get("type") not in ("submit", "button"):
            self.fields[name] = attr.get("value", "")
            if attr.get("data-decimals", "").isdigit():
                self.decimals[name] = int(attr["data-decimals"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data


def parse_form(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip().replace(",", ".")) if text.strip() else None
    except InvalidOperation:
        return None


def fill(form: FormParser, previous: dict[int, Decimal | None], rng: random.Random) -> dict[str, str]:
    """The POST of a draft save: every field as shown, with some numbers changed."""
    data = dict(form.fields)
    data.update({name: "on" for name, checked in form.checkboxes.items() if checked})
    data["action"] = "save"
    items = sorted(int(name.split("_", 1)[1]) for name in form.fields if name.startswith("value_"))
    empty = [pk for pk in items if not form.fields[f"value_{pk}"].strip() and not form.checkboxes.get(f"missing_{pk}")]
    # The first save enters every value (from last period's figure); later ones change a few.
    changing = empty or rng.sample(items, min(len(items), rng.randint(1, 5)))
    outlier = rng.choice(changing) if changing and rng.random() < 0.1 else None
    for pk in changing:
        if pk in previous and previous[pk] is None:  # missing last period: missing again, with the reason
            data[f"value_{pk}"] = ""
            data[f"missing_{pk}"] = "on"
            data[f"reason_{pk}"] = MISSING_REASON
            continue
        base = previous.get(pk) or _number(form.fields[f"value_{pk}"]) or Decimal(rng.randint(100, 10000))
        factor = Decimal("1.8") if pk == outlier else Decimal(str(round(rng.uniform(0.95, 1.05), 4)))
        # As many decimals as the item accepts (the form refuses more).
        step = Decimal(1).scaleb(-form.decimals.get(f"value_{pk}", 2))
        data[f"value_{pk}"] = str((base * factor).quantize(step))
        data.pop(f"missing_{pk}", None)
        data[f"reason_{pk}"] = ""
        if pk == outlier:  # an unusual change (soft check): explained, as submitting would ask
            data[f"explanation_{pk}"] = EXPLANATION
    return data


def _shown_differs(form: FormParser, saved: dict[str, str]) -> str | None:
    """The first field whose shown value is not what was saved, or None."""
    for name, value in saved.items():
        if name.startswith("value_"):
            if _number(form.fields.get(name, "")) != _number(value):
                return f"{name}: saved {value!r}, shown {form.fields.get(name)!r}"
        elif name.startswith("missing_") and not form.checkboxes.get(name):
            return f"{name}: saved as missing, shown as not missing"
    return None


def submitter(person: dict, port: int, stats: Stats, stop: threading.Event, seed: int, think: tuple[float, float]):
    rng = random.Random(seed)
    path = person["path"]
    client = Client(port, {"sessionid": person["session"]})
    saved: dict[str, str] | None = None
    stop.wait(rng.uniform(*think))
    try:
        while not stop.is_set():
            answer = _call(client, stats, "submit", "form (GET)", "GET", path)
            form = parse_form(answer[2]) if answer else None
            if form is not None and not (form.found and "version" in form.fields):
                stats.error("form (GET)", path, "no editable form on the page")
                form = None
            if form is not None and saved is not None:
                if SAVED not in answer[2]:
                    stats.error("form (GET)", path, "the save was not confirmed")
                elif differs := _shown_differs(form, saved):
                    stats.error("form (GET)", path, f"the page does not show the saved values: {differs}")
            saved = None
            stop.wait(rng.uniform(*think))
            if form is None or stop.is_set():
                continue
            data = fill(form, person["previous"], rng)
            answer = _call(client, stats, "submit", "form (POST save)", "POST", path, data)
            if answer is not None:
                status, headers, body, _ms = answer
                location = urlsplit(headers.get("Location", "")).path
                if status == 302 and location == path:
                    saved = data
                else:
                    invalid = parse_form(body).invalid if status == 200 else []
                    stats.error(
                        "form (POST save)",
                        path,
                        f"HTTP {status} instead of the redirect"
                        + (f"; validation errors on {', '.join(invalid[:5])}" if invalid else f" (to {location})"),
                    )
            stop.wait(rng.uniform(*think))
    finally:
        client.close()
        with stats.lock:
            stats.reconnects += client.reconnects


# --- running and reporting ----------------------------------------------------------------------------


def run(ctx: dict, args: argparse.Namespace) -> Stats:
    stats = Stats()
    stop = threading.Event()
    threads = []
    viewer = {"sessionid": ctx["session"]}
    for i in range(args.browsers):
        cookies = viewer if i % 2 else {}
        threads.append(
            threading.Thread(
                target=browser, args=(ctx, cookies, args.port, stats, stop, i, (args.think_min, args.think))
            )
        )
    for i, person in enumerate(ctx["staff"]):
        threads.append(
            threading.Thread(
                target=submitter, args=(person, args.port, stats, stop, 1000 + i, (args.think_min, args.think))
            )
        )
    cpu = time.process_time()
    load_before = os.getloadavg()[0]
    stats.started = time.perf_counter()
    for thread in threads:
        thread.daemon = True
        thread.start()
    try:
        stop.wait(args.duration)
    finally:
        stop.set()
        for thread in threads:  # requests in flight finish and are counted
            thread.join(timeout=150)
    stats.elapsed = time.perf_counter() - stats.started
    stats.client_cpu = time.process_time() - cpu
    stats.load_average = (load_before, os.getloadavg()[0])
    return stats


def _line(label: str, times: list[float], elapsed: float, errors: int) -> str:
    times = sorted(times)
    figures = [percentile(times, q) for q in (50, 95, 99)] + [times[-1] if times else math.nan]
    return (
        f"  {label:<22} {len(times):>7} {len(times) / elapsed:>7.1f}"
        + "".join(f" {value:>8.0f}" for value in figures)
        + f" {errors:>6}"
    )


def report(stats: Stats) -> bool:
    elapsed = stats.elapsed
    every = [ms for _kind, _page, ms in stats.samples]
    errors_by_page: dict[str, int] = {}
    for page, _path, _what in stats.errors:
        errors_by_page[page] = errors_by_page.get(page, 0) + 1
    kinds = {"browse": [], "submit": []}
    by_page: dict[tuple[str, str], list[float]] = {}
    for kind, page, ms in stats.samples:
        kinds[kind].append(ms)
        by_page.setdefault((kind, page), []).append(ms)
    print(f"\nduration {elapsed:.1f} s, {len(every)} requests, {len(every) / elapsed:.1f} requests/s")
    print(f"  {'':<22} {'n':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    print(_line("all", every, elapsed, len(stats.errors)))
    for kind, times in kinds.items():
        pages = [page for k, page in by_page if k == kind]
        print(_line(kind, times, elapsed, sum(errors_by_page.get(page, 0) for page in pages)))
        for page in pages:
            print(_line(f"  {page}", by_page[(kind, page)], elapsed, errors_by_page.get(page, 0)))
    if stats.reconnects:
        print(f"  (requests sent again on a new connection after the server closed an idle one: {stats.reconnects})")
    print(
        f"  (the load generator itself used {stats.client_cpu:.1f} CPU s, "
        f"{100 * stats.client_cpu / elapsed:.0f} % of one core, on the same machine; "
        f"load average {stats.load_average[0]:.1f} at the start, {stats.load_average[1]:.1f} at the end, "
        f"{os.cpu_count()} cores)"
    )
    print(f"\nerrors: {len(stats.errors)}")
    for page, path, what in stats.errors[:MAX_ERROR_SAMPLES]:
        print(f"  {page} {path}: {what}")
    p95 = percentile(sorted(every), 95)
    passed = not stats.errors and p95 < TARGET_P95_MS
    verdict = "PASS" if passed else "FAIL"
    print(f"\n{verdict}: {len(stats.errors)} errors (target 0), p95 {p95:.0f} ms (target < {TARGET_P95_MS:.0f} ms)")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--network", default="BENCH")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--browsers", type=int, default=50, help="users browsing the dashboards")
    parser.add_argument("--submitters", type=int, default=10, help="staff saving their forms")
    parser.add_argument("--think", type=float, default=5.0, help="largest think time after a request, seconds")
    parser.add_argument("--think-min", type=float, default=1.0, help="smallest think time after a request, seconds")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (1: sync workers, more: gthread)")
    parser.add_argument("--keep-round", action="store_true", help="keep the opened round and its drafts afterwards")
    args = parser.parse_args()

    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)  # shared by this process and the server
    bench_pages.django_setup(args.database_url)
    try:
        ctx = prepare(args.network, args.submitters)
    except BaseException:
        remove_load_round()  # opened before the failure
        raise
    sessions = [ctx["session"], *(person["session"] for person in ctx["staff"])]
    if args.threads > 1:
        server_kind = f"{args.workers} gthread workers x {args.threads} threads"
    else:
        server_kind = f"{args.workers} sync workers"
    print(
        f"network {ctx['network']}: {len(ctx['periods'])} periods, peer groups {', '.join(ctx['peer_groups'])}, "
        f"{len(ctx['indicators'])} indicators, {len(ctx['municipalities'])} members; open round {ctx['round']}\n"
        f"{args.browsers} browsing users (half anonymous, half viewer), {len(ctx['staff'])} staff saving forms, "
        f"think time {args.think_min:g}-{args.think:g} s, {args.duration:g} s; gunicorn {server_kind}",
        flush=True,
    )
    log = Path(tempfile.gettempdir()) / f"bench-load-{args.port}.log"
    extra = ("--threads", str(args.threads)) if args.threads > 1 else ()
    server = bench_pages.serve(args.database_url, args.port, args.workers, log, extra)
    passed = False
    try:
        bench_pages.wait_until_up(args.port)
        passed = report(run(ctx, args))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        if not args.keep_round:
            with contextlib.suppress(Exception):
                from django.db import connection

                connection.close()  # the server's load may have outlived this process's connection
            remove_load_round(sessions)
    tracebacks = log.read_text(errors="replace").count("Traceback")
    print(f"server log: {log} ({tracebacks} tracebacks)")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
