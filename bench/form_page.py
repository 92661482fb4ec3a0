"""Server time of the staff submission form at many data items (the load test at 200 data items).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchlearning_bench \
        .venv/bin/python bench/form_page.py [--requests 20] [--profile]

Needs a database `bench/run.py` built (network BENCH, e.g. `--municipalities 15 --indicators 200
--periods 2`). It opens a round of BENCH for the period after the latest one, gives a `bench-staff`
account the staff role of the first member and fills that member's draft the way a real one looks
(saved as the form saves: last period's values, every 20th changed enough to need an explanation,
one missing with its reason; a few query threads). Then it times, in this process with Django's
test client (DEBUG on, cached templates after the first request), the GET of the form and the POST
that is refused (one value is not a number) and shows the form again with its errors. Prints the
median and p95 in ms, the median CPU time of this process, the page's size and its number of SQL
queries; `--profile` adds cProfile's top functions of one GET.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/benchlearning_bench"


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "1"
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")
    import django

    django.setup()


def prepare(network_code: str):
    """The open round, the staff account and the filled draft: (user, form URL, entered items, draft)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from indicators import selectors
    from indicators.models import DataItem, Round, Submission, Value, ValueQuery
    from indicators.services.periods import period_get_or_create, round_get_or_create
    from indicators.services.values import ValueInput, submission_values_save
    from networks.models import Network, Role

    network = Network.objects.get(code=network_code)
    member = network.memberships.select_related("municipality").order_by("municipality__code").first().municipality
    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"email": "staff@bench.invalid"})
    Role.objects.get_or_create(user=user, kind=Role.Kind.STAFF, municipality=member)
    # The round this script opened on an earlier run, else one for the period after the latest.
    round_ = Round.objects.filter(network=network, submissions__queries__author=user).select_related("period").first()
    if round_ is None:
        latest = Round.objects.filter(network=network).select_related("period").order_by("-period__start").first()
        label = str(int(latest.period.label[:4]) + 1)
        round_ = round_get_or_create(network=network, period=period_get_or_create(label=label))
        # The previous period's values count once approved.
        Submission.objects.filter(round=latest).update(status=Submission.Status.APPROVED)
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.OPEN)
    submission, _ = Submission.objects.get_or_create(round=round_, municipality=member)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.DRAFT)
    submission.refresh_from_db()
    items = [item for item in selectors.round_items(round=round_) if item.source == DataItem.Source.ENTERED]
    if not Value.objects.filter(submission=submission).exists():
        previous = selectors.previous_values(submission=submission)
        given = {}
        for n, item in enumerate(items):
            before = previous.get(item.pk)
            if n == 3:
                given[item.pk] = ValueInput(is_missing=True, missing_reason="Nav datu")
            elif before is not None and not before.is_missing:
                # Every 20th unusual: it needs an explanation. With the item's decimals, as the
                # form accepts them (the generated history has every digit of a float).
                number = before.number * 3 + 1 if n % 20 == 0 else before.number
                given[item.pk] = ValueInput(number=number.quantize(Decimal(1).scaleb(-item.decimals)))
        # Saved as the form saves it: every value has its history row (the page lists them).
        submission_values_save(submission=submission, user=user, values=given, expected_version=submission.version)
        for item in items[:5]:
            ValueQuery.objects.create(submission=submission, item=item, author=user, text="Vai tas ir pareizi?\nLūdzu.")
    url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": member.code})
    return user, url, items, submission


def timed(call, repeat: int) -> tuple[list[float], list[float], object]:
    """Wall times and this process's CPU times in ms, sorted. On a shared machine the CPU time is
    the steadier figure: other processes stretch the wall time, not the work done here (the
    database's own time is not in it)."""
    times, cpu, response = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return sorted(times), sorted(cpu), response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--network", default="BENCH")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--save-html", type=Path, help="a folder to write the two pages into (get.html, post.html)")
    args = parser.parse_args()
    django_setup(args.database_url)

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from indicators.forms import input_number
    from indicators.models import Value

    # No setup_test_environment(): its instrumented template rendering would be measured too.
    user, url, items, submission = prepare(args.network)
    client = Client(HTTP_ACCEPT_LANGUAGE="lv")
    client.force_login(user)
    submission.refresh_from_db()
    # What the page holds, with the first value changed to something that is not a number.
    refused = {"version": submission.version, "action": "save"}
    for value in Value.objects.filter(submission=submission):
        if value.is_missing:
            refused[f"missing_{value.item_id}"] = "on"
            refused[f"reason_{value.item_id}"] = value.missing_reason
        else:
            refused[f"value_{value.item_id}"] = input_number(value.number)
    refused[f"value_{items[0].pk}"] = "daudz"

    print(f"Staff form: {len(items)} entered data items, {args.requests} requests each, in process")
    for label, call, status in [
        ("GET the form", lambda: client.get(url), 200),
        ("POST refused, form shown again", lambda: client.post(url, refused), 200),
    ]:
        call()  # warm-up
        reset_queries()  # the capture counts from the log's length; each request empties it first
        with CaptureQueriesContext(connection) as queries:
            response = call()
        if response.status_code != status:
            raise SystemExit(f"{label}: status {response.status_code}, expected {status}")
        if args.save_html:
            args.save_html.mkdir(parents=True, exist_ok=True)
            (args.save_html / f"{label.split()[0].lower()}.html").write_bytes(response.content)
        times, cpu, response = timed(call, args.requests)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(
            f"  {label:<32} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
            f"  cpu median {statistics.median(cpu):7.1f} ms"
            f"  {len(response.content):>8} bytes  {len(queries)} queries"
        )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        client.get(url)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
