"""Two workers on one scope at the same moment: it is computed once (docs/architecture.md,
"Workers on more than one machine").

Real threads, each with its own database connection, on committed data (`transaction=True`):
what two worker processes on two machines do, without the broker. PostgreSQL only, as the
other tests of concurrent writers: SQLite's shared in-memory test database locks whole tables.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from comparisons import runs
from comparisons.models import RecomputeRun, Result, ScopeLock
from comparisons.runs import ScopeBusy, recompute_request, recompute_run_execute
from indicators.models import Period

from .factories import indicator_create, submissions_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scope(world):
    if connection.vendor != "postgresql":
        pytest.skip("two concurrent writers need PostgreSQL: SQLite's shared in-memory test database locks tables")
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}, world.b: {"X": 2}})
    return world.network, Period.objects.get(label="2024")


class Computations:
    """`results_recompute` counting its calls, each held until `release` is set."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.real = runs.results_recompute

    def __call__(self, **kwargs):
        self.calls.append(kwargs["period"].pk)
        self.started.set()
        assert self.release.wait(30), "the test never let the computation finish"
        return self.real(**kwargs)


def _in_thread(outcomes: dict, key: str, run_id: int, barrier: threading.Barrier | None = None) -> threading.Thread:
    def execute() -> None:
        try:
            if barrier is not None:
                barrier.wait()
            run = recompute_run_execute(run_id=run_id)
            outcomes[key] = "nothing to do" if run is None else run.status
        except ScopeBusy:
            outcomes[key] = "busy"
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=execute)
    thread.start()
    return thread


def test_one_run_delivered_to_two_workers_at_once_is_computed_once(scope, monkeypatch):
    network, period = scope
    run = recompute_request(network=network, period=period, reason="nightly", enqueue=False)
    computations = Computations()
    monkeypatch.setattr(runs, "results_recompute", computations)

    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)
    threads = [_in_thread(outcomes, name, run.pk, barrier) for name in ("w1", "w2")]
    assert computations.started.wait(30)
    deadline = time.monotonic() + 30
    while not outcomes and time.monotonic() < deadline:  # the other worker meets the taken lock
        time.sleep(0.05)
    computations.release.set()
    for thread in threads:
        thread.join(30)

    # One worker computed; the other found the scope taken and would retry (then find it done).
    assert sorted(outcomes.values()) == ["busy", RecomputeRun.Status.DONE]
    assert computations.calls == [period.pk]
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RecomputeRun.Status.DONE, 1)
    assert recompute_run_execute(run_id=run.pk) is None  # the retry of the busy one: nothing to do
    assert Result.objects.filter(network=network, period=period, peer_group="network").count() == 2
    assert ScopeLock.objects.get(network=network, period=period).run_id is None


def test_requests_while_a_scope_computes_merge_into_one_run_that_waits_its_turn(scope, monkeypatch):
    network, period = scope
    first = recompute_request(network=network, period=period, reason="nightly", enqueue=False)
    computations = Computations()
    monkeypatch.setattr(runs, "results_recompute", computations)
    outcomes: dict[str, str] = {}
    computing = _in_thread(outcomes, "w1", first.pk)
    assert computations.started.wait(30)

    # A second nightly request, and a third, while w1 computes: one new waiting run.
    second = recompute_request(network=network, period=period, reason="nightly", enqueue=False)
    third = recompute_request(network=network, period=period, reason="nightly", enqueue=False)
    assert second.pk == third.pk != first.pk
    # w2 takes the waiting run while w1 still computes the scope: it must wait.
    waiting = _in_thread(outcomes, "w2", second.pk)
    waiting.join(30)
    assert outcomes["w2"] == "busy"
    second.refresh_from_db()
    assert second.status == RecomputeRun.Status.PENDING

    computations.release.set()
    computing.join(30)
    assert outcomes["w1"] == RecomputeRun.Status.DONE
    # w2's retry computes the waiting run, after the first finished.
    assert recompute_run_execute(run_id=second.pk).status == RecomputeRun.Status.DONE
    first.refresh_from_db()
    second.refresh_from_db()
    assert computations.calls == [period.pk, period.pk]
    assert second.started_at >= first.finished_at
    assert RecomputeRun.objects.filter(network=network, period=period).count() == 2
