"""The portal keeps working when the broker or a worker fails.

Broker down: pages render, staff save and submit, the coordinator approves; the recompute waits
as a pending RecomputeRun and /healthz/ says "degraded". When the broker is back, the pending
run is sent again (a later request of its scope, or the nightly sweep) and completes — with a
real worker on the real Redis where CELERY_BROKER_URL is set (CI), skipped otherwise.

Worker killed mid-run: the run stays `running` with a heartbeat that goes stale; readers keep
seeing the previous results, and the retry takes the run over and completes it.
"""

from __future__ import annotations

import datetime
import os
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from benchlearning.celery import app
from comparisons.models import RecomputeRun, Result, ScopeLock
from comparisons.runs import ScopeBusy, lock_stale_after, recompute_request, recompute_run_execute
from comparisons.tasks import recompute_all_task
from comparisons.tests.factories import indicator_create, submissions_create
from indicators.models import DataItem, Period, Submission

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
TIMEOUT = 60


def _point_celery_at(url: str, settings) -> None:
    """Make both Django and the already configured Celery app use `url`, tasks not eager."""
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.broker_connection_retry_on_startup = False
    # The app caches its connection and producer pools: drop them so the next send uses `url`.
    app._after_fork()


@pytest.fixture
def celery_restored():
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_connection_retry_on_startup)
    yield
    app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_connection_retry_on_startup = saved
    app._after_fork()


@pytest.fixture
def broker_down(settings, celery_restored):
    _point_celery_at(DEAD_BROKER, settings)


@pytest.fixture
def scope(world):
    """Network T, 2024: A approved (10), B submitted (30) and waiting for the coordinator."""
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}})
    b = submissions_create(
        network=world.network, period="2024", values={world.b: {"X": 30}}, status=Submission.Status.SUBMITTED
    )[world.b]
    period = Period.objects.get(label="2024")
    recompute_run_execute(run_id=recompute_request(network=world.network, period=period, enqueue=False).pk)
    return world, period, b


def _pages(world, period) -> list[tuple[str, str]]:
    round_pk = Submission.objects.get(municipality=world.a, round__period=period).round_id
    return [
        ("anonymous", "/"),
        ("anonymous", "/healthz/"),
        ("staff_a", reverse("indicators:my_rounds")),
        ("staff_a", reverse("indicators:submission_form", args=[round_pk, world.a.code])),
        ("coordinator", reverse("indicators:round_matrix", args=[round_pk])),
        ("viewer_a", reverse("comparisons:overview", args=[world.network.code])),
        ("viewer_a", reverse("comparisons:profile", args=[world.network.code, world.a.code])),
    ]


