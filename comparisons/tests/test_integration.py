"""End to end with a real Celery worker on the real Redis broker (CI provides both).

Skipped, saying why, where no broker is configured or reachable (`make test` on a laptop).
Needs committed data (the worker is another thread with its own database connection), hence
`transaction=True`.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.db import connection

from comparisons.models import RecomputeRun, Result
from comparisons.runs import recompute_request, recompute_run_execute
from indicators.models import Period, Submission
from indicators.services.submissions import submission_approve

from .factories import indicator_create, submissions_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60


@pytest.fixture
def worker():
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        pytest.skip("CELERY_BROKER_URL is not set: this test needs a Redis broker and a worker (CI sets it)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any connection problem means: no broker here
        pytest.skip(f"the broker {url} is not reachable: {exc}")
    from celery.contrib.testing.worker import start_worker

    from benchlearning.celery import app

    assert not app.conf.task_always_eager, "with a broker configured, tasks must go to the worker"
    app.control.purge()  # messages other tests left on the queue
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield app


def _wait_until_done(**filters) -> list[RecomputeRun]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        runs = list(RecomputeRun.objects.filter(**filters))
        if runs and all(run.status in (RecomputeRun.Status.DONE, RecomputeRun.Status.FAILED) for run in runs):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"runs not finished after {TIMEOUT} s: {list(RecomputeRun.objects.values())}")


def test_approving_a_value_changes_the_stored_results(world, worker):
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}})
    pending = submissions_create(
        network=world.network, period="2024", values={world.b: {"X": 30}}, status=Submission.Status.SUBMITTED
    )[world.b]
    period = Period.objects.get(label="2024")
    recompute_run_execute(run_id=recompute_request(network=world.network, period=period, enqueue=False).pk)
    assert Result.objects.get(peer_group="network", municipality=world.a).n == 1

    submission_approve(submission=pending, user=world.users["coordinator"])

    runs = _wait_until_done(network=world.network, period=period, reason="values changed")
    assert [run.status for run in runs] == [RecomputeRun.Status.DONE]
    a = Result.objects.get(peer_group="network", municipality=world.a)
    b = Result.objects.get(peer_group="network", municipality=world.b)
    assert (a.n, a.mean, a.rank, b.rank) == (2, 20.0, 2, 1)


def test_the_same_scope_requested_twice_at_once_runs_once(world, worker):
    if connection.vendor == "sqlite":
        pytest.skip("two concurrent writers need PostgreSQL: SQLite's shared in-memory test database locks tables")
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}, world.b: {"X": 2}})
    period = Period.objects.get(label="2024")
    barrier = threading.Barrier(2)
    got: list[int] = []

    def request() -> None:
        try:
            barrier.wait()
            got.append(recompute_request(network=world.network, period=period, reason="twice").pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    runs = _wait_until_done(network=world.network, period=period)
    assert len(got) == 2 and got[0] == got[1]
    assert len(runs) == 1
    assert (runs[0].status, runs[0].attempts) == (RecomputeRun.Status.DONE, 1)
    assert Result.objects.filter(peer_group="network").count() == 2