def _approve_through_the_pages(world, submission: Submission) -> None:
    response = world.client("coordinator").post(
        reverse("indicators:submission_review", kwargs={"pk": submission.pk}), {"decision": "approve", "message": ""}
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED


def _save_and_submit_through_the_form(world, period, value: str) -> Submission:
    """staff_a changes X and submits (A's submission is returned to draft first)."""
    submission = Submission.objects.get(municipality=world.a, round__period=period)
    submission.status = Submission.Status.DRAFT
    submission.save(update_fields=["status"])
    item = DataItem.objects.get(code="X")
    url = reverse("indicators:submission_form", args=[submission.round_id, world.a.code])
    response = world.client("staff_a").post(
        url, {"version": submission.version, f"value_{item.pk}": value, "action": "submit"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.values.get(item=item).number == Decimal(value)
    return submission


@pytest.mark.django_db
def test_with_the_broker_down_the_portal_works_and_the_recompute_waits(
    scope, broker_down, client, django_capture_on_commit_callbacks
):
    world, period, b = scope
    for persona, url in _pages(world, period):
        response = world.client(persona).get(url)
        assert response.status_code == 200, (persona, url, response.status_code)

    health = client.get("/healthz/")
    assert (health.status_code, health.json()["status"], health.json()["broker"]) == (200, "degraded", "error")

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        _approve_through_the_pages(world, b)
    with django_capture_on_commit_callbacks(execute=True):
        a = _save_and_submit_through_the_form(world, period, "12")
    assert time.monotonic() - started < 20, "a dead broker must not make the pages hang"

    # The approval asked for a recompute that no worker received: it waits, and the old
    # results (only A counted) are still what readers see.
    pending = RecomputeRun.objects.get(network=world.network, period=period, status=RecomputeRun.Status.PENDING)
    assert pending.reason == "values changed"
    assert Result.objects.get(peer_group="network", municipality=world.a).n == 1
    assert a.status == Submission.Status.SUBMITTED


@pytest.mark.django_db
def test_a_request_while_the_broker_is_down_sends_the_waiting_run_again_later(
    scope, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    """Without a worker: what is sent when. The stale pending run is re-sent; a fresh one is not."""
    world, period, b = scope
    with django_capture_on_commit_callbacks(execute=True):
        _approve_through_the_pages(world, b)
    pending = RecomputeRun.objects.get(network=world.network, period=period, status=RecomputeRun.Status.PENDING)

    sent: list[int] = []
    monkeypatch.setattr("comparisons.tasks.recompute_run_task.delay", lambda run_id: sent.append(run_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_request(network=world.network, period=period, reason="again") == pending
    assert sent == [], "a run requested moments ago is still on its way: no second message"

    RecomputeRun.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - 2 * lock_stale_after())
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_all_task() == 1  # the nightly sweep
    assert sent == [pending.pk]


@pytest.fixture
def live_broker_url(settings, celery_restored):
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        pytest.skip("CELERY_BROKER_URL is not set: the broker-back half needs a Redis broker and a worker (CI sets it)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # any connection problem means: no broker here
        pytest.skip(f"the broker {url} is not reachable: {exc}")
    _point_celery_at(DEAD_BROKER, settings)  # down first; the test brings the broker back
    return url


def _wait_until_finished(run_id: int) -> RecomputeRun:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        run = RecomputeRun.objects.get(pk=run_id)
        if run.status in (RecomputeRun.Status.DONE, RecomputeRun.Status.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} not finished after {TIMEOUT} s: {RecomputeRun.objects.get(pk=run_id)}")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_when_the_broker_is_back_the_waiting_run_completes(scope, live_broker_url, settings):
    from celery.contrib.testing.worker import start_worker

    world, period, b = scope
    _approve_through_the_pages(world, b)  # transaction=True: the recompute is sent (and lost) at commit
    pending = RecomputeRun.objects.get(network=world.network, period=period, status=RecomputeRun.Status.PENDING)
    assert Result.objects.get(peer_group="network", municipality=world.a).n == 1

    _point_celery_at(live_broker_url, settings)  # the broker is back
    RecomputeRun.objects.filter(pk=pending.pk).update(requested_at=timezone.now() - 2 * lock_stale_after())
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        assert recompute_all_task() == 1  # the nightly sweep re-sends the waiting run
        run = _wait_until_finished(pending.pk)

    assert (run.status, run.attempts) == (RecomputeRun.Status.DONE, 1)
    a_result = Result.objects.get(peer_group="network", municipality=world.a)
    assert (a_result.n, a_result.mean) == (2, 20.0)


@pytest.mark.django_db
def test_a_worker_killed_mid_run_leaves_the_old_results_and_the_retry_completes(scope):
    world, period, b = scope
    b.status = Submission.Status.APPROVED
    b.save(update_fields=["status"])
    run = recompute_request(network=world.network, period=period, reason="values changed", enqueue=False)
    # The worker took the run (lock, status running), then died before its final transaction.
    killed_at = timezone.now()
    RecomputeRun.objects.filter(pk=run.pk).update(
        status=RecomputeRun.Status.RUNNING, started_at=killed_at, attempts=1, progress=40
    )
    ScopeLock.objects.filter(network=world.network, period=period).update(run=run, heartbeat=killed_at)
    overview = reverse("comparisons:profile", args=[world.network.code, world.a.code])

    # While the heartbeat is fresh the redelivered task waits: the run might still be alive.
    with pytest.raises(ScopeBusy):
        recompute_run_execute(run_id=run.pk)
    assert Result.objects.get(peer_group="network", municipality=world.a).n == 1
    assert world.client("viewer_a").get(overview).status_code == 200

    # Once the heartbeat is stale, the retry takes the run over and completes it.
    ScopeLock.objects.filter(network=world.network, period=period).update(
        heartbeat=killed_at - lock_stale_after() - datetime.timedelta(seconds=1)
    )
    done = recompute_run_execute(run_id=run.pk)
    assert done is not None
    done.refresh_from_db()
    assert (done.status, done.attempts, done.progress) == (RecomputeRun.Status.DONE, 2, 100)
    assert ScopeLock.objects.get(network=world.network, period=period).run_id is None
    a_result = Result.objects.get(peer_group="network", municipality=world.a)
    assert (a_result.n, a_result.mean) == (2, 20.0)
    assert world.client("viewer_a").get(overview).status_code == 200
